"""What the integration API does: tokens, the tickets a caller sees, filing and status.

No request objects here: the views pass the caller (`User`) and validated values in.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.accounts.services import require_confirmed
from portal.api_v1.models import ApiToken
from portal.clock import aware, utcnow
from portal.extensions import db
from portal.tickets import conversation, filing
from portal.tickets.access import can_view
from portal.tickets.filing import Request
from portal.tickets.models import Ticket

TOKEN_SECRET = re.compile(r"pt_([0-9a-f]{8})_[A-Za-z0-9_-]{43}")
TICKET_NUMBER = re.compile(r"[0-9]{4}-[0-9]{6,12}")
LAST_USED_EVERY = dt.timedelta(minutes=1)
MAX_TOKEN_NAME = 100


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token acting as `user`; the secret is returned once and only its hash is kept."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_TOKEN_NAME:
        raise ValueError(f"a token needs a name of 1-{MAX_TOKEN_NAME} characters")
    prefix = secrets.token_hex(4)
    secret = f"pt_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=_digest(secret),
        created_at=now or utcnow(),
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def user_for_token(secret: str | None, now: dt.datetime | None = None) -> User | None:
    """The active user a live token acts as; None for unknown, malformed or revoked tokens."""
    match = TOKEN_SECRET.fullmatch(secret or "")
    if match is None:
        return None
    digest = _digest(secret)
    found = None
    for token in db.session.scalars(select(ApiToken).where(ApiToken.prefix == match[1])):
        if hmac.compare_digest(token.token_hash, digest):
            found = token
    if found is None or found.revoked_at is not None or not found.user.active:
        return None
    now = now or utcnow()
    last = aware(found.last_used_at)
    if last is None or now - last >= LAST_USED_EVERY:
        found.last_used_at = now  # at most once a minute: no write on every request
        db.session.commit()
    return found.user


def revoke_token(token: ApiToken, now: dt.datetime | None = None) -> None:
    """The token stops working at once; revoking twice keeps the first moment."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        db.session.commit()


@dataclass
class TicketFilters:
    """What `GET /api/v1/tickets` narrows by; None means any."""

    status: str | None = None
    category: str | None = None
    criticality: str | None = None
    service_level: str | None = None
    text: str | None = None


def visible_tickets(user: User):
    """Tickets the user may list: staff all, an organisation's admin the organisation's,
    anyone else their own (the same people `can_view` lets in). Merged duplicates are left
    out, as on "My requests"."""
    query = select(Ticket).where(Ticket.merged_into_id.is_(None))
    if user.is_staff:
        return query
    if user.is_org_admin and user.organisation_id:
        return query.where(
            or_(Ticket.organisation_id == user.organisation_id, Ticket.author_id == user.id)
        )
    return query.where(Ticket.author_id == user.id)


def list_tickets(
    user: User, filters: TicketFilters, page: int, per_page: int
) -> tuple[list[Ticket], int]:
    """One page of the user's visible tickets, last activity first, and their total."""
    query = visible_tickets(user)
    for value, column in (
        (filters.status, Ticket.status),
        (filters.category, Ticket.category),
        (filters.criticality, Ticket.criticality),
        (filters.service_level, Ticket.service_level),
    ):
        if value:
            query = query.where(column == value)
    text = (filters.text or "").strip().lower()
    if text:
        query = query.where(
            or_(
                func.lower(Ticket.title).contains(text, autoescape=True),
                Ticket.number.contains(text, autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    tickets = db.session.scalars(
        query.options(selectinload(Ticket.author), selectinload(Ticket.assignee))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(tickets), total


def ticket_for(user: User, number: str) -> Ticket | None:
    """The ticket if the user may see it; None whether it is missing or someone else's."""
    if not TICKET_NUMBER.fullmatch(number):
        return None
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    return ticket if ticket is not None and can_view(user, ticket) else None


@dataclass
class RequestFields:
    """A new request as an API client sends it, already validated by the form."""

    title: str
    description: str
    category: str
    criticality: str = "normal"
    coupon: str | None = None
    details: dict | None = None
    malfunction: str | None = None  # why it is a product malfunction, to file out-of-scope work


def file_request(author: User, fields: RequestFields, now: dt.datetime | None = None) -> Ticket:
    """File a request through the common filing policy, as the web wizard does.

    Raises AccountError while the author's address is unconfirmed, CouponError for a coupon
    that cannot be used, OutOfScope for work support does not do unless `malfunction`
    explains why it is a product fault (then the ticket is flagged for a specialist's scope
    review), TicketError for text it cannot file.
    """
    require_confirmed(author)  # AccountError until the address is confirmed
    request = Request(
        author=author,
        title=fields.title,
        description=fields.description,
        category=fields.category,
        channel="web",
        criticality=fields.criticality,
        details=dict(fields.details or {}),
        coupon_code=fields.coupon or None,
    )
    ticket, _ = filing.file_request(request, fields.malfunction or "", now)
    return ticket


class StatusNotAllowed(Exception):
    """The caller's role may not move a ticket to that status."""


CUSTOMER_STATUSES = ("closed",)


def change_status(ticket: Ticket, actor: User, status: str) -> None:
    """Staff set open, waiting_customer or resolved; everyone else may only close."""
    if actor.is_staff:
        if status not in conversation.STAFF_STATUSES:
            raise StatusNotAllowed(status)
        conversation.set_status(ticket, status, actor)
    else:
        if status not in CUSTOMER_STATUSES:
            raise StatusNotAllowed(status)
        if ticket.status != "closed":
            conversation.close(ticket, actor)
