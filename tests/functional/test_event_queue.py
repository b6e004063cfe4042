"""Searches and article views are queued and written in batches, off the request path, and
the editors' insights still count each of them exactly once."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.analytics.models import Event
from portal.analytics.queue import BATCH, event_queue
from portal.clock import utcnow
from portal.editor.insights import Period, top_queries
from portal.extensions import db


@pytest.fixture
def batching_app(database_url, kb_dirs, tmp_path):
    """The shared database and index, served with the production setting: batches.
    The interval is long so that nothing is written by the clock during a test."""
    articles, index = kb_dirs
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_ARTICLES_DIR": str(articles),
            "PORTAL_INDEX_DIR": str(index),
            "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
            "PORTAL_SECRET_KEY": "test-secret",
            "PORTAL_RATE_LIMITS": False,
            "PORTAL_EVENT_FLUSH_SECONDS": 600,
            "TESTING": True,
        }
    )
    yield app
    event_queue(app).flush()
    with app.app_context():
        db.session.execute(Event.__table__.delete())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def count(app, kind: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).where(Event.kind == kind))
        db.session.remove()
        return found


def test_a_search_writes_nothing_during_its_request(batching_app):
    client = batching_app.test_client()
    assert client.get("/search?q=пароль").status_code == 200
    assert client.get("/kb/zabyl-parol").status_code in (200, 404)
    assert count(batching_app, "search") == 0
    assert event_queue(batching_app).flush() >= 1
    assert count(batching_app, "search") == 1


def test_a_burst_is_counted_exactly_once(batching_app):
    threads, per_thread = 6, 60  # more than one batch
    assert threads * per_thread > BATCH
    words = ["пароль", "почта", "телефония", "сделка", "password", "invoice"]

    def visitor(n: int) -> None:
        client = batching_app.test_client()
        for i in range(per_thread):
            assert client.get(f"/search?q={words[n]}+{i % 3}").status_code == 200

    started = utcnow()
    workers = [threading.Thread(target=visitor, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    event_queue(batching_app).flush()

    assert count(batching_app, "search") == threads * per_thread
    with batching_app.app_context():
        period = Period(started - dt.timedelta(seconds=1), utcnow() + dt.timedelta(seconds=1))
        counted = {row["query"]: row["searches"] for row in top_queries(period, limit=100)}
    assert sum(counted.values()) == threads * per_thread
    assert counted["пароль 0"] == per_thread // 3
