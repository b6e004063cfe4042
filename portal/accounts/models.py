"""People and organisations: roles, support tiers, passwords, signed-in sessions."""

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.addresses import normalise_email, skeleton
from portal.clock import UTCDateTime, utcnow
from portal.extensions import db

ROLES = ("customer", "agent", "editor", "admin")
STAFF_ROLES = ("agent", "admin")
DEFAULT_TIER = "noncommercial"


class Organisation(db.Model):
    """A customer company; its support tier decides response times."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[str] = mapped_column(String(20), default=DEFAULT_TIER)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="organisation")


class User(UserMixin, db.Model):
    """Anyone who signs in: a customer, a support specialist (agent), an editor, an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # The address with look-alike letters folded to Latin; sign-up refuses one already here.
    email_skeleton: Mapped[str | None] = mapped_column(String(254), index=True)
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="customer")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    def __init__(self, **fields):
        # Accounts made by staff, `portal demo` or a script count as confirmed; self
        # sign-up is the one way in with an unproven address, and it passes None.
        fields.setdefault("email_confirmed_at", utcnow())
        super().__init__(**fields)

    # The signed-in session this request runs in (set when it is loaded, not stored).
    session_key = None
    current_session_id = None
    current_session = None

    @validates("email")
    def _normalised(self, _key, value: str) -> str:
        value = normalise_email(value)
        self.email_skeleton = skeleton(value)
        return value

    def get_id(self) -> str:
        """Flask-Login's identity: the user and their session, so each sign-in has its own."""
        return f"{self.id}:{self.session_key or ''}"

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def tier(self) -> str:
        """The support tier: the organisation's, or non-commercial without one."""
        return self.organisation.tier if self.organisation else DEFAULT_TIER

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_editor(self) -> bool:
        return self.role in ("editor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class UserSession(db.Model):
    """One sign-in: alive until signed out, ended from another device, or a password change."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(100), default="")
    ip_prefix: Mapped[str] = mapped_column(String(50), default="")
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SignInFailures(db.Model):
    """Failed sign-ins per typed address (hashed), whether or not an account has it."""

    __tablename__ = "sign_in_failures"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
