"""Signing up and in, confirming the address, lock-out after repeated failures, password reset.

Nothing here tells a visitor whether an address has an account: sign-up answers the same
for a new and a known address, and a failed sign-in costs the same time and says the same
words for an unknown address, a wrong password and a locked address.
"""

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.addresses import mixes_scripts, normalise_email, skeleton
from portal.accounts.models import SignInFailures, User
from portal.accounts.sessions import end_all_sessions
from portal.clock import aware, utcnow
from portal.extensions import db
from portal.outbox.mail import queue_mail

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
CONFIRM_DAYS = 3

# A scrypt hash of a random, forgotten password, with the parameters of real ones: checked
# when an address has no account, so that answer takes as long as a wrong password.
DUMMY_HASH = (
    "scrypt:32768:8:1$EPgD0RkU5401wMOn$aa3d11f9c382ed897196b2604cf9c2ab4ca88b2d2e47623a71832b"
    "2620a450ddb1ccea36199d1eed1abf69c0719e820423821e9e991f057187e2147c107b1ffb"
)


class AccountError(ValueError):
    """Something the person can fix, with a code the view turns into a message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def find_user(email: str) -> User | None:
    """The account with this address, in any case, width or Unicode form."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _mail(user: User, template: str, context: dict) -> None:
    with force_locale(user.locale or current_app.config["PORTAL_DEFAULT_LOCALE"]):
        queue_mail(user.email, template, {"user": user, **context}, kind=template)


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-confirm")


def send_confirmation(user: User, confirm_url) -> None:
    """E-mail a signed link that confirms the address (the caller commits)."""
    token = _confirm_serializer().dumps({"user": user.id, "email": user.email})
    _mail(user, "confirm_email", {"url": confirm_url(token), "days": CONFIRM_DAYS})


@dataclass(frozen=True)
class SignUpLinks:
    """The links the sign-up letters carry."""

    confirm: Callable[[str], str]  # the confirmation page for a token
    signin: str
    reset: str


def resend_confirmation(user: User, confirm_url) -> None:
    """A new confirmation link for an account that has not confirmed yet."""
    if not user.email_confirmed:
        send_confirmation(user, confirm_url)
        db.session.commit()


def register(
    email: str, name: str, password: str, locale: str | None, links: SignUpLinks
) -> User | None:
    """Create an unconfirmed customer and mail the link; for a known address, warn its owner.

    Returns the new account, or None when the address already had one.
    """
    address = normalise_email(email)
    existing = find_user(address)
    if existing is not None:
        generate_password_hash(password, method="scrypt")  # the work a new account costs
        if existing.email_confirmed:
            _mail(
                existing, "signup_attempt", {"signin_url": links.signin, "reset_url": links.reset}
            )
        else:  # probably its owner again, who lost the first letter
            send_confirmation(existing, links.confirm)
        db.session.commit()
        return None
    # Refused whether or not a look-alike account exists, so the answer reveals nothing;
    # and mail cannot reach a non-ASCII mailbox name anyway (no SMTPUTF8).
    if not address.rpartition("@")[0].isascii() or mixes_scripts(address):
        raise AccountError("lookalike")
    if _skeleton_taken(address):  # an older account it imitates: answered as for that one
        generate_password_hash(password, method="scrypt")
        return None
    user = User(
        email=address, name=name.strip(), role="customer", locale=locale, email_confirmed_at=None
    )
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same address signed up a moment ago
        db.session.rollback()
        return None
    send_confirmation(user, links.confirm)
    db.session.commit()
    return user


def _skeleton_taken(address: str) -> bool:
    taken = db.session.scalar(select(User.id).where(User.email_skeleton == skeleton(address)))
    return taken is not None


def confirm_email(token: str, now: dt.datetime | None = None) -> User:
    """Mark the address of a valid confirmation link as confirmed (again is harmless)."""
    try:
        data = _confirm_serializer().loads(token, max_age=CONFIRM_DAYS * 24 * 3600)
    except SignatureExpired:
        raise AccountError("confirm_expired") from None
    except BadSignature:
        raise AccountError("confirm_invalid") from None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("email"):
        raise AccountError("confirm_invalid")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now or utcnow()
        db.session.commit()
    return user


def require_confirmed(user: User) -> None:
    """Refuse filing for an account whose address is not confirmed yet."""
    if not user.email_confirmed:
        raise AccountError("unconfirmed")


def _address_hash(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _record_failure(key: str, now: dt.datetime) -> None:
    row = db.session.get(SignInFailures, key)
    if row is None:
        row = SignInFailures(address_hash=key, failures=0)
        db.session.add(row)
    elif row.locked_until is not None or aware(row.updated_at) < now - LOCKOUT:
        row.failures, row.locked_until = 0, None  # a lock ran out or the failures are old
    row.failures += 1
    row.updated_at = now
    if row.failures >= MAX_FAILED_LOGINS:
        row.failures, row.locked_until = 0, now + LOCKOUT
    try:
        db.session.commit()
    except IntegrityError:  # a parallel attempt on the same address inserted the row first
        db.session.rollback()
        db.session.execute(
            update(SignInFailures)
            .where(SignInFailures.address_hash == key)
            .values(failures=SignInFailures.failures + 1, updated_at=now)
        )
        db.session.commit()


def _clear_failures(email: str) -> None:
    row = db.session.get(SignInFailures, _address_hash(email))
    if row is not None:
        db.session.delete(row)


def authenticate(email: str, password: str, now: dt.datetime | None = None) -> User:
    """The user for these credentials; five failures lock the typed address for a while."""
    now = now or utcnow()
    user = find_user(email)
    key = _address_hash(email)
    failures = db.session.get(SignInFailures, key)
    locked = failures is not None and (aware(failures.locked_until) or now) > now
    matches = check_password_hash(user.password_hash if user else DUMMY_HASH, password)
    if user is None or locked or not matches:
        if not locked:
            _record_failure(key, now)
        raise AccountError("bad_credentials")
    if not user.active:
        raise AccountError("inactive")
    if failures is not None:
        db.session.delete(failures)
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
    _mail(
        user,
        "password_reset",
        {
            "url": reset_url(reset_token(user)),
            "hours": current_app.config["PORTAL_RESET_TOKEN_HOURS"],
        },
    )
    db.session.commit()


def reset_password(token: str, password: str) -> User:
    """Set a new password with a reset token: every session ends and the lock lifts."""
    user = user_for_reset_token(token)
    change_password(user, password)
    return user


def change_password(user: User, password: str) -> None:
    """A new password: every signed-in session of the account ends, a lock-out lifts."""
    user.set_password(password)
    end_all_sessions(user)
    _clear_failures(user.email)
    db.session.commit()
