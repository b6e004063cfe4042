"""Admin-kept corrections to the production calendar; they win over the `holidays` package."""

import datetime as dt

from sqlalchemy import Date, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import UTCDateTime, utcnow
from portal.extensions import db

OVERRIDE_KINDS = ("day_off", "working_day", "short_day")


class CalendarOverride(db.Model):
    """An extra day off, an extra working day or a shortened day."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    opens: Mapped[dt.time | None] = mapped_column(Time)
    closes: Mapped[dt.time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
