"""Webhooks of the REST API: ticket events become signed deliveries queued in the outbox.

`emit` adds one `WebhookDelivery` per active webhook subscribed to the event and commits
nothing: it runs inside the transaction of the change (the ticket signals are sent there),
so a change and its event are stored together or not at all. `portal.outbox.webhooks`
delivers them.
"""

from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.outbox.models import Webhook, WebhookDelivery
from portal.outbox.webhooks import PENDING
from portal.tickets import events
from portal.tickets.payloads import message_data, ticket_data

EVENTS = ("ticket.created", "ticket.replied", "ticket.status_changed")


def emit(event: str, ticket, message=None) -> int:
    """Queue `event` about `ticket` (and the new `message`) for every subscribed webhook.

    Runs in the caller's transaction and commits nothing; returns how many deliveries were
    queued. Internal notes are never sent out.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if message is not None and message.internal:
        return 0
    hooks = [
        hook
        for hook in db.session.scalars(
            select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)
        )
        if event in (hook.events or ())
    ]
    if not hooks:
        return 0
    now = utcnow()
    payload = {"event": event, "occurred_at": now.isoformat(), "ticket": ticket_data(ticket)}
    if message is not None:
        payload["message"] = message_data(message)
    for hook in hooks:
        db.session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event=event,
                payload=payload,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(hooks)


def _created(ticket, **_):
    emit("ticket.created", ticket)


def _replied(ticket, message, **_):
    emit("ticket.replied", ticket, message)


def _status_changed(ticket, **_):
    emit("ticket.status_changed", ticket)


def subscribe() -> None:
    """Queue webhook deliveries for the tickets' events (connecting twice changes nothing)."""
    events.created.connect(_created)
    events.replied.connect(_replied)
    events.status_changed.connect(_status_changed)
