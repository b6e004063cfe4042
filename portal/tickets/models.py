"""Tickets, their messages, attachments and the recorded events of their life."""

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.clock import UTCDateTime, utcnow
from portal.extensions import db

CRITICALITIES = ("low", "normal", "high", "critical")
OUT_OF_TURN = ("high", "critical")
CHANNELS = ("web", "email", "phone", "chat")
STATUSES = ("new", "open", "waiting_customer", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "waiting_customer")
DONE_STATUSES = ("resolved", "closed")


class TicketCounter(db.Model):
    """The last ticket number given out in a year; numbers are never reused."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(db.Model):
    """One request: one problem, its thread and its service-level clock."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    criticality: Mapped[str] = mapped_column(String(10), default="normal")
    service_level: Mapped[str] = mapped_column(String(20), default="standard")
    tier: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), default="web")
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    lang: Mapped[str] = mapped_column(String(5), default="ru")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    scope_review: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kb_article_slug: Mapped[str | None] = mapped_column(String(200))
    # The service-level clock: it runs from the oldest customer message a
    # specialist has not answered yet and stops when one replies.
    awaiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    response_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_public_by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    linked_ticket: Mapped["Ticket | None"] = relationship(
        foreign_keys=[linked_ticket_id], remote_side="Ticket.id"
    )
    merged_into: Mapped["Ticket | None"] = relationship(
        foreign_keys=[merged_into_id], remote_side="Ticket.id"
    )
    rating: Mapped["TicketRating | None"] = relationship(back_populates="ticket")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    organisation: Mapped[Organisation | None] = relationship()
    messages: Mapped[list["Message"]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def out_of_turn(self) -> bool:
        return self.criticality in OUT_OF_TURN


class Message(db.Model):
    """One message of a thread; written once, never changed."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Attachment(db.Model):
    """A file on a message; its bytes are in the attachment store under a random name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")
    ticket: Mapped[Ticket] = relationship()


class AttachmentChunk(db.Model):
    """A piece of a stored file, when the database is the attachment store.

    Keyed by the stored name alone: a draft's file has one before any attachment does.
    """

    __tablename__ = "attachment_chunks"

    stored_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TicketEvent(db.Model):
    """A recorded change: who, when, what, from and to."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class TicketRating(db.Model):
    """The customer's rating of the answer: 1-5 and a comment; one per ticket, may be changed."""

    __tablename__ = "ticket_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="rating")


class CannedAnswer(db.Model):
    """A saved reply with placeholders such as {customer_name}."""

    __tablename__ = "canned_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default="ru")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImmutableTextError(RuntimeError):
    """Somebody tried to change a request's original text or an earlier message."""


@event.listens_for(Session, "before_flush")
def _keep_texts_immutable(session, _context, _instances):
    """The text of a filed request and of every message is never rewritten."""
    for obj in session.dirty:
        if isinstance(obj, Message | Ticket):
            state = db.inspect(obj)
            fields = ("body",) if isinstance(obj, Message) else ("title",)
            if any(state.attrs[f].history.deleted for f in fields):
                raise ImmutableTextError(f"{type(obj).__name__} {obj.id}: text cannot change")
