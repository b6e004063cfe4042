"""Shared fixtures: an application on a fresh database (SQLite, or PostgreSQL
when PORTAL_TEST_DATABASE_URL is set) serving an index built from articles."""

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.calendar.services import forget_policy
from portal.cli import main
from portal.config import PROJECT_ROOT
from portal.extensions import db
from portal.kb.indexing import build_index
from portal.migrations import upgrade

# No article follower thread in tests unless a test of following turns it on.
os.environ.setdefault("PORTAL_REPLICA_POLL_SECONDS", "0")
TEST_ARTICLES = Path(__file__).parent / "data" / "articles"


def _fresh_database(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _fresh_database(tmp_path_factory)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def kb_dirs(tmp_path_factory):
    """A copy of the real knowledge base and an index built from it."""
    root = tmp_path_factory.mktemp("kb")
    articles = root / "articles"
    shutil.copytree(PROJECT_ROOT / "articles", articles)
    index = root / "index"
    build_index(articles, index)
    return articles, index


@pytest.fixture(scope="session")
def app(database_url, kb_dirs, tmp_path_factory):
    articles, index = kb_dirs
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_ARTICLES_DIR": str(articles),
            "PORTAL_INDEX_DIR": str(index),
            "PORTAL_INSTANCE_DIR": str(tmp_path_factory.mktemp("instance")),
            "PORTAL_SECRET_KEY": "test-secret",
            "PORTAL_RATE_LIMITS": False,
            # Each event written in its request, so that a test sees it at once
            # (tests/functional/test_event_queue.py drives the batched path).
            "PORTAL_EVENT_FLUSH_SECONDS": 0,
            "TESTING": True,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Every test starts with empty tables."""
    app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    yield
    if app is not None:
        with app.app_context():
            db.session.remove()
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
            db.session.remove()
            forget_policy()  # built from a calendar table just emptied


@pytest.fixture
def client(app):
    return app.test_client()


class PortalCli:
    """Runs `portal ...` commands against the test application."""

    def __init__(self, app):
        self.runner = app.test_cli_runner()

    def __call__(self, *args):
        return self.runner.invoke(main, args=list(args))

    def invoke_with_input(self, data: bytes, *args):
        return self.runner.invoke(main, args=["mail-in", *args], input=data)


@pytest.fixture
def portal_cli(app):
    return PortalCli(app)
