"""Business time (DESIGN section 4): hand-checked cases and property tests.

Every hand-checked case states its arithmetic in a comment, in local wall-clock time,
and gives the expected instant in UTC so the timezone conversion is checked as well.

Offsets used below:
  America/New_York  EST = UTC-5 (winter), EDT = UTC-4 (2026-03-08 .. 2026-11-01)
  Europe/Berlin     CET = UTC+1, CEST = UTC+2
  Asia/Dubai        GST = UTC+4, no DST
  Asia/Jerusalem    IST = UTC+2, IDT = UTC+3 (from Friday 2026-03-27)
  Asia/Kolkata      IST = UTC+5:30, no DST

The property tests check business_seconds and deadline against the independent
`businesstimedelta` package (pytz-localized WorkDayRule + HolidayRule with the same
holiday dates), and check deadline/additivity invariants of the implementation itself.
"""

from __future__ import annotations

import datetime as dt

import businesstimedelta as btd
import holidays as holidays_lib
import numpy as np
import pandas as pd
import pytest
import pytz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarketing.core.calendar import NAT_NS, BusinessCalendar

pytestmark = pytest.mark.unit

HOUR = 3600
SUN_THU = ("Sun", "Mon", "Tue", "Wed", "Thu")

NY = BusinessCalendar("America/New_York", holidays="US")
NY_XMAS_EVE = BusinessCalendar("America/New_York", holidays="US", extra_holidays=(dt.date(2026, 12, 24),))
DUBAI = BusinessCalendar("Asia/Dubai", workdays=SUN_THU, opens=dt.time(8), closes=dt.time(16))
JERUSALEM = BusinessCalendar("Asia/Jerusalem", workdays=SUN_THU, opens=dt.time(8), closes=dt.time(16))
KOLKATA = BusinessCalendar("Asia/Kolkata")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def bsec(cal: BusinessCalendar, a: str, b: str) -> float:
    out = cal.business_seconds(utc(a), utc(b))
    assert out.shape == (1,)
    return float(out[0])


def deadline1(cal: BusinessCalendar, a: str, hours: float) -> pd.Timestamp:
    out = cal.deadline(utc(a), hours)
    assert len(out) == 1
    return out[0]


# =====================================================================================
# 1. Hand-checked cases
# =====================================================================================

DEADLINE_CASES = [
    # Fri 2026-01-09 16:00 EST (21:00Z): Fri 16-17 = 1h, Sat/Sun off, Mon 09-12 = 3h
    # -> Mon 2026-01-12 12:00 EST = 17:00Z.
    pytest.param(NY, "2026-01-09 21:00", 4, "2026-01-12 17:00", id="fri-16h-to-mon-12h"),
    # Fri 2026-01-09 19:30 EST = Sat 00:30Z (already Saturday in UTC): nothing until
    # Mon 09:00 EST, + 4h -> Mon 13:00 EST = 18:00Z.
    pytest.param(NY, "2026-01-10 00:30", 4, "2026-01-12 18:00", id="fri-evening"),
    # Sat 2026-01-10 11:00 EST (16:00Z) -> Mon 09:00 + 4h = 13:00 EST = 18:00Z.
    pytest.param(NY, "2026-01-10 16:00", 4, "2026-01-12 18:00", id="saturday"),
    # Sun 2026-01-11 23:59:59 EST = Mon 04:59:59Z (Monday in UTC, Sunday locally)
    # -> Mon 09:00 + 4h = 13:00 EST = 18:00Z.
    pytest.param(NY, "2026-01-12 04:59:59", 4, "2026-01-12 18:00", id="sunday-late"),
    # Tue 2026-01-13 07:00 EST (12:00Z), before opening: 09:00 + 4h = 13:00 EST = 18:00Z.
    pytest.param(NY, "2026-01-13 12:00", 4, "2026-01-13 18:00", id="before-opening"),
    # Mon 2026-01-12 13:00 EST (18:00Z) + 4h = 17:00 EST = 22:00Z, the close itself
    # (earliest instant), not Tue 09:00.
    pytest.param(NY, "2026-01-12 18:00", 4, "2026-01-12 22:00", id="lands-on-close"),
    # Mon 2026-01-12 13:00 EST + 4.5h: 4h to 17:00, 0.5h Tue -> Tue 09:30 EST = 14:30Z.
    pytest.param(NY, "2026-01-12 18:00", 4.5, "2026-01-13 14:30", id="spills-to-next-day"),
    # Mon 2026-01-12 17:00 EST (22:00Z), exactly at close: next opening Tue 09:00 + 4h
    # -> Tue 13:00 EST = 18:00Z.
    pytest.param(NY, "2026-01-12 22:00", 4, "2026-01-13 18:00", id="starts-at-close"),
    # Thanksgiving: Wed 2026-11-25 16:00 EST (21:00Z): Wed 1h; Thu 11-26 holiday;
    # Fri 11-27 is NOT a US federal holiday -> Fri 09-12 = 3h -> 12:00 EST = 17:00Z.
    pytest.param(NY, "2026-11-25 21:00", 4, "2026-11-27 17:00", id="thanksgiving"),
    # Lead arriving on Thanksgiving Thu 2026-11-26 10:00 EST (15:00Z): clock starts
    # Fri 09:00 -> 13:00 EST = 18:00Z.
    pytest.param(NY, "2026-11-26 15:00", 4, "2026-11-27 18:00", id="on-thanksgiving"),
    # July 4 2026 is a Saturday -> observed Fri 2026-07-03. Thu 07-02 16:00 EDT (20:00Z):
    # Thu 1h; Fri/Sat/Sun off; Mon 07-06 09-12 EDT -> 12:00 EDT = 16:00Z.
    pytest.param(NY, "2026-07-02 20:00", 4, "2026-07-06 16:00", id="july-3-observed"),
    # extra_holidays 2026-12-24 (Thu) + Christmas Fri 12-25. Wed 12-23 16:00 EST (21:00Z):
    # Wed 1h; Thu, Fri, Sat, Sun off; Mon 12-28 09-12 -> 12:00 EST = 17:00Z.
    pytest.param(NY_XMAS_EVE, "2026-12-23 21:00", 4, "2026-12-28 17:00", id="extra-holiday"),
    # Same lead without the extra holiday: Wed 1h, Thu 12-24 09-12 -> 17:00Z on 12-24.
    pytest.param(NY, "2026-12-23 21:00", 4, "2026-12-24 17:00", id="no-extra-holiday"),
    # Spring DST (Sun 2026-03-08): Fri 03-06 16:00 EST (21:00Z): Fri 1h; Mon 03-09
    # 09-12 EDT -> 12:00 EDT = 16:00Z (not 17:00Z: the window follows local time).
    pytest.param(NY, "2026-03-06 21:00", 4, "2026-03-09 16:00", id="spring-dst"),
    # Autumn DST (Sun 2026-11-01): Fri 10-30 16:00 EDT (20:00Z): Fri 1h; Mon 11-02
    # 09-12 EST -> 12:00 EST = 17:00Z.
    pytest.param(NY, "2026-10-30 20:00", 4, "2026-11-02 17:00", id="autumn-dst"),
    # "10 business days" = 80h. Mon 2026-03-02 09:00 EST (14:00Z): Mar 2-6 = 40h,
    # Mar 9-13 = 40h (across the spring change) -> Fri 03-13 17:00 EDT = 21:00Z.
    pytest.param(NY, "2026-03-02 14:00", 80, "2026-03-13 21:00", id="10-days-dst"),
    # 80h from Fri 2026-01-09 16:00 EST: Fri 1h; Jan 12-16 40h (41); Mon 01-19 MLK
    # off; Jan 20-23 32h (73); Mon 01-26 09:00 + 7h = 16:00 EST = 21:00Z.
    pytest.param(NY, "2026-01-09 21:00", 80, "2026-01-26 21:00", id="10-days-mlk"),
    # Year end 2027: Christmas Sat 12-25 observed Fri 12-24. Thu 2027-12-23 16:00 EST
    # (21:00Z): Thu 1h; Fri-Sun off; Mon 12-27 09-12 -> 12:00 EST = 17:00Z.
    pytest.param(NY, "2027-12-23 21:00", 4, "2027-12-27 17:00", id="xmas-2027-observed"),
    # New Year 2028 is a Saturday -> observed Fri 2027-12-31 (previous year!).
    # Thu 2027-12-30 16:00 EST: Thu 1h; Fri-Sun off; Mon 2028-01-03 09-12 -> 17:00Z.
    pytest.param(NY, "2027-12-30 21:00", 4, "2028-01-03 17:00", id="new-year-2028-observed"),
    # Dubai Sun-Thu 08-16 GST: Thu 2026-01-08 15:00 GST (11:00Z): Thu 1h; Fri/Sat off;
    # Sun 01-11 08-11 -> 11:00 GST = 07:00Z.
    pytest.param(DUBAI, "2026-01-08 11:00", 4, "2026-01-11 07:00", id="dubai-sun-thu"),
    # Jerusalem Sun-Thu 08-16: Thu 2026-03-26 15:00 IST (13:00Z): Thu 1h; Fri 03-27
    # (DST starts), Sat off; Sun 03-29 08-11 IDT -> 11:00 IDT = 08:00Z.
    pytest.param(JERUSALEM, "2026-03-26 13:00", 4, "2026-03-29 08:00", id="jerusalem-dst"),
    # Kolkata (+5:30): Fri 2026-01-09 16:00 IST (10:30Z): Fri 1h; Mon 01-12 09-12 IST
    # -> 12:00 IST = 06:30Z.
    pytest.param(KOLKATA, "2026-01-09 10:30", 4, "2026-01-12 06:30", id="kolkata-weekend"),
    # Kolkata: Mon 2026-01-12 07:00 IST (01:30Z) + 0.5h -> 09:30 IST = 04:00Z.
    pytest.param(KOLKATA, "2026-01-12 01:30", 0.5, "2026-01-12 04:00", id="kolkata-half-hour"),
]


@pytest.mark.parametrize(("cal", "start", "hours", "expected"), DEADLINE_CASES)
def test_deadline_hand_checked(cal, start, hours, expected):
    got = deadline1(cal, start, hours)
    assert got == utc(expected)
    # and the deadline is consistent with business_seconds
    assert bsec(cal, start, expected) == hours * HOUR


BUSINESS_SECONDS_CASES = [
    # Fri 2026-01-09 16:00 EST -> Mon 01-12 12:00 EST: 1h + 3h = 4h.
    pytest.param(NY, "2026-01-09 21:00", "2026-01-12 17:00", 4 * HOUR, id="over-weekend"),
    # Sat 2026-01-10 00:00 EST -> Mon 01-12 09:00 EST: no window at all.
    pytest.param(NY, "2026-01-10 05:00", "2026-01-12 14:00", 0, id="weekend-only"),
    # Same instant.
    pytest.param(NY, "2026-01-12 15:00", "2026-01-12 15:00", 0, id="a-equals-b"),
    # a > b gives 0 (not a negative number).
    pytest.param(NY, "2026-01-13 17:00", "2026-01-12 17:00", 0, id="a-after-b"),
    # One second inside the window: Mon 09:00:00 -> 09:00:01 EST.
    pytest.param(NY, "2026-01-12 14:00:00", "2026-01-12 14:00:01", 1, id="one-second"),
    # Spring DST: Fri 2026-03-06 09:00 EST (14:00Z) -> Mon 03-09 17:00 EDT (21:00Z):
    # 8h + 8h = 16h. (Fixed UTC windows 14-22Z would wrongly give 8h + 7h.)
    pytest.param(NY, "2026-03-06 14:00", "2026-03-09 21:00", 16 * HOUR, id="spring-dst"),
    # Mon 2026-03-09 opens 09:00 EDT = 13:00Z, so 13:00Z-14:00Z is 1h of business time...
    pytest.param(NY, "2026-03-09 13:00", "2026-03-09 14:00", HOUR, id="spring-monday-opens"),
    # ...while on Fri 2026-03-06 it opens 09:00 EST = 14:00Z, so 13:00Z-14:00Z is 0.
    pytest.param(NY, "2026-03-06 13:00", "2026-03-06 14:00", 0, id="spring-friday-opens"),
    # Whole UTC day of Mon 2026-03-09 holds the whole 8h window 13:00Z-21:00Z.
    pytest.param(NY, "2026-03-09 00:00", "2026-03-10 00:00", 8 * HOUR, id="spring-monday-8h"),
    # Autumn DST: Fri 2026-10-30 09:00 EDT (13:00Z) -> Mon 11-02 17:00 EST (22:00Z): 16h.
    pytest.param(NY, "2026-10-30 13:00", "2026-11-02 22:00", 16 * HOUR, id="autumn-dst"),
    # Mon 2026-11-02 opens 09:00 EST = 14:00Z: 13:00Z-14:00Z is 0 ...
    pytest.param(NY, "2026-11-02 13:00", "2026-11-02 14:00", 0, id="autumn-monday-opens"),
    # ... and closes 17:00 EST = 22:00Z: 21:00Z-23:00Z is 1h.
    pytest.param(NY, "2026-11-02 21:00", "2026-11-02 23:00", HOUR, id="autumn-monday-closes"),
    # Two weeks across the spring change, Mon 03-02 00:00 EST (05:00Z) -> Mon 03-16
    # 00:00 EDT (04:00Z): 10 workdays x 8h = 80h.
    pytest.param(NY, "2026-03-02 05:00", "2026-03-16 04:00", 80 * HOUR, id="two-weeks-spring"),
    # Two weeks across the autumn change, Mon 10-26 00:00 EDT (04:00Z) -> Mon 11-09
    # 00:00 EST (05:00Z): Nov 11 is a Wednesday of the following week, so 10 x 8h = 80h.
    pytest.param(NY, "2026-10-26 04:00", "2026-11-09 05:00", 80 * HOUR, id="two-weeks-autumn"),
    # Thanksgiving week Mon 2026-11-23 00:00 EST -> Mon 11-30 00:00 EST: Mon, Tue, Wed,
    # Fri (the day after is a workday) = 4 x 8h = 32h.
    pytest.param(NY, "2026-11-23 05:00", "2026-11-30 05:00", 32 * HOUR, id="thanksgiving-week"),
    # Fri 2026-07-03 (observed Independence Day): its would-be window 13:00Z-21:00Z is 0.
    pytest.param(NY, "2026-07-03 13:00", "2026-07-03 21:00", 0, id="july-3-observed"),
    # Thu 2026-12-24 with extra_holidays: 0; without: the whole 8h window 14:00Z-22:00Z.
    pytest.param(NY_XMAS_EVE, "2026-12-24 14:00", "2026-12-24 22:00", 0, id="extra-holiday"),
    pytest.param(NY, "2026-12-24 14:00", "2026-12-24 22:00", 8 * HOUR, id="not-extra-holiday"),
    # Year end 2026/27 with US + 2026-12-24: Mon 12-21 09:00 EST -> Fri 2027-01-08
    # 17:00 EST. Workdays: Dec 21, 22, 23 (3); Dec 24 extra, Dec 25 Christmas off;
    # Dec 28-31 (4); Jan 1 off; Jan 4-8 (5) -> 12 x 8h = 96h.
    pytest.param(NY_XMAS_EVE, "2026-12-21 14:00", "2027-01-08 22:00", 96 * HOUR, id="year-end-2026"),
    # Year end 2027/28: Mon 12-20 09:00 EST -> Fri 2028-01-07 17:00 EST. Dec 20-23 (4);
    # Fri 12-24 Christmas observed; Dec 27-30 (4); Fri 12-31 New Year 2028 observed;
    # Jan 3-7 (5) -> 13 x 8h = 104h.
    pytest.param(NY, "2027-12-20 14:00", "2028-01-07 22:00", 104 * HOUR, id="year-end-2027"),
    # The whole of 2026 (local): 2026-01-01 is a Thursday, 365 = 52 weeks + 1 Thursday
    # -> 261 weekdays; US holidays on weekdays: Jan 1, Jan 19, Feb 16, May 25, Jun 19,
    # Jul 3, Sep 7, Oct 12, Nov 11, Nov 26, Dec 25 = 11 (Jul 4 is a Saturday)
    # -> 250 days x 8h = 2000h.
    pytest.param(NY, "2026-01-01 05:00", "2027-01-01 05:00", 2000 * HOUR, id="year-2026"),
    # Dubai Sun-Thu 08-16 GST: Sun 2026-01-04 00:00 GST (01-03 20:00Z) -> Sun 01-11
    # 00:00 GST (01-10 20:00Z) = 5 x 8h = 40h.
    pytest.param(DUBAI, "2026-01-03 20:00", "2026-01-10 20:00", 40 * HOUR, id="dubai-week"),
    # Dubai Friday 2026-01-09 08-16 GST = 04:00Z-12:00Z: off.
    pytest.param(DUBAI, "2026-01-09 04:00", "2026-01-09 12:00", 0, id="dubai-friday"),
    # Dubai Sunday 2026-01-11 08-16 GST = 04:00Z-12:00Z: a full 8h.
    pytest.param(DUBAI, "2026-01-11 04:00", "2026-01-11 12:00", 8 * HOUR, id="dubai-sunday"),
    # Jerusalem: Thu 2026-03-26 08:00 IST (06:00Z) -> Sun 03-29 16:00 IDT (13:00Z): 16h.
    pytest.param(JERUSALEM, "2026-03-26 06:00", "2026-03-29 13:00", 16 * HOUR, id="jerusalem"),
    # Kolkata: Mon 2026-01-12 window 09-17 IST = 03:30Z-11:30Z.
    pytest.param(KOLKATA, "2026-01-12 03:00", "2026-01-12 12:00", 8 * HOUR, id="kolkata-day"),
    pytest.param(KOLKATA, "2026-01-12 03:00", "2026-01-12 04:00", 1800, id="kolkata-open"),
    pytest.param(KOLKATA, "2026-01-12 11:00", "2026-01-12 12:00", 1800, id="kolkata-close"),
]


@pytest.mark.parametrize(("cal", "a", "b", "expected"), BUSINESS_SECONDS_CASES)
def test_business_seconds_hand_checked(cal, a, b, expected):
    assert bsec(cal, a, b) == expected
    hours = cal.business_hours(utc(a), utc(b))
    assert hours.shape == (1,) and hours[0] == expected / HOUR
    ns = cal.business_ns(utc(a), utc(b))
    assert ns.dtype == np.int64 and ns[0] == expected * 10**9


def test_day_after_thanksgiving_is_not_a_us_federal_holiday():
    # The `holidays` package lists Thanksgiving 2026-11-26 but not Fri 11-27 for "US";
    # the calendar therefore works on the Friday.
    us = holidays_lib.country_holidays("US", years=2026)
    assert dt.date(2026, 11, 26) in us
    assert dt.date(2026, 11, 27) not in us
    assert dt.date(2026, 7, 3) in us  # Independence Day (observed)
    days = pd.DatetimeIndex(["2026-11-26", "2026-11-27", "2026-07-03", "2026-07-06"])
    assert NY.is_working_date(days).tolist() == [False, True, False, True]
    # Whole Friday window 09-17 EST = 14:00Z-22:00Z counts.
    assert bsec(NY, "2026-11-27 14:00", "2026-11-27 22:00") == 8 * HOUR


def test_zero_hours_deadline_is_the_start_itself():
    # business_seconds(a, a) = 0, so the earliest t with 0 business seconds is a itself,
    # even outside any window (Sat 2026-01-10 11:00 EST = 16:00Z) or inside one.
    for start in ["2026-01-10 16:00", "2026-01-12 15:30:17", "2026-11-26 15:00"]:
        assert deadline1(NY, start, 0) == utc(start)


def test_deadline_at_close_is_the_close_not_the_next_opening():
    # Mon 2026-01-12 13:00 EST + 4h = Mon 17:00 EST (22:00Z); nothing between the close
    # and Tue 09:00 EST counts, so the close is the earliest such instant.
    d = deadline1(NY, "2026-01-12 18:00", 4)
    assert d == utc("2026-01-12 22:00")
    assert bsec(NY, "2026-01-12 18:00", "2026-01-12 21:59:59") == 4 * HOUR - 1
    assert bsec(NY, "2026-01-12 22:00", "2026-01-13 14:00") == 0


def test_ten_business_days_is_eighty_hours():
    assert NY.daily_hours == 8
    assert NY.daily_seconds == 8 * HOUR
    assert DUBAI.daily_hours == 8
    # 10 business days from Mon 2026-03-02 09:00 EST ends at Fri 03-13 17:00 EDT (21:00Z),
    # i.e. exactly 10 local working days, across the DST change.
    assert deadline1(NY, "2026-03-02 14:00", 10 * NY.daily_hours) == utc("2026-03-13 21:00")


def test_missing_instants_give_nan_and_nat():
    t = utc("2026-01-12 15:00")
    starts = pd.Series([pd.NaT, t, pd.NaT, t], dtype="datetime64[ns, UTC]")
    ends = pd.Series([t, pd.NaT, pd.NaT, t + pd.Timedelta(hours=1)], dtype="datetime64[ns, UTC]")
    secs = NY.business_seconds(starts, ends)
    assert np.isnan(secs[:3]).all() and secs[3] == HOUR
    assert np.isnan(NY.business_hours(starts, ends)[:3]).all()
    ns = NY.business_ns(starts, ends)
    assert (ns[:3] == NAT_NS).all() and ns[3] == HOUR * 10**9
    # deadline of a missing start is missing; the others are unaffected.
    d = NY.deadline(pd.Series([pd.NaT, t, pd.NaT], dtype="datetime64[ns, UTC]"), [4, 4, 0])
    assert d.isna().tolist() == [True, False, True]
    # Mon 10:00 EST + 4h = 14:00 EST = 19:00Z
    assert d[1] == utc("2026-01-12 19:00")
    # scalar NaT
    assert np.isnan(NY.business_seconds(pd.NaT, t)[0])
    assert pd.isna(NY.deadline(pd.NaT, 4)[0])
    # all missing
    assert NY.deadline(pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"), 4).isna().all()


def test_timezone_of_the_input_does_not_matter():
    # The same instants given in UTC, in New York time and in Tokyo time agree.
    starts = pd.Series(pd.to_datetime(["2026-01-09 21:00", "2026-03-06 21:00"], utc=True))
    ends = starts + pd.Timedelta(days=3, hours=5)
    expected = NY.business_seconds(starts, ends)
    for zone in ["America/New_York", "Asia/Tokyo"]:
        got = NY.business_seconds(starts.dt.tz_convert(zone), ends.dt.tz_convert(zone))
        np.testing.assert_array_equal(got, expected)
        d = NY.deadline(starts.dt.tz_convert(zone), 4)
        assert list(d) == list(NY.deadline(starts, 4))


def test_empty_inputs():
    empty = pd.Series([], dtype="datetime64[ns, UTC]")
    assert NY.business_seconds(empty, empty).shape == (0,)
    assert len(NY.deadline(empty, 4)) == 0


# -- vector inputs equal element-by-element calls ---------------------------------------

MIXED_STARTS = [
    "2026-01-09 21:00",  # Fri 16:00 EST
    None,  # missing
    "2026-01-10 16:00",  # Saturday
    "2026-03-06 21:00",  # Fri before spring DST
    "2026-11-25 21:00",  # before Thanksgiving
    "2026-07-03 15:00",  # on the observed holiday
    "2026-12-23 21:00",  # year end
    "2025-02-14 12:34:56",  # a year earlier
    "2027-12-30 21:00",  # before an observed New Year in the previous year
    "2026-01-12 22:00",  # exactly at a close
]
MIXED_ENDS = [
    "2026-01-12 17:00",
    "2026-01-12 17:00",
    None,
    "2026-03-10 13:30",
    "2026-11-27 18:00",
    "2026-07-01 15:00",  # before its start -> 0
    "2027-01-08 22:00",
    "2027-06-30 12:00",  # long span
    "2028-01-04 15:00",
    "2026-01-12 22:00",  # equal
]
MIXED_HOURS = [4, 4, 0, 2.5, 80, 4, 0, 1000, 4, 0.25]


def _series(values, index) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True, format="ISO8601"), index=index)


@pytest.mark.parametrize("cal", [NY, NY_XMAS_EVE, JERUSALEM, KOLKATA], ids=["ny", "ny-extra", "jerusalem", "kolkata"])
def test_vector_equals_element_by_element(cal):
    index = list("abcdefghij")[::-1]  # a non-default index must not matter
    starts, ends = _series(MIXED_STARTS, index), _series(MIXED_ENDS, index)
    vec_s = cal.business_seconds(starts, ends)
    vec_ns = cal.business_ns(starts.to_numpy(), ends.to_numpy())
    vec_d = cal.deadline(starts, np.array(MIXED_HOURS))
    assert vec_s.shape == (len(starts),) and len(vec_d) == len(starts)
    for i, (a, b, h) in enumerate(zip(starts, ends, MIXED_HOURS)):
        one_s = cal.business_seconds(a, b)[0]
        one_d = cal.deadline(a, h)[0]
        if pd.isna(a) or pd.isna(b):
            assert np.isnan(vec_s[i]) and np.isnan(one_s)
        else:
            assert vec_s[i] == one_s, (i, a, b)
            assert vec_ns[i] == one_s * 10**9
        if pd.isna(a):
            assert pd.isna(vec_d[i]) and pd.isna(one_d)
        else:
            assert vec_d[i] == one_d, (i, a, h)
    # a scalar broadcast against a vector
    t = pd.Timestamp("2026-01-09 21:00", tz="UTC")
    np.testing.assert_array_equal(cal.business_seconds(t, ends), [cal.business_seconds(t, b)[0] for b in ends])


# -- known gaps, outside the written contract (see the report) ---------------------------


def test_nan_hours_give_nat():
    d = NY.deadline(utc("2026-01-12 15:00"), np.nan)
    assert pd.isna(d[0])


def test_scalar_start_with_hours_vector():
    d = NY.deadline(utc("2026-01-12 15:00"), [1, 2])
    assert list(d) == [utc("2026-01-12 16:00"), utc("2026-01-12 17:00")]


# =====================================================================================
# 2. Property tests against businesstimedelta, and invariants
# =====================================================================================

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,  # write nothing into the working tree
    suppress_health_check=[HealthCheck.too_slow],
)

LO = int(pd.Timestamp("2025-01-01", tz="UTC").timestamp())
HI = int(pd.Timestamp("2028-01-01", tz="UTC").timestamp())

# Local dates where DST changes, per zone (2025-2027).
DST_DATES = {
    "America/New_York": ["2025-03-09", "2025-11-02", "2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"],
    "Europe/Berlin": ["2025-03-30", "2025-10-26", "2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"],
    "Asia/Jerusalem": ["2025-03-28", "2025-10-26", "2026-03-27", "2026-10-25", "2027-03-26", "2027-10-31"],
}

CONFIGS = {
    # (timezone, workdays, opens, closes, holidays spec)
    "new-york-US": ("America/New_York", ("Mon", "Tue", "Wed", "Thu", "Fri"), 9, 17, "US"),
    "berlin-DE-BE": ("Europe/Berlin", ("Mon", "Tue", "Wed", "Thu", "Fri"), 9, 17, "DE-BE"),
    "jerusalem-sun-thu-IL": ("Asia/Jerusalem", SUN_THU, 8, 16, "IL"),
}


class Setup:
    """One calendar, built both as a BusinessCalendar and as businesstimedelta rules."""

    def __init__(self, name: str):
        zone, workdays, opens, closes, spec = CONFIGS[name]
        self.zone = zone
        self.tz = pytz.timezone(zone)
        self.opens, self.closes = dt.time(opens), dt.time(closes)
        self.cal = BusinessCalendar(zone, workdays=workdays, opens=self.opens, closes=self.closes, holidays=spec)
        country, _, subdiv = spec.partition("-")
        # Same dates as the calendar uses, over a margin of years (HolidayRule looks up
        # to 5 years ahead for "the next holiday" and must always find one).
        self.holiday_dates = set(holidays_lib.country_holidays(country, subdiv=subdiv or None, years=range(2023, 2031)))
        weekday_numbers = [("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun").index(d) for d in workdays]
        self.rule = btd.Rules(
            [
                btd.WorkDayRule(start_time=self.opens, end_time=self.closes, working_days=weekday_numbers, tz=self.tz),
                btd.HolidayRule(self.holiday_dates, tz=self.tz),
            ]
        )
        anchors = [dt.date.fromisoformat(d) for d in DST_DATES[zone]]
        anchors += [d for d in self.holiday_dates if 2025 <= d.year <= 2027]
        anchors += [dt.date(y, 12, 31) for y in (2025, 2026, 2027)]
        self.anchors = sorted(self._local(d, dt.time(12)) for d in anchors)

    def _local(self, day: dt.date, time: dt.time) -> int:
        """UTC seconds of a local wall-clock time (never in a DST gap for our times)."""
        return int(self.tz.localize(dt.datetime.combine(day, time)).timestamp())

    def instants(self) -> st.SearchStrategy[int]:
        """Whole-second UTC instants in 2025-2027, biased towards the interesting spots."""
        uniform = st.integers(LO, HI)
        near_anchor = st.builds(
            lambda anchor, offset: anchor + offset,
            st.sampled_from(self.anchors),
            st.integers(-5 * 86400, 5 * 86400),
        )
        boundary = st.builds(
            lambda day, time, nudge: self._local(day, time) + nudge,
            st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
            st.sampled_from([self.opens, self.closes]),
            st.sampled_from([-1, 0, 0, 1]),
        )
        return st.one_of(uniform, near_anchor, boundary).map(lambda s: min(max(s, LO), HI))

    def pairs(self) -> st.SearchStrategy[tuple[int, int]]:
        """a <= b: independent instants, or a short span after a."""
        independent = st.tuples(self.instants(), self.instants()).map(lambda p: tuple(sorted(p)))
        short = st.tuples(
            self.instants(),
            st.one_of(st.integers(0, 3 * 86400), st.integers(0, 40 * 86400)),
        ).map(lambda p: (p[0], min(p[0] + p[1], HI)))
        return st.one_of(independent, short)

    def aware(self, seconds: int) -> dt.datetime:
        """A pytz-localized datetime in the calendar's zone."""
        return dt.datetime.fromtimestamp(seconds, tz=pytz.utc).astimezone(self.tz)

    def ref_seconds(self, a: int, b: int) -> float:
        """businesstimedelta's business seconds of [a, b] (a <= b)."""
        return self.rule.difference(self.aware(a), self.aware(b)).timedelta.total_seconds()

    def ref_deadline(self, a: int, seconds: int) -> int:
        """businesstimedelta's a + `seconds` business seconds, as UTC seconds."""
        end = self.aware(a) + btd.BusinessTimeDelta(self.rule, seconds=seconds)
        return int(end.astimezone(pytz.utc).timestamp())


SETUPS = {name: Setup(name) for name in CONFIGS}
BTD_REQUIRED = ["new-york-US", "berlin-DE-BE"]


def ts(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def business_hours_strategy() -> st.SearchStrategy[int]:
    """A number of business seconds (> 0): short, whole hours, and long."""
    return st.one_of(
        st.integers(1, 8 * HOUR),
        st.integers(1, 120).map(lambda h: h * HOUR),
        st.integers(1, 400 * HOUR),
    )


def _check_against_businesstimedelta(setup: Setup, a: int, b: int) -> None:
    ours = setup.cal.business_seconds(ts(a), ts(b))[0]
    ref = setup.ref_seconds(a, b)
    assert ours == ref, (
        f"{setup.zone}: business_seconds({setup.aware(a)}, {setup.aware(b)}) = {ours}, businesstimedelta says {ref}"
    )


def test_businesstimedelta_reference_is_set_up_right():
    # Hand-checked against the reference itself, so that a mis-built reference (wrong
    # zone, missing holidays) cannot make the property tests vacuous.
    ny = SETUPS["new-york-US"]
    s = lambda text: int(utc(text).timestamp())  # noqa: E731
    assert ny.ref_seconds(s("2026-03-06 14:00"), s("2026-03-09 21:00")) == 16 * HOUR
    assert ny.ref_seconds(s("2026-11-23 05:00"), s("2026-11-30 05:00")) == 32 * HOUR
    assert ny.ref_seconds(s("2026-07-03 13:00"), s("2026-07-03 21:00")) == 0
    assert ny.ref_deadline(s("2026-01-12 18:00"), 4 * HOUR) == s("2026-01-12 22:00")
    berlin = SETUPS["berlin-DE-BE"]
    # Berlin, spring DST Sun 2026-03-29: Fri 03-27 09:00 CET (08:00Z) -> Mon 03-30
    # 17:00 CEST (15:00Z) = 16h; Women's Day Sun 03-08 does not matter here.
    assert berlin.ref_seconds(s("2026-03-27 08:00"), s("2026-03-30 15:00")) == 16 * HOUR
    assert berlin.cal.business_seconds(utc("2026-03-27 08:00"), utc("2026-03-30 15:00"))[0] == 16 * HOUR


@pytest.mark.parametrize("name", list(CONFIGS))
def test_business_seconds_matches_businesstimedelta(name):
    setup = SETUPS[name]

    @PROPERTY_SETTINGS
    @given(setup.pairs())
    def check(pair):
        _check_against_businesstimedelta(setup, *pair)

    check()


@pytest.mark.parametrize("name", BTD_REQUIRED)
def test_deadline_matches_businesstimedelta(name):
    setup = SETUPS[name]

    @PROPERTY_SETTINGS
    @given(setup.instants(), business_hours_strategy())
    def check(a, seconds):
        ours = setup.cal.deadline_ns(ts(a), seconds / HOUR)[0]
        ref = setup.ref_deadline(a, seconds)
        assert ours == ref * 10**9, (
            f"{setup.zone}: deadline({setup.aware(a)}, {seconds}s) = {ts(0) + pd.Timedelta(int(ours))}, "
            f"businesstimedelta says {ts(ref)}"
        )

    check()


INVARIANT_CALENDARS = {
    **{name: SETUPS[name].cal for name in CONFIGS},
    "kolkata": KOLKATA,
    "dubai-sun-thu": DUBAI,
    "new-york-extra": NY_XMAS_EVE,
}


@pytest.mark.parametrize("name", list(INVARIANT_CALENDARS))
def test_deadline_is_exact_and_earliest(name):
    cal = INVARIANT_CALENDARS[name]
    instants = SETUPS["new-york-US"].instants()  # any whole-second instants will do

    @PROPERTY_SETTINGS
    @given(instants, business_hours_strategy())
    def check(a, seconds):
        d = cal.deadline_ns(ts(a), seconds / HOUR)[0]
        assert d % 10**9 == 0  # whole seconds in, whole seconds out
        d_ts = ts(d // 10**9)
        # business_seconds(a, deadline(a, H)) == H * 3600 exactly
        assert cal.business_ns(ts(a), d_ts)[0] == seconds * 10**9
        # earliest: one second before, one business second is still missing (the
        # deadline lies strictly after the opening of the window it falls in)
        assert cal.business_ns(ts(a), d_ts - pd.Timedelta(seconds=1))[0] == (seconds - 1) * 10**9
        assert d >= a * 10**9

    check()


@pytest.mark.parametrize("name", list(INVARIANT_CALENDARS))
def test_business_seconds_is_additive(name):
    cal = INVARIANT_CALENDARS[name]
    instants = SETUPS["berlin-DE-BE"].instants()

    @PROPERTY_SETTINGS
    @given(st.tuples(instants, instants, instants).map(sorted))
    def check(abc):
        a, b, c = (ts(x) for x in abc)
        ab, bc, ac = (cal.business_ns(x, y)[0] for x, y in ((a, b), (b, c), (a, c)))
        assert ac == ab + bc
        assert min(ab, bc) >= 0
        # reversed order gives 0
        if abc[0] < abc[2]:
            assert cal.business_ns(c, a)[0] == 0

    check()


@pytest.mark.parametrize("name", BTD_REQUIRED)
def test_vector_call_matches_element_calls(name):
    setup = SETUPS[name]

    @PROPERTY_SETTINGS
    @given(
        st.lists(setup.pairs(), min_size=1, max_size=12), st.lists(business_hours_strategy(), min_size=12, max_size=12)
    )
    def check(pairs, hours):
        starts = pd.Series([ts(a) for a, _ in pairs])
        ends = pd.Series([ts(b) for _, b in pairs])
        h = np.array(hours[: len(pairs)]) / HOUR
        vec = setup.cal.business_ns(starts, ends)
        vec_d = setup.cal.deadline_ns(starts, h)
        for i, (a, b) in enumerate(pairs):
            assert vec[i] == setup.cal.business_ns(ts(a), ts(b))[0]
            assert vec_d[i] == setup.cal.deadline_ns(ts(a), h[i])[0]

    check()
