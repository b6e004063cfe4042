"""Flask extensions, created unbound and attached in `create_app`."""

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
# Storage (memory or Redis) comes from the app config at init_app.
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _limits_switched_off() -> bool:
    return not current_app.config.get("PORTAL_RATE_LIMITS", True)


SQLITE_BUSY_TIMEOUT_MS = 15_000
LOCK_RETRIES = 5
Result = TypeVar("Result")


@event.listens_for(Engine, "connect")
def _sqlite_connection(dbapi_connection, _record):
    """SQLite's lower() folds ASCII only; searches in Russian need the Unicode one.

    Write-ahead logging lets readers go on while one writer writes, and the busy timeout
    makes a writer wait its turn instead of failing with "database is locked".
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
        )
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")


def is_transient_lock(error: OperationalError) -> bool:
    """SQLite's "database is locked" (or busy): the same transaction may simply be tried again."""
    text = str(error.orig or error).lower()
    return "database is locked" in text or "database is busy" in text


def retry_when_locked(attempt: Callable[[], Result], tries: int = LOCK_RETRIES) -> Result:
    """Run `attempt` (one whole transaction that rolls back on failure) again, after a short
    growing pause, while SQLite says the database is locked."""
    for n in range(1, tries):
        try:
            return attempt()
        except OperationalError as error:
            if not is_transient_lock(error):
                raise
            db.session.rollback()
            time.sleep(0.05 * 2**n)
    return attempt()
