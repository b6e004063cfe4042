"""Locks for jobs that must run once at a time across every host and process: a
PostgreSQL session advisory lock (held by its own connection, so it is released when the
job ends or its process dies), or, on SQLite, a lock file in the instance folder."""

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import text

from portal.extensions import db


class LockBusy(RuntimeError):
    """Another process holds the job's lock and the caller chose not to wait."""


def lock_key(name: str) -> int:
    """The advisory lock number of a job name (a signed 64-bit integer)."""
    digest = hashlib.blake2b(f"portal:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def job_lock(name: str, wait: bool = True) -> Iterator[None]:
    """Run the block while holding the job's lock; wait for it, or raise `LockBusy`."""
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(lock_key(name), wait):
            yield
    else:
        with _file_lock(name, wait):
            yield


@contextmanager
def _advisory_lock(key: int, wait: bool) -> Iterator[None]:
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        elif not conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
            raise LockBusy(key)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextmanager
def _file_lock(name: str, wait: bool) -> Iterator[None]:
    folder = current_app.config["PORTAL_INSTANCE_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(name) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
