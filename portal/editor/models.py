"""Article history: every saved version with who, when and a diff against the one before."""

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clock import UTCDateTime, utcnow
from portal.extensions import db


class ArticleRevision(db.Model):
    """A version of an article file; `author` is None for changes made outside the editor."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), index=True)
    path: Mapped[str] = mapped_column(String(300))
    # created | edited | restored | renamed | deleted | external | imported
    kind: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    diff: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The change of the published articles this version belongs to (None before they existed).
    seq: Mapped[int | None] = mapped_column(Integer, index=True)

    author: Mapped[User | None] = relationship()
