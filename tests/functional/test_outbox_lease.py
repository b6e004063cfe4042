"""The outbox lease: a send that hangs is cut off before its lease runs out, so the worker
that takes the row next never sends alongside it; the letter is retried, not lost. A worker
told to stop finishes the send in progress and records it before it exits."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.outbox.mail import SmtpTransport, deliver_pending
from portal.outbox.models import OutboxMessage
from tests.hosts.mailcatcher import MailCatcher

LEASE_SECONDS = 4


def queue_letter() -> None:
    letter = OutboxMessage(recipient="customer@example.com", subject="Your request", kind="test")
    letter.body_text, letter.message_id = "Hello", "<lease-test@portal.local>"
    db.session.add(letter)
    db.session.commit()


@pytest.fixture
def stalling_server():
    """A real SMTP server that never answers DATA."""
    catcher = MailCatcher(["slow"]).start()
    catcher.listeners["slow"].stall.set()
    yield catcher
    catcher.stop()


def test_a_send_that_hangs_ends_within_its_lease_and_is_retried(app, stalling_server, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_OUTBOX_LEASE_SECONDS", LEASE_SECONDS)
    with app.app_context():
        letter = OutboxMessage(
            recipient="customer@example.com", subject="Your request", kind="test"
        )
        letter.body_text, letter.message_id = "Hello", "<lease-test@portal.local>"
        db.session.add(letter)
        db.session.commit()
        transport = SmtpTransport("127.0.0.1", stalling_server.port("slow"), timeout=30)
        started = time.monotonic()
        assert deliver_pending(transport) == 0
        took = time.monotonic() - started
        row = db.session.scalar(select(OutboxMessage))
        assert row.status == "pending" and row.attempts == 1
        assert "timed out" in row.last_error
    assert stalling_server.listeners["slow"].stalled.is_set()  # it was inside DATA
    assert took < LEASE_SECONDS  # cut off before another worker may take the row
    assert stalling_server.received == []


def test_a_worker_told_to_stop_mid_send_finishes_and_records_the_letter(app, stalling_server):
    with app.app_context():
        queue_letter()
    listener = stalling_server.listeners["slow"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=app.config["PORTAL_DATABASE_URL"],
        PORTAL_INSTANCE_DIR=str(app.config["PORTAL_INSTANCE_DIR"]),
        PORTAL_SECRET_KEY="test-secret",
        PORTAL_MAIL_TRANSPORT="smtp",
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(stalling_server.port("slow")),
        PORTAL_OUTBOX_LEASE_SECONDS="60",
    )
    worker = subprocess.Popen(
        [Path(sys.executable).parent / "portal", "worker", "--interval", "0.2"], env=env
    )
    try:
        assert listener.stalled.wait(60), "the worker never reached DATA"
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert worker.poll() is None  # still inside the SMTP conversation
        listener.stall.clear()
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        assert row.status == "sent" and row.attempts == 1
    assert [message_id for _, message_id, _ in stalling_server.received] == [row.message_id]
