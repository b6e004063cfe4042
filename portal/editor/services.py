"""Writing articles from the web: atomic file saves, revisions with diffs, stale-save refusal,
restoring, and the index updated for that article at once."""

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from flask import current_app

from portal.accounts.models import User
from portal.clock import utcnow
from portal.editor.frontmatter import replace_list, update_front_matter
from portal.editor.links import redirects_text, relink, with_redirect
from portal.editor.models import ArticleRevision
from portal.editor.revisions import diff, record
from portal.extensions import db
from portal.kb import published
from portal.kb.articles import (
    SLUG_PATTERN,
    Article,
    ArticleError,
    load_articles,
    parse_source,
)
from portal.kb.indexing import update_articles
from portal.kb.learning import move_phrases
from portal.kb.published import next_seq, publish, remove_file, unpublish, write_file
from portal.kb.services import REDIRECTS_FILE, load_redirects, search_index
from portal.kb.vectors import word_vectors


class EditorError(ValueError):
    """Why a save was refused: stale, slug_taken, invalid (with a message), not_found."""

    def __init__(self, code: str, detail: str = "", diff: str = ""):
        super().__init__(code)
        self.code, self.detail, self.diff = code, detail, diff


@dataclass
class ArticleDraft:
    """The editor form's values."""

    title: str
    slug: str
    lang: str
    category: str
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    translation_of: str = ""
    draft: bool = False
    body: str = ""
    updated: dt.date | None = None
    keep_date: bool = False  # a minor change: the "Updated" date stays as it was


def articles_root() -> Path:
    return current_app.config["PORTAL_ARTICLES_DIR"]


def all_articles() -> list[Article]:
    """Every article file, drafts included (the editor sees what the index does not)."""
    return load_articles(articles_root()).articles


def find(slug: str) -> Article | None:
    return next((a for a in all_articles() if a.slug == slug), None)


def _front_matter(values: ArticleDraft) -> dict:
    """The front matter fields of these values; None for a field the file should not have."""
    return {
        "title": values.title.strip(),
        "slug": values.slug,
        "lang": values.lang,
        "tags": [t for t in values.tags if t],
        "summary": values.summary.strip(),
        "updated": values.updated or utcnow().date(),
        "translation_of": values.translation_of.strip() or None,
        "draft": True if values.draft else None,
        "questions": list(values.questions) or None,
    }


def _body(values: ArticleDraft) -> str:
    return values.body.replace("\r\n", "\n").strip("\n")


def render_file(values: ArticleDraft) -> str:
    """The Markdown file for these values: YAML front matter, then the body."""
    lines = [
        # tags on one line as the knowledge base writes them, questions one per line
        yaml.safe_dump(
            {key: value},
            allow_unicode=True,
            width=1000,
            default_flow_style=None if key == "tags" else False,
        ).rstrip("\n")
        for key, value in _front_matter(values).items()
        if value is not None
    ]
    front = "\n".join(lines)
    return f"---\n{front}\n---\n{_body(values)}\n"


def edited_file(current: str, values: ArticleDraft) -> str:
    """The current file with these values: unchanged fields keep their exact text."""
    return update_front_matter(current, _front_matter(values), _body(values)) or render_file(values)


def _newest(article: Article) -> tuple[Article, str]:
    """The newest version of an article and its text: the database's when it has it (this
    host's file may not have caught up yet), else the file's."""
    row = published.current(db.session, article.path)
    if row is not None and row.deleted:
        raise EditorError("not_found")
    if row is not None and row.content_hash != article.content_hash:
        try:
            return parse_source(row.content.encode("utf-8"), article.path), row.content
        except ArticleError:
            pass
    return article, (articles_root() / article.path).read_text("utf-8")


def _check_published(existing: Article | None, article: Article, text: str) -> None:
    """With the sequence held, refuse what the database has moved past: a version saved
    on another host since this one's file, a slug another host has given meanwhile."""
    if existing is not None:
        row = published.current(db.session, existing.path)
        if row is not None and row.deleted:
            db.session.rollback()
            raise EditorError("not_found")
        if row is not None and row.content_hash != existing.content_hash:
            db.session.rollback()
            raise EditorError("stale", diff=diff(row.content, text, "saved meanwhile", "yours"))
    for row in published.live_with_slug(db.session, article.slug):
        if existing is None or row.path != existing.path:
            db.session.rollback()
            raise EditorError("slug_taken")


def _apply_files(writes: dict[str, str], removes: list[str]) -> None:
    """This host's folder after a committed change (the other hosts' follow the database)."""
    root = articles_root()
    for path in removes:
        if path not in writes:
            remove_file(root, path)
    for path, text in writes.items():
        write_file(root, path, text)


def _check(values: ArticleDraft) -> None:
    if not SLUG_PATTERN.match(values.slug or ""):
        raise EditorError("invalid", "slug")
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", values.category or ""):
        raise EditorError("invalid", "category")


def _shown(article: Article) -> tuple:
    """Everything of an article but its questions and date."""
    return (
        article.path,
        article.title,
        article.summary,
        article.tags,
        article.translation_of,
        article.draft,
        article.body,
    )


def _questions_only(existing: Article, current: str, edited: Article) -> tuple[str, Article] | None:
    """The current file with only its questions replaced, when nothing else was edited.

    Questions are not shown to readers, so changing them keeps the rest of the file as it
    was, `updated:` date included.
    """
    if edited.questions == existing.questions or _shown(edited) != _shown(existing):
        return None
    text = replace_list(current, "questions", edited.questions)
    if text is None:
        return None
    try:
        article = parse_source(text.encode("utf-8"), existing.path)
    except ArticleError:
        return None
    if article.questions != edited.questions or _shown(article) != _shown(existing):
        return None
    return text, article


def _reindex(upsert: list[Article], remove: list[str]) -> None:
    update_articles(
        articles_root(),
        current_app.config["PORTAL_INDEX_DIR"],
        upsert,
        remove,
        word_vectors(current_app.config["PORTAL_SEARCH_VECTORS"]),
    )
    search_index().invalidate()


def save(
    values: ArticleDraft,
    author: User,
    original_slug: str | None = None,
    base_hash: str | None = None,
) -> Article:
    """Create or update an article file; refuse to overwrite a newer version than the one opened."""
    _check(values)
    root = articles_root()
    by_slug = {a.slug: a for a in all_articles()}  # one pass over the files per save
    existing = by_slug.get(original_slug) if original_slug else None
    if original_slug and existing is None:
        raise EditorError("not_found")
    taken = by_slug.get(values.slug)
    if taken is not None and (existing is None or taken.path != existing.path):
        raise EditorError("slug_taken")
    text = render_file(values)
    current = ""
    if existing is not None:
        existing, current = _newest(existing)
        if values.keep_date:
            values = replace(values, updated=existing.updated)
        text = edited_file(current, values)
        if base_hash and existing.content_hash != base_hash:
            raise EditorError("stale", diff=diff(current, text, "saved meanwhile", "yours"))
    rel_path = f"{values.category}/{values.slug}.{values.lang}.md"
    if existing is not None and (existing.slug, existing.category, existing.lang) == (
        values.slug,
        values.category,
        values.lang,
    ):
        rel_path = existing.path  # a file named otherwise in git keeps its name (and its links)
    try:
        article = parse_source(text.encode("utf-8"), rel_path)
    except ArticleError as error:
        raise EditorError("invalid", str(error)) from None
    if existing is not None:
        text, article = _questions_only(existing, current, article) or (text, article)
    renamed = existing is not None and existing.path != article.path
    moves = {existing.path: article.path} if renamed else {}
    slugs = {existing.slug: article.slug} if renamed and existing.slug != article.slug else {}
    if renamed:
        text = relink(text, existing.path, article.path, moves, slugs)
        article = parse_source(text.encode("utf-8"), rel_path)
    seq = next_seq(db.session)  # saves on every host wait here until this one commits
    _check_published(existing, article, text)
    writes, removes, removed, relinked = {rel_path: text}, [], [], []
    kind = "created" if existing is None else "edited"
    if renamed:
        removes.append(existing.path)
        unpublish(db.session, existing.path, seq, existing.slug)
        kind = "renamed"
        relinked = _relink_others(by_slug.values(), existing, moves, slugs, author, seq, writes)
        if slugs:
            removed.append(existing.slug)
            move_phrases(db.session, existing.slug, article.slug)
            redirects = with_redirect(load_redirects(root), existing.slug, article.slug)
            writes[REDIRECTS_FILE] = redirects_text(redirects)
            publish(db.session, REDIRECTS_FILE, writes[REDIRECTS_FILE], seq)
    record(article.slug, article.path, kind, text, author, seq)
    db.session.commit()
    _apply_files(writes, removes)
    _reindex([article, *relinked], removed)
    return article


def _relink_others(articles, renamed: Article, moves: dict, slugs: dict, author, seq, writes):
    """Point every other article's links at the renamed one's new file and slug."""
    root, changed = articles_root(), []
    for other in articles:
        if other.path == renamed.path:
            continue
        current = (root / other.path).read_text("utf-8")
        text = relink(current, other.path, other.path, moves, slugs)
        if text != current:
            writes[other.path] = text
            record(other.slug, other.path, "relinked", text, author, seq)
            changed.append(parse_source(text.encode("utf-8"), other.path))
    return changed


def delete(slug: str, author: User) -> None:
    article = find(slug)
    if article is None:
        raise EditorError("not_found")
    article, text = _newest(article)
    seq = next_seq(db.session)
    record(slug, article.path, "deleted", text, author, seq)
    writes = {}
    redirects = load_redirects(articles_root())
    if slug in redirects.values():
        kept = {old: new for old, new in redirects.items() if new != slug}
        writes[REDIRECTS_FILE] = redirects_text(kept)
        publish(db.session, REDIRECTS_FILE, writes[REDIRECTS_FILE], seq)
    db.session.commit()
    _apply_files(writes, [article.path])
    _reindex([], [slug])


def restore(slug: str, revision_id: int, author: User) -> Article:
    """Make an earlier version the current one again (a new revision, nothing erased)."""
    revision = db.session.get(ArticleRevision, revision_id)
    if revision is None or revision.slug != slug:
        raise EditorError("not_found")
    current = find(slug)
    article = parse_source(revision.content.encode("utf-8"), revision.path)
    seq = next_seq(db.session)
    removes = []
    if current is not None and current.path != revision.path:
        removes.append(current.path)
        unpublish(db.session, current.path, seq, slug)
    record(slug, revision.path, "restored", revision.content, author, seq)
    db.session.commit()
    _apply_files({revision.path: revision.content}, removes)
    _reindex([article], [])
    return article


def missing_translations(articles: list[Article]) -> list[Article]:
    """Articles with no version in the other language."""
    by_key: dict[str, set[str]] = {}
    for article in articles:
        if article.translation_of:
            by_key.setdefault(article.translation_of, set()).add(article.lang)
    return [
        a
        for a in articles
        if not a.translation_of or by_key.get(a.translation_of, set()) != {"ru", "en"}
    ]
