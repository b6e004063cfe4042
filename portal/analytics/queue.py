"""Searches and article views leave the request at once: each process queues them and one
background thread writes them in batches, every `PORTAL_EVENT_FLUSH_SECONDS` or every
`BATCH` events, and once more when the process exits. A reader typing or paging costs no
database write; the insights count each event once, a second or so later.

A process killed with SIGKILL loses what it had not written yet (at most one interval);
a normal stop (gunicorn's TERM, a restart) writes it first.
"""

import atexit
import logging
import os
import threading

from flask import Flask
from sqlalchemy import insert

from portal.analytics.models import Event
from portal.extensions import db

log = logging.getLogger(__name__)
BATCH = 200


class EventQueue:
    """Events of one process waiting to be written."""

    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._owner: int | None = None  # the process whose thread writes (forks start anew)

    def put(self, **row) -> None:
        """Queue one event (a dict of `Event` columns); written now when not batching."""
        if self.interval <= 0:
            self._write([row])
            return
        with self._lock:
            self._rows.append(row)
            if self._owner != os.getpid():
                self._start()
            full = len(self._rows) >= BATCH
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write everything queued so far; how many events were written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            self._write(rows)
        return len(rows)

    def _write(self, rows: list[dict]) -> None:
        with self.app.app_context():
            try:
                db.session.execute(insert(Event), rows)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("could not write %d analytics events", len(rows))
            finally:
                db.session.remove()

    def _start(self) -> None:
        # Called with the lock held, in a process that has no writer yet.
        self._owner = os.getpid()
        self._wake = threading.Event()
        threading.Thread(target=self._run, name="analytics-events", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()


def event_queue(app: Flask) -> EventQueue:
    """The application's queue, made on first use."""
    queue = app.extensions.get("analytics_events")
    if queue is None:
        queue = app.extensions.setdefault(
            "analytics_events", EventQueue(app, app.config["PORTAL_EVENT_FLUSH_SECONDS"])
        )
    return queue
