"""Coupons for special requests: 15 requests, valid a year, voided on renewal."""

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation
from portal.clock import UTCDateTime, utcnow
from portal.extensions import db


class Coupon(db.Model):
    """A code of letters and digits that makes requests special."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    requests_total: Mapped[int] = mapped_column(Integer)
    requests_used: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))

    organisation: Mapped[Organisation] = relationship()

    @property
    def requests_left(self) -> int:
        return 0 if self.voided_at else max(0, self.requests_total - self.requests_used)
