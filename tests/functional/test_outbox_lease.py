"""The outbox lease: a send that hangs is cut off before its lease runs out, so the worker
that takes the row next never sends alongside it; the letter is retried, not lost."""

import time

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.outbox.mail import SmtpTransport, deliver_pending
from portal.outbox.models import OutboxMessage
from tests.hosts.mailcatcher import MailCatcher

LEASE_SECONDS = 4


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
