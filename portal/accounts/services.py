"""Signing up and in, lockout after repeated failures, password reset tokens."""

import datetime as dt

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.clock import aware, utcnow
from portal.extensions import db
from portal.mail.services import queue_mail

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)


class AccountError(ValueError):
    """Something the person can fix, with a code the view turns into a message."""

    def __init__(self, code: str, until: dt.datetime | None = None):
        super().__init__(code)
        self.code = code
        self.until = until


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    """The account with this e-mail address, ignoring case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register(email: str, name: str, password: str, locale: str | None = None) -> User:
    """Create a customer account (non-commercial until an admin links an organisation)."""
    if find_user(email) is not None:
        raise AccountError("email_taken")
    user = User(email=normalise_email(email), name=name.strip(), role="customer", locale=locale)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str, now: dt.datetime | None = None) -> User:
    """The user for these credentials; repeated failures lock the account for a while."""
    now = now or utcnow()
    user = find_user(email)
    if user is None:
        raise AccountError("bad_credentials")
    locked_until = aware(user.locked_until)
    if locked_until and locked_until > now:
        raise AccountError("locked", until=locked_until)
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            db.session.commit()
            raise AccountError("locked", until=user.locked_until)
        db.session.commit()
        raise AccountError("bad_credentials")
    if not user.active:
        raise AccountError("inactive")
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def reset_token(user: User) -> str:
    """A signed token; it stops working once the password changes or it expires."""
    return _serializer().dumps({"user": user.id, "pw": user.password_hash[-16:]})


def user_for_reset_token(token: str) -> User:
    """The user a valid reset token belongs to."""
    max_age = current_app.config["PORTAL_RESET_TOKEN_HOURS"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise AccountError("token_expired") from None
    except BadSignature:
        raise AccountError("token_invalid") from None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or user.password_hash[-16:] != data.get("pw"):
        raise AccountError("token_invalid")
    return user


def request_password_reset(email: str, reset_url) -> None:
    """E-mail a reset link if the account exists; say nothing either way to the caller."""
    user = find_user(email)
    if user is None or not user.active:
        return
    with force_locale(user.locale or current_app.config["PORTAL_DEFAULT_LOCALE"]):
        queue_mail(
            user.email,
            "password_reset",
            {
                "user": user,
                "url": reset_url(reset_token(user)),
                "hours": current_app.config["PORTAL_RESET_TOKEN_HOURS"],
            },
            kind="password_reset",
        )
    db.session.commit()


def reset_password(token: str, password: str) -> User:
    """Set a new password with a reset token; the token cannot be used again."""
    user = user_for_reset_token(token)
    user.set_password(password)
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()
    return user
