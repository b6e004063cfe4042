"""Building the search index: the schema, full builds swapped in atomically, and updates of
changed articles in place, one writer at a time.

Layout on disk: ``<index_dir>/current`` is a symlink to a generation folder. A full build
writes a new generation beside it and swaps the link with one atomic rename, so readers keep
the old generation until the swap and a crash mid-build leaves the served index as it was.
"""

import datetime as dt
import fcntl
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, Schema

from portal.kb.articles import Article, load_articles
from portal.kb.markup import plain_lines
from portal.kb.ranking import RankDoc, Ranker, ranking_exists
from portal.kb.vectors import WordVectors, word_vectors

# Bump when the schema, the analysis or the ranking data change: older indexes are then
# rebuilt, not reused.
SCHEMA_VERSION = "8"
SCHEMA_FILE = "portal-schema-version"


def make_schema() -> Schema:
    """Fields of one article in the index."""
    return Schema(
        slug=ID(stored=True, unique=True),
        path=ID(stored=True),
        category=ID(stored=True),
        lang=ID(stored=True),
        translation_of=ID(stored=True),
        title=STORED,
        summary=STORED,
        tag_list=STORED,
        source=STORED,
        content_hash=STORED,
        updated=STORED,
    )


def _questions(article: Article) -> list[str]:
    return list(getattr(article, "questions", None) or [])


def rank_doc(article: Article) -> RankDoc:
    """What ranking reads of an article."""
    return RankDoc(
        slug=article.slug,
        lang=article.lang,
        category=article.category,
        title=article.title,
        summary=article.summary,
        tags=list(article.tags),
        questions=_questions(article),
        body=plain_lines(article.body),
        translation_of=article.translation_of or "",
    )


def _document(article: Article) -> dict:
    return {
        "slug": article.slug,
        "path": article.path,
        "category": article.category,
        "lang": article.lang,
        "translation_of": article.translation_of or "",
        "title": article.title,
        "summary": article.summary,
        "tag_list": article.tags,
        "source": article.body,
        "content_hash": article.content_hash,
        "updated": article.updated.isoformat(),
    }


@dataclass
class BuildReport:
    """What `portal index` did."""

    indexed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped_drafts: int = 0
    problems: list = field(default_factory=list)
    seconds: float = 0.0
    full: bool = True


@contextmanager
def _write_lock(index_dir: Path):
    """Only one writer at a time, across processes and hosts' shared disks."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".write.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def current_generation(index_dir: Path) -> Path | None:
    """The generation folder readers are served from, if any and of this schema version."""
    link = index_dir / "current"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    path = index_dir / target
    try:
        version = (path / SCHEMA_FILE).read_text().strip()
    except OSError:
        return None
    if version != SCHEMA_VERSION or not ranking_exists(path):
        return None
    return path if whoosh_index.exists_in(str(path)) else None


def build_index(
    articles_dir: Path, index_dir: Path, procs: int = 1, vectors: WordVectors | None = None
) -> BuildReport:
    """Index every article into a new generation and swap it in atomically."""
    vectors = vectors or word_vectors()
    started = time.perf_counter()
    loaded = load_articles(articles_dir)
    report = BuildReport(problems=loaded.problems)
    with _write_lock(index_dir):
        name = f"gen-{dt.datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        building = index_dir / f"{name}.building"
        building.mkdir()
        try:
            ix = whoosh_index.create_in(str(building), make_schema())
            options = {"limitmb": 256}
            if procs > 1:
                options.update(procs=procs, multisegment=True)
            published = [a for a in loaded.articles if not a.draft]
            report.skipped_drafts = len(loaded.articles) - len(published)
            with ix.writer(**options) as writer:
                for article in published:
                    writer.add_document(**_document(article))
            report.indexed = len(published)
            ix.close()
            Ranker.build([rank_doc(a) for a in published], vectors, procs).save(building)
            (building / SCHEMA_FILE).write_text(SCHEMA_VERSION)
            os.rename(building, index_dir / name)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        _swap(index_dir, name)
    report.seconds = time.perf_counter() - started
    return report


def _swap(index_dir: Path, name: str) -> None:
    link = index_dir / "current"
    previous = os.readlink(link) if link.is_symlink() else None
    staging = index_dir / f".current-{uuid.uuid4().hex[:6]}"
    os.symlink(name, staging)
    os.replace(staging, link)
    keep = {name, previous}
    for old in index_dir.glob("gen-*"):
        # The previous generation stays for readers still holding it; a
        # ".building" folder here is what a crashed build left (we hold the lock).
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def update_changed(
    articles_dir: Path, index_dir: Path, vectors: WordVectors | None = None
) -> BuildReport:
    """Re-index only the articles whose content changed; build everything if no index exists."""
    generation = current_generation(index_dir)
    if generation is None:
        return build_index(articles_dir, index_dir, vectors=vectors)
    started = time.perf_counter()
    loaded = load_articles(articles_dir)
    report = BuildReport(problems=loaded.problems, full=False)
    with _write_lock(index_dir):
        ix = whoosh_index.open_dir(str(generation))
        with ix.searcher() as searcher:
            indexed = {f["slug"]: f.get("content_hash") for f in searcher.all_stored_fields()}
        current = {a.slug: a for a in loaded.articles if not a.draft}
        report.skipped_drafts = sum(1 for a in loaded.articles if a.draft)
        changed = [a for slug, a in current.items() if indexed.get(slug) != a.content_hash]
        gone = [slug for slug in indexed if slug not in current]
        report.unchanged = len(current) - len(changed)
        if changed or gone:
            with ix.writer(limitmb=128) as writer:
                for slug in gone:
                    writer.delete_by_term("slug", slug)
                for article in changed:
                    writer.update_document(**_document(article))
            _update_ranking(generation, changed, gone, vectors)
        report.indexed, report.removed = len(changed), len(gone)
        ix.close()
    report.seconds = time.perf_counter() - started
    return report


def _update_ranking(
    generation: Path, upsert: list[Article], remove: list[str], vectors: WordVectors | None
) -> None:
    """Bring the generation's ranking data in line (the caller holds the write lock)."""
    ranker = Ranker.load(generation)
    ranker.remove(remove + [a.slug for a in upsert if a.draft])
    ranker.upsert([rank_doc(a) for a in upsert if not a.draft], vectors or word_vectors())
    ranker.save(generation)


def update_articles(
    articles_dir: Path,
    index_dir: Path,
    upsert: list[Article],
    remove: list[str],
    vectors: WordVectors | None = None,
) -> None:
    """Put these articles into the served index and take these slugs out, at once."""
    generation = current_generation(index_dir)
    if generation is None:
        build_index(articles_dir, index_dir, vectors=vectors)
        return
    with _write_lock(index_dir):
        ix = whoosh_index.open_dir(str(generation))
        with ix.writer(limitmb=64) as writer:
            for slug in remove:
                writer.delete_by_term("slug", slug)
            for article in upsert:
                if article.draft:
                    writer.delete_by_term("slug", article.slug)
                else:
                    writer.update_document(**_document(article))
        _update_ranking(generation, upsert, remove, vectors)
        ix.close()
