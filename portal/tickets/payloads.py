"""The JSON shapes of tickets and messages that the API and the webhooks send.

Plain functions of the ORM objects. `ticket_data` is also what `GET /api/tickets/<number>`
returns.
"""

import datetime as dt

from portal.clock import aware


def iso(value: dt.datetime | None) -> str | None:
    """A stored moment in ISO 8601 with its UTC offset."""
    return aware(value).isoformat() if value else None


def ticket_data(ticket) -> dict:
    """A ticket's fields, as `GET /api/tickets/<number>` returns them."""
    return {
        "number": ticket.number,
        "title": ticket.title,
        "category": ticket.category,
        "details": ticket.details,
        "criticality": ticket.criticality,
        "service_level": ticket.service_level,
        "tier": ticket.tier,
        "channel": ticket.channel,
        "status": ticket.status,
        "author": {"name": ticket.author.name, "email": ticket.author.email},
        "assignee": ticket.assignee.name if ticket.assignee else None,
        "created_at": iso(ticket.created_at),
        "awaiting_since": iso(ticket.awaiting_since),
        "response_due": iso(ticket.response_due),
        "first_response_at": iso(ticket.first_response_at),
    }


def message_data(message) -> dict:
    """One message of a thread with its files' names (the files themselves are not sent)."""
    return {
        "id": message.id,
        "author": {"name": message.author.name},
        "by_staff": message.by_staff,
        "internal": message.internal,
        "body": message.body,
        "created_at": iso(message.created_at),
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments
        ],
    }
