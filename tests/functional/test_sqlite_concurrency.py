"""Twelve writers filing at once through the REST API on the default SQLite database:
every request is filed, with its own number, and none meets "database is locked"."""

import json
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from portal import create_app
from portal.api_v1.services import issue_token
from portal.extensions import db
from portal.migrations import upgrade
from portal.tickets.models import Message, Ticket
from tests.factories import make_org, make_user

WRITERS = 12


@pytest.fixture
def sqlite_app(kb_dirs, tmp_path):
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    upgrade(url)
    app = create_app(
        {
            "PORTAL_DATABASE_URL": url,
            "PORTAL_ARTICLES_DIR": str(kb_dirs[0]),
            "PORTAL_INDEX_DIR": str(kb_dirs[1]),
            "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
            "PORTAL_SECRET_KEY": "test-secret",
            "PORTAL_RATE_LIMITS": False,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def server(sqlite_app):
    httpd = make_server("127.0.0.1", 0, sqlite_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    httpd.server_close()


def test_the_default_sqlite_database_runs_in_wal_mode_with_a_busy_timeout(sqlite_app):
    with sqlite_app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 15_000


def test_twelve_concurrent_writers_through_the_rest_api_all_get_a_ticket(sqlite_app, server):
    with sqlite_app.app_context():
        org = make_org("commercial")
        tokens = [issue_token(make_user(org=org), f"writer {n}")[1] for n in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    answers: list[tuple[int, dict]] = []

    def file_one(n: int, token: str) -> None:
        body = {
            "title": f"Сделки не переходят между стадиями {n}",
            "description": "Перетаскиваю сделку на следующую стадию, а она возвращается назад.",
            "category": "crm",
        }
        request = urllib.request.Request(
            f"{server}/api/v1/tickets",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append((response.status, json.load(response)))
        except urllib.error.HTTPError as error:
            answers.append((error.code, {"body": error.read().decode(errors="replace")}))

    writers = [threading.Thread(target=file_one, args=(n, token)) for n, token in enumerate(tokens)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(90)
    assert sorted(status for status, _body in answers) == [201] * WRITERS, answers
    numbers = {body["number"] for _status, body in answers}
    assert len(numbers) == WRITERS
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == WRITERS
        assert db.session.scalar(select(func.count()).select_from(Message)) == WRITERS
        assert set(db.session.scalars(select(Ticket.number))) == numbers
