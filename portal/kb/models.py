"""What the database keeps about articles: the visitors' helpfulness votes and the phrases
learned from readers."""

import datetime as dt

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import UTCDateTime, utcnow
from portal.extensions import db


class ArticleVote(db.Model):
    """ "Was this helpful?" One vote per visitor per article; voting again changes it."""

    __tablename__ = "article_votes"
    __table_args__ = (UniqueConstraint("article_slug", "visitor", name="uq_article_votes_visitor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


CANDIDATE, ACTIVE, REMOVED = "candidate", "active", "removed"


class LearnedPhrase(db.Model):
    """A phrase readers used for an article they then found helpful; no trace of who."""

    __tablename__ = "learned_phrases"
    __table_args__ = (UniqueConstraint("article_slug", "phrase", name="uq_learned_phrases"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    phrase: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(5))
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=CANDIDATE, index=True)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Moves only when the status does, so the search can tell cheaply that its set changed.
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class LearnedSighting(db.Model):
    """A keyed hash of (phrase, article, session): one session counts once, unreadably."""

    __tablename__ = "learned_sightings"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ArticleSequence(db.Model):
    """One row: the number of the last change to the published articles. Taking the next
    number locks the row until the change commits, so changes commit in number order."""

    __tablename__ = "article_sequence"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class PublishedArticle(db.Model):
    """The current version of one file of the knowledge base (an article, or a `_*.yml` file
    beside them such as `_redirects.yml`): what every host's folder and index follow."""

    __tablename__ = "articles"

    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(200), index=True)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
