"""Each host's articles folder and search index follow the published articles.

A follower compares the newest change in the database with the change this host has
applied (a small file in the index folder, written after the index is updated). When it is
behind, it takes the host's replica lock (one process per host applies; the others find it
taken and wait for the next poll), writes and removes the changed files (a write that would
not change a file is skipped: the host that made the save has it already), updates the index
for exactly those articles, then records the change applied. Far behind, without an index,
or with an empty folder, it rebuilds: every published file, then a full build.

Other processes of the host see the new index within `WhooshSearchIndex.REFRESH_SECONDS`.
"""

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError
from whoosh import index as whoosh_index

from portal.extensions import db
from portal.kb.articles import Article, ArticleError, has_articles, parse_source
from portal.kb.indexing import build_index, current_generation, update_articles
from portal.kb.published import (
    all_rows,
    changes_since,
    count_since,
    is_safe_path,
    latest_seq,
    remove_file,
    write_file,
)
from portal.kb.vectors import word_vectors

log = logging.getLogger(__name__)
APPLIED_FILE = "replica-applied-seq"
LOCK_FILE = ".replica.lock"


@dataclass
class FollowReport:
    """What one run of the follower did."""

    applied: int
    written: int = 0
    removed: int = 0
    reindexed: int = 0
    rebuilt: bool = False


def applied_seq(index_dir: Path) -> int:
    """The last change this host's folder and index hold (0 if none recorded)."""
    try:
        return int((index_dir / APPLIED_FILE).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def record_applied(index_dir: Path, seq: int) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = index_dir / f".{APPLIED_FILE}.{os.getpid()}.{threading.get_ident()}"
    staging.write_text(str(seq))
    os.replace(staging, index_dir / APPLIED_FILE)


def lag() -> tuple[int, int]:
    """(the change this host applied, the newest change in the database), for readiness."""
    return applied_seq(current_app.config["PORTAL_INDEX_DIR"]), latest_seq(db.session)


@contextmanager
def host_lock(index_dir: Path, wait: bool = False):
    """True inside if this process holds the host's replica lock, False if another does
    (with `wait`, until it is free)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _needs_rebuild(articles_dir: Path, index_dir: Path) -> bool:
    return current_generation(index_dir) is None or not has_articles(articles_dir)


def _up_to_date(articles_dir: Path, index_dir: Path) -> bool | None:
    """True if nothing is to be done, None if nothing is published yet (the folder is all
    there is)."""
    latest = latest_seq(db.session)
    if latest == 0:
        return None
    return latest == applied_seq(index_dir) and not _needs_rebuild(articles_dir, index_dir)


def follow_once(
    articles_dir: Path, index_dir: Path, rebuild_after: int = 500, vectors: bool = True
) -> FollowReport | None:
    """Bring this host up to the newest published change; None if there was nothing to do
    (or another process of the host is doing it)."""
    if _up_to_date(articles_dir, index_dir) is not False:
        db.session.rollback()
        return None
    with host_lock(index_dir) as held:
        if not held:
            return None
        return catch_up(articles_dir, index_dir, rebuild_after, vectors)


def catch_up(
    articles_dir: Path, index_dir: Path, rebuild_after: int = 500, vectors: bool = True
) -> FollowReport | None:
    """`follow_once` for a caller that holds `host_lock` already."""
    if _up_to_date(articles_dir, index_dir) is not False:
        db.session.rollback()
        return None
    applied, latest = applied_seq(index_dir), latest_seq(db.session)
    if (
        latest < applied  # the database was replaced
        or _needs_rebuild(articles_dir, index_dir)
        or count_since(db.session, applied) > rebuild_after
    ):
        return _rebuild(articles_dir, index_dir, vectors)
    return _apply(articles_dir, index_dir, applied, vectors)


def _article(path: str, content: str) -> Article | None:
    if not path.endswith(".md"):
        return None
    try:
        return parse_source(content.encode("utf-8"), path)
    except ArticleError as exc:
        log.warning("published article %s does not parse: %s", path, exc)
        return None


def _indexed_hashes(index_dir: Path, slugs: set[str]) -> dict[str, str]:
    """Content hashes of these articles in the served index (absent ones left out)."""
    generation = current_generation(index_dir)
    if generation is None or not slugs:
        return {}
    ix = whoosh_index.open_dir(str(generation))
    try:
        with ix.searcher() as searcher:
            found = {slug: searcher.document(slug=slug) for slug in slugs}
    finally:
        ix.close()
    return {slug: (fields or {}).get("content_hash") for slug, fields in found.items() if fields}


def _apply(articles_dir: Path, index_dir: Path, applied: int, vectors: bool) -> FollowReport:
    rows = changes_since(db.session, applied)
    db.session.rollback()  # read: nothing of the database is held while files are written
    report = FollowReport(applied=max([applied, *(r.seq for r in rows)]))
    upsert: dict[str, Article] = {}
    gone: set[str] = set()
    for row in rows:
        if not is_safe_path(row.path):
            log.warning("published path %r is outside the articles folder; skipped", row.path)
            continue
        if row.deleted:
            report.removed += remove_file(articles_dir, row.path)
            if row.slug:
                gone.add(row.slug)
            continue
        report.written += write_file(articles_dir, row.path, row.content)
        article = _article(row.path, row.content)
        if article is not None:
            upsert[article.slug] = article
    indexed = _indexed_hashes(index_dir, set(upsert) | gone)
    # What the index already holds is skipped: a draft absent, an article of the same hash.
    changed = [
        a
        for a in upsert.values()
        if (a.slug in indexed if a.draft else indexed.get(a.slug) != a.content_hash)
    ]
    removed = [slug for slug in gone - set(upsert) if slug in indexed]
    if changed or removed:
        update_articles(articles_dir, index_dir, changed, removed, word_vectors(vectors))
    report.reindexed = len(changed) + len(removed)
    record_applied(index_dir, report.applied)
    return report


def _rebuild(articles_dir: Path, index_dir: Path, vectors: bool) -> FollowReport:
    rows = all_rows(db.session)
    db.session.rollback()
    report = FollowReport(applied=max((r.seq for r in rows), default=0), rebuilt=True)
    for row in rows:
        if not is_safe_path(row.path):
            continue
        if row.deleted:
            report.removed += remove_file(articles_dir, row.path)
        else:
            report.written += write_file(articles_dir, row.path, row.content)
    report.reindexed = build_index(articles_dir, index_dir, vectors=word_vectors(vectors)).indexed
    record_applied(index_dir, report.applied)
    return report


def follow_app(app: Flask) -> FollowReport | None:
    """One run of the follower for this application's host."""
    with app.app_context():
        try:
            return follow_once(
                app.config["PORTAL_ARTICLES_DIR"],
                app.config["PORTAL_INDEX_DIR"],
                app.config["PORTAL_REPLICA_REBUILD_AFTER"],
                app.config["PORTAL_SEARCH_VECTORS"],
            )
        finally:
            db.session.remove()


class Follower(threading.Thread):
    """The daemon thread that follows the published articles for one application."""

    def __init__(self, app: Flask, seconds: float):
        super().__init__(name="article-replica", daemon=True)
        self.app, self.seconds = app, seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        failing = False
        while not self.stopping.is_set():
            try:
                follow_app(self.app)
                if failing:
                    log.warning("article replica: following again")
                failing = False
            except (SQLAlchemyError, OSError) as exc:
                if not failing:
                    log.warning("article replica: cannot follow (%s); retrying", exc)
                failing = True
            except Exception:  # never let the thread die: the host would stop following
                log.exception("article replica: unexpected failure; retrying")
            self.stopping.wait(self.seconds)

    def stop(self) -> None:
        """End after the current run."""
        self.stopping.set()


def start_follower(app: Flask) -> Follower | None:
    """Follow the published articles every `PORTAL_REPLICA_POLL_SECONDS` in a daemon thread
    (none when 0). A failure (the database down) is logged and tried again next poll."""
    seconds = app.config["PORTAL_REPLICA_POLL_SECONDS"]
    if seconds <= 0:
        return None
    follower = Follower(app, seconds)
    app.extensions["article_replica"] = follower
    follower.start()
    return follower
