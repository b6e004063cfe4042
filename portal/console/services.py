"""What the specialists' console reads and changes: the queue, saved replies, callers."""

from dataclasses import dataclass

from sqlalchemy import select

from portal.accounts.models import STAFF_ROLES, User
from portal.accounts.services import find_user
from portal.clock import utcnow
from portal.extensions import db
from portal.tickets.models import CannedAnswer, Ticket
from portal.tickets.services import SlaView, open_tickets_query, sla_view

QUEUE_LIMIT = 500


@dataclass
class QueueFilters:
    """The queue's filters, as the form gives them; "" means any."""

    category: str = ""
    tier: str = ""
    level: str = ""
    assignee: str = ""  # "me", "none" or a specialist's id
    deadline: str = ""  # "overdue", or "at_risk" (at risk or overdue)


def agents() -> list[User]:
    """Everyone who works tickets, by name."""
    return list(
        db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.name))
    )


def queue(
    filters: QueueFilters, viewer: User, assignee_id: int | None = None, now=None
) -> list[tuple[Ticket, SlaView]]:
    """Open tickets in queue order with their clocks, at most QUEUE_LIMIT.

    "Overdue" is a condition on the stored deadline, so the database applies it before the
    limit; "at risk" needs business time, so it is decided for every ticket whose clock runs
    and the limit applies to what remains.
    """
    now = now or utcnow()
    query = open_tickets_query()
    for value, column in (
        (filters.category, Ticket.category),
        (filters.tier, Ticket.tier),
        (filters.level, Ticket.service_level),
    ):
        if value:
            query = query.where(column == value)
    if filters.assignee == "me":
        query = query.where(Ticket.assignee_id == viewer.id)
    elif filters.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    if filters.deadline in ("overdue", "at_risk"):
        query = query.where(Ticket.awaiting_since.is_not(None), Ticket.response_due.is_not(None))
    if filters.deadline == "overdue":
        query = query.where(Ticket.response_due <= now)
    if filters.deadline != "at_risk":
        return [(t, sla_view(t, now)) for t in db.session.scalars(query.limit(QUEUE_LIMIT))]
    rows = ((t, sla_view(t, now)) for t in db.session.scalars(query))
    return [row for row in rows if row[1].state in ("overdue", "at_risk")][:QUEUE_LIMIT]


def customer(email: str) -> User | None:
    """The customer account with this address (not a specialist's)."""
    user = find_user(email)
    return user if user is not None and user.role == "customer" else None


def ticket_numbered(number: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.number == number.strip()))


def user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def canned_answer(answer_id: int) -> CannedAnswer | None:
    return db.session.get(CannedAnswer, answer_id)


def add_canned(title: str, body: str, lang: str, author: User) -> CannedAnswer:
    """Save a reply for later use."""
    answer = CannedAnswer(title=title, body=body, lang=lang, created_by_id=author.id)
    db.session.add(answer)
    db.session.commit()
    return answer


def delete_canned(answer: CannedAnswer) -> None:
    db.session.delete(answer)
    db.session.commit()
