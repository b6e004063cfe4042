"""Shared fixtures: an application on a fresh database (SQLite, or PostgreSQL
when PORTAL_TEST_DATABASE_URL is set) serving an index built from articles."""

import os
import shutil
import socket
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
from portal.tickets.storage import STORES, build_store

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


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-compatible server (moto's) on a free local port, with the bucket `portal`."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    credentials = {
        "AWS_ACCESS_KEY_ID": "portal-test",
        "AWS_SECRET_ACCESS_KEY": "portal-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in credentials}
    os.environ.update(credentials)
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="portal")
    yield endpoint
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def store_config(request):
    """The settings that choose an attachment store by name (s3 starts the test server)."""

    def settings(kind: str) -> dict:
        if kind != "s3":
            return {"PORTAL_ATTACHMENT_STORE": kind}
        return {
            "PORTAL_ATTACHMENT_STORE": "s3",
            "PORTAL_S3_BUCKET": "portal",
            "PORTAL_S3_ENDPOINT_URL": request.getfixturevalue("s3_endpoint"),
            "PORTAL_S3_PREFIX": f"t{os.getpid()}/",
        }

    return settings


@pytest.fixture(params=STORES)
def attachment_store(request, app, store_config):
    """The test application with each attachment store in turn."""
    settings = store_config(request.param)
    saved = {name: app.config[name] for name in settings}
    app.config.update(settings)
    app.extensions["attachment_store"] = build_store(request.param, app.config)
    yield app.extensions["attachment_store"]
    app.config.update(saved)
    app.extensions["attachment_store"] = build_store(saved["PORTAL_ATTACHMENT_STORE"], app.config)
