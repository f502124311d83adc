"""Local calendar months ("YYYY-MM") and their UTC boundaries."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from smarketing.core import bounds
from smarketing.core.errors import UserError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> str:
    """Validate a month written YYYY-MM (a year from 1900 to 2199) and return it."""
    if not isinstance(text, str) or not _MONTH.match(text.strip()):
        raise UserError(f"'{text}' is not a month; write it as YYYY-MM, for example 2026-03.")
    if not bounds.EARLIEST.year <= int(text.strip()[:4]) < bounds.LATEST.year:
        raise UserError(f"'{text.strip()}' is outside {bounds.YEARS}; write a month such as 2026-03.")
    return text.strip()


def add_months(month: str, n: int) -> str:
    """The month n months after (n < 0: before) the given one."""
    period = pd.Period(month, freq="M") + n
    return str(period)


def month_range(first: str, last: str) -> list[str]:
    """Every month from first to last inclusive."""
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def month_bounds(month: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a local calendar month as UTC instants."""
    start = pd.Timestamp(f"{month}-01").tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    end = (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).tz_localize(
        tz, nonexistent="shift_forward", ambiguous=True
    )
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def local_month(instants: pd.Series, tz: str) -> pd.Series:
    """The local month (YYYY-MM, or missing) of each UTC instant."""
    local = pd.to_datetime(instants, utc=True).dt.tz_convert(tz)
    # Format each distinct month once, not each instant (a million strftime calls take seconds).
    code = (local.dt.year * 12 + local.dt.month - 1).astype("Int64")
    names = {c: f"{c // 12:04d}-{c % 12 + 1:02d}" for c in code.dropna().unique()}
    return code.map(names).astype("string").where(local.notna(), None)


def month_codes(instants: pd.Series, months: list[str], tz: str) -> np.ndarray:
    """Position in `months` of the local month holding each instant by month_bounds' [start, end),
    -1 when in none of them (or missing): one pass for many months' `mqls_as_of`."""
    ordered = sorted(set(months), key=lambda m: month_bounds(m, tz)[0])
    bounds = [month_bounds(m, tz) for m in ordered]
    starts = np.array([b[0].value for b in bounds], dtype=np.int64)
    ends = np.array([b[1].value for b in bounds], dtype=np.int64)
    ns = pd.DatetimeIndex(instants).as_unit("ns").asi8
    at = np.searchsorted(starts, ns, side="right") - 1
    inside = (at >= 0) & (ns < ends[np.maximum(at, 0)]) & pd.notna(instants).to_numpy(dtype=bool)
    where = np.array([months.index(m) for m in ordered] + [-1], dtype=np.intp)
    return where[np.where(inside, at, -1)]


def month_of(instant: pd.Timestamp, tz: str) -> str:
    """The local month of one instant."""
    return pd.Timestamp(instant).tz_convert(tz).strftime("%Y-%m")


def days_left_in_month(month: str, as_of: pd.Timestamp, tz: str) -> int:
    """Calendar days of the month still to come, counting the as_of day itself.

    A month that has not started has all its days left; a finished one has none.
    """
    start, end = month_bounds(month, tz)
    days_in_month = pd.Period(month, freq="M").days_in_month
    if as_of < start:
        return days_in_month
    if as_of >= end:
        return 0
    return days_in_month - pd.Timestamp(as_of).tz_convert(tz).day + 1


def is_over(month: str, as_of: pd.Timestamp, tz: str) -> bool:
    return as_of >= month_bounds(month, tz)[1]


def current_month(tz: str, now: pd.Timestamp | None = None) -> str:
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    return month_of(now, tz)


def opening_month(current: str, latest_with_mql: str | None) -> str:
    """Where the dashboard opens (DESIGN section 8): the current month once it has an MQL,
    else the latest month that has one (the current month when no month has)."""
    if latest_with_mql is None or latest_with_mql >= current:
        return current
    return latest_with_mql


def review_month(current: str, latest_finished_with_mql: str | None) -> str:
    """Where the Executive review opens: the latest finished month with an MQL, else last month."""
    if latest_finished_with_mql is None or latest_finished_with_mql >= current:
        return add_months(current, -1)
    return latest_finished_with_mql


__all__ = [
    "add_months",
    "current_month",
    "days_left_in_month",
    "is_over",
    "local_month",
    "month_bounds",
    "month_codes",
    "month_of",
    "month_range",
    "opening_month",
    "parse_month",
    "review_month",
]
