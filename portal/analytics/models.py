"""One table of events: searches, article views, suggestions and the request funnel."""

import datetime as dt

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import UTCDateTime, utcnow
from portal.extensions import db


class Event(db.Model):
    """Something a visitor did. Search events never carry who searched."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    article_slug: Mapped[str | None] = mapped_column(String(200), index=True)
    query: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(5))
    results: Mapped[int | None] = mapped_column(Integer)
    draft_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[dict | None] = mapped_column(JSON)
