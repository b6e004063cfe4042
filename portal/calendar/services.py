"""The service-level policy in force: configuration plus the admins' calendar overrides."""

import datetime as dt
import time

from flask import current_app
from sqlalchemy import func, select

from portal.calendar.models import OVERRIDE_KINDS, CalendarOverride
from portal.config import ConfigError
from portal.extensions import db
from portal.sla import TIERS, DayOverride, SlaPolicy
from portal.sla import BusinessCalendar as Calendar

POLICY_REFRESH_SECONDS = 30


def parse_frames(text: str) -> list[tuple[str, str]]:
    """'10:00-13:00,14:00-19:00' -> [("10:00", "13:00"), ("14:00", "19:00")]."""
    frames = []
    for part in text.split(","):
        start, sep, end = part.strip().partition("-")
        if not sep:
            raise ConfigError(f"PORTAL_BUSINESS_HOURS: {part.strip()!r} is not like 10:00-19:00")
        frames.append((start.strip(), end.strip()))
    return frames


def parse_hours(text: str) -> dict[str, float]:
    """'partner=5,commercial=6,...' -> {"partner": 5.0, ...}."""
    hours = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        try:
            hours[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"PORTAL_SLA_HOURS: {part.strip()!r} is not like partner=5") from None
        if not sep:
            raise ConfigError(f"PORTAL_SLA_HOURS: {part.strip()!r} is not like partner=5")
    missing = [k for k in (*TIERS, "consultation", "special") if k not in hours]
    if missing:
        raise ConfigError(f"PORTAL_SLA_HOURS lacks {', '.join(missing)}")
    return hours


def build_policy(config, overrides: tuple[DayOverride, ...] = ()) -> SlaPolicy:
    """The SLA policy the settings describe, with these calendar overrides."""
    hours = parse_hours(config["PORTAL_SLA_HOURS"])
    try:
        calendar = Calendar(
            tz=config["PORTAL_TIMEZONE"],
            frames=parse_frames(config["PORTAL_BUSINESS_HOURS"]),
            overrides=overrides,
        )
        return SlaPolicy(
            tier_hours={k: hours[k] for k in TIERS},
            consultation_hours=hours["consultation"],
            special_hours=hours["special"],
            development_days=config["PORTAL_DEVELOPMENT_DAYS"],
            calendar=calendar,
            special_calendar=Calendar.always(config["PORTAL_TIMEZONE"]),
        )
    except ValueError as exc:
        raise ConfigError(f"business hours or SLA settings: {exc}") from None


def override_problem(row: CalendarOverride) -> str | None:
    """Why a stored override cannot be used as it is (None when it is sound).

    Rows saved before the form checked them, or written by hand, may lack a closing time
    or close before they open; deadlines then ignore their hours rather than fail.
    """
    if row.kind not in OVERRIDE_KINDS:
        return "kind"
    if (row.opens is None) != (row.closes is None):
        return "half_hours"
    if row.opens is not None and row.kind == "day_off":
        return "hours_on_day_off"
    if row.opens is not None and row.closes <= row.opens:
        return "order"
    return None


def _overrides() -> tuple[DayOverride, ...]:
    rows = db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
    result = []
    for row in rows:
        problem = override_problem(row)
        if problem == "kind":
            continue
        frames = ((row.opens, row.closes),) if problem is None and row.opens else ()
        result.append(DayOverride(row.day, row.kind, frames, row.note))
    return tuple(result)


def _overrides_version() -> tuple:
    return tuple(
        db.session.execute(
            select(func.count(CalendarOverride.id), func.max(CalendarOverride.created_at))
        ).one()
    )


def sla_policy() -> SlaPolicy:
    """The policy in force; rebuilt when the overrides change (checked every 30 s)."""
    cache = current_app.extensions.setdefault("sla_policy", {})
    now = time.monotonic()
    if cache.get("checked", -1e9) + POLICY_REFRESH_SECONDS < now:
        version = _overrides_version()
        if cache.get("version") != version:
            cache["policy"] = build_policy(current_app.config, _overrides())
            cache["version"] = version
        cache["checked"] = now
    return cache["policy"]


def forget_policy() -> None:
    """Rebuild the policy on next use (after an admin edits the overrides here)."""
    current_app.extensions.pop("sla_policy", None)


def years_without_data(today: dt.date) -> list[int]:
    """This year and the next, where neither the package nor the admins give the calendar."""
    return sla_policy().calendar.years_without_data([today.year, today.year + 1])


def add_override(day: dt.date, kind: str, opens=None, closes=None, note: str = "") -> None:
    """Add or replace the override of a day."""
    existing = db.session.scalar(select(CalendarOverride).filter_by(day=day))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    db.session.add(CalendarOverride(day=day, kind=kind, opens=opens, closes=closes, note=note))
    db.session.commit()
    forget_policy()


def delete_override(override_id: int) -> None:
    row = db.session.get(CalendarOverride, override_id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    forget_policy()


def list_overrides() -> list[CalendarOverride]:
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))


def unusual_days(start: dt.date, days: int = 120) -> list[tuple[dt.date, bool]]:
    """Weekdays off and weekend days at work in the coming period: (day, working)."""
    calendar = sla_policy().calendar
    result = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        working = calendar.is_working_day(day)
        if working != (day.weekday() < 5):
            result.append((day, working))
    return result
