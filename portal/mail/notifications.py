"""E-mail about a ticket: threaded, signed for replies, in the recipient's language, queued
when the tickets package announces a change."""

import uuid

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.mail.tokens import reply_address, ticket_token
from portal.outbox.mail import absolute_url, queue_mail
from portal.outbox.models import OutboxMessage
from portal.tickets import events
from portal.tickets.models import Ticket

MAX_REFERENCES = 20


def ticket_url(ticket: Ticket) -> str:
    return absolute_url("tickets.show", number=ticket.number)


def _thread(ticket: Ticket) -> list[str]:
    if ticket.id is None:
        return []
    return list(
        db.session.scalars(
            select(OutboxMessage.message_id)
            .where(OutboxMessage.ticket_id == ticket.id)
            .order_by(OutboxMessage.id)
        )
    )


def notify(ticket: Ticket, recipient: User, template: str, kind: str, **context) -> None:
    """Queue a notification about `ticket` to `recipient` (the caller's transaction commits).

    Its Message-ID carries the ticket's signed token and it answers the ticket's earlier
    letters, so mail clients thread them and a reply finds its way back to the ticket.
    """
    config = current_app.config
    secret = config["SECRET_KEY"]
    domain = config["PORTAL_MAIL_REPLY_TO"].rpartition("@")[2]
    token = ticket_token(ticket.number, secret)
    earlier = _thread(ticket)
    with force_locale(recipient.locale or ticket.lang or config["PORTAL_DEFAULT_LOCALE"]):
        queue_mail(
            recipient.email,
            template,
            {"ticket": ticket, "recipient": recipient, "url": ticket_url(ticket), **context},
            kind=kind,
            ticket=ticket,
            message_id=f"<t.{token}.{uuid.uuid4().hex[:12]}@{domain}>",
            in_reply_to=earlier[-1] if earlier else None,
            references=" ".join(earlier[:1] + earlier[1:][-MAX_REFERENCES:]) or None,
            reply_to=reply_address(config["PORTAL_MAIL_REPLY_TO"], ticket.number, secret),
        )


def _created(ticket: Ticket, **_) -> None:
    notify(ticket, ticket.author, "ticket_created", "ticket_created", due=ticket.response_due)


def _replied(ticket: Ticket, message, **_) -> None:
    if message.internal:
        return
    if message.by_staff:
        notify(ticket, ticket.author, "ticket_reply", "reply", message=message)
    elif ticket.assignee is not None:
        notify(ticket, ticket.assignee, "ticket_reply", "reply", message=message)


def _status_changed(ticket: Ticket, old: str, new: str, by_hand: bool = False, **_) -> None:
    if by_hand:  # a specialist's own move; the customer hears of the others otherwise
        kind = "rating_request" if new == "resolved" else "status"
        notify(ticket, ticket.author, f"ticket_{kind}", kind, old=old, new=new)


def _taken(ticket: Ticket, agent: User, **_) -> None:
    if ticket.service_level == "special":
        notify(ticket, ticket.author, "special_taken", "special_taken", agent=agent)


def subscribe() -> None:
    """Mail the people concerned about the tickets' events (connecting twice changes nothing)."""
    events.created.connect(_created)
    events.replied.connect(_replied)
    events.status_changed.connect(_status_changed)
    events.taken.connect(_taken)
