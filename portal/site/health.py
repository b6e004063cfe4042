"""Health checks for load balancers and process supervisors.

`/healthz` answers while the process can serve at all (liveness: nothing is checked but
the process itself). `/readyz` answers 200 only when what a request needs is there: the
database, Redis when the rate limits are shared through it, and a search index; 503 with
the failing part named otherwise, so that a balancer sends no reader to a host that
cannot answer. It also reports how many changes of the published articles the host has
still to apply (`articles.lag`). Neither touches a session or a cookie, and neither is rate-limited.
"""

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, limiter
from portal.kb.indexing import current_generation
from portal.kb.ranking_files import META_FILE
from portal.kb.replica import lag

bp = Blueprint("health", __name__)
REDIS_TIMEOUT = 1.0


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = {
        "database": _database(),
        "redis": _redis(),
        "index": _index(),
        "articles": _articles(),
    }
    ready = all(check["ok"] for check in checks.values())
    response = jsonify(status="ok" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except SQLAlchemyError as exc:
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _redis() -> dict:
    url = current_app.config["PORTAL_REDIS_URL"]
    if not url:
        return {"ok": True, "used": False}
    import redis  # only where rate limits are shared through Redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT)
        client.ping()
        client.close()
        return {"ok": True, "used": True}
    except (redis.RedisError, OSError) as exc:
        return {"ok": False, "used": True, "error": type(exc).__name__}


def _index() -> dict:
    generation = current_generation(current_app.config["PORTAL_INDEX_DIR"])
    if generation is None:
        return {"ok": False, "error": "no search index; run `portal index`"}
    try:
        age = time.time() - (generation / META_FILE).stat().st_mtime
    except OSError:
        return {"ok": False, "error": "the search index is being replaced"}
    return {"ok": True, "generation": generation.name, "age_seconds": round(age, 1)}


def _articles() -> dict:
    """How far this host's articles folder and index are behind the database: reported, not
    failed on (a host applying a rebuild still serves the previous index)."""
    try:
        applied, latest = lag()
    except SQLAlchemyError as exc:
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}
    behind = max(0, latest - applied)
    return {"ok": True, "applied_seq": applied, "latest_seq": latest, "lag": behind}
