"""The published articles: the database's copy of every file of the knowledge base, the
source of truth that each host's articles folder and search index follow.

Every change (a save in the editor, an import of files changed outside it) takes the next
number of one sequence inside its own transaction and stamps the rows it writes with it.
Taking the number locks the sequence's row until the transaction ends, so changes commit
in the order of their numbers: a host that has applied every change up to N and then reads
the rows numbered above N misses none.
"""

import os
import secrets
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.kb.articles import content_hash
from portal.kb.models import ArticleSequence, PublishedArticle

# Files beside the articles that travel with them (slug redirects, category titles,
# synonyms). Images and other files travel with the deployment.
META_FILES = ("_redirects.yml", "_categories.yml", "_synonyms.yml")


def next_seq(session: Session) -> int:
    """The number of a new change; the caller's transaction holds the sequence until it ends."""
    table = ArticleSequence.__table__
    bump = update(table).where(table.c.id == 1).values(value=table.c.value + 1)
    bump = bump.returning(table.c.value)
    value = session.execute(bump).scalar()
    if value is None:  # the row is missing (an emptied table): put it back, then take
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(table).values(id=1, value=0).on_conflict_do_nothing())
        value = session.execute(bump).scalar()
    return int(value)


def latest_seq(session: Session) -> int:
    """The number of the newest change published (0 before the first)."""
    return int(session.scalar(select(func.coalesce(func.max(PublishedArticle.seq), 0))))


def is_safe_path(path: str) -> bool:
    """A relative path inside the articles folder (no `..`, not absolute, not hidden)."""
    parts = PurePosixPath(path).parts
    return (
        bool(parts)
        and not PurePosixPath(path).is_absolute()
        and not any(part in ("", ".", "..") or part.startswith(".") for part in parts)
    )


def publish(session: Session, path: str, content: str, seq: int, slug: str | None = None) -> None:
    """Make `content` the current version of the file at `path`."""
    row = session.get(PublishedArticle, path)
    if row is None:
        row = PublishedArticle(path=path)
        session.add(row)
    row.slug, row.content, row.seq, row.deleted = slug, content, seq, False
    row.content_hash = content_hash(content.encode("utf-8"))


def unpublish(session: Session, path: str, seq: int, slug: str | None = None) -> None:
    """Mark the file at `path` deleted (the row stays, so that hosts learn of it)."""
    row = session.get(PublishedArticle, path)
    if row is None:
        row = PublishedArticle(path=path, content="", content_hash="")
        session.add(row)
    row.slug = slug or row.slug
    row.seq, row.deleted = seq, True


def current(session: Session, path: str) -> PublishedArticle | None:
    """The file's published row, deleted or not, if the database knows it."""
    return session.get(PublishedArticle, path)


def live_with_slug(session: Session, slug: str) -> list[PublishedArticle]:
    """Published (not deleted) rows of articles with this slug."""
    return list(
        session.scalars(
            select(PublishedArticle).where(
                PublishedArticle.slug == slug, PublishedArticle.deleted.is_(False)
            )
        )
    )


_COLUMNS = (
    PublishedArticle.path,
    PublishedArticle.slug,
    PublishedArticle.content,
    PublishedArticle.seq,
    PublishedArticle.deleted,
)


def changes_since(session: Session, seq: int) -> list:
    """Every row changed after change `seq` (plain rows), oldest change first."""
    return list(
        session.execute(
            select(*_COLUMNS)
            .where(PublishedArticle.seq > seq)
            .order_by(PublishedArticle.seq, PublishedArticle.path)
        )
    )


def count_since(session: Session, seq: int) -> int:
    """How many rows changed after change `seq`."""
    query = select(func.count()).select_from(PublishedArticle).where(PublishedArticle.seq > seq)
    return int(session.scalar(query))


def states(session: Session) -> list:
    """Every row's path, slug, hash, number and deletion, without the text (plain rows)."""
    columns = (
        PublishedArticle.path,
        PublishedArticle.slug,
        PublishedArticle.content_hash,
        PublishedArticle.seq,
        PublishedArticle.deleted,
    )
    return list(session.execute(select(*columns)))


def all_rows(session: Session) -> list:
    """Every published row, deleted ones included (plain rows)."""
    return changes_since(session, -1)


def write_file(root: Path, path: str, content: str) -> bool:
    """Write a published file into a folder byte for byte, atomically; False if it already
    held exactly that."""
    target = root / path
    data = content.encode("utf-8")
    try:
        if target.read_bytes() == data:
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    with open(staging, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, target)
    return True


def remove_file(root: Path, path: str) -> bool:
    """Remove a file deleted in the database from a folder; False if it was not there."""
    try:
        (root / path).unlink()
        return True
    except FileNotFoundError:
        return False
