"""Real schedules (DESIGN section 4, v2): several windows a day, per-weekday hours, 24/7.

Hand-checked cases state their arithmetic in local wall-clock time and give the
expected instants in UTC. Offsets used below:
  America/Chicago  CST = UTC-6, CDT = UTC-5 (2026-03-08 02:00 .. 2026-11-01 02:00)
  Europe/Berlin    CET = UTC+1, CEST = UTC+2 (2026-03-29 .. 2026-10-25)

Property tests check business_seconds and deadline against `businesstimedelta`
(WorkDayRule per group of weekdays, LunchTimeRule for the break, HolidayRule), and,
for shapes it cannot express (a Saturday-only week, an overnight shift split at
midnight with a 24:00 close, 24/7), against a naive per-day interval sum written here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import businesstimedelta as btd
import holidays as holidays_lib
import numpy as np
import pandas as pd
import pytest
import pytz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarketing.core.calendar import BusinessCalendar, CalendarMix, to_ns
from smarketing.core.terms import week_seconds

pytestmark = pytest.mark.unit

HOUR = 3600
CHICAGO, BERLIN = "America/Chicago", "Europe/Berlin"
LUNCH_WEEK = {
    "Mon": ("08:00-12:00", "13:00-17:00"),
    "Tue": ("08:00-12:00", "13:00-17:00"),
    "Wed": ("08:00-12:00", "13:00-17:00"),
    "Thu": ("08:00-12:00", "13:00-17:00"),
    "Fri": ("08:00-15:00",),
}


def calendar(zone: str, week: dict[str, tuple[str, ...]], holidays: str | None = None) -> BusinessCalendar:
    return BusinessCalendar(zone, holidays=holidays, week=week_seconds(week))


LUNCH = calendar(CHICAGO, {**LUNCH_WEEK, "Sat": ("09:00-13:00",)}, "US")
LUNCH_NO_SAT = calendar(CHICAGO, LUNCH_WEEK, "US")
ALWAYS = BusinessCalendar.around_the_clock()


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def bsec(cal: BusinessCalendar, a: str, b: str) -> float:
    return float(cal.business_seconds(utc(a), utc(b))[0])


def deadline1(cal: BusinessCalendar, a: str, hours: float) -> pd.Timestamp:
    return cal.deadline(utc(a), hours)[0]


# =====================================================================================
# 1. Hand-checked cases
# =====================================================================================


def test_touch_exactly_at_the_end_of_lunch_counts_the_morning_only():
    # Mon 2026-01-12 09:00 CST (15:00Z) -> 13:00 CST (19:00Z): 09-12 = 3 h, 12-13 lunch = 0.
    assert bsec(LUNCH, "2026-01-12 15:00", "2026-01-12 19:00") == 3 * HOUR
    # The whole lunch hour 12:00-13:00 CST (18:00Z-19:00Z) counts nothing ...
    assert bsec(LUNCH, "2026-01-12 18:00", "2026-01-12 19:00") == 0
    # ... and the first second after it counts again.
    assert bsec(LUNCH, "2026-01-12 19:00", "2026-01-12 19:00:01") == 1


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Mon 11:00 CST (17:00Z) + 1.5 h: 11-12 = 1 h, lunch, 13:00-13:30 -> 13:30 CST = 19:30Z
        # (the wall clock alone would say 12:30, inside lunch).
        pytest.param("2026-01-12 17:00", 1.5, "2026-01-12 19:30", id="lands-in-lunch-moves-past-13"),
        # Mon 12:15 CST (18:15Z), during lunch: the clock starts at 13:00; + 4 h -> 17:00 CST = 23:00Z.
        pytest.param("2026-01-12 18:15", 4, "2026-01-12 23:00", id="starts-in-lunch"),
        # Mon 12:00 CST exactly (18:00Z) + 1 s: nothing until 13:00 -> 13:00:01 CST = 19:00:01Z.
        pytest.param("2026-01-12 18:00", 1 / HOUR, "2026-01-12 19:00:01", id="from-lunch-start-to-13"),
        # Mon 10:00 CST (16:00Z) + 2 h: used up exactly at the 12:00 close, the earliest such
        # instant (18:00Z), not 13:00.
        pytest.param("2026-01-12 16:00", 2, "2026-01-12 18:00", id="used-up-at-lunch-is-12"),
    ],
)
def test_deadline_around_lunch(start, hours, expected):
    assert deadline1(LUNCH, start, hours) == utc(expected)


def test_friday_closes_at_15_and_saturday_has_a_morning():
    # Fri 2026-01-16 14:00 CST (20:00Z) -> 16:00 CST: only 14-15 counts = 1 h.
    assert bsec(LUNCH, "2026-01-16 20:00", "2026-01-16 22:00") == HOUR
    # + 4 h: Fri 14-15 = 1 h; Sat 01-17 09-12 = 3 h -> Sat 12:00 CST = 18:00Z.
    assert deadline1(LUNCH, "2026-01-16 20:00", 4) == utc("2026-01-17 18:00")
    # Without Saturday: Fri 1 h; Mon 01-19 is MLK Day (US); Tue 01-20 08-11 = 3 h
    # -> Tue 11:00 CST = 17:00Z.
    assert deadline1(LUNCH_NO_SAT, "2026-01-16 20:00", 4) == utc("2026-01-20 17:00")


def test_mean_working_day_is_weekly_window_hours_over_weekdays_with_a_window():
    # Mon-Thu 4 x 8 h = 32 h, Fri 7 h, Sat 4 h -> 43 h over 6 days.
    assert LUNCH.daily_hours == pytest.approx(43 / 6)
    # Mon-Thu 32 h + Fri 7 h = 39 h over 5 days = 7.8 h.
    assert LUNCH_NO_SAT.daily_hours == pytest.approx(7.8)
    assert ALWAYS.daily_hours == 24
    assert BusinessCalendar().daily_hours == 8  # version 1: close - open


@pytest.mark.parametrize(
    ("week", "day_start", "expected_hours"),
    [
        # Spring Sun 2026-03-08: 01:00 CST = 07:00Z, 04:00 CDT = 09:00Z -> 2 h.
        pytest.param(("01:00-04:00",), "2026-03-08", 2, id="spring-night-window"),
        # Autumn Sun 2026-11-01: 01:00 is ambiguous -> first occurrence (CDT) = 06:00Z;
        # 04:00 CST = 10:00Z -> 4 h.
        pytest.param(("01:00-04:00",), "2026-11-01", 4, id="autumn-night-window"),
        # An ordinary Sunday 2026-01-11: 01:00-04:00 CST = 07:00Z-10:00Z -> 3 h.
        pytest.param(("01:00-04:00",), "2026-01-11", 3, id="ordinary-night-window"),
        # Spring: 02:30 does not exist and moves forward to 03:00 CDT (08:00Z); 03:30 CDT
        # = 08:30Z -> 0.5 h.
        pytest.param(("02:30-03:30",), "2026-03-08", 0.5, id="opens-in-the-gap"),
        # Spring: 02:00 and 02:45 both move to 03:00 CDT -> the window has no length.
        pytest.param(("02:00-02:45",), "2026-03-08", 0, id="inside-the-gap"),
        # Autumn: 00:30 CDT = 05:30Z; 01:30 ambiguous -> first occurrence, CDT = 06:30Z -> 1 h.
        pytest.param(("00:30-01:30",), "2026-11-01", 1, id="closes-when-ambiguous"),
    ],
)
def test_window_on_the_night_of_a_dst_change(week, day_start, expected_hours):
    cal = calendar(CHICAGO, {"Sun": week})
    # The whole local Sunday lies within [day 00:00Z, next day 12:00Z].
    day = pd.Timestamp(day_start, tz="UTC")
    got = cal.business_seconds(day, day + pd.Timedelta(hours=36))[0]
    assert got == expected_hours * HOUR


def test_deadline_inside_the_dst_gap_window():
    gap = calendar(CHICAGO, {"Sun": ("02:30-03:30",)})
    # Sun 2026-03-08 07:00Z (01:00 CST): the window opens at 08:00Z (03:00 CDT); + 0.25 h -> 08:15Z.
    assert deadline1(gap, "2026-03-08 07:00", 0.25) == utc("2026-03-08 08:15")
    empty = calendar(CHICAGO, {"Sun": ("02:00-02:45",)})
    # The 03-08 window has no length, so 0.5 h runs in Sun 03-15 02:00-02:30 CDT = 07:00Z-07:30Z.
    assert deadline1(empty, "2026-03-08 07:00", 0.5) == utc("2026-03-15 07:30")


def test_24_00_closes_at_midnight_and_adjacent_windows_join_across_it():
    late = calendar(CHICAGO, {"Fri": ("20:00-24:00",), "Sat": ("00:00-02:00",)})
    # Fri 2026-01-16 20:00 CST = Sat 02:00Z; 24:00 = Sat 00:00 CST = 06:00Z; Sat 00-02 CST
    # = 06:00Z-08:00Z -> one 6 h stretch.
    assert bsec(late, "2026-01-17 00:00", "2026-01-18 00:00") == 6 * HOUR
    # Fri 23:00 CST (05:00Z) + 2 h: 1 h to midnight, 1 h after -> Sat 01:00 CST = 07:00Z.
    assert deadline1(late, "2026-01-17 05:00", 2) == utc("2026-01-17 07:00")
    # Mean day: (4 h + 2 h) / 2 weekdays = 3 h.
    assert late.daily_hours == 3


def test_24_7_counts_every_instant_across_dst_and_holidays():
    # Christmas, a weekend and the autumn DST change: wall-clock durations, untouched.
    assert bsec(ALWAYS, "2026-12-24 10:00", "2026-12-28 10:00") == 96 * HOUR
    assert bsec(ALWAYS, "2026-10-31 12:00", "2026-11-02 12:00") == 48 * HOUR
    assert bsec(ALWAYS, "2026-11-02 12:00", "2026-10-31 12:00") == 0
    assert deadline1(ALWAYS, "2026-12-24 22:30", 4) == utc("2026-12-25 02:30")
    assert deadline1(ALWAYS, "2026-03-08 06:00", 80) == utc("2026-03-11 14:00")
    # Missing instants stay missing.
    assert np.isnan(ALWAYS.business_seconds(pd.NaT, utc("2026-01-01"))[0])
    assert pd.isna(ALWAYS.deadline(pd.NaT, 4)[0])


def test_a_week_of_whole_days_equals_24_7():
    # 00:00-24:00 every day: 23 h and 25 h DST days join seamlessly, like 24/7.
    whole = calendar(CHICAGO, {day: ("00:00-24:00",) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")})
    starts = pd.Series(
        pd.to_datetime(
            ["2026-03-07 03:00:00", "2026-10-30 23:59:59", "2026-06-01 00:00:00"], utc=True, format="ISO8601"
        )
    )
    ends = starts + pd.Timedelta(days=5, minutes=7)
    np.testing.assert_array_equal(whole.business_ns(starts, ends), ALWAYS.business_ns(starts, ends))
    assert list(whole.deadline(starts, 100)) == list(ALWAYS.deadline(starts, 100))


def test_version_1_calendar_equals_the_same_single_window_week():
    # workdays + hours and the equivalent week lay out the same windows.
    v1 = BusinessCalendar(CHICAGO, holidays="US")
    v2 = calendar(CHICAGO, {day: ("09:00-17:00",) for day in ("Mon", "Tue", "Wed", "Thu", "Fri")}, "US")
    starts = pd.Series(pd.date_range("2025-12-20", "2027-01-10", periods=97, tz="UTC"))
    ends = starts + pd.Timedelta(days=9, hours=5)
    np.testing.assert_array_equal(v1.business_ns(starts, ends), v2.business_ns(starts, ends))
    np.testing.assert_array_equal(v1.deadline_ns(starts, 37.5), v2.deadline_ns(starts, 37.5))


def test_calendar_mix_runs_each_row_on_its_own_calendar():
    ny = BusinessCalendar("America/New_York")
    berlin = BusinessCalendar(BERLIN)
    mix = CalendarMix({"default": ny, "EMEA": berlin, "24/7": ALWAYS}, np.array(["EMEA", "default", "24/7", "EMEA"]))
    # The same instant, Mon 2026-01-12 14:00Z: 09:00 EST in New York, 15:00 CET in Berlin.
    start = pd.Series([utc("2026-01-12 14:00")] * 4)
    start_ns = to_ns(start)
    # + 4 h: Berlin 15-17 = 2 h, Tue 09-11 CET -> 10:00Z; New York 09-13 EST -> 18:00Z; 24/7 -> 18:00Z.
    expected = pd.to_datetime(
        ["2026-01-13 10:00", "2026-01-12 18:00", "2026-01-12 18:00", "2026-01-13 10:00"], utc=True
    )
    got = mix.deadline_ns(start_ns, 4)
    assert list(pd.to_datetime(got, utc=True)) == list(expected)
    # 14:00Z -> 20:00Z the same day: Berlin 15-17 CET = 2 h; New York 09-15 EST = 6 h; 24/7 6 h.
    end_ns = to_ns(start + pd.Timedelta(hours=6))
    assert (mix.business_ns(start_ns, end_ns) / 10**9 / HOUR).tolist() == [2, 6, 6, 2]
    assert mix.daily_hours().tolist() == [8, 8, 24, 8]


# =====================================================================================
# 2. Property tests
# =====================================================================================

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
LO = int(pd.Timestamp("2025-01-01", tz="UTC").timestamp())
HI = int(pd.Timestamp("2028-01-01", tz="UTC").timestamp())
DST_DATES = {
    CHICAGO: ["2025-03-09", "2025-11-02", "2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"],
    BERLIN: ["2025-03-30", "2025-10-26", "2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"],
}


def ts(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def holiday_set(spec: str | None) -> set[dt.date]:
    if not spec:
        return set()
    country, _, subdiv = spec.partition("-")
    return set(holidays_lib.country_holidays(country, subdiv=subdiv or None, years=range(2023, 2031)))


class Shape:
    """One schedule: as a BusinessCalendar, and its anchors for biased instants."""

    def __init__(self, zone: str, week: dict[str, tuple[str, ...]], holidays: str | None):
        self.zone, self.week, self.holidays = zone, week, holidays
        self.cal = calendar(zone, week, holidays)
        self.holiday_dates = holiday_set(holidays)
        tz = zoneinfo.ZoneInfo(zone)
        days = [dt.date.fromisoformat(d) for d in DST_DATES[zone]]
        days += [d for d in self.holiday_dates if 2025 <= d.year <= 2027]
        self.anchors = sorted(int(dt.datetime.combine(d, dt.time(12), tz).timestamp()) for d in days)
        edges = sorted({t for windows in week.values() for w in windows for t in w.split("-")} - {"24:00"})
        self.edges = [dt.time.fromisoformat(t) for t in edges]
        self.tz = tz

    def instants(self) -> st.SearchStrategy[int]:
        """Whole-second instants in 2025-2027, biased to DST changes, holidays and window edges."""
        near_anchor = st.builds(
            lambda anchor, offset: anchor + offset, st.sampled_from(self.anchors), st.integers(-5 * 86400, 5 * 86400)
        )
        edge = st.builds(
            lambda day, time, nudge: int(dt.datetime.combine(day, time, self.tz).timestamp()) + nudge,
            st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
            st.sampled_from(self.edges),
            st.sampled_from([-1, 0, 0, 1]),
        )
        return st.one_of(st.integers(LO, HI), near_anchor, edge).map(lambda s: min(max(s, LO), HI))

    def pairs(self) -> st.SearchStrategy[tuple[int, int]]:
        """a <= b: a short or longer span after a, or two independent instants."""
        span = st.tuples(self.instants(), st.one_of(st.integers(0, 3 * 86400), st.integers(0, 60 * 86400)))
        return st.one_of(
            span.map(lambda p: (p[0], min(p[0] + p[1], HI))),
            st.tuples(self.instants(), self.instants()).map(lambda p: tuple(sorted(p))),
        )


def seconds_strategy() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(1, 8 * HOUR), st.integers(1, 120).map(lambda h: h * HOUR), st.integers(1, 300 * HOUR))


# -- against businesstimedelta ----------------------------------------------------------

T = dt.time


def btd_rules(zone: str, spec: str, work: list[tuple[T, T, list[int]]], lunch: list[tuple[T, T, list[int]]]):
    tz = pytz.timezone(zone)
    return btd.Rules(
        [btd.WorkDayRule(start_time=a, end_time=b, working_days=days, tz=tz) for a, b, days in work]
        + [btd.LunchTimeRule(start_time=a, end_time=b, working_days=days, tz=tz) for a, b, days in lunch]
        + [btd.HolidayRule(holiday_set(spec), tz=tz)]
    )


BTD_SHAPES = {
    # Chicago: Mon-Thu 08-17 with lunch 12-13, Fri 08-15 (two WorkDayRules + a LunchTimeRule).
    "chicago-lunch-short-friday": (
        Shape(CHICAGO, LUNCH_WEEK, "US"),
        btd_rules(CHICAGO, "US", [(T(8), T(17), [0, 1, 2, 3]), (T(8), T(15), [4])], [(T(12), T(13), [0, 1, 2, 3])]),
    ),
    # Berlin: Mon-Thu 09:00-18:00, Fri 09:00-16:00, lunch 12:30-13:15 every weekday.
    "berlin-lunch-per-weekday": (
        Shape(
            BERLIN,
            {
                **{d: ("09:00-12:30", "13:15-18:00") for d in ("Mon", "Tue", "Wed", "Thu")},
                "Fri": ("09:00-12:30", "13:15-16:00"),
            },
            "DE-BE",
        ),
        btd_rules(
            BERLIN,
            "DE-BE",
            [(T(9), T(18), [0, 1, 2, 3]), (T(9), T(16), [4])],
            [(T(12, 30), T(13, 15), [0, 1, 2, 3, 4])],
        ),
    ),
}


def aware(zone: str, seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=pytz.utc).astimezone(pytz.timezone(zone))


def test_businesstimedelta_lunch_reference_is_set_up_right():
    # A mis-built reference would make the property tests vacuous: check it by hand.
    _, rules = BTD_SHAPES["chicago-lunch-short-friday"]
    s = lambda text: int(utc(text).timestamp())  # noqa: E731
    # Mon 2026-01-12 09:00 -> 13:00 CST: 3 h (lunch excluded).
    assert rules.difference(aware(CHICAGO, s("2026-01-12 15:00")), aware(CHICAGO, s("2026-01-12 19:00"))).timedelta == (
        dt.timedelta(hours=3)
    )
    # Fri 2026-01-16 14:00 CST -> Tue 01-20 11:00 CST: Fri 1 h, MLK Monday off, Tue 3 h.
    assert rules.difference(aware(CHICAGO, s("2026-01-16 20:00")), aware(CHICAGO, s("2026-01-20 17:00"))).timedelta == (
        dt.timedelta(hours=4)
    )


@pytest.mark.parametrize("name", list(BTD_SHAPES))
def test_business_seconds_matches_businesstimedelta_with_lunch_and_per_weekday_hours(name):
    shape, rules = BTD_SHAPES[name]

    @PROPERTY_SETTINGS
    @given(shape.pairs())
    def check(pair):
        a, b = pair
        ours = shape.cal.business_seconds(ts(a), ts(b))[0]
        ref = rules.difference(aware(shape.zone, a), aware(shape.zone, b)).timedelta.total_seconds()
        assert ours == ref, f"{name}: business_seconds({aware(shape.zone, a)}, {aware(shape.zone, b)})"

    check()


@pytest.mark.parametrize("name", list(BTD_SHAPES))
def test_deadline_matches_businesstimedelta_with_lunch_and_per_weekday_hours(name):
    shape, rules = BTD_SHAPES[name]

    @PROPERTY_SETTINGS
    @given(shape.instants(), seconds_strategy())
    def check(a, seconds):
        ours = shape.cal.deadline_ns(ts(a), seconds / HOUR)[0]
        end = aware(shape.zone, a) + btd.BusinessTimeDelta(rules, seconds=seconds)
        ref = int(end.astimezone(pytz.utc).timestamp())
        assert ours == ref * 10**9, f"{name}: deadline({aware(shape.zone, a)}, {seconds} s)"

    check()


# -- against a naive per-day implementation ----------------------------------------------


class Naive:
    """Business time by summing each local day's windows in plain Python (no arrays, no search).

    Window edges are built with zoneinfo (fold=0); the shapes below keep every edge out of a
    DST gap, where only the DESIGN's shift-forward rule would apply."""

    def __init__(self, shape: Shape):
        self.shape = shape
        self.day_windows = {
            i: [tuple(w.split("-")) for w in shape.week.get(day, ())]
            for i, day in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
        }

    def _instant(self, day: dt.date, clock: str) -> int:
        if clock == "24:00":
            day, clock = day + dt.timedelta(days=1), "00:00"
        return int(dt.datetime.combine(day, dt.time.fromisoformat(clock), self.shape.tz).timestamp())

    def windows(self, first: dt.date, days: int):
        for k in range(days):
            day = first + dt.timedelta(days=k)
            if day in self.shape.holiday_dates:
                continue
            for opens, closes in self.day_windows[day.weekday()]:
                yield self._instant(day, opens), self._instant(day, closes)

    def _local_date(self, seconds: int) -> dt.date:
        return dt.datetime.fromtimestamp(seconds, self.shape.tz).date()

    def seconds(self, a: int, b: int) -> int:
        first = self._local_date(a) - dt.timedelta(days=2)
        days = (self._local_date(b) - first).days + 3
        return sum(max(0, min(b, close) - max(a, opens)) for opens, close in self.windows(first, days))

    def deadline(self, a: int, need: int) -> int:
        for opens, close in self.windows(self._local_date(a) - dt.timedelta(days=2), 4000):
            if close <= a:
                continue
            begin = max(opens, a)
            if close - begin >= need:
                return begin + need
            need -= close - begin
        raise AssertionError("no window within 4000 days")


NAIVE_SHAPES = {
    # Saturday only, in Berlin with its holidays: one short shift a week.
    "berlin-saturday-only": Shape(BERLIN, {"Sat": ("09:00-13:00",)}, "DE-BE"),
    # An overnight Friday shift split at midnight (24:00 close, then Saturday 00:00-02:00),
    # a lunch break on Monday and a Sunday evening, in Chicago with US holidays.
    "chicago-overnight-and-sunday": Shape(
        CHICAGO,
        {
            "Mon": ("07:30-11:45", "12:30-16:00"),
            "Fri": ("18:00-24:00",),
            "Sat": ("00:00-02:00",),
            "Sun": ("17:00-21:00",),
        },
        "US",
    ),
}


@pytest.mark.parametrize("name", list(NAIVE_SHAPES))
def test_business_seconds_matches_naive_per_day_sum(name):
    shape = NAIVE_SHAPES[name]
    naive = Naive(shape)

    @PROPERTY_SETTINGS
    @given(shape.pairs())
    def check(pair):
        a, b = pair
        assert shape.cal.business_seconds(ts(a), ts(b))[0] == naive.seconds(a, b), (name, ts(a), ts(b))

    check()


@pytest.mark.parametrize("name", list(NAIVE_SHAPES))
def test_deadline_matches_naive_per_day_walk(name):
    shape = NAIVE_SHAPES[name]
    naive = Naive(shape)

    @PROPERTY_SETTINGS
    @given(shape.instants(), seconds_strategy())
    def check(a, seconds):
        assert shape.cal.deadline_ns(ts(a), seconds / HOUR)[0] == naive.deadline(a, seconds) * 10**9, (name, ts(a))

    check()


@PROPERTY_SETTINGS
@given(NAIVE_SHAPES["berlin-saturday-only"].pairs(), seconds_strategy())
def test_24_7_is_plain_elapsed_time(pair, seconds):
    a, b = pair
    # Every instant counts: business time is b - a, and a deadline is a + H.
    assert ALWAYS.business_seconds(ts(a), ts(b))[0] == b - a
    assert ALWAYS.business_seconds(ts(b), ts(a))[0] == 0
    assert ALWAYS.deadline_ns(ts(a), seconds / HOUR)[0] == (a + seconds) * 10**9


@PROPERTY_SETTINGS
@given(st.lists(NAIVE_SHAPES["chicago-overnight-and-sunday"].pairs(), min_size=1, max_size=9), st.data())
def test_calendar_mix_equals_each_calendar_called_alone(pairs, data):
    calendars = {"a": LUNCH, "b": NAIVE_SHAPES["chicago-overnight-and-sunday"].cal, "c": ALWAYS}
    names = np.array(data.draw(st.lists(st.sampled_from("abc"), min_size=len(pairs), max_size=len(pairs))))
    a = np.array([p[0] for p in pairs], dtype="int64") * 10**9
    b = np.array([p[1] for p in pairs], dtype="int64") * 10**9
    mix = CalendarMix(calendars, names)
    got_s, got_d = mix.business_ns(a, b), mix.deadline_ns(a, 6.5)
    for i, name in enumerate(names):
        cal = calendars[name]
        assert got_s[i] == cal.business_ns(pd.Timestamp(a[i], tz="UTC"), pd.Timestamp(b[i], tz="UTC"))[0]
        assert got_d[i] == cal.deadline_ns(pd.Timestamp(a[i], tz="UTC"), 6.5)[0]
