"""Business time (DESIGN section 4): working windows of an agreement's calendar.

Every working date contributes its weekday's windows [date + open, date + close) in local
wall clock time (one window with `workdays` + `hours`, any number with a `week`),
converted to UTC for that date, so a window stays open..close local across
daylight-saving changes. Elapsed business time is computed with interval arithmetic:
the windows are laid out once as sorted arrays with a running total of their lengths,
and any instant maps to "business nanoseconds since the first window" by one binary
search. Nothing steps through time. `24/7` is one window covering all time, and
`CalendarMix` gives every row its own calendar with one vectorized call per calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import holidays as holidays_lib
import numpy as np
import pandas as pd

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_SECOND
NAT_NS = np.iinfo(np.int64).min
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SECONDS_PER_DAY = 86400
ALWAYS_OPEN_NAME = "24/7"
DEFAULT_CALENDAR_NAME = "default"
# The one window of 24/7: about 1824..2116, far beyond any data, with room for int64 sums.
_ALWAYS_FROM, _ALWAYS_UNTIL = -(2**62), 2**62 - 1

# A week of windows: per weekday (Mon first) its (open, close) in seconds after local midnight.
Week = tuple[tuple[tuple[int, int], ...], ...]


@lru_cache(maxsize=64)
def holiday_dates(spec: str, first_year: int, last_year: int) -> frozenset[dt.date]:
    """Public holidays of a `holidays` country code ("US") or "US-CA" subdivision."""
    country, _, subdiv = spec.partition("-")
    table = holidays_lib.country_holidays(
        country.upper(), subdiv=subdiv.upper() or None, years=range(first_year, last_year + 1)
    )
    return frozenset(table.keys())


def to_ns(values) -> np.ndarray:
    """UTC instants (Series, Index, array, Timestamp) as int64 nanoseconds; NaT as NAT_NS.
    An int64 array is taken as nanoseconds already."""
    if isinstance(values, np.ndarray) and values.dtype == np.int64:
        return np.atleast_1d(values)
    index = pd.DatetimeIndex(np.atleast_1d(values) if np.ndim(values) == 0 else values)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return index.as_unit("ns").asi8.copy()


def from_ns(values: np.ndarray) -> pd.DatetimeIndex:
    """int64 nanoseconds (NAT_NS for none) back to UTC instants."""
    return pd.DatetimeIndex(np.asarray(values, dtype="int64").view("M8[ns]")).tz_localize("UTC")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working windows: IANA timezone, workdays and one daily window (or a `week` of windows), holidays."""

    timezone: str = "UTC"
    workdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    holidays: str | None = None
    extra_holidays: tuple[dt.date, ...] = ()
    week: Week | None = None  # when given, replaces workdays + opens/closes
    always_open: bool = False  # 24/7: one window covering all time
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def around_the_clock(cls) -> BusinessCalendar:
        """The built-in `24/7` calendar: every instant counts."""
        return cls(always_open=True)

    @property
    def weekly_windows(self) -> Week:
        """Per weekday (Mon first) its windows in seconds after local midnight."""
        if self.week is not None:
            return self.week
        window = ((_seconds_of(self.opens), _seconds_of(self.closes)),)
        return tuple(window if name in self.workdays else () for name in WEEKDAY_NAMES)

    @property
    def daily_seconds(self) -> float:
        """Mean length of a working day in seconds: weekly window time / weekdays with a window."""
        if self.always_open:
            return float(SECONDS_PER_DAY)
        days = [sum(close - open_ for open_, close in windows) for windows in self.weekly_windows if windows]
        return sum(days) / len(days) if days else 0.0

    @property
    def daily_hours(self) -> float:
        return self.daily_seconds / 3600

    def is_working_date(self, dates: pd.DatetimeIndex) -> np.ndarray:
        """True for local dates whose weekday has a window and that are not holidays."""
        dates = pd.DatetimeIndex(dates).normalize()
        open_weekdays = [i for i, windows in enumerate(self.weekly_windows) if windows]
        working = np.isin(dates.day_of_week, open_weekdays)
        off = set(self.extra_holidays)
        if self.holidays and len(dates):
            off |= holiday_dates(self.holidays, dates.min().year, dates.max().year)
        if off:
            working &= ~np.isin(dates.date, np.array(sorted(off), dtype=object))
        return working

    # -- the window table -------------------------------------------------------------
    def _windows(self, first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(open_ns, length_ns, business_ns_before) of every window on local dates first..last."""
        key = (first, last)
        table = self._cache.get(key)  # read once: another thread may clear the cache meanwhile
        if table is None:
            if len(self._cache) > 16:
                self._cache.clear()
            if self.always_open:
                open_ns, close_ns = np.array([_ALWAYS_FROM]), np.array([_ALWAYS_UNTIL])
            else:
                open_ns, close_ns = self._local_windows(first, last)
            keep = close_ns > open_ns  # a window inside a DST gap has no length
            open_ns, length = open_ns[keep], (close_ns - open_ns)[keep]
            before = np.concatenate([[0], np.cumsum(length)[:-1]]).astype("int64")
            table = self._cache[key] = (open_ns, length, before)
        return table

    def _local_windows(self, first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """(open_ns, close_ns) in UTC of every window on the working local dates first..last, in order."""
        days = pd.date_range(first, last, freq="D")
        days = days[self.is_working_date(days)]
        week = self.weekly_windows
        per_weekday = np.array([len(windows) for windows in week])
        bounds = np.array([w for windows in week for w in windows], dtype="int64").reshape(-1, 2)
        first_of_weekday = np.concatenate([[0], np.cumsum(per_weekday)[:-1]])
        weekday = days.day_of_week.to_numpy()
        count = per_weekday[weekday]
        day = np.repeat(np.arange(len(days)), count)
        rank = np.arange(len(day)) - np.repeat(np.cumsum(count) - count, count)
        window = first_of_weekday[weekday[day]] + rank
        midnight = days[day]
        opens = _localize(midnight + pd.to_timedelta(bounds[window, 0], unit="s"), self.timezone)
        closes = _localize(midnight + pd.to_timedelta(bounds[window, 1], unit="s"), self.timezone)
        return opens.asi8, closes.asi8

    def _span(self, ns: np.ndarray, extra_days: int = 0) -> tuple[dt.date, dt.date]:
        """Local dates around the given instants, with margin, aligned to whole years."""
        valid = ns[ns != NAT_NS]
        if not len(valid):
            today = dt.date.today()
            return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
        low = from_ns(np.array([valid.min(), valid.max()])).tz_convert(self.timezone)
        first = dt.date(low[0].year, 1, 1) - dt.timedelta(days=7)
        last_needed = low[1].date() + dt.timedelta(days=extra_days + 7)
        return first, dt.date(last_needed.year, 12, 31) + dt.timedelta(days=7)

    @staticmethod
    def _elapsed(ns: np.ndarray, opens: np.ndarray, length: np.ndarray, before: np.ndarray) -> np.ndarray:
        """Business nanoseconds from the first window to each instant."""
        k = np.searchsorted(opens, ns, side="right") - 1
        kc = np.clip(k, 0, max(len(opens) - 1, 0))
        if not len(opens):
            return np.zeros(len(ns), dtype="int64")
        inside = np.minimum(ns - opens[kc], length[kc])
        return np.where(k >= 0, before[kc] + inside, 0)

    # -- public API ---------------------------------------------------------------------
    def business_ns(self, start, end) -> np.ndarray:
        """Business nanoseconds of [start, end] (0 when start > end; NAT_NS where either is missing)."""
        a, b = to_ns(start), to_ns(end)
        a, b = np.broadcast_arrays(a, b)
        missing = (a == NAT_NS) | (b == NAT_NS)
        first, last = self._span(np.concatenate([a, b]))
        table = self._windows(first, last)
        out = np.maximum(self._elapsed(b, *table) - self._elapsed(a, *table), 0)
        return np.where(missing, NAT_NS, out)

    def business_seconds(self, start, end) -> np.ndarray:
        """Business seconds of [start, end] as floats (NaN where either is missing)."""
        ns = self.business_ns(start, end)
        return np.where(ns == NAT_NS, np.nan, ns / NS_PER_SECOND)

    def business_hours(self, start, end) -> np.ndarray:
        ns = self.business_ns(start, end)
        return np.where(ns == NAT_NS, np.nan, ns / NS_PER_HOUR)

    def deadline_ns(self, start, hours) -> np.ndarray:
        """Earliest instant t with business_seconds(start, t) = hours × 3600, as int64 ns."""
        a, hours = np.broadcast_arrays(to_ns(start), np.asarray(hours, dtype="float64"))
        no_hours = ~np.isfinite(hours)
        need = np.round(np.where(no_hours, 0, hours) * NS_PER_HOUR).astype("int64")
        missing = (a == NAT_NS) | no_hours
        week_days = max(sum(1 for windows in self.weekly_windows if windows), 1)
        days_needed = need.max(initial=0) / max(self.daily_seconds * NS_PER_SECOND, 1)
        extra = int(np.ceil(days_needed * 7 / week_days)) + 30
        while True:
            first, last = self._span(a, extra_days=extra)
            opens, length, before = self._windows(first, last)
            target = self._elapsed(a, opens, length, before) + need
            total = before[-1] + length[-1] if len(opens) else 0
            if not len(opens) or target[~missing].max(initial=0) <= total:
                break
            extra *= 2
        if not len(opens):
            raise ValueError("the calendar has no working windows")
        j = np.clip(np.searchsorted(before + length, target, side="left"), 0, len(opens) - 1)
        out = opens[j] + (target - before[j])
        out = np.where(need <= 0, a, np.maximum(out, a))
        return np.where(missing, NAT_NS, out)

    def deadline(self, start, hours) -> pd.DatetimeIndex:
        """Vectorized deadline(start, hours) as UTC instants."""
        return from_ns(self.deadline_ns(start, hours))


@dataclass(frozen=True)
class CalendarMix:
    """A calendar per row: each row's business time on its own calendar, one vectorized call per calendar."""

    calendars: Mapping[str, BusinessCalendar]
    names: np.ndarray  # the calendar name of each row

    @cached_property
    def factorized(self) -> tuple[np.ndarray, np.ndarray]:
        """(each row's code, the calendar names in use): pd.factorize of the names, once."""
        return pd.factorize(self.names)

    @cached_property
    def groups(self) -> list[tuple[BusinessCalendar, np.ndarray | None]]:
        """(calendar, row positions) per calendar in use, found once; None means every row."""
        codes, used = self.factorized
        if len(used) == 1:
            return [(self.calendars[used[0]], None)]
        # small codes sort by radix: grouping a million rows costs a few milliseconds
        order = np.argsort(codes.astype(np.int16 if len(used) < 2**15 else np.int64), kind="stable")
        cuts = np.cumsum(np.bincount(codes, minlength=len(used)))[:-1]
        return [(self.calendars[name], rows) for name, rows in zip(used, np.split(order, cuts))]

    def daily_hours(self) -> np.ndarray:
        """Each row's calendar's mean working-day length in hours."""
        out = np.empty(len(self.names), dtype="float64")
        for cal, rows in self.groups:
            out[slice(None) if rows is None else rows] = cal.daily_hours
        return out

    def timezone_codes(self) -> tuple[np.ndarray, list[str]]:
        """(each row's code, the timezones of the calendars in use): each row's calendar's timezone."""
        codes, used = self.factorized
        return codes, [self.calendars[name].timezone for name in used]

    def business_ns(self, start_ns: np.ndarray, end_ns: np.ndarray) -> np.ndarray:
        """Row-wise BusinessCalendar.business_ns on each row's calendar (int64 ns in and out)."""
        start_ns, end_ns = np.broadcast_arrays(start_ns, end_ns)
        return self._per_calendar(BusinessCalendar.business_ns, start_ns, end_ns)

    def deadline_ns(self, start_ns: np.ndarray, hours) -> np.ndarray:
        """Row-wise BusinessCalendar.deadline_ns on each row's calendar."""
        start_ns, hours = np.broadcast_arrays(start_ns, np.asarray(hours, dtype="float64"))
        return self._per_calendar(BusinessCalendar.deadline_ns, start_ns, hours)

    def _per_calendar(self, fn, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        out = np.empty(len(first), dtype="int64")
        for cal, rows in self.groups:
            if rows is None:
                return fn(cal, first, second)
            out[rows] = fn(cal, first[rows], second[rows])
        return out


def _seconds_of(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _localize(naive: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Local wall-clock times to UTC; a time in a DST gap moves forward, a repeated one takes DST."""
    local = naive.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ns")
