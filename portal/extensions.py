"""Flask extensions, created unbound and attached in `create_app`."""

import sqlite3

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
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


@event.listens_for(Engine, "connect")
def _sqlite_unicode_lower(dbapi_connection, _record):
    """SQLite's lower() folds ASCII only; searches in Russian need the Unicode one."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
        )
