"""`portal eval`: how often the suggestions find the article that answers a real question.

The protocol of labelled question sets (`text,intent` or `text,slug` CSV files): one
article per intent, titled with the intent's name made readable (or, for Russian sets,
its first phrasing), whose body lists the intent's first ten phrasings; every other
question is asked as a customer drafting a request asks it, through `/api/suggest` with
`limit=5` and the set's language. With `--train`, the articles come from the training
file and every question of the evaluated file is asked.
"""

import csv
import json
import random
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from portal.app import create_app
from portal.extensions import db
from portal.kb.analysis import language_of
from portal.kb.indexing import build_index
from portal.kb.vectors import word_vectors
from portal.migrations import upgrade

PHRASINGS_PER_ARTICLE = 10
OUT_OF_SCOPE = {"oos", "out_of_scope"}


@dataclass
class LabelledSet:
    """Questions grouped by the article (intent) that answers them."""

    name: str
    by_intent: dict[str, list[str]]
    lang: str

    @classmethod
    def read(cls, path: Path) -> "LabelledSet":
        """A CSV whose first column is the question and second its intent or slug."""
        by_intent: dict[str, list[str]] = defaultdict(list)
        with open(path, encoding="utf-8", newline="") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            if not header or len(header) < 2:
                raise ValueError(f"{path}: expected a header `text,intent` (or `text,slug`)")
            for number, row in enumerate(rows, start=2):
                if len(row) < 2 or not row[0].strip() or not row[1].strip():
                    raise ValueError(f"{path}:{number}: expected a question and its intent")
                if row[1].strip() not in OUT_OF_SCOPE:
                    by_intent[row[1].strip()].append(row[0].strip())
        if not by_intent:
            raise ValueError(f"{path}: no labelled questions")
        texts = [t for ts in by_intent.values() for t in ts]
        cyrillic = sum(language_of(t) == "ru" for t in texts)
        return cls(Path(path).stem, dict(by_intent), "ru" if cyrillic > len(texts) / 2 else "en")


def article_slug(intent: str) -> str:
    """A slug for an intent name that is safe in a URL and a file name."""
    slug = re.sub(r"[^a-z0-9]+", "-", intent.lower()).strip("-")
    return slug or f"intent-{abs(hash(intent)) % 10**8}"


def article_title(intent: str, phrasings: list[str], lang: str) -> str:
    if lang == "ru":
        return phrasings[0]
    return re.sub(r"[_\s]+", " ", intent).strip().capitalize()


def write_articles(train: LabelledSet, folder: Path) -> dict[str, str]:
    """One Markdown article per intent in `folder`; returns intent -> slug."""
    heading = (
        "Вопросы, на которые отвечает статья"
        if train.lang == "ru"
        else ("Questions this article answers")
    )
    slugs = {}
    (folder / "eval").mkdir(parents=True, exist_ok=True)
    for intent, phrasings in train.by_intent.items():
        slug = article_slug(intent)
        slugs[intent] = slug
        title = article_title(intent, phrasings, train.lang)
        body = "\n".join(f"- {p}" for p in phrasings[:PHRASINGS_PER_ARTICLE])
        # JSON strings are YAML strings: quotes, colons and "no"/"yes" stay text.
        (folder / "eval" / f"{slug}.{train.lang}.md").write_text(
            f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nslug: {json.dumps(slug)}\n"
            f"lang: {train.lang}\nupdated: 2026-01-01\n---\n\n## {heading}\n\n{body}\n",
            encoding="utf-8",
        )
    return slugs


def questions(evaluated: LabelledSet, held_out: bool) -> list[tuple[str, str]]:
    """(question, intent) pairs to ask: all of them, or those past the article phrasings."""
    skip = 0 if held_out else PHRASINGS_PER_ARTICLE
    return [(q, i) for i, qs in evaluated.by_intent.items() for q in qs[skip:]]


@dataclass
class Outcome:
    """Hit@1, hit@5 and MRR of one question set, with the time each question took."""

    name: str
    lang: str
    articles: int
    ranks: list[int | None] = field(default_factory=list)
    millis: list[float] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return len(self.ranks)

    def hit(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / (self.asked or 1)

    @property
    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r) / (self.asked or 1)

    def percentile(self, p: float) -> float:
        if not self.millis:
            return 0.0
        ordered = sorted(self.millis)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def ask_all(client, pairs, slugs: dict[str, str], lang: str, outcome: Outcome, limit=5) -> None:
    """Ask every question through `/api/suggest` and record the answer's rank."""
    for text, intent in pairs:
        started = time.perf_counter()
        response = client.get(
            "/api/suggest", query_string={"q": text, "lang": lang, "limit": limit}
        )
        outcome.millis.append((time.perf_counter() - started) * 1000)
        found = [r["slug"] for r in response.get_json().get("results", [])]
        wanted = slugs.get(intent)
        outcome.ranks.append(found.index(wanted) + 1 if wanted in found else None)


def table(outcomes: list[Outcome]) -> str:
    """The results as a plain-text table."""
    lines = [
        f"{'set':<28} {'lang':<4} {'articles':>8} {'questions':>9} "
        f"{'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'p50 ms':>7} {'p99 ms':>7}"
    ]
    for o in outcomes:
        lines.append(
            f"{o.name:<28} {o.lang:<4} {o.articles:>8} {o.asked:>9} {o.hit(1):>6.3f} "
            f"{o.hit(5):>6.3f} {o.mrr:>6.3f} {o.percentile(0.5):>7.1f} {o.percentile(0.99):>7.1f}"
        )
    return "\n".join(lines)


def run(
    evaluated: Path,
    train: Path | None = None,
    sample: int = 0,
    vectors: bool = True,
    articles: Path | None = None,
) -> Outcome:
    """Ask a labelled set's questions through the API of a temporary portal: over `articles`
    (labels are slugs), or over articles built from the set by the protocol."""
    asked = LabelledSet.read(evaluated)
    if articles is not None:
        pairs = questions(asked, held_out=True)
    else:
        source = LabelledSet.read(train) if train else asked
        pairs = questions(asked, held_out=train is not None)
    if sample and len(pairs) > sample:
        pairs = random.Random(7).sample(pairs, sample)
    with tempfile.TemporaryDirectory(prefix="portal-eval-") as tmp:
        tmp = Path(tmp)
        if articles is None:
            articles = tmp / "articles"
            slugs = write_articles(source, articles)
        else:
            slugs = {intent: intent for intent in asked.by_intent}
        index_dir = tmp / "index"
        report = build_index(articles, index_dir, vectors=word_vectors(vectors))
        app = create_app(
            {
                "PORTAL_ARTICLES_DIR": str(articles),
                "PORTAL_INDEX_DIR": str(index_dir),
                "PORTAL_INSTANCE_DIR": str(tmp / "instance"),
                "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'eval.db'}",
                "PORTAL_SECRET_KEY": "eval",
                "PORTAL_RATE_LIMITS": False,
                "PORTAL_SEARCH_VECTORS": vectors,
            }
        )
        upgrade(app.config["PORTAL_DATABASE_URL"])
        outcome = Outcome(asked.name, asked.lang, report.indexed)
        ask_all(app.test_client(), pairs, slugs, asked.lang, outcome)
        with app.app_context():
            db.engine.dispose()
    return outcome
