"""Business time (DESIGN section 4): working windows of an agreement's calendar.

Every working date contributes one window [date + open, date + close) in local wall
clock time, converted to UTC for that date, so a window stays open..close local across
daylight-saving changes. Elapsed business time is computed with interval arithmetic:
the windows are laid out once as sorted arrays with a running total of their lengths,
and any instant maps to "business nanoseconds since the first window" by one binary
search. Nothing steps through time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import holidays as holidays_lib
import numpy as np
import pandas as pd

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_SECOND
NAT_NS = np.iinfo(np.int64).min
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@lru_cache(maxsize=64)
def holiday_dates(spec: str, first_year: int, last_year: int) -> frozenset[dt.date]:
    """Public holidays of a `holidays` country code ("US") or "US-CA" subdivision."""
    country, _, subdiv = spec.partition("-")
    table = holidays_lib.country_holidays(
        country.upper(), subdiv=subdiv.upper() or None, years=range(first_year, last_year + 1)
    )
    return frozenset(table.keys())


def to_ns(values) -> np.ndarray:
    """UTC instants (Series, Index, array, Timestamp) as int64 nanoseconds; NaT as NAT_NS."""
    index = pd.DatetimeIndex(np.atleast_1d(values) if np.ndim(values) == 0 else values)
    if index.tz is None:
        index = index.tz_localize("UTC")
    return index.as_unit("ns").asi8.copy()


def from_ns(values: np.ndarray) -> pd.DatetimeIndex:
    """int64 nanoseconds (NAT_NS for none) back to UTC instants."""
    return pd.DatetimeIndex(np.asarray(values, dtype="int64").view("M8[ns]")).tz_localize("UTC")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working windows: IANA timezone, workdays, one daily window, holidays."""

    timezone: str = "UTC"
    workdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    holidays: str | None = None
    extra_holidays: tuple[dt.date, ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def daily_seconds(self) -> int:
        """Length of one working window in seconds (close - open)."""
        return _seconds_of(self.closes) - _seconds_of(self.opens)

    @property
    def daily_hours(self) -> float:
        return self.daily_seconds / 3600

    def is_working_date(self, dates: pd.DatetimeIndex) -> np.ndarray:
        """True for local dates that are workdays and not holidays."""
        dates = pd.DatetimeIndex(dates).normalize()
        working = np.isin(dates.day_of_week, [WEEKDAY_NAMES.index(d) for d in self.workdays])
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
            days = pd.date_range(first, last, freq="D")
            days = days[self.is_working_date(days)]
            opens = _localize(days + pd.Timedelta(seconds=_seconds_of(self.opens)), self.timezone)
            closes = _localize(days + pd.Timedelta(seconds=_seconds_of(self.closes)), self.timezone)
            open_ns, close_ns = opens.asi8, closes.asi8
            length = close_ns - open_ns
            before = np.concatenate([[0], np.cumsum(length)[:-1]]).astype("int64")
            table = self._cache[key] = (open_ns, length, before)
        return table

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
        extra = int(np.ceil(need.max(initial=0) / max(self.daily_seconds * NS_PER_SECOND, 1) * 7 / 5)) + 30
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


def _seconds_of(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _localize(naive: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Local wall-clock times to UTC; a time in a DST gap moves forward, a repeated one takes DST."""
    local = naive.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ns")
