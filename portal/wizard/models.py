"""Request drafts: the wizard's state lives in the database, so nothing is lost."""

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clock import UTCDateTime, utcnow
from portal.extensions import db
from portal.tickets.models import Ticket

ACTIVE, SUBMITTED, DEFLECTED, ABANDONED = "active", "submitted", "deflected", "abandoned"


class Draft(db.Model):
    """A request being written; it ends submitted, deflected by an article, or abandoned."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=ACTIVE, index=True)
    step: Mapped[str] = mapped_column(String(20), default="subject")
    title: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(50), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    criticality: Mapped[str] = mapped_column(String(10), default="normal")
    coupon_code: Mapped[str] = mapped_column(String(40), default="")
    insist: Mapped[bool] = mapped_column(Boolean, default=False)
    insist_note: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(5), default="ru")
    deflected_by: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    linked_ticket: Mapped["Ticket | None"] = relationship(foreign_keys=[linked_ticket_id])
    files: Mapped[list["DraftFile"]] = relationship(
        back_populates="draft", order_by="DraftFile.id", cascade="all, delete-orphan"
    )


class DraftFile(db.Model):
    """A file uploaded while drafting; it becomes an attachment when the request is filed."""

    __tablename__ = "draft_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)

    draft: Mapped[Draft] = relationship(back_populates="files")
