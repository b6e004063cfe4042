"""The leased retry queue every delivery kind shares.

A row is due when it is pending and its `next_attempt_at` has come. A worker claims one
with a compare-and-set UPDATE that pushes `next_attempt_at` a LEASE ahead and counts the
attempt, so two workers never take the same row (SQLite has no row locks; PostgreSQL also
skips locked rows instead of waiting). A failed attempt is retried after a growing pause
until MAX_ATTEMPTS; a permanent failure stops at once.

A worker that dies holding a row loses its claim when the lease runs out, and another
worker sends the row. So that a slow send can never outlast its lease (and be sent a second
time by that other worker while it is still going), a send is cut off after `send_budget`,
half the lease. The one window left: the receiver took the message but the worker died (or
lost its answer) before recording it, and the row goes out again after the lease.
"""

import datetime as dt
from collections.abc import Callable
from threading import Event

from sqlalchemy import select, update

from portal.clock import utcnow
from portal.extensions import db

PENDING, FAILED = "pending", "failed"
DONE, RETRY = "done", "retry"  # outcomes of one attempt, besides FAILED
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (30, 60, 300, 900, 1800, 3600, 7200)
LEASE = dt.timedelta(minutes=5)  # PORTAL_OUTBOX_LEASE_SECONDS


def send_budget(lease: dt.timedelta) -> float:
    """Seconds one send may take, from its claim: half the lease, the rest is margin."""
    return lease.total_seconds() / 2


def claim_next(model, now: dt.datetime, lease: dt.timedelta = LEASE) -> int | None:
    """Lease the oldest due row of `model` to this worker; None when nothing is due."""
    while True:
        query = (
            select(model.id)
            .where(model.status == PENDING, model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(1)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row_id = db.session.scalar(query)
        if row_id is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            update(model)
            .where(model.id == row_id, model.status == PENDING, model.next_attempt_at <= now)
            .values(next_attempt_at=now + lease, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed == 1:
            return row_id


def settle(row, outcome: str, error: str | None, now: dt.datetime, done_status: str) -> None:
    """Record one attempt's outcome on a claimed row (the caller commits)."""
    row.last_error = error[:2000] if error else None
    if outcome == DONE:
        row.status = done_status
    elif outcome == FAILED or row.attempts >= MAX_ATTEMPTS:
        row.status = FAILED
    else:
        pause = BACKOFF_SECONDS[min(row.attempts - 1, len(BACKOFF_SECONDS) - 1)]
        row.next_attempt_at = now + dt.timedelta(seconds=pause)


def deliver_due(
    model,
    attempt: Callable[[int, dt.datetime], bool],
    now: dt.datetime | None = None,
    limit=100,
    lease: dt.timedelta = LEASE,
    stop: Event | None = None,
) -> int:
    """Claim and attempt up to `limit` due rows of `model`, until `stop` is set; returns how
    many succeeded."""
    done = 0
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        at = now or utcnow()
        row_id = claim_next(model, at, lease)
        if row_id is None:
            break
        done += bool(attempt(row_id, at))
    return done
