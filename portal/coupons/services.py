"""Issuing, renewing and redeeming coupons; redemption is one atomic UPDATE."""

import datetime as dt
import secrets

from flask import current_app
from sqlalchemy import select, update

from portal.accounts.models import Organisation
from portal.clock import aware, utcnow
from portal.coupons.models import Coupon
from portal.extensions import db

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
CODE_LENGTH = 12


class CouponError(ValueError):
    """Why a coupon cannot be used: not_found, other_organisation, expired, voided, used_up."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def normalise_code(code: str) -> str:
    """Codes are compared without spaces, dashes or case."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue(organisation: Organisation, now: dt.datetime | None = None) -> Coupon:
    """A new coupon for an organisation (the caller commits)."""
    now = now or utcnow()
    coupon = Coupon(
        code="".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)),
        organisation_id=organisation.id,
        requests_total=current_app.config["PORTAL_COUPON_REQUESTS"],
        requests_used=0,
        issued_at=now,
        expires_at=now + dt.timedelta(days=current_app.config["PORTAL_COUPON_DAYS"]),
    )
    db.session.add(coupon)
    db.session.flush()
    return coupon


def renew(organisation: Organisation, now: dt.datetime | None = None) -> Coupon:
    """Issue a new coupon; the unused requests of the organisation's current ones are void."""
    now = now or utcnow()
    current = db.session.scalars(
        select(Coupon).where(Coupon.organisation_id == organisation.id, Coupon.voided_at.is_(None))
    ).all()
    fresh = issue(organisation, now)
    for coupon in current:
        coupon.voided_at, coupon.replaced_by_id = now, fresh.id
    db.session.commit()
    return fresh


def redeem(code: str, organisation_id: int | None, now: dt.datetime | None = None) -> Coupon:
    """Use one request of a coupon, inside the caller's transaction.

    The check and the increment are one UPDATE, so N concurrent redemptions of a
    coupon with k requests left succeed exactly k times.
    """
    now = now or utcnow()
    normalised = normalise_code(code)
    result = db.session.execute(
        update(Coupon)
        .where(
            Coupon.code == normalised,
            Coupon.organisation_id == organisation_id,
            Coupon.voided_at.is_(None),
            Coupon.expires_at > now,
            Coupon.requests_used < Coupon.requests_total,
        )
        .values(requests_used=Coupon.requests_used + 1)
        .execution_options(synchronize_session=False)
    )
    coupon = db.session.scalar(select(Coupon).where(Coupon.code == normalised))
    if result.rowcount == 1:
        db.session.refresh(coupon)
        return coupon
    raise CouponError(_why_not(coupon, organisation_id, now))


def check(code: str, organisation_id: int | None, now: dt.datetime | None = None) -> Coupon:
    """The coupon if it could be redeemed now (nothing is used up); CouponError if not."""
    now = now or utcnow()
    coupon = db.session.scalar(select(Coupon).where(Coupon.code == normalise_code(code)))
    usable = (
        coupon is not None
        and coupon.organisation_id == organisation_id
        and coupon.voided_at is None
        and aware(coupon.expires_at) > now
        and coupon.requests_used < coupon.requests_total
    )
    if not usable:
        raise CouponError(_why_not(coupon, organisation_id, now))
    return coupon


def _why_not(coupon: Coupon | None, organisation_id: int | None, now: dt.datetime) -> str:
    if coupon is None:
        return "not_found"
    if coupon.organisation_id != organisation_id:
        return "not_found"  # never confirm that another company's code exists
    if coupon.voided_at is not None:
        return "voided"
    if aware(coupon.expires_at) <= now:
        return "expired"
    return "used_up"


def organisation_coupons(organisation_id: int) -> list[Coupon]:
    return list(
        db.session.scalars(
            select(Coupon)
            .where(Coupon.organisation_id == organisation_id)
            .order_by(Coupon.issued_at.desc())
        )
    )


def coupon_state(coupon: Coupon, now: dt.datetime) -> str:
    """active | used_up | expired | voided."""
    if coupon.voided_at is not None:
        return "voided"
    if aware(coupon.expires_at) <= now:
        return "expired"
    return "used_up" if coupon.requests_left == 0 else "active"
