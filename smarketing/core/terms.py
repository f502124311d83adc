"""The agreement (DESIGN section 3): SLA terms, their validation, TOML and monthly versions."""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

import tomli_w

from smarketing.core.calendar import WEEKDAY_NAMES, BusinessCalendar, holiday_dates
from smarketing.core.errors import UserError
from smarketing.core.months import parse_month

# Segments that a per-segment first_touch_hours table does not name fall back to this key.
DEFAULT_SEGMENT_KEY = "default"


class TermsError(UserError):
    """One or more problems in a terms file, one sentence each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass(frozen=True)
class Terms:
    """One version of the agreement. Defaults are the DESIGN example's, in UTC, without holidays."""

    timezone: str = "UTC"
    workdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    hours: tuple[str, str] = ("09:00", "17:00")
    holidays: str | None = None
    extra_holidays: tuple[str, ...] = ()
    mql_quota: int = 400
    segment_quotas: Mapping[str, int] = field(default_factory=dict)
    at_risk_ratio: float = 0.9
    clock_starts: str = "mql"
    first_touch_hours: float | Mapping[str, float] = 4.0
    first_touch_target: float = 0.9
    min_attempts: int = 5
    attempt_window_days: float = 10
    attempts_target: float = 0.8
    revenue_goal: float = 500000.0
    marketing_share: float = 0.6
    lookback_months: int = 6
    cohort_lag_months: int = 2
    carry_forward_shortfall: bool = False
    acceptance_hours: float | None = None
    acceptance_target: float = 0.95
    touch_accepts: bool = True
    quota_counts: str = "mqls"
    max_rejection_rate: float | None = None

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            timezone=self.timezone,
            workdays=tuple(self.workdays),
            opens=_parse_clock(self.hours[0]),
            closes=_parse_clock(self.hours[1]),
            holidays=self.holidays,
            extra_holidays=tuple(dt.date.fromisoformat(d) for d in self.extra_holidays),
        )

    @property
    def quota(self) -> int:
        """The month's MQL quota: the sum of segment quotas when they are given."""
        if self.segment_quotas:
            return int(sum(self.segment_quotas.values()))
        return int(self.mql_quota)

    @property
    def attempt_window_hours(self) -> float:
        return self.attempt_window_days * self.calendar.daily_hours

    def first_touch_hours_for(self, segment: str) -> float:
        """First-touch hours for a segment; unnamed segments use the table's `default` entry,
        else the most lenient entry (a lead is never held to a stricter promise than any
        segment's)."""
        hours = self.first_touch_hours
        if not isinstance(hours, Mapping):
            return float(hours)
        if segment in hours:
            return float(hours[segment])
        if DEFAULT_SEGMENT_KEY in hours:
            return float(hours[DEFAULT_SEGMENT_KEY])
        return float(max(hours.values()))

    def to_dict(self) -> dict[str, Any]:
        """The TOML layout of DESIGN section 3 as nested dicts."""
        calendar: dict[str, Any] = {"workdays": list(self.workdays), "hours": list(self.hours)}
        if self.holidays:
            calendar["holidays"] = self.holidays
        if self.extra_holidays:
            calendar["extra_holidays"] = list(self.extra_holidays)
        marketing: dict[str, Any] = {"mql_quota": self.quota, "at_risk_ratio": self.at_risk_ratio}
        if self.segment_quotas:
            marketing["segment_quotas"] = dict(self.segment_quotas)
        if self.quota_counts != "mqls":
            marketing["quota_counts"] = self.quota_counts
        if self.max_rejection_rate is not None:
            marketing["max_rejection_rate"] = self.max_rejection_rate
        ft = self.first_touch_hours
        result = {
            "timezone": self.timezone,
            "calendar": calendar,
            "marketing": marketing,
            "sales": {
                "clock_starts": self.clock_starts,
                "first_touch_hours": dict(ft) if isinstance(ft, Mapping) else ft,
                "first_touch_target": self.first_touch_target,
                "min_attempts": self.min_attempts,
                "attempt_window_days": self.attempt_window_days,
                "attempts_target": self.attempts_target,
            },
            "targets": {
                "revenue_goal": self.revenue_goal,
                "marketing_share": self.marketing_share,
                "lookback_months": self.lookback_months,
                "cohort_lag_months": self.cohort_lag_months,
                "carry_forward_shortfall": self.carry_forward_shortfall,
            },
        }
        result["sales"].update(self._acceptance_dict())
        return result

    def _acceptance_dict(self) -> dict[str, Any]:
        """The acceptance keys of [sales] that differ from the defaults (version 1 files stay as they were)."""
        keys: dict[str, Any] = {}
        if self.acceptance_hours is not None:
            keys["acceptance_hours"] = self.acceptance_hours
            keys["acceptance_target"] = self.acceptance_target
        elif self.acceptance_target != 0.95:
            keys["acceptance_target"] = self.acceptance_target
        if not self.touch_accepts:
            keys["touch_accepts"] = False
        return keys

    def with_quota(self, quota: int, segment_quotas: Mapping[str, int] | None = None) -> Terms:
        """A copy with a new monthly quota (and segment quotas when given)."""
        return replace(self, mql_quota=int(quota), segment_quotas=dict(segment_quotas or {}))


@dataclass(frozen=True)
class TermsVersion:
    """Terms effective from a month until the next version."""

    effective_from: str
    terms: Terms
    version_id: int | None = None


def terms_for_month(versions: list[TermsVersion], month: str) -> Terms:
    """The version in force in a month; months before the first version use the first."""
    if not versions:
        return Terms()
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version_id or 0))
    chosen = ordered[0]
    for version in ordered:
        if version.effective_from <= month:
            chosen = version
    return chosen.terms


def version_for_month(versions: list[TermsVersion], month: str) -> TermsVersion | None:
    """Like terms_for_month, returning the version itself (None when there is none)."""
    if not versions:
        return None
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version_id or 0))
    chosen = ordered[0]
    for version in ordered:
        if version.effective_from <= month:
            chosen = version
    return chosen


# -- parsing and validation ----------------------------------------------------------------

_SECTIONS: dict[str, tuple[str, ...]] = {
    "": ("timezone", "effective_from", "calendar", "marketing", "sales", "targets"),
    "calendar": ("workdays", "hours", "holidays", "extra_holidays"),
    "marketing": ("mql_quota", "segment_quotas", "at_risk_ratio", "quota_counts", "max_rejection_rate"),
    "sales": (
        "clock_starts",
        "first_touch_hours",
        "first_touch_target",
        "min_attempts",
        "attempt_window_days",
        "attempts_target",
        "acceptance_hours",
        "acceptance_target",
        "touch_accepts",
    ),
    "targets": (
        "revenue_goal",
        "marketing_share",
        "lookback_months",
        "cohort_lag_months",
        "carry_forward_shortfall",
    ),
}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_terms_toml(text: str, *, base: Terms | None = None) -> tuple[Terms, str | None]:
    """Parse a terms TOML text: (terms, effective_from or None). Raises TermsError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TermsError([f"The terms file is not valid TOML: {exc}."]) from None
    return terms_from_dict(data, base=base)


def terms_from_dict(data: Mapping[str, Any], *, base: Terms | None = None) -> tuple[Terms, str | None]:
    """Build and validate terms from the nested TOML layout; missing keys keep `base`'s values."""
    problems: list[str] = []
    base = base or Terms()
    for section, keys in _SECTIONS.items():
        table = data if section == "" else data.get(section, {})
        if not isinstance(table, Mapping):
            problems.append(f"[{section}] must be a table of settings.")
            continue
        for key in table:
            if key not in keys:
                where = f"[{section}]" if section else "the top level"
                problems.append(f"'{key}' in {where} is not a setting smarketing knows.")
    cal = _table(data, "calendar")
    mkt = _table(data, "marketing")
    sales = _table(data, "sales")
    tgt = _table(data, "targets")

    values = asdict(base)
    values.pop("calendar", None)
    if "timezone" in data:
        values["timezone"] = data["timezone"]
    for source, keys in (
        (cal, _SECTIONS["calendar"]),
        (mkt, _SECTIONS["marketing"]),
        (sales, _SECTIONS["sales"]),
        (tgt, _SECTIONS["targets"]),
    ):
        for key in keys:
            if key in source:
                values[key] = source[key]

    effective_from = data.get("effective_from")
    if effective_from is not None:
        try:
            effective_from = parse_month(str(effective_from))
        except UserError:
            problems.append(f"effective_from '{effective_from}' is not a month written YYYY-MM.")
            effective_from = None

    problems += _validate(values)
    if problems:
        raise TermsError(problems)
    terms = Terms(
        timezone=values["timezone"],
        workdays=tuple(values["workdays"]),
        hours=(values["hours"][0], values["hours"][1]),
        holidays=values["holidays"] or None,
        extra_holidays=tuple(str(d) for d in values["extra_holidays"]),
        mql_quota=int(values["mql_quota"]),
        segment_quotas={str(k): int(v) for k, v in dict(values["segment_quotas"] or {}).items()},
        at_risk_ratio=float(values["at_risk_ratio"]),
        clock_starts=values["clock_starts"],
        first_touch_hours=(
            {str(k): float(v) for k, v in values["first_touch_hours"].items()}
            if isinstance(values["first_touch_hours"], Mapping)
            else float(values["first_touch_hours"])
        ),
        first_touch_target=float(values["first_touch_target"]),
        min_attempts=int(values["min_attempts"]),
        attempt_window_days=float(values["attempt_window_days"]),
        attempts_target=float(values["attempts_target"]),
        revenue_goal=float(values["revenue_goal"]),
        marketing_share=float(values["marketing_share"]),
        lookback_months=int(values["lookback_months"]),
        cohort_lag_months=int(values["cohort_lag_months"]),
        carry_forward_shortfall=bool(values["carry_forward_shortfall"]),
        acceptance_hours=None if values["acceptance_hours"] is None else float(values["acceptance_hours"]),
        acceptance_target=float(values["acceptance_target"]),
        touch_accepts=bool(values["touch_accepts"]),
        quota_counts=values["quota_counts"],
        max_rejection_rate=None if values["max_rejection_rate"] is None else float(values["max_rejection_rate"]),
    )
    return terms, effective_from


def terms_to_toml(terms: Terms, effective_from: str | None = None) -> str:
    data = terms.to_dict()
    if effective_from:
        data = {"effective_from": effective_from, **data}
    return tomli_w.dumps(data)


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = data.get(name, {})
    return table if isinstance(table, Mapping) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _validate(v: dict[str, Any]) -> list[str]:
    """Every problem with a set of term values, one sentence each."""
    problems: list[str] = []
    tz = v["timezone"]
    try:
        if not isinstance(tz, str) or not tz:
            raise zoneinfo.ZoneInfoNotFoundError(tz)
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone '{tz}' is not an IANA timezone such as 'America/New_York'.")

    workdays = v["workdays"]
    if not isinstance(workdays, (list, tuple)) or not workdays:
        problems.append('calendar.workdays must list at least one day, such as ["Mon", "Tue"].')
    else:
        bad = [d for d in workdays if d not in WEEKDAY_NAMES]
        if bad:
            problems.append(f"calendar.workdays has '{bad[0]}', which is not one of {', '.join(WEEKDAY_NAMES)}.")
        elif len(set(workdays)) != len(workdays):
            problems.append("calendar.workdays names a day twice.")

    hours = v["hours"]
    if (
        not isinstance(hours, (list, tuple))
        or len(hours) != 2
        or not all(isinstance(h, str) and _CLOCK.match(h) for h in hours)
    ):
        problems.append('calendar.hours must be two local times such as ["09:00", "17:00"].')
    elif _parse_clock(hours[1]) <= _parse_clock(hours[0]):
        problems.append(f"calendar.hours closes at {hours[1]}, which is not after it opens at {hours[0]}.")

    if v["holidays"]:
        try:
            holiday_dates(str(v["holidays"]), 2024, 2024)
        except (NotImplementedError, KeyError, ValueError, AttributeError):
            problems.append(
                f"calendar.holidays '{v['holidays']}' is not a country code the holidays package knows "
                '(for example "US", or "US-CA" with a subdivision).'
            )
    extra = v["extra_holidays"]
    if not isinstance(extra, (list, tuple)):
        problems.append('calendar.extra_holidays must be a list of dates such as ["2026-12-24"].')
    else:
        for day in extra:
            try:
                dt.date.fromisoformat(str(day))
            except ValueError:
                problems.append(f"calendar.extra_holidays has '{day}', which is not a date written YYYY-MM-DD.")

    if not _is_whole(v["mql_quota"]) or v["mql_quota"] < 0:
        problems.append(f"marketing.mql_quota must be a whole number of 0 or more, not {v['mql_quota']!r}.")
    quotas = v["segment_quotas"]
    if quotas:
        if not isinstance(quotas, Mapping):
            problems.append("marketing.segment_quotas must be a table such as { A = 100, B = 300 }.")
        else:
            for seg, q in quotas.items():
                if not _is_whole(q) or q < 0:
                    problems.append(f"marketing.segment_quotas.{seg} must be a whole number of 0 or more, not {q!r}.")
    _ratio(problems, "marketing.at_risk_ratio", v["at_risk_ratio"])

    if v["clock_starts"] not in ("mql", "assignment"):
        problems.append(f'sales.clock_starts must be "mql" or "assignment", not {v["clock_starts"]!r}.')
    ft = v["first_touch_hours"]
    if isinstance(ft, Mapping):
        if not ft:
            problems.append("sales.first_touch_hours is a per-segment table that names no segment.")
        for seg, h in ft.items():
            if not _is_number(h) or h <= 0:
                problems.append(f"sales.first_touch_hours.{seg} must be a number of hours above 0, not {h!r}.")
    elif not _is_number(ft) or ft <= 0:
        problems.append(f"sales.first_touch_hours must be a number of hours above 0, not {ft!r}.")
    _ratio(problems, "sales.first_touch_target", v["first_touch_target"])
    _ratio(problems, "sales.attempts_target", v["attempts_target"])
    if not _is_whole(v["min_attempts"]) or v["min_attempts"] < 1:
        problems.append(f"sales.min_attempts must be a whole number of 1 or more, not {v['min_attempts']!r}.")
    if not _is_number(v["attempt_window_days"]) or v["attempt_window_days"] <= 0:
        problems.append(
            f"sales.attempt_window_days must be a number of business days above 0, not {v['attempt_window_days']!r}."
        )

    if not _is_number(v["revenue_goal"]) or v["revenue_goal"] < 0:
        problems.append(f"targets.revenue_goal must be an amount of 0 or more, not {v['revenue_goal']!r}.")
    _ratio(problems, "targets.marketing_share", v["marketing_share"])
    if not _is_whole(v["lookback_months"]) or v["lookback_months"] < 1:
        problems.append(f"targets.lookback_months must be a whole number of 1 or more, not {v['lookback_months']!r}.")
    if not _is_whole(v["cohort_lag_months"]) or v["cohort_lag_months"] < 0:
        problems.append(
            f"targets.cohort_lag_months must be a whole number of 0 or more, not {v['cohort_lag_months']!r}."
        )
    if not isinstance(v["carry_forward_shortfall"], bool):
        problems.append("targets.carry_forward_shortfall must be true or false.")
    problems += _validate_acceptance(v)
    return problems


def _validate_acceptance(v: dict[str, Any]) -> list[str]:
    """Problems with the acceptance and lead-quality keys (DESIGN section 3, version 2)."""
    problems: list[str] = []
    hours = v["acceptance_hours"]
    if hours is not None and (not _is_number(hours) or hours <= 0):
        problems.append(f"sales.acceptance_hours must be a number of business hours above 0, not {hours!r}.")
    _ratio(problems, "sales.acceptance_target", v["acceptance_target"])
    if not isinstance(v["touch_accepts"], bool):
        problems.append("sales.touch_accepts must be true or false.")
    if v["quota_counts"] not in ("mqls", "not_rejected"):
        problems.append(f'marketing.quota_counts must be "mqls" or "not_rejected", not {v["quota_counts"]!r}.')
    if v["max_rejection_rate"] is not None:
        _ratio(problems, "marketing.max_rejection_rate", v["max_rejection_rate"])
    return problems


def _ratio(problems: list[str], name: str, value: Any) -> None:
    if not _is_number(value) or not 0 <= value <= 1:
        problems.append(f"{name} must be a share between 0 and 1, not {value!r}.")


def _parse_clock(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour), int(minute))
