"""Webhook calls through the outbox: each queued delivery is POSTed signed by `portal
worker`, through the shared retry queue (a lease per delivery, growing pauses, given up
after MAX_ATTEMPTS). What is queued, and when, is the REST API's (`portal.api_v1.webhooks`).
"""

import datetime as dt
import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import current_app

from portal.extensions import db
from portal.outbox import queue
from portal.outbox.models import WebhookDelivery

PENDING, DELIVERED, FAILED = queue.PENDING, "delivered", queue.FAILED
TIMEOUT_SECONDS = 10
USER_AGENT = "support-portal-webhooks/1"


def signature(secret: str, body: bytes) -> str:
    """The `X-Portal-Signature` value: HMAC-SHA256 of the raw body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver answers where it was configured; a redirect counts as a failed attempt
    (urllib would otherwise repeat the POST as a GET without its body)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[str, str | None]:
    """Send one delivery: (DELIVERED | PENDING to retry | FAILED for good, error text)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return FAILED, "unsupported URL scheme"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout):
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
        outcome, error = _post(
            hook.url, body, headers, min(TIMEOUT_SECONDS, queue.send_budget(_lease()))
        )
    else:
        outcome, error = FAILED, "webhook deactivated"
    kinds = {DELIVERED: queue.DONE, PENDING: queue.RETRY, FAILED: queue.FAILED}
    queue.settle(delivery, kinds[outcome], error, now, DELIVERED)
    if outcome == DELIVERED:
        delivery.delivered_at = now
    db.session.commit()
    return outcome == DELIVERED


def deliver_webhooks(now: dt.datetime | None = None, limit: int = 100, stop=None) -> int:
    """POST up to `limit` due deliveries; returns how many were delivered.

    2xx is delivered; 4xx other than 408 and 429 fails for good; anything else (3xx, 408,
    429, 5xx, no answer) is retried with backoff until MAX_ATTEMPTS attempts.
    """
    return queue.deliver_due(WebhookDelivery, _attempt, now, limit, _lease(), stop)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["PORTAL_OUTBOX_LEASE_SECONDS"])
