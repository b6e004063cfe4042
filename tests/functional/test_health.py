"""Liveness and readiness for load balancers: /healthz and /readyz."""

import shutil

from portal import create_app
from portal.extensions import db


def test_a_live_process_answers_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_ready_when_the_database_and_the_index_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["redis"]["ok"] and checks["index"]["ok"]
    assert checks["index"]["generation"].startswith("gen-")
    assert "Set-Cookie" not in response.headers


def test_not_ready_without_an_index_or_with_redis_down(database_url, kb_dirs, tmp_path):
    articles, _ = kb_dirs
    empty = tmp_path / "index"
    empty.mkdir()
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_ARTICLES_DIR": str(articles),
            "PORTAL_INDEX_DIR": str(empty),
            "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
            "PORTAL_SECRET_KEY": "test-secret",
            "PORTAL_RATE_LIMITS": False,
        }
    )
    # Nothing listens on port 1 of this host: a Redis that is down. Set after start-up,
    # so that the rate limiter (one per process) keeps its own storage.
    app.config["PORTAL_REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert not body["checks"]["index"]["ok"] and "portal index" in body["checks"]["index"]["error"]
    assert body["checks"]["redis"] == {"ok": False, "used": True, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(empty)
