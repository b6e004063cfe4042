"""Article history: every version with its diff, written with the article's published state
in the same change of the published articles."""

import difflib

from sqlalchemy import select

from portal.accounts.models import User
from portal.clock import utcnow
from portal.editor.models import ArticleRevision
from portal.extensions import db
from portal.kb.articles import content_hash
from portal.kb.published import publish, unpublish


def diff(old: str, new: str, old_name: str = "before", new_name: str = "after") -> str:
    """A unified diff of two texts."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
        )
    )


def latest(slug: str) -> ArticleRevision | None:
    """The newest version of an article in its history."""
    return db.session.scalars(
        select(ArticleRevision)
        .where(ArticleRevision.slug == slug)
        .order_by(ArticleRevision.id.desc())
        .limit(1)
    ).first()


def add_revision(
    slug: str, path: str, kind: str, content: str, author: User | None, seq: int
) -> None:
    """A version in the article's history, with its diff against the one before."""
    previous = latest(slug)
    db.session.add(
        ArticleRevision(
            slug=slug,
            path=path,
            kind=kind,
            author_id=author.id if author else None,
            content=content,
            content_hash=content_hash(content.encode()),
            diff=diff(previous.content if previous else "", content, "before", "after"),
            created_at=utcnow(),
            seq=seq,
        )
    )


def record(slug: str, path: str, kind: str, content: str, author: User | None, seq: int) -> None:
    """A version in the history and the article's published state, in change `seq`."""
    add_revision(slug, path, kind, content, author, seq)
    if kind == "deleted":
        unpublish(db.session, path, seq, slug)
    else:
        publish(db.session, path, content, seq, slug)


def history(slug: str) -> list[ArticleRevision]:
    """Every version of an article, newest first."""
    return list(
        db.session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.slug == slug)
            .order_by(ArticleRevision.id.desc())
        )
    )


def seen_before(slug: str | None, text: str) -> bool:
    """Whether the history holds this text of the article (always for the `_*.yml` files,
    which have none: a host behind takes the database's)."""
    if slug is None:
        return True
    digest = content_hash(text.encode("utf-8"))
    found = select(ArticleRevision.id).where(
        ArticleRevision.slug == slug, ArticleRevision.content_hash == digest
    )
    return db.session.scalar(found.limit(1)) is not None
