"""Display text for numbers, months and statuses (pure: no Streamlit, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pandas as pd

STATUS_TEXT: dict[str, tuple[str, str]] = {
    # status: (symbol for tables and plain text — in common fonts, not emoji-only —, word)
    "met": ("✔", "Met"),
    "on_track": ("●", "On track"),
    "at_risk": ("⚠", "At risk"),
    "behind": ("▼", "Behind"),
    "missed": ("✘", "Missed"),
    "breached": ("✘", "Breached"),
    "pending": ("◷", "Pending"),
    "no_data": ("–", "No data"),
    "not_started": ("○", "Not started"),
    "no_activity_data": ("–", "No activity data"),
    "excluded": ("⊘", "Excluded"),
}
STATUS_BADGE: dict[str, tuple[str, str]] = {
    # status: (material icon, badge colour)
    "met": (":material/check_circle:", "green"),
    "on_track": (":material/trending_up:", "blue"),
    "at_risk": (":material/warning:", "orange"),
    "behind": (":material/trending_down:", "red"),
    "missed": (":material/cancel:", "red"),
    "breached": (":material/cancel:", "red"),
    "pending": (":material/hourglass_empty:", "gray"),
    "no_data": (":material/remove:", "gray"),
    "not_started": (":material/schedule:", "gray"),
    "no_activity_data": (":material/block:", "gray"),
    "excluded": (":material/block:", "gray"),
}
DASH = "—"
MD_SPECIAL = set("\\`*_[]<>|~:$")


def md_escape(text: object) -> str:
    """Text that Streamlit's Markdown shows literally (no links, emphasis, icons, LaTeX or HTML)."""
    out = []
    for char in str(text):
        out.append("\\" + char if char in MD_SPECIAL else char)
    return "".join(out).replace("\n", " ")


def missing(value: Any) -> bool:
    """True for None, NaN and NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percent: 0.9497 → '95.0%'."""
    return DASH if missing(value) else f"{value * 100:.{digits}f}%"


def pp(delta: float | None, digits: int = 1) -> str | None:
    """A difference of shares in percentage points: 0.021 → '+2.1 pp' (None when missing)."""
    return None if missing(delta) else f"{delta * 100:+.{digits}f} pp"


def hours(value: float | None) -> str:
    """Business hours with one decimal: 2.52 → '2.5 h'."""
    return DASH if missing(value) else f"{value:,.1f} h"


def count(value: float | None) -> str:
    """A whole count with thousands separators."""
    return DASH if missing(value) else f"{round(value):,}"


def number(value: float | None, digits: int = 1) -> str:
    """A decimal number with thousands separators."""
    return DASH if missing(value) else f"{value:,.{digits}f}"


def money(value: float | None) -> str:
    """An amount, compact: 1234567 → '$1.23M', 84200 → '$84.2k'."""
    if missing(value):
        return DASH
    size = abs(value)
    if size >= 1e6:
        return f"${value / 1e6:,.2f}M"
    if size >= 1e4:
        return f"${value / 1e3:,.1f}k"
    return f"${value:,.0f}"


def signed_money(value: float | None) -> str | None:
    """A change of an amount with its sign first: -86800 → '-$86.8k' (None when missing)."""
    if missing(value):
        return None
    return ("-" if value < 0 else "+") + money(abs(value))


def status_text(status: str | None) -> str:
    """'⚠ At risk' for tables and plain text."""
    emoji, word = STATUS_TEXT.get(status or "no_data", ("", str(status)))
    return f"{emoji} {word}".strip()


def status_word(status: str | None) -> str:
    """'At risk'."""
    return STATUS_TEXT.get(status or "no_data", ("", str(status)))[1]


def month_label(month: str) -> str:
    """'2026-03' → 'March 2026'."""
    return pd.Period(month, freq="M").strftime("%B %Y")


def month_short(month: str) -> str:
    """'2026-03' → 'Mar 2026'."""
    return pd.Period(month, freq="M").strftime("%b %Y")


def local_time(instant: Any, tz: str, with_zone: bool = True) -> str:
    """An instant in the agreement's timezone: 'Mar 18, 2026 11:00 EDT'."""
    if missing(instant):
        return DASH
    stamp = pd.Timestamp(instant)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    local = stamp.tz_convert(tz)
    return local.strftime("%b %d, %Y %H:%M" + (" %Z" if with_zone else ""))


def short_time(instant: Any, tz: str) -> str:
    """An instant in local time without year or zone: 'Mar 18, 11:00'."""
    if missing(instant):
        return DASH
    return pd.Timestamp(instant).tz_convert(tz).strftime("%b %d, %H:%M")


def rate_text(rate: dict | None, digits: int = 0) -> str:
    """A core `funnel.rate` dict as '36% (95% CI 30–42%)', marked 'few leads' under the threshold."""
    if not rate or missing(rate.get("value")):
        return "no leads yet"
    text = f"{pct(rate['value'], digits)} (95% CI {pct(rate['low'], 0)}–{pct(rate['high'], 0)})"
    return text + " · few leads" if rate.get("few") else text


def wilson_text(rate: dict | None) -> str:
    """Only the interval of a rate: '72–95%'."""
    if not rate or missing(rate.get("low")):
        return DASH
    return f"{rate['low'] * 100:.0f}–{rate['high'] * 100:.0f}%"


def finite(value: float | None) -> float | None:
    """The value when it is a finite number, else None."""
    if missing(value):
        return None
    return float(value) if math.isfinite(float(value)) else None


def page_url(page: str, params: Mapping[str, str]) -> str:
    """A relative link to another page of the app with these query parameters."""
    return f"/{page}?{urlencode(params)}"
