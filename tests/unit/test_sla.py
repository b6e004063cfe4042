"""Hand-checked deadlines: evenings, weekends, Russia's moved days off, overrides, time zones."""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from portal.sla import (
    BusinessCalendar,
    DayOverride,
    SlaPolicy,
    add_business_time,
    business_time_between,
    policy_calendar,
    response_due,
    sla_state,
    time_left,
)

MSK = ZoneInfo("Europe/Moscow")  # UTC+3 all year
VVO = ZoneInfo("Asia/Vladivostok")  # UTC+10 all year: 7 h ahead of Moscow
BERLIN = ZoneInfo("Europe/Berlin")  # has DST: 2025-03-30 and 2025-10-26


def msk(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=MSK)


def hours(h):
    return timedelta(hours=h)


# The reference week: Mon 2025-10-13 .. Sun 2025-10-19, no holidays; Mon 2025-10-20 after it.
DEFAULT = BusinessCalendar()
LUNCH = BusinessCalendar(frames=[("10:00", "13:00"), ("14:00", "19:00")])
SHORT_WED = BusinessCalendar(overrides=[DayOverride(date(2025, 10, 15), "short_day")])
SHORT_WED_15 = BusinessCalendar(
    overrides=[DayOverride(date(2025, 10, 15), "short_day", ((time(10), time(15)),))]
)
WORKING_SUN = BusinessCalendar(overrides=[DayOverride(date(2025, 10, 19), "working_day")])
WED_OFF = BusinessCalendar(overrides=[DayOverride(date(2025, 10, 15), "day_off", note="move")])
JAN9_WORKS = BusinessCalendar(overrides=[DayOverride(date(2026, 1, 9), "working_day")])
BERLIN_24_7 = BusinessCalendar.always("Europe/Berlin")


ADD_CASES = [
    # Fri 18:30-19:00 gives 0.5 h, weekend closed, Mon 10:00 + 5.5 h.
    pytest.param(msk(2025, 10, 17, 18, 30), 6, DEFAULT, msk(2025, 10, 20, 15, 30), id="fri-1830"),
    # Filed at night: nothing counts until 10:00 the same Tuesday.
    pytest.param(msk(2025, 10, 14, 2), 6, DEFAULT, msk(2025, 10, 14, 16), id="tue-night-0200"),
    # Saturday: counting starts Monday 10:00.
    pytest.param(msk(2025, 10, 18, 12), 5, DEFAULT, msk(2025, 10, 20, 15), id="saturday"),
    pytest.param(msk(2025, 10, 19, 23, 59), 2, DEFAULT, msk(2025, 10, 20, 12), id="sunday-late"),
    # 19:00 is already closed: the next opening is Thursday 10:00.
    pytest.param(msk(2025, 10, 15, 19), 2, DEFAULT, msk(2025, 10, 16, 12), id="at-close-time"),
    # 13:00 + 6 h fills the day exactly: Friday 19:00, not Monday 10:00.
    pytest.param(msk(2025, 10, 17, 13), 6, DEFAULT, msk(2025, 10, 17, 19), id="ends-at-close"),
    pytest.param(msk(2025, 10, 13, 10), 9, DEFAULT, msk(2025, 10, 13, 19), id="full-day"),
    pytest.param(msk(2025, 10, 13, 10), 9.5, DEFAULT, msk(2025, 10, 14, 10, 30), id="day-and-half"),
    # Zero hours returns the start untouched, even outside business hours.
    pytest.param(msk(2025, 10, 18, 12), 0, DEFAULT, msk(2025, 10, 18, 12), id="zero-hours"),
    # Fractions land on whole minutes: 1/3 h = 20 min, 5/60 h = 5 min.
    pytest.param(msk(2025, 10, 13, 10), 1 / 3, DEFAULT, msk(2025, 10, 13, 10, 20), id="third"),
    pytest.param(msk(2025, 10, 13, 10), 5 / 60, DEFAULT, msk(2025, 10, 13, 10, 5), id="5-minutes"),
    # Dec 30 gives 2 h; Dec 31 moved off, Jan 1-8 holidays, Jan 9 moved off, Jan 10-11 weekend.
    pytest.param(msk(2025, 12, 30, 17), 6, DEFAULT, msk(2026, 1, 12, 14), id="new-year-2026"),
    pytest.param(msk(2025, 12, 30, 18), 1, DEFAULT, msk(2025, 12, 30, 19), id="dec30-close"),
    pytest.param(msk(2025, 12, 30, 18, 30), 1, DEFAULT, msk(2026, 1, 12, 10, 30), id="dec30-over"),
    # Filed on Dec 31 2025 (moved day off): first working time is Mon Jan 12 2026.
    pytest.param(msk(2025, 12, 31, 12), 1, DEFAULT, msk(2026, 1, 12, 11), id="dec31-moved-off"),
    # An override opening Jan 9 2026: Dec 30 gives 2 h, Jan 9 10:00 + 4 h.
    pytest.param(msk(2025, 12, 30, 17), 6, JAN9_WORKS, msk(2026, 1, 9, 14), id="override-jan9"),
    # Fri Oct 31 gives 2 h; Sat Nov 1 2025 is a working Saturday: 10:00 + 4 h.
    pytest.param(msk(2025, 10, 31, 17), 6, DEFAULT, msk(2025, 11, 1, 14), id="working-saturday"),
    # Sat Nov 1 gives 1 h; Sun, Mon Nov 3 (moved off) and Tue Nov 4 (Unity Day) closed.
    pytest.param(msk(2025, 11, 1, 18), 3, DEFAULT, msk(2025, 11, 5, 12), id="nov3-nov4-off"),
    # Fri Mar 6 gives 1 h; Mon Mar 9 2026 is the observed Women's Day: Tue Mar 10 10:00 + 1 h.
    pytest.param(msk(2026, 3, 6, 18), 2, DEFAULT, msk(2026, 3, 10, 11), id="mar9-observed"),
    # Fri May 8 gives 4 h; Mon May 11 2026 is the observed Victory Day: Tue May 12 10:00 + 2 h.
    pytest.param(msk(2026, 5, 8, 15), 6, DEFAULT, msk(2026, 5, 12, 12), id="may11-observed"),
    # Thu Apr 30 gives 1 h; Fri May 1 2026 is Labour Day: Mon May 4 10:00 + 4 h.
    pytest.param(msk(2026, 4, 30, 18), 5, DEFAULT, msk(2026, 5, 4, 14), id="may1-friday"),
    # Wed May 7 2025 gives 2 h; Thu May 8 (moved from Feb 23), Fri May 9 closed: Mon 12 10:00 + 2.
    pytest.param(msk(2025, 5, 7, 17), 4, DEFAULT, msk(2025, 5, 12, 12), id="may8-2025-moved"),
    # 23:30 Vladivostok = 16:30 Moscow: Fri 2.5 h, Mon 10:00 + 3.5 h = 13:30 MSK = 20:30 VVO.
    pytest.param(
        datetime(2025, 10, 17, 23, 30, tzinfo=VVO),
        6,
        DEFAULT,
        datetime(2025, 10, 20, 20, 30, tzinfo=VVO),
        id="vladivostok",
    ),
    # 09:00 Vladivostok = 02:00 Moscow, before opening: 10:00 + 1 h MSK = 18:00 VVO.
    pytest.param(
        datetime(2025, 10, 14, 9, tzinfo=VVO),
        1,
        DEFAULT,
        datetime(2025, 10, 14, 18, tzinfo=VVO),
        id="vladivostok-morning",
    ),
    # 12:00 UTC = 15:00 MSK: Fri 4 h, Mon 10:00 + 2 h = 12:00 MSK = 09:00 UTC.
    pytest.param(
        datetime(2025, 10, 17, 12, tzinfo=UTC),
        6,
        DEFAULT,
        datetime(2025, 10, 20, 9, tzinfo=UTC),
        id="utc",
    ),
    # Lunch 13:00-14:00 does not count.
    pytest.param(msk(2025, 10, 13, 12), 2, LUNCH, msk(2025, 10, 13, 15), id="lunch-spans"),
    pytest.param(msk(2025, 10, 13, 13, 30), 1, LUNCH, msk(2025, 10, 13, 15), id="lunch-filed-in"),
    pytest.param(msk(2025, 10, 13, 12), 1, LUNCH, msk(2025, 10, 13, 13), id="lunch-ends-at-it"),
    # Lunch calendar: 8 h a day; Mon 18:00 + 9 h = 1 h Mon + 8 h Tue, ending at Tue's close.
    pytest.param(msk(2025, 10, 13, 18), 9, LUNCH, msk(2025, 10, 14, 19), id="lunch-8h-day"),
    # Short Wednesday closes at 18:00: 1 h Wed, Thu 10:00 + 1 h.
    pytest.param(msk(2025, 10, 15, 17), 2, SHORT_WED, msk(2025, 10, 16, 11), id="short-day"),
    pytest.param(msk(2025, 10, 15, 14), 2, SHORT_WED_15, msk(2025, 10, 16, 11), id="short-day-15"),
    # Working Sunday by override: Fri 0.5 h, Sun 10:00 + 5.5 h.
    pytest.param(msk(2025, 10, 17, 18, 30), 6, WORKING_SUN, msk(2025, 10, 19, 15, 30), id="sunday"),
    # Wednesday off by override: Tue 1 h, Thu 10:00 + 1 h.
    pytest.param(msk(2025, 10, 14, 18), 2, WED_OFF, msk(2025, 10, 16, 11), id="wednesday-off"),
    # 24/7 in Berlin over the autumn DST change: that Sunday has 25 h, wall clock gains only 23.
    pytest.param(
        datetime(2025, 10, 25, 12, tzinfo=BERLIN),
        24,
        BERLIN_24_7,
        datetime(2025, 10, 26, 11, tzinfo=BERLIN),
        id="berlin-dst-autumn",
    ),
    # Spring change: the day has 23 h, so 24 h later reads 13:00.
    pytest.param(
        datetime(2025, 3, 29, 12, tzinfo=BERLIN),
        24,
        BERLIN_24_7,
        datetime(2025, 3, 30, 13, tzinfo=BERLIN),
        id="berlin-dst-spring",
    ),
]


@pytest.mark.parametrize(("start", "hours_", "calendar", "expected"), ADD_CASES)
def test_add_business_time(start, hours_, calendar, expected):
    result = add_business_time(start, hours_, calendar)
    assert result == expected
    assert result.tzinfo is start.tzinfo
    assert result.utcoffset() == expected.utcoffset()


def ticket(tier, level):
    return SimpleNamespace(tier=tier, service_level=level)


DUE_CASES = [
    # Mon 18:00 gives 1 h, Tue 10:00 + 4 h.
    pytest.param(
        ticket("partner", "standard"), msk(2025, 10, 13, 18), msk(2025, 10, 14, 14), id="partner-5h"
    ),
    pytest.param(
        {"tier": "commercial", "service_level": "standard"},
        msk(2025, 10, 17, 18, 30),
        msk(2025, 10, 20, 15, 30),
        id="commercial-6h-mapping",
    ),
    # Fri 18:00 gives 1 h, Mon 10:00 + 1 h.
    pytest.param(
        ticket("vip", "standard"), msk(2025, 10, 17, 18), msk(2025, 10, 20, 11), id="vip-2h"
    ),
    # Mon 12-19 = 7 h, Tue 9 h (16), Wed 10:00 + 8 h.
    pytest.param(
        ticket("noncommercial", "standard"),
        msk(2025, 10, 13, 12),
        msk(2025, 10, 15, 18),
        id="noncommercial-24h",
    ),
    # Mon-Thu 4 x 9 = 36 h, Fri 10:00 + 4 h.
    pytest.param(
        ticket("partner", "consultation"),
        msk(2025, 10, 13, 10),
        msk(2025, 10, 17, 14),
        id="consultation-40h",
    ),
    # Round the clock: 03:00 on a Sunday + 1 h.
    pytest.param(
        ticket("vip", "special"),
        msk(2025, 10, 19, 3),
        msk(2025, 10, 19, 4),
        id="special-sunday-night",
    ),
    pytest.param(
        ticket("vip", "special"),
        msk(2026, 1, 1, 12),
        msk(2026, 1, 1, 13),
        id="special-new-year-day",
    ),
    pytest.param(
        ticket("vip", "special"),
        msk(2025, 10, 18, 23, 30),
        msk(2025, 10, 19, 0, 30),
        id="special-past-midnight",
    ),
    # Calendar days, holidays included: Oct 13 + 24 days = Nov 6 (October has 31 days).
    pytest.param(
        ticket("commercial", "development"),
        msk(2025, 10, 13, 10),
        msk(2025, 11, 6, 10),
        id="development-24-days",
    ),
    # Enum-like values are compared by their value.
    pytest.param(
        ticket(SimpleNamespace(value="vip"), SimpleNamespace(value="standard")),
        msk(2025, 10, 13, 10),
        msk(2025, 10, 13, 12),
        id="enum-values",
    ),
]


@pytest.mark.parametrize(("params", "at", "expected"), DUE_CASES)
def test_response_due(params, at, expected):
    assert response_due(params, at) == expected


def test_a_custom_policy_changes_the_limits():
    policy = SlaPolicy(tier_hours={"partner": 1, "gold": 0.5}, development_days=2)
    assert response_due(ticket("gold", "standard"), msk(2025, 10, 13, 10), policy) == msk(
        2025, 10, 13, 10, 30
    )
    assert response_due(ticket("gold", "development"), msk(2025, 10, 13, 10), policy) == msk(
        2025, 10, 15, 10
    )


@pytest.mark.parametrize(
    ("level", "always_open"),
    [("standard", False), ("consultation", False), ("special", True), ("development", True)],
)
def test_policy_calendar(level, always_open):
    calendar = policy_calendar(level, SlaPolicy())
    assert calendar.is_open(msk(2025, 10, 19, 3)) is always_open  # 03:00 on a Sunday


BETWEEN_CASES = [
    # Fri 17-19 = 2 h, Mon 10-12 = 2 h.
    pytest.param(msk(2025, 10, 17, 17), msk(2025, 10, 20, 12), hours(4), id="weekend"),
    # Fri Oct 31 1 h + working Sat Nov 1 9 h + Wed Nov 5 1 h; Nov 3-4 closed.
    pytest.param(msk(2025, 10, 31, 18), msk(2025, 11, 5, 11), hours(11), id="holiday"),
    # Only Dec 30 counts between Dec 30 and Jan 12.
    pytest.param(msk(2025, 12, 30, 10), msk(2026, 1, 12, 10), hours(9), id="new-year"),
    pytest.param(msk(2025, 10, 20, 12), msk(2025, 10, 17, 17), hours(-4), id="negative"),
    pytest.param(msk(2025, 10, 13, 12), msk(2025, 10, 13, 12), hours(0), id="same-moment"),
    pytest.param(msk(2025, 10, 18, 1), msk(2025, 10, 19, 23), hours(0), id="all-closed"),
    # 15:00 UTC = 18:00 MSK Fri; 17:00 VVO = 10:00 MSK Mon: 1 h.
    pytest.param(
        datetime(2025, 10, 17, 15, tzinfo=UTC),
        datetime(2025, 10, 20, 17, tzinfo=VVO),
        hours(1),
        id="mixed-zones",
    ),
]


@pytest.mark.parametrize(("a", "b", "expected"), BETWEEN_CASES)
def test_business_time_between(a, b, expected):
    assert business_time_between(a, b, DEFAULT) == expected


def test_business_time_between_counts_real_hours_across_dst():
    # 12:00 to 12:00 across the autumn change is 25 h, not 24.
    a, b = datetime(2025, 10, 25, 12, tzinfo=BERLIN), datetime(2025, 10, 26, 12, tzinfo=BERLIN)
    assert business_time_between(a, b, BERLIN_24_7) == hours(25)
    # 01:00 CEST to 04:00 CET inside one frame: 23:00 to 03:00 UTC is 4 h, the wall clock says 3.
    a, b = datetime(2025, 10, 26, 1, tzinfo=BERLIN), datetime(2025, 10, 26, 4, tzinfo=BERLIN)
    assert business_time_between(a, b, BERLIN_24_7) == hours(4)


TIME_LEFT_CASES = [
    # Fri 18-19 and Mon 10-12.
    pytest.param(msk(2025, 10, 20, 12), msk(2025, 10, 17, 18), hours(3), id="before-weekend"),
    # Overdue since Fri 18:00: Fri 18-19 and Mon 10-11 of business time.
    pytest.param(msk(2025, 10, 17, 18), msk(2025, 10, 20, 11), hours(-2), id="overdue"),
]


@pytest.mark.parametrize(("due", "now", "expected"), TIME_LEFT_CASES)
def test_time_left(due, now, expected):
    assert time_left(due, now, DEFAULT) == expected


STATE_CASES = [
    # 6 h from Mon 10:00 to 16:00; at risk below 1.2 h left.
    pytest.param(
        msk(2025, 10, 13, 10),
        msk(2025, 10, 13, 16),
        msk(2025, 10, 13, 11),
        "on_track",
        id="on-track",
    ),
    pytest.param(
        msk(2025, 10, 13, 10), msk(2025, 10, 13, 16), msk(2025, 10, 13, 15), "at_risk", id="at-risk"
    ),
    pytest.param(
        msk(2025, 10, 13, 10),
        msk(2025, 10, 13, 16),
        msk(2025, 10, 13, 16),
        "overdue",
        id="overdue-at-due",
    ),
    pytest.param(
        msk(2025, 10, 13, 10),
        msk(2025, 10, 13, 16),
        msk(2025, 10, 14, 9),
        "overdue",
        id="overdue-later",
    ),
    # 5 h, 1 h left is exactly 20%: not yet "less than".
    pytest.param(
        msk(2025, 10, 13, 10),
        msk(2025, 10, 13, 15),
        msk(2025, 10, 13, 14),
        "on_track",
        id="exactly-20-percent",
    ),
    # Fri 17:00 to Mon 14:00 is 6 business hours; on Saturday 4 remain, whatever the wall clock.
    pytest.param(
        msk(2025, 10, 17, 17),
        msk(2025, 10, 20, 14),
        msk(2025, 10, 18, 12),
        "on_track",
        id="weekend-on-track",
    ),
    pytest.param(
        msk(2025, 10, 17, 17),
        msk(2025, 10, 20, 14),
        msk(2025, 10, 20, 13),
        "at_risk",
        id="monday-at-risk",
    ),
]


@pytest.mark.parametrize(("started", "due", "now", "expected"), STATE_CASES)
def test_sla_state(started, due, now, expected):
    assert sla_state(started, due, now, DEFAULT) == expected


WORKING_DAY_CASES = [
    pytest.param(date(2025, 10, 17), True, id="friday"),
    pytest.param(date(2025, 10, 18), False, id="saturday"),
    pytest.param(date(2025, 11, 1), True, id="2025-11-01-working-saturday"),
    pytest.param(date(2025, 11, 3), False, id="2025-11-03-moved-off"),
    pytest.param(date(2025, 11, 4), False, id="2025-11-04-unity-day"),
    pytest.param(date(2025, 12, 31), False, id="2025-12-31-moved-off"),
    pytest.param(date(2026, 1, 8), False, id="2026-01-08-holiday"),
    pytest.param(date(2026, 1, 9), False, id="2026-01-09-moved-off"),
    pytest.param(date(2026, 1, 12), True, id="2026-01-12-first-working"),
    pytest.param(date(2026, 3, 9), False, id="2026-03-09-observed"),
    pytest.param(date(2026, 5, 11), False, id="2026-05-11-observed"),
]


@pytest.mark.parametrize(("day", "expected"), WORKING_DAY_CASES)
def test_is_working_day(day, expected):
    assert DEFAULT.is_working_day(day) is expected


def test_overrides_win_over_the_production_calendar():
    assert WORKING_SUN.is_working_day(date(2025, 10, 19))
    assert not WED_OFF.is_working_day(date(2025, 10, 15))
    assert JAN9_WORKS.is_working_day(date(2026, 1, 9))
    assert SHORT_WED.frames_on(date(2025, 10, 15)) == [
        (msk(2025, 10, 15, 10), msk(2025, 10, 15, 18))
    ]


def test_frames_on():
    assert LUNCH.frames_on(date(2025, 10, 13)) == [
        (msk(2025, 10, 13, 10), msk(2025, 10, 13, 13)),
        (msk(2025, 10, 13, 14), msk(2025, 10, 13, 19)),
    ]
    assert LUNCH.frames_on(date(2025, 11, 4)) == []
    [(start, end)] = BusinessCalendar.always().frames_on(date(2026, 1, 1))
    assert (start, end) == (msk(2026, 1, 1), msk(2026, 1, 2))
    assert start.tzinfo is DEFAULT.tz


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(msk(2025, 10, 13, 10), True, id="opening"),
        pytest.param(msk(2025, 10, 13, 9, 59), False, id="before-opening"),
        pytest.param(datetime(2025, 10, 13, 18, 59, 59, tzinfo=MSK), True, id="last-second"),
        pytest.param(msk(2025, 10, 13, 19), False, id="closing"),
        pytest.param(datetime(2025, 10, 13, 17, tzinfo=VVO), True, id="vladivostok-10-msk"),
    ],
)
def test_is_open(at, expected):
    assert DEFAULT.is_open(at) is expected


def test_next_open():
    at = msk(2025, 10, 13, 12)
    assert DEFAULT.next_open(at) is at
    assert DEFAULT.next_open(msk(2025, 10, 17, 19)) == msk(2025, 10, 20, 10)
    after = DEFAULT.next_open(datetime(2025, 12, 30, 16, tzinfo=UTC))  # 19:00 MSK
    assert after == datetime(2026, 1, 12, 7, tzinfo=UTC)
    assert after.tzinfo is UTC


def test_years_without_data():
    # The package's hand-kept Russian table ends at 2027 (holidays 0.109).
    assert DEFAULT.years_without_data([2025, 2026, 2027, 2028]) == [2028]
    known = BusinessCalendar(overrides=[DayOverride(date(2028, 3, 7), "short_day")])
    assert known.years_without_data([2027, 2028]) == []
    assert BusinessCalendar.always().years_without_data([2028]) == []


NAIVE = datetime(2025, 10, 13, 10)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: add_business_time(NAIVE, 1, DEFAULT), id="add"),
        pytest.param(
            lambda: business_time_between(NAIVE, msk(2025, 10, 14), DEFAULT), id="between"
        ),
        pytest.param(lambda: response_due(ticket("vip", "development"), NAIVE), id="due"),
        pytest.param(lambda: DEFAULT.is_open(NAIVE), id="is-open"),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_hours_are_refused():
    with pytest.raises(ValueError, match="negative"):
        add_business_time(msk(2025, 10, 13, 10), -1, DEFAULT)


def test_a_calendar_without_working_days_does_not_loop_forever():
    closed = [DayOverride(date(2025, 10, 13) + timedelta(days=i), "day_off") for i in range(500)]
    calendar = BusinessCalendar(country=None, overrides=closed)
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(msk(2025, 10, 13, 10), 1, calendar)
    assert business_time_between(msk(2025, 10, 13), msk(2026, 12, 1), calendar) == timedelta(0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(ticket("gold", "standard"), "'gold'", id="unknown-tier"),
        pytest.param(ticket("vip", "urgent"), "'urgent'", id="unknown-level"),
        pytest.param({"tier": "vip"}, "'service_level'", id="missing-level"),
    ],
)
def test_unknown_tier_or_level_is_named(params, message):
    with pytest.raises(ValueError, match=message):
        response_due(params, msk(2025, 10, 13, 10))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"open": "19:00", "close": "10:00"}, "start before", id="reversed"),
        pytest.param(
            {"frames": [("10:00", "14:00"), ("13:00", "19:00")]}, "overlaps", id="overlap"
        ),
        pytest.param(
            {"frames": [("14:00", "19:00"), ("10:00", "13:00")]}, "overlaps", id="unsorted"
        ),
        pytest.param({"open": "25:00"}, "invalid time", id="bad-time"),
        pytest.param({"frames": []}, "at least one", id="no-frames"),
        pytest.param({"tz": "Mars/Olympus"}, "time zone", id="bad-tz"),
        pytest.param({"country": "XX"}, "country", id="bad-country"),
        pytest.param({"overrides": [DayOverride(date(2025, 1, 1), "holiday")]}, "kind", id="kind"),
    ],
)
def test_bad_calendar_settings_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)
