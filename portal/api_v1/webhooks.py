"""Outgoing webhooks: events queued in the transaction of the change, delivered signed.

`emit` adds one `WebhookDelivery` per active webhook subscribed to the event and commits
nothing, so the tickets package calls it inside its own transactions: a change and its
event are stored together or not at all. `deliver_webhooks` (run by `portal worker`) POSTs
what is due, like the mail outbox: each delivery is claimed with a lease (and SKIP LOCKED on
PostgreSQL), retried with growing pauses, and given up after MAX_ATTEMPTS.
"""

import datetime as dt
import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sqlalchemy import select, update

from portal.api_v1.models import Webhook, WebhookDelivery
from portal.api_v1.payloads import message_data, ticket_data
from portal.clock import utcnow
from portal.extensions import db

EVENTS = ("ticket.created", "ticket.replied", "ticket.status_changed")
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (30, 60, 300, 900, 1800, 3600, 7200)
TIMEOUT_SECONDS = 10
LEASE = dt.timedelta(minutes=5)
USER_AGENT = "support-portal-webhooks/1"


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


def signature(secret: str, body: bytes) -> str:
    """The `X-Portal-Signature` value: HMAC-SHA256 of the raw body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _claim_next(now: dt.datetime) -> int | None:
    """Lease the oldest due delivery to this worker; None when nothing is due."""
    while True:
        query = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        delivery_id = db.session.scalar(query)
        if delivery_id is None:
            db.session.commit()
            return None
        # The lease is a compare-and-set: SQLite has no row locks, so another worker may have
        # read the same row; only one UPDATE still finds it due.
        claimed = db.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE, attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed == 1:
            return delivery_id


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver answers where it was configured; a redirect counts as a failed attempt
    (urllib would otherwise repeat the POST as a GET without its body)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[str, str | None]:
    """Send one delivery: (DELIVERED | PENDING to retry | FAILED for good, error text)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return FAILED, "unsupported URL scheme"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS):
            return DELIVERED, None
    except urllib.error.HTTPError as error:
        error.close()
        permanent = 400 <= error.code < 500 and error.code not in (408, 429)
        return (FAILED if permanent else PENDING), f"HTTP {error.code}"
    except (OSError, http.client.HTTPException, ValueError) as error:
        return PENDING, f"{type(error).__name__}: {error}"[:2000]


def _attempt(delivery_id: int, now: dt.datetime) -> bool:
    """One attempt at a claimed delivery; True if the receiver accepted it."""
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    hook = delivery.webhook
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.id),
        "X-Portal-Signature": signature(hook.secret, body),
    }
    db.session.commit()  # no transaction stays open while the receiver answers
    if hook.active:
        outcome, error = _post(hook.url, body, headers)
    else:
        outcome, error = FAILED, "webhook deactivated"
    delivery.last_error = error
    if outcome == DELIVERED:
        delivery.status, delivery.delivered_at = DELIVERED, now
    elif outcome == FAILED or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = FAILED
    else:
        pause = BACKOFF_SECONDS[min(delivery.attempts - 1, len(BACKOFF_SECONDS) - 1)]
        delivery.next_attempt_at = now + dt.timedelta(seconds=pause)
    db.session.commit()
    return outcome == DELIVERED


def deliver_webhooks(now: dt.datetime | None = None, limit: int = 100) -> int:
    """POST up to `limit` due deliveries; returns how many were delivered.

    2xx is delivered; 4xx other than 408 and 429 fails for good; anything else (3xx, 408,
    429, 5xx, no answer) is retried with backoff until MAX_ATTEMPTS attempts.
    """
    delivered = 0
    for _ in range(limit):
        at = now or utcnow()
        delivery_id = _claim_next(at)
        if delivery_id is None:
            break
        delivered += _attempt(delivery_id, at)
    return delivered
