"""Signed-in sessions: one row per sign-in, checked on every request, ended at will.

The browser keeps a random session key (in the signed session cookie and, with "Remember
me", in the remember cookie as "<user id>:<key>"); the database keeps only its hash. A
session counts while its row is live, so signing out, "End" on another device or a password
change makes every copy of the old cookies worthless.
"""

import datetime as dt
import hashlib
import ipaddress
import re
import secrets

from sqlalchemy import select, update

from portal.accounts.models import User, UserSession
from portal.clock import aware, utcnow
from portal.extensions import db

SESSION_LIFETIME = dt.timedelta(days=30)
TOUCH_EVERY = dt.timedelta(minutes=1)

_BROWSERS = (
    ("YaBrowser/", "Yandex Browser"),
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def device_summary(user_agent: str | None) -> str:
    """A browser and system people recognise ("Firefox · Linux"), not the full header."""
    text = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), "")
    system = next((name for mark, name in _SYSTEMS if mark in text), "")
    if not browser and not system:
        return re.sub(r"[^\w./ -]", "", text)[:40]
    return " · ".join(part for part in (browser, system) if part)


def ip_prefix(address: str | None) -> str:
    """The network a client came from (IPv4 /24, IPv6 /48), enough to recognise it."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def _live(row: UserSession, now: dt.datetime) -> bool:
    return row.revoked_at is None and aware(row.created_at) > now - SESSION_LIFETIME


def _attach(user: User, key: str, row: UserSession) -> None:
    user.session_key, user.current_session_id = key, row.id
    user.current_session = row


def start_session(
    user: User, user_agent: str | None, address: str | None, now: dt.datetime | None = None
) -> None:
    """Open a new session for a sign-in; `user.get_id()` then names it."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        key_hash=_digest(key),
        created_at=now,
        last_seen_at=now,
        user_agent=device_summary(user_agent),
        ip_prefix=ip_prefix(address),
    )
    db.session.add(row)
    db.session.commit()
    _attach(user, key, row)


def user_for_session(identity: str, now: dt.datetime | None = None) -> User | None:
    """The user of a live session named "<user id>:<key>"; None for anything else."""
    user_id, _sep, key = (identity or "").partition(":")
    if not (user_id.isdigit() and key):
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == _digest(key)))
    if row is None or row.user_id != int(user_id) or not _live(row, now or utcnow()):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:  # a disabled account is signed out at once
        return None
    _attach(user, key, row)
    return user


def note_activity(user: User, now: dt.datetime | None = None) -> None:
    """Remember when the session was last used, writing at most once a minute."""
    row = getattr(user, "current_session", None)
    now = now or utcnow()
    if row is not None and aware(row.last_seen_at) <= now - TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()


def live_sessions(user: User, now: dt.datetime | None = None) -> list[UserSession]:
    """The user's sessions that still work, most recently used first."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > now - SESSION_LIFETIME,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return list(rows)


def end_session(user: User, session_id: int, now: dt.datetime | None = None) -> bool:
    """End one of the user's own sessions; False if there is no such live session."""
    result = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=now or utcnow())
    )
    db.session.commit()
    return result.rowcount == 1


def end_other_sessions(user: User, now: dt.datetime | None = None) -> int:
    """End every session of the user but the one this request runs in; how many ended."""
    result = db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.id != (user.current_session_id or 0),
        )
        .values(revoked_at=now or utcnow())
    )
    db.session.commit()
    return result.rowcount


def end_all_sessions(user: User, now: dt.datetime | None = None) -> None:
    """End every session of the user (a password change); the caller commits."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    user.session_key = user.current_session_id = user.current_session = None
