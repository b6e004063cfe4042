"""Storing new tickets as the filing policy decided them, numbering, and the SLA clock."""

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts.models import User
from portal.calendar.services import sla_policy
from portal.clock import aware, utcnow
from portal.coupons.services import redeem
from portal.extensions import db, retry_when_locked
from portal.sla import SERVICE_LEVELS, policy_calendar, response_due, sla_state, time_left
from portal.text import clean_user_text
from portal.tickets import events
from portal.tickets.models import (
    CHANNELS,
    CRITICALITIES,
    OPEN_STATUSES,
    Message,
    Ticket,
    TicketCounter,
    TicketEvent,
)

MAX_TITLE = 200
MAX_BODY = 50_000


class TicketError(ValueError):
    """A request that cannot be filed as given; `code` names why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class NewTicket:
    """Everything a channel knows about a new request."""

    author: User
    title: str
    description: str
    category: str
    criticality: str = "normal"
    channel: str = "web"
    details: dict = field(default_factory=dict)
    coupon_code: str | None = None
    lang: str = "ru"
    service_level: str = "standard"  # as the filing policy (`portal.tickets.filing`) decided
    scope_review: bool = False
    logged_by: User | None = None
    attachments: list = field(default_factory=list)
    linked_ticket_id: int | None = None


def allocate_number(now: dt.datetime) -> str:
    """The next ticket number of the year, e.g. 2026-000123; atomic on SQLite and PostgreSQL."""
    year = now.astimezone(sla_policy().calendar.tz).year
    dialect = db.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TicketCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(
            index_elements=["year"], set_={"last": TicketCounter.__table__.c.last + 1}
        )
        .returning(TicketCounter.__table__.c.last)
    )
    last = db.session.execute(statement).scalar_one()
    return f"{year}-{last:06d}"


def record_event(ticket: Ticket, actor: User | None, kind: str, old=None, new=None, at=None):
    """Note a change in the ticket's history (shown in the thread)."""
    db.session.add(
        TicketEvent(
            ticket=ticket,
            actor_id=actor.id if actor else None,
            kind=kind,
            from_value=None if old is None else str(old)[:200],
            to_value=None if new is None else str(new)[:200],
            created_at=at or utcnow(),
        )
    )


def customer_message_arrived(ticket: Ticket, at: dt.datetime) -> None:
    """Start the clock unless an earlier customer message is already waiting."""
    if ticket.awaiting_since is None:
        ticket.awaiting_since = at
    recompute_due(ticket)


def staff_replied(ticket: Ticket, at: dt.datetime) -> None:
    """A specialist answered: the clock stops."""
    ticket.awaiting_since = None
    ticket.response_due = None
    if ticket.first_response_at is None:
        ticket.first_response_at = at


def recompute_due(ticket: Ticket) -> None:
    """Deadline of the waiting customer message under the ticket's current level."""
    since = aware(ticket.awaiting_since)
    waiting = ticket.status in ("new", "open")
    ticket.response_due = response_due(ticket, since, sla_policy()) if since and waiting else None


def file_ticket(new: NewTicket, now: dt.datetime | None = None) -> Ticket:
    """Create a ticket from any channel, in one transaction with its first message and mail."""
    now = now or utcnow()
    title = clean_user_text(new.title, single_line=True)
    description = clean_user_text(new.description).strip()
    if not title or len(title) > MAX_TITLE:
        raise TicketError("title")
    if not description or len(description) > MAX_BODY:
        raise TicketError("description")
    if new.criticality not in CRITICALITIES or new.channel not in CHANNELS:
        raise TicketError("choice")
    if new.service_level not in SERVICE_LEVELS:
        raise TicketError("choice")
    # Concurrent writers on SQLite may find the database locked: the whole filing is retried.
    return retry_when_locked(lambda: _insert_ticket(new, title, description, now))


def _insert_ticket(new: NewTicket, title: str, description: str, now: dt.datetime) -> Ticket:
    """One transaction: the ticket, its first message, events, mail and webhooks."""
    organisation_id = new.author.organisation_id
    try:
        coupon = redeem(new.coupon_code, organisation_id, now) if new.coupon_code else None
        level = "special" if coupon else new.service_level  # a used coupon makes it special
        ticket = Ticket(
            number=allocate_number(now),
            author_id=new.author.id,
            organisation_id=organisation_id,
            title=title,
            category=new.category,
            details=new.details,
            criticality=new.criticality,
            service_level=level,
            tier=new.author.tier,
            channel=new.channel,
            status="open" if coupon else "new",
            lang=new.lang,
            coupon_id=coupon.id if coupon else None,
            scope_review=new.scope_review,
            linked_ticket_id=new.linked_ticket_id,
            created_at=now,
            updated_at=now,
        )
        db.session.add(ticket)
        message = Message(ticket=ticket, author_id=new.author.id, body=description, created_at=now)
        db.session.add(message)
        for stored in new.attachments:
            stored.attach(message, ticket)
        customer_message_arrived(ticket, now)
        record_event(ticket, new.logged_by or new.author, "created", None, new.channel, now)
        if new.scope_review:
            actor = new.logged_by or new.author
            record_event(ticket, actor, "scope_review", None, "requested", now)
        db.session.flush()
        events.created.send(ticket)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ticket


def can_take(ticket: Ticket, agent: User) -> bool:
    """A specialist may take a ticket still in work that is not theirs already."""
    return (
        agent.is_staff
        and ticket.assignee_id != agent.id
        and ticket.status in OPEN_STATUSES
        and ticket.merged_into_id is None
    )


def take(ticket: Ticket, agent: User, now: dt.datetime | None = None) -> None:
    """A specialist takes a ticket into work; a special request's customer gets their phone.

    Taking one's own ticket again changes nothing; a resolved, closed or merged ticket
    cannot be taken (TicketError)."""
    now = now or utcnow()
    if ticket.assignee_id == agent.id:
        return
    if not can_take(ticket, agent):
        raise TicketError("take")
    previous = ticket.assignee.name if ticket.assignee else None
    record_event(ticket, agent, "assignee", previous, agent.name, now)
    ticket.assignee_id, ticket.assignee = agent.id, agent
    if ticket.status == "new":
        record_event(ticket, agent, "status", "new", "open", now)
        ticket.status = "open"
        events.status_changed.send(ticket, old="new", new="open", actor=agent, by_hand=False)
    ticket.updated_at = now
    events.taken.send(ticket, agent=agent)
    db.session.commit()


def change_service_level(ticket: Ticket, level: str, actor: User, now=None) -> None:
    """Move a ticket to another service level; the deadline is recomputed."""
    if level not in SERVICE_LEVELS:
        raise TicketError("choice")
    if level != ticket.service_level:
        record_event(ticket, actor, "service_level", ticket.service_level, level, now)
        ticket.service_level = level
        recompute_due(ticket)
        db.session.commit()


def queue_order():
    """Out of turn (high/critical) first, then special, then the deadline, then arrival."""
    return (
        case((Ticket.criticality.in_(("critical", "high")), 0), else_=1),
        case((Ticket.criticality == "critical", 0), else_=1),
        case((Ticket.service_level == "special", 0), else_=1),
        case((Ticket.response_due.is_(None), 1), else_=0),
        Ticket.response_due,
        Ticket.created_at,
    )


def open_tickets_query():
    return select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).order_by(*queue_order())


@dataclass
class SlaView:
    """What the queue shows about a ticket's clock."""

    state: str  # on_track | at_risk | overdue | paused
    left: dt.timedelta | None


def sla_view(ticket: Ticket, now: dt.datetime | None = None) -> SlaView:
    """Time left in business hours and whether it is at risk or overdue."""
    now = now or utcnow()
    due, since = aware(ticket.response_due), aware(ticket.awaiting_since)
    if due is None or since is None:
        return SlaView("paused", None)
    calendar = policy_calendar(ticket.service_level, sla_policy())
    return SlaView(sla_state(since, due, now, calendar), time_left(due, now, calendar))
