"""The life of a filed ticket: replies, notes, status, rating, reopening, assignment, merging."""

import datetime as dt
import string

from flask import current_app
from sqlalchemy import select

from portal.accounts.models import STAFF_ROLES, User
from portal.clock import aware, utcnow
from portal.extensions import db
from portal.text import clean_user_text
from portal.tickets import events
from portal.tickets.models import (
    CRITICALITIES,
    DONE_STATUSES,
    CannedAnswer,
    Message,
    Ticket,
    TicketEvent,
    TicketRating,
)
from portal.tickets.services import (
    MAX_BODY,
    TicketError,
    customer_message_arrived,
    recompute_due,
    record_event,
    staff_replied,
)

STAFF_STATUSES = ("open", "waiting_customer", "resolved")


def _set_status(
    ticket: Ticket, status: str, actor: User, now: dt.datetime, by_hand: bool = False
) -> None:
    if status == ticket.status:
        return
    previous = ticket.status
    record_event(ticket, actor, "status", previous, status, now)
    ticket.status = status
    if status == "resolved":
        ticket.resolved_at = now
    elif status == "closed":
        ticket.closed_at = now
    elif status in ("new", "open"):
        ticket.resolved_at = ticket.closed_at = None
    recompute_due(ticket)
    events.status_changed.send(ticket, old=previous, new=status, actor=actor, by_hand=by_hand)


def post_reply(
    ticket: Ticket, author: User, body: str, internal: bool = False, uploads=(), now=None
) -> Message:
    """Add a message to the thread; earlier messages are never touched."""
    now = now or utcnow()
    body = clean_user_text(body).strip()
    if (not body and not uploads) or len(body) > MAX_BODY:
        raise TicketError("body")
    staff = author.role in STAFF_ROLES
    if internal and not staff:
        raise TicketError("internal")
    if not staff and ticket.status in DONE_STATUSES:
        raise TicketError("done")
    message = Message(
        ticket=ticket,
        author_id=author.id,
        body=body or "—",
        internal=internal,
        by_staff=staff,
        created_at=now,
    )
    db.session.add(message)
    for stored in uploads:
        stored.attach(message, ticket)
    ticket.updated_at = now
    if not internal:
        ticket.last_public_by_staff = staff
        if staff:
            if ticket.status == "new":
                _set_status(ticket, "open", author, now)
            staff_replied(ticket, now)
        else:
            if ticket.status == "waiting_customer":
                _set_status(ticket, "open", author, now)
            customer_message_arrived(ticket, now)
    events.replied.send(ticket, message=message)  # after any status change it caused
    db.session.commit()
    return message


def set_status(ticket: Ticket, status: str, actor: User, now=None) -> None:
    """A specialist moves the ticket: in work, waiting for the customer, or resolved."""
    now = now or utcnow()
    if status not in STAFF_STATUSES and status != ticket.status:
        raise TicketError("choice")
    if status == "waiting_customer":
        ticket.awaiting_since = None  # the clock does not run while we wait for the customer
    _set_status(ticket, status, actor, now, by_hand=True)
    db.session.commit()


def close(ticket: Ticket, actor: User, now=None) -> None:
    """The customer (or staff) closes the request."""
    _set_status(ticket, "closed", actor, now or utcnow())
    ticket.awaiting_since = None
    recompute_due(ticket)
    db.session.commit()


def can_rate(ticket: Ticket, user: User) -> bool:
    """The author may rate once a specialist has answered."""
    answered = any(m.by_staff and not m.internal for m in ticket.messages)
    return answered and user.id == ticket.author_id


def rate(ticket: Ticket, user: User, score: int, comment: str | None, now=None) -> TicketRating:
    if not can_rate(ticket, user) or not 1 <= score <= 5:
        raise TicketError("rating")
    rating = ticket.rating or TicketRating(ticket=ticket, user_id=user.id)
    rating.score, rating.comment = score, (comment or "").strip()[:2000] or None
    rating.agent_id, rating.created_at = ticket.assignee_id, now or utcnow()
    db.session.add(rating)
    record_event(ticket, user, "rating", None, str(score), now)
    db.session.commit()
    return rating


def reopen_deadline(ticket: Ticket) -> dt.datetime | None:
    done = aware(ticket.closed_at or ticket.resolved_at)
    if done is None:
        return None
    return done + dt.timedelta(days=current_app.config["PORTAL_REOPEN_DAYS"])


def can_reopen(ticket: Ticket, now=None) -> bool:
    deadline = reopen_deadline(ticket)
    return ticket.status in DONE_STATUSES and deadline is not None and (now or utcnow()) < deadline


def reopen(ticket: Ticket, user: User, now=None) -> None:
    """ "Continue the discussion": back in the queue, within the reopening period."""
    now = now or utcnow()
    if not can_reopen(ticket, now):
        raise TicketError("reopen_expired")
    _set_status(ticket, "open", user, now)
    ticket.awaiting_since = None
    customer_message_arrived(ticket, now)
    db.session.commit()


def assign(ticket: Ticket, agent: User | None, actor: User, now=None) -> None:
    """Give the ticket to a specialist, or release it (agent None)."""
    if agent is not None and agent.role not in STAFF_ROLES:
        raise TicketError("choice")
    if (agent.id if agent else None) == ticket.assignee_id:
        return
    record_event(
        ticket,
        actor,
        "assignee",
        ticket.assignee.name if ticket.assignee else None,
        agent.name if agent else None,
        now,
    )
    ticket.assignee_id, ticket.assignee = (agent.id, agent) if agent else (None, None)
    db.session.commit()


def change_category(ticket: Ticket, category: str, actor: User, categories, now=None) -> None:
    if category not in categories:
        raise TicketError("choice")
    if category != ticket.category:
        record_event(ticket, actor, "category", ticket.category, category, now)
        ticket.category = category
        db.session.commit()


def change_criticality(ticket: Ticket, criticality: str, actor: User, now=None) -> None:
    if criticality not in CRITICALITIES:
        raise TicketError("choice")
    if criticality != ticket.criticality:
        record_event(ticket, actor, "criticality", ticket.criticality, criticality, now)
        ticket.criticality = criticality
        db.session.commit()


def merge(duplicate: Ticket, target: Ticket, actor: User, now=None) -> None:
    """Move a duplicate's thread into another ticket of the same customer and close it."""
    now = now or utcnow()
    if duplicate.id == target.id or duplicate.author_id != target.author_id:
        raise TicketError("merge")
    if duplicate.merged_into_id or target.merged_into_id:
        raise TicketError("merge")
    for message in list(duplicate.messages):
        message.ticket_id = target.id
        for attachment in message.attachments:
            attachment.ticket_id = target.id
    record_event(target, actor, "merged_from", None, duplicate.number, now)
    record_event(duplicate, actor, "merged_into", None, target.number, now)
    duplicate.merged_into_id = target.id
    _set_status(duplicate, "closed", actor, now)
    duplicate.awaiting_since = None
    recompute_due(duplicate)
    if duplicate.awaiting_since is None and target.status not in DONE_STATUSES:
        recompute_due(target)
    db.session.commit()


class _Placeholders(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def render_canned(answer: CannedAnswer, ticket: Ticket, agent: User) -> str:
    """A saved reply with {customer_name}, {ticket_number}, {ticket_title}, {agent_name}."""
    values = _Placeholders(
        customer_name=ticket.author.name,
        ticket_number=ticket.number,
        ticket_title=ticket.title,
        agent_name=agent.name,
    )
    try:
        return string.Formatter().vformat(answer.body, (), values)
    except (ValueError, IndexError):
        return answer.body  # a stray brace: leave the text as written


def canned_answers() -> list[CannedAnswer]:
    return list(db.session.scalars(select(CannedAnswer).order_by(CannedAnswer.title)))


def thread(ticket: Ticket, viewer: User) -> list[tuple[str, object]]:
    """Messages and recorded changes, oldest first; internal notes only for staff."""
    staff = viewer.role in STAFF_ROLES
    items = [("message", m) for m in ticket.messages if staff or not m.internal]
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    items += [("event", e) for e in events if e.kind != "created"]
    return sorted(items, key=lambda item: (aware(item[1].created_at), item[0] != "message"))


def indicator(ticket: Ticket) -> str:
    """grey: resolved or closed; green: waiting for support; red: waiting for the customer."""
    if ticket.status in DONE_STATUSES:
        return "grey"
    return "red" if ticket.last_public_by_staff else "green"
