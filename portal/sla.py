"""The SLA engine: business calendars, business-time arithmetic and response deadlines.

Pure functions on plain data. Callers pass the clock (`at`, `now`); nothing here reads the
current time, the database or Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

TIERS = ("partner", "commercial", "vip", "noncommercial")
SERVICE_LEVELS = ("standard", "special", "consultation", "development")
OVERRIDE_KINDS = ("day_off", "working_day", "short_day")

# A run of this many days without working time means the calendar is broken, not long holidays.
MAX_CLOSED_DAYS = 400
# "At risk" once less than this share of the business time between start and deadline remains.
AT_RISK_SHARE = 0.2

_DAY = timedelta(days=1)
_SHORT_DAY_CUT = timedelta(hours=1)

# Frames are kept as wall-clock offsets from local midnight, so "24:00" (the next midnight)
# is expressible and a DST change moves the instant, not the wall-clock hour.
_Frame = tuple[timedelta, timedelta]


@dataclass(frozen=True)
class DayOverride:
    """An administrator's exception to the production calendar for one date."""

    day: date
    kind: str  # "day_off" | "working_day" | "short_day"
    # Empty means the calendar's normal frames (for short_day: the last one closes an hour early).
    frames: tuple[tuple[time, time], ...] = ()
    note: str = ""


def _parse_clock(value: str | time) -> timedelta:
    """Return a wall-clock time ("10:00", "24:00" or a `time`) as an offset from midnight."""
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    text = str(value).strip()
    if text in ("24:00", "24:00:00"):
        return _DAY
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid time of day {value!r}: expected HH:MM") from None
    return _parse_clock(parsed)


def _clock_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _validate_frames(frames: Iterable[tuple[Any, Any]]) -> tuple[_Frame, ...]:
    """Parse and check frames: each starts before it ends, sorted, non-overlapping."""
    parsed = tuple((_parse_clock(start), _parse_clock(end)) for start, end in frames)
    previous_end = None
    for start, end in parsed:
        label = f"{_clock_text(start)}-{_clock_text(end)}"
        if start >= end:
            raise ValueError(f"business hours frame {label} must start before it ends")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"business hours frame {label} overlaps or precedes the one before it")
        previous_end = end
    return parsed


def _shortened(frames: tuple[_Frame, ...]) -> tuple[_Frame, ...]:
    """Return frames with the last one closing an hour earlier (a pre-holiday short day)."""
    if not frames:
        return frames
    start, end = frames[-1]
    end -= _SHORT_DAY_CUT
    return frames[:-1] + (((start, end),) if end > start else ())


@lru_cache(maxsize=256)
def _production_year(country: str, year: int) -> tuple[frozenset[date], frozenset[date], bool]:
    """Return (days off, weekend workdays, has moved-day data) of one country's year."""
    # Shared by all calendars: the admin page builds fresh calendars, the table stays the same.
    table = holidays.country_holidays(country, years=year, language="en_US")
    days_off = frozenset(table)
    workdays = frozenset(d for d in table.weekend_workdays if d.year == year)
    # Public holidays are generated for any year; only the hand-kept moves say a year is known.
    moved = any("substituted" in name for name in table.values())
    return days_off, workdays, bool(moved or workdays)


@lru_cache(maxsize=64)
def _has_production_calendar(country: str) -> bool:
    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return False
    return True


class BusinessCalendar:
    """Working hours in one time zone, with a country's production calendar and overrides."""

    def __init__(
        self,
        tz: str = "Europe/Moscow",
        open: str = "10:00",
        close: str = "19:00",
        frames: list[tuple[str, str]] | None = None,
        country: str | None = "RU",
        overrides: Iterable[DayOverride] = (),
        always_open: bool = False,
    ) -> None:
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        if always_open:
            frames, country = [("00:00", "24:00")], None
        self.frames = _validate_frames(frames if frames is not None else [(open, close)])
        if not self.frames:
            raise ValueError("a business calendar needs at least one frame of working hours")
        if country is not None and not _has_production_calendar(country):
            raise ValueError(f"no production calendar for country {country!r}")
        self.country = country
        self.always_open = always_open
        self.overrides: dict[date, DayOverride] = {}
        self._override_frames: dict[date, tuple[_Frame, ...]] = {}
        for override in overrides:
            self._add_override(override)
        # Deadlines step day by day; resolving a day's frames once keeps each step cheap.
        self._day_cache: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @classmethod
    def always(cls, tz: str = "Europe/Moscow") -> BusinessCalendar:
        """Return a 24/7 calendar with no holidays (special requests, calendar days)."""
        return cls(tz=tz, always_open=True)

    def __repr__(self) -> str:
        hours = ", ".join(f"{_clock_text(s)}-{_clock_text(e)}" for s, e in self.frames)
        return f"BusinessCalendar({self.tz.key!r}, [{hours}], country={self.country!r})"

    def _add_override(self, override: DayOverride) -> None:
        if override.kind not in OVERRIDE_KINDS:
            raise ValueError(f"unknown day override kind {override.kind!r} on {override.day}")
        if override.day in self.overrides:
            raise ValueError(f"two overrides for the same day {override.day}")
        if override.kind == "day_off" and override.frames:
            raise ValueError(f"day off override on {override.day} cannot have working hours")
        frames = _validate_frames(override.frames) if override.frames else self.frames
        if override.kind == "short_day" and not override.frames:
            frames = _shortened(frames)
        self.overrides[override.day] = override
        self._override_frames[override.day] = frames if override.kind != "day_off" else ()

    def _local_frames(self, d: date) -> tuple[_Frame, ...]:
        """Apply the working-day rule: override, then production calendar, then Mon-Fri."""
        if d in self._override_frames:
            return self._override_frames[d]
        if self.country is not None:
            days_off, workdays, _ = _production_year(self.country, d.year)
            if d in days_off:
                return ()
            if d in workdays:
                return self.frames
        if self.always_open or d.weekday() < 5:
            return self.frames
        return ()

    def _utc_frames(self, d: date) -> tuple[tuple[datetime, datetime], ...]:
        cached = self._day_cache.get(d)
        if cached is None:
            # Wall-clock arithmetic from local midnight, then UTC: subtraction and comparison of
            # datetimes sharing a zoneinfo tzinfo ignore DST, in UTC they are exact.
            midnight = datetime(d.year, d.month, d.day, tzinfo=self.tz)
            cached = tuple(
                ((midnight + start).astimezone(UTC), (midnight + end).astimezone(UTC))
                for start, end in self._local_frames(d)
            )
            self._day_cache[d] = cached
        return cached

    def _frames_from(
        self, at: datetime, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Yield UTC frames of the day of `at` onwards; stop after `until` or refuse to loop."""
        day = at.astimezone(self.tz).date()
        last_day = until.astimezone(self.tz).date() if until is not None else None
        closed_run = 0
        while last_day is None or day <= last_day:
            frames = self._utc_frames(day)
            if frames:
                closed_run = 0
                yield from frames
            else:
                closed_run += 1
                if until is None and closed_run > MAX_CLOSED_DAYS:
                    raise ValueError(
                        f"the business calendar has no working time in {MAX_CLOSED_DAYS} days "
                        f"after {at.date()}"
                    )
            day += _DAY

    def is_working_day(self, d: date) -> bool:
        """Return whether `d` has any business hours."""
        return bool(self._local_frames(d))

    def frames_on(self, d: date) -> list[tuple[datetime, datetime]]:
        """Return the business-hour frames of `d` as aware datetimes in the calendar tz."""
        return [(s.astimezone(self.tz), e.astimezone(self.tz)) for s, e in self._utc_frames(d)]

    def is_open(self, at: datetime) -> bool:
        """Return whether `at` falls inside business hours (a frame's close is closed)."""
        _require_aware(at)
        return any(s <= at < e for s, e in self._utc_frames(at.astimezone(self.tz).date()))

    def next_open(self, at: datetime) -> datetime:
        """Return the first open moment at or after `at`, in the timezone of `at`."""
        _require_aware(at)
        for start, end in self._frames_from(at):
            if end > at:
                return max(start, at).astimezone(at.tzinfo)
        raise AssertionError("unreachable: _frames_from never ends without `until`")

    def years_without_data(self, years: Iterable[int]) -> list[int]:
        """Return the years whose moved days off are unknown (no table data and no overrides)."""
        if self.country is None:
            return []  # nothing to look up: no production calendar applies
        override_years = {d.year for d in self.overrides}
        return [
            year
            for year in years
            if year not in override_years and not _production_year(self.country, year)[2]
        ]


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")


def _as_timedelta(hours: float) -> timedelta:
    """Convert hours to whole microseconds, so 40 h never drifts by a float ulp."""
    if hours < 0:
        raise ValueError(f"business hours must not be negative, got {hours}")
    return timedelta(microseconds=round(hours * 3_600_000_000))


def add_business_time(start: datetime, hours: float, calendar: BusinessCalendar) -> datetime:
    """Return the moment `hours` of business time after `start`, in the timezone of `start`."""
    _require_aware(start)
    remaining = _as_timedelta(hours)
    if not remaining:
        return start
    at = start.astimezone(UTC)
    for frame_start, frame_end in calendar._frames_from(at):
        if frame_end <= at:
            continue
        begin = max(frame_start, at)
        available = frame_end - begin
        # `<=` so time running out exactly at a close lands on that close, not the next opening.
        if remaining <= available:
            return (begin + remaining).astimezone(start.tzinfo)
        remaining -= available
    raise AssertionError("unreachable: _frames_from never ends without `until`")


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> timedelta:
    """Return the business time from `a` to `b`; negative if `b` is before `a`."""
    _require_aware(a)
    _require_aware(b)
    # In UTC: datetimes sharing a zoneinfo tzinfo subtract as wall clocks, wrong across DST.
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b < a:
        return -business_time_between(b, a, calendar)
    total = timedelta()
    for frame_start, frame_end in calendar._frames_from(a, until=b):
        if frame_start >= b:
            break
        overlap = min(frame_end, b) - max(frame_start, a)
        if overlap > timedelta():
            total += overlap
    return total


def time_left(due: datetime, now: datetime, calendar: BusinessCalendar) -> timedelta:
    """Return the business time from `now` until `due`; negative once overdue."""
    return business_time_between(now, due, calendar)


def sla_state(started: datetime, due: datetime, now: datetime, calendar: BusinessCalendar) -> str:
    """Return "overdue", "at_risk" or "on_track" for a deadline at `now`."""
    _require_aware(now)
    _require_aware(due)
    if now.astimezone(UTC) >= due.astimezone(UTC):
        return "overdue"
    total = business_time_between(started, due, calendar)
    left = business_time_between(now, due, calendar)
    if left < total * AT_RISK_SHARE:
        return "at_risk"
    return "on_track"


_DEFAULT_TIER_HOURS = MappingProxyType(
    {"partner": 5.0, "commercial": 6.0, "vip": 2.0, "noncommercial": 24.0}
)
DEFAULT_CALENDAR = BusinessCalendar()
ALWAYS_CALENDAR = BusinessCalendar.always()


@dataclass(frozen=True)
class SlaPolicy:
    """Response-time limits per tier and service level, and the calendars they run on."""

    tier_hours: Mapping[str, float] = field(default_factory=lambda: _DEFAULT_TIER_HOURS)
    consultation_hours: float = 40
    special_hours: float = 1
    development_days: int = 24
    calendar: BusinessCalendar = DEFAULT_CALENDAR
    special_calendar: BusinessCalendar = ALWAYS_CALENDAR

    def __post_init__(self) -> None:
        limits = {f"tier {t!r}": h for t, h in self.tier_hours.items()}
        limits |= {"consultation": self.consultation_hours, "special": self.special_hours}
        limits["development"] = self.development_days
        for name, value in limits.items():
            if value < 0:
                raise ValueError(f"the response limit of {name} must not be negative")


DEFAULT_POLICY = SlaPolicy()


@lru_cache(maxsize=32)
def _calendar_days(tz: str) -> BusinessCalendar:
    return BusinessCalendar.always(tz)


def policy_calendar(service_level: str, policy: SlaPolicy = DEFAULT_POLICY) -> BusinessCalendar:
    """Return the calendar whose hours count for a service level."""
    level = _plain(service_level)
    if level not in SERVICE_LEVELS:
        raise ValueError(f"unknown service level {level!r}")
    if level == "special":
        return policy.special_calendar
    if level == "development":
        # Calendar days: round the clock, in the business calendar's zone.
        return _calendar_days(policy.calendar.tz.key)
    return policy.calendar


def _plain(value: Any) -> Any:
    # Models may hold tiers and levels as Enum members; compare by their value.
    return getattr(value, "value", value)


def _field(ticket_or_params: Any, name: str) -> Any:
    if isinstance(ticket_or_params, Mapping):
        if name not in ticket_or_params:
            raise ValueError(f"missing {name!r} to compute a response deadline")
        return _plain(ticket_or_params[name])
    if not hasattr(ticket_or_params, name):
        raise ValueError(f"missing {name!r} to compute a response deadline")
    return _plain(getattr(ticket_or_params, name))


def response_due(
    ticket_or_params: Any, at: datetime, policy: SlaPolicy = DEFAULT_POLICY
) -> datetime:
    """Return when a reply to the customer message that arrived at `at` is due."""
    _require_aware(at)
    tier = _field(ticket_or_params, "tier")
    level = _field(ticket_or_params, "service_level")
    if tier not in policy.tier_hours:
        raise ValueError(f"unknown support tier {tier!r}")
    calendar = policy_calendar(level, policy)
    if level == "standard":
        return add_business_time(at, policy.tier_hours[tier], calendar)
    if level == "special":
        return add_business_time(at, policy.special_hours, calendar)
    if level == "consultation":
        return add_business_time(at, policy.consultation_hours, calendar)
    # Development: calendar days; aware + timedelta keeps the wall-clock time across DST.
    return at + timedelta(days=policy.development_days)
