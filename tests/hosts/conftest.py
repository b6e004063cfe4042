"""Fixtures of the several-hosts tests: a throwaway PostgreSQL database, SMTP listeners,
and three hosts started on them (tests/hosts/cluster.py). Skipped unless
PORTAL_TEST_DATABASE_URL names a PostgreSQL database and PORTAL_REDIS_URL is set."""

import os

import pytest

from tests.hosts.cluster import Cluster, throwaway_database
from tests.hosts.mailcatcher import MailCatcher

LEASE_SECONDS = 4
API_RATE_LIMIT = 30  # per minute and token, during these tests


@pytest.fixture(scope="module")
def shared_services():
    """(PostgreSQL server URL, Redis URL), or the module is skipped."""
    database = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    redis = os.environ.get("PORTAL_REDIS_URL", "")
    if not database.startswith("postgresql") or not redis:
        pytest.skip("needs PORTAL_TEST_DATABASE_URL (PostgreSQL) and PORTAL_REDIS_URL")
    return database, redis


@pytest.fixture(scope="module")
def mail():
    """One real SMTP server per host, on 127.0.0.1."""
    catcher = MailCatcher("ABC").start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="module")
def cluster(shared_services, mail, tmp_path_factory):
    """Three hosts (gunicorn with 2 workers + `portal worker` each), one database, one Redis."""
    server_url, redis_url = shared_services
    with throwaway_database(server_url) as database_url:
        cluster = Cluster(
            tmp_path_factory.mktemp("hosts"),
            database_url,
            hosts=3,
            redis_url=redis_url,
            env={
                "PORTAL_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
                "PORTAL_API_RATE_LIMIT": f"{API_RATE_LIMIT} per minute",
                "PORTAL_MAIL_TRANSPORT": "smtp",
                "PORTAL_SMTP_HOST": "127.0.0.1",
                "PORTAL_ATTACHMENT_STORE": "database",
            },
            host_env=[{"PORTAL_SMTP_PORT": str(mail.port(name))} for name in "ABC"],
        )
        with cluster:
            yield cluster
