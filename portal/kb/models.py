"""What the database keeps about articles: the visitors' helpfulness votes."""

import datetime as dt

from sqlalchemy import Boolean, String, Text, UniqueConstraint
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
