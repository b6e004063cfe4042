"""Knowledge-base articles: Markdown files with YAML front matter under `articles/`.

The files are the source of truth. `load_articles` reads a whole tree and
reports every problem with its file and line instead of stopping at the first.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# libyaml's safe loader when PyYAML was built with it: ten times faster on a large corpus.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LANGUAGES = ("ru", "en")
REQUIRED_FIELDS = ("title", "slug", "lang", "updated")
TRANSLATION_DRIFT_DAYS = 90
MAX_QUESTIONS = 40
QUESTION_LENGTH = (3, 300)
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


@dataclass(frozen=True)
class Problem:
    """Something wrong in an article file, with where it is."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Article:
    """One parsed article."""

    slug: str
    title: str
    lang: str
    category: str
    summary: str
    body: str
    path: str
    content_hash: str
    updated: dt.date
    tags: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    translation_of: str | None = None
    draft: bool = False
    body_line: int = 1
    slug_line: int = 1
    # Problems that do not stop the article from loading (bad questions, dropped).
    problems: list[Problem] = field(default_factory=list, compare=False, repr=False)


class ArticleError(ValueError):
    """An article file that cannot be used, with the line at fault."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def content_hash(raw: bytes) -> str:
    """Hash that tells whether a file changed since it was indexed."""
    return hashlib.sha256(raw).hexdigest()[:32]


def article_files(root: Path) -> list[Path]:
    """Every article file under `root` (`<category>/<name>.<lang>.md`), in a stable order."""
    return [path for path, reason in _markdown_files(root) if reason is None]


def misplaced_files(root: Path) -> list[Problem]:
    """Markdown files under `root` that are not articles by their place or name, and why."""
    return [
        Problem(path.relative_to(root).as_posix(), 1, reason)
        for path, reason in _markdown_files(root)
        if reason is not None
    ]


def has_articles(root: Path) -> bool:
    """Whether `root` holds at least one article file (stops at the first)."""
    return any(reason is None for _path, reason in _walk_markdown(root))


def _markdown_files(root: Path) -> list[tuple[Path, str | None]]:
    """Every visible `.md` file under `root`, with why it is not an article (None if it is)."""
    return sorted(_walk_markdown(root))


def _walk_markdown(root: Path) -> Iterator[tuple[Path, str | None]]:
    for path in root.rglob("*.md"):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in parts):
            continue  # hidden files and folders (an editor's or a version control's own)
        yield path, _misplaced(parts)


def _misplaced(parts: tuple[str, ...]) -> str | None:
    name = parts[-1]
    if len(parts) == 1:
        return "not indexed: an article lives in a category folder, <category>/<name>.<lang>.md"
    if len(parts) > 2:
        return (
            "not indexed: an article lives one folder deep, <category>/<name>.<lang>.md, "
            f"not in {'/'.join(parts[:-1])}/"
        )
    if name.startswith("_"):
        return "not indexed: names starting with _ are kept out of the knowledge base"
    stem = name[: -len(".md")]
    if "." not in stem or stem.rsplit(".", 1)[1] not in LANGUAGES:
        return f"not indexed: the name must end in .{'.md, .'.join(LANGUAGES)}.md"
    return None


def parse_article(path: Path, root: Path) -> Article:
    """Parse one article file; raises ArticleError with the line at fault."""
    return parse_source(path.read_bytes(), path.relative_to(root).as_posix())


def parse_source(raw: bytes, rel_path: str) -> Article:
    """Parse an article's bytes as if they were the file `rel_path` (category/name.lang.md)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArticleError(line, "the file is not valid UTF-8") from exc
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArticleError(1, "front matter must start with a line '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ArticleError(1, "front matter is not closed with a line '---'") from None
    try:
        meta = yaml.load("\n".join(lines[1:end]), Loader=FAST_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ArticleError(line, f"front matter is not valid YAML: {problem}") from exc
    if not isinstance(meta, dict):
        raise ArticleError(2, "front matter must be a mapping of fields")

    def line_of(key: str) -> int:
        for i in range(1, end):
            if lines[i].startswith(f"{key}:"):
                return i + 1
        return 1

    missing = [k for k in REQUIRED_FIELDS if not meta.get(k)]
    if missing:
        raise ArticleError(1, f"missing front matter field(s): {', '.join(missing)}")
    slug = str(meta["slug"])
    if not SLUG_PATTERN.match(slug):
        raise ArticleError(line_of("slug"), f"slug {slug!r} must be lowercase a-z, 0-9 and '-'")
    lang = str(meta["lang"])
    if lang not in LANGUAGES:
        raise ArticleError(line_of("lang"), f"lang must be one of {', '.join(LANGUAGES)}")
    updated = meta["updated"]
    if isinstance(updated, str):
        try:
            updated = dt.date.fromisoformat(updated)
        except ValueError:
            raise ArticleError(line_of("updated"), "updated must be a date YYYY-MM-DD") from None
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    if not isinstance(updated, dt.date):
        raise ArticleError(line_of("updated"), "updated must be a date YYYY-MM-DD")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list):
        raise ArticleError(line_of("tags"), "tags must be a list")
    if not isinstance(meta.get("questions") or [], list):
        raise ArticleError(line_of("questions"), "questions must be a list of strings")
    front = "\n".join(lines[1:end])
    questions, problems = _questions(meta.get("questions") or [], front, rel_path)
    body = "\n".join(lines[end + 1 :]).strip("\n")
    return Article(
        slug=slug,
        title=str(meta["title"]).strip(),
        lang=lang,
        category=rel_path.rsplit("/", 1)[0] if "/" in rel_path else "",
        summary=" ".join(str(meta.get("summary") or "").split()),
        body=body,
        path=rel_path,
        content_hash=content_hash(raw),
        updated=updated,
        tags=[str(t).strip() for t in tags if str(t).strip()],
        questions=questions,
        translation_of=str(meta["translation_of"]) if meta.get("translation_of") else None,
        draft=bool(meta.get("draft", False)),
        body_line=end + 2,
        slug_line=line_of("slug"),
        problems=problems,
    )


def clean_question(text: str) -> str:
    """A question as it is stored: one line, spaces collapsed."""
    return " ".join(text.split())


def _questions(items: list, front: str, rel_path: str) -> tuple[list[str], list[Problem]]:
    """The usable questions of a front matter list and what is wrong with the rest."""
    kept: list[str] = []
    seen: set[str] = set()
    faults: list[tuple[int, str]] = []
    low, high = QUESTION_LENGTH
    for position, item in enumerate(items):
        if not isinstance(item, str):
            faults.append((position, "question is not a line of text: put it in quotes"))
            continue
        text = clean_question(item)
        if not low <= len(text) <= high:
            faults.append((position, f"question {text!r} must be {low}-{high} characters long"))
        elif text.casefold() in seen:
            faults.append((position, f"duplicate question {text!r} dropped"))
        elif len(kept) == MAX_QUESTIONS:
            faults.append((position, f"more than {MAX_QUESTIONS} questions: the rest are dropped"))
            break
        else:
            seen.add(text.casefold())
            kept.append(text)
    if not faults:
        return kept, []
    # The lines are only worth a second YAML pass when there is something to report.
    lines = _item_lines(front, "questions")
    return kept, [
        Problem(rel_path, lines[i] if i < len(lines) else 1, message) for i, message in faults
    ]


def _item_lines(front: str, key: str) -> list[int]:
    """File line of each item of the list under `key` in front matter text."""
    root = yaml.compose(front, Loader=yaml.SafeLoader)
    for name, value in root.value if isinstance(root, yaml.MappingNode) else []:
        if name.value == key and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 2 for item in value.value]
    return []


def link_target(href: str, source_path: str) -> tuple[str, str] | None:
    """Which article an internal link points at: ("path", p) or ("slug", s); None if external."""
    href = href.split("#", 1)[0]
    if not href or re.match(r"^[a-z][a-z0-9+.-]*:", href) and not href.startswith("slug:"):
        return None
    if href.startswith("slug:"):
        return ("slug", href[5:])
    if href.startswith("/kb/"):
        return ("slug", href[4:].strip("/"))
    if href.endswith(".md"):
        base = Path(source_path).parent
        parts: list[str] = []
        for part in (base / href).as_posix().split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        return ("path", "/".join(parts))
    return None


def broken_links(
    article: Article, slugs: set[str], paths: set[str], root: Path | None = None
) -> list[Problem]:
    """Internal links and images of an article that point at nothing."""
    problems = []
    for offset, line in enumerate(article.body.split("\n")):
        for match in _LINK.finditer(line):
            href = match.group(1)
            is_image = (
                match.start() > 0
                and line[: match.start()].rstrip().endswith("]")
                and ("![" in line[: match.start()])
            )
            if is_image and root is not None and not re.match(r"^[a-z][a-z0-9+.-]*:|^/", href):
                image = (root / Path(article.path).parent / href.split("#")[0]).resolve()
                if not image.is_file():
                    problems.append(
                        Problem(article.path, article.body_line + offset, f"missing image {href!r}")
                    )
                continue
            target = link_target(href, article.path)
            if target is None:
                continue
            kind, value = target
            known = slugs if kind == "slug" else paths
            if value not in known:
                problems.append(
                    Problem(
                        article.path, article.body_line + offset, f"broken link {match.group(1)!r}"
                    )
                )
    return problems


@dataclass
class LoadResult:
    """Articles that parsed and the problems found in the rest."""

    articles: list[Article]
    problems: list[Problem]
    hashes: dict[str, str]


def load_articles(root: Path) -> LoadResult:
    """Parse every article under `root`; bad files are reported and skipped."""
    articles: list[Article] = []
    problems: list[Problem] = []
    hashes: dict[str, str] = {}
    by_slug: dict[str, Article] = {}
    problems.extend(misplaced_files(root))
    for path in article_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            article = parse_article(path, root)
        except ArticleError as exc:
            problems.append(Problem(rel, exc.line, str(exc)))
            continue
        except OSError as exc:
            problems.append(Problem(rel, 1, f"cannot read the file: {exc.strerror}"))
            continue
        hashes[rel] = article.content_hash
        problems.extend(article.problems)
        if article.slug in by_slug:
            first = by_slug[article.slug].path
            problems.append(
                Problem(
                    rel, article.slug_line, f"duplicate slug {article.slug!r} (also in {first})"
                )
            )
            continue
        by_slug[article.slug] = article
        articles.append(article)
    slugs = set(by_slug)
    paths = {a.path for a in articles}
    for article in articles:
        problems.extend(broken_links(article, slugs, paths, root))
        if not article.summary:
            problems.append(Problem(article.path, 1, "no summary: results and lists show none"))
    problems.extend(translation_drift(articles))
    return LoadResult(articles, problems, hashes)


def translation_drift(articles: list[Article]) -> list[Problem]:
    """Translation pairs whose versions were updated more than 90 days apart."""
    pairs: dict[str, list[Article]] = {}
    for article in articles:
        if article.translation_of:
            pairs.setdefault(article.translation_of, []).append(article)
    problems = []
    for key, versions in pairs.items():
        newest = max(versions, key=lambda a: a.updated)
        for article in versions:
            days = (newest.updated - article.updated).days
            if days > TRANSLATION_DRIFT_DAYS:
                problems.append(
                    Problem(
                        article.path,
                        1,
                        f"translation {key!r} is {days} days "
                        f"older than {newest.path}: check it is still right",
                    )
                )
    return problems


def load_categories(root: Path) -> dict[str, dict]:
    """Category titles and order from `_categories.yml`, plus any folder it misses."""
    meta: dict[str, dict] = {}
    path = root / "_categories.yml"
    if path.exists():
        try:
            meta = yaml.load(path.read_text("utf-8"), Loader=FAST_LOADER) or {}
        except yaml.YAMLError:
            meta = {}
    folders = sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    )
    categories = {}
    for position, name in enumerate(folders):
        info = meta.get(name) if isinstance(meta.get(name), dict) else {}
        title = info.get("title") or {}
        description = info.get("description") or {}
        categories[name] = {
            "slug": name,
            "order": info.get("order", 100 + position),
            "title": {
                lang: title.get(lang) or name.replace("-", " ").capitalize() for lang in LANGUAGES
            },
            "description": {lang: description.get(lang, "") for lang in LANGUAGES},
        }
    return dict(sorted(categories.items(), key=lambda kv: (kv[1]["order"], kv[0])))
