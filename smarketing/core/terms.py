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

from smarketing.core.calendar import (
    ALWAYS_OPEN_NAME,
    DEFAULT_CALENDAR_NAME,
    SECONDS_PER_DAY,
    WEEKDAY_NAMES,
    BusinessCalendar,
    Week,
    holiday_dates,
)
from smarketing.core.errors import UserError
from smarketing.core.months import parse_month

# Segments that a per-segment first_touch_hours table does not name fall back to this key.
DEFAULT_SEGMENT_KEY = "default"

# Every commitment consequences can weigh (DESIGN section 10), with its side, in display order.
COMMITMENT_SIDES: dict[str, str] = {
    "mql_quota": "marketing",
    "lead_quality": "marketing",
    "first_touch": "sales",
    "attempts": "sales",
    "acceptance": "sales",
}
# Without a [consequences] table: the Executive review's rule of version 1, three misses in six months.
CONSEQUENCE_DEFAULTS: dict[str, int] = {
    "critical_misses": 3,
    "critical_window_months": 6,
    "credit_per_miss": 1,
    "earn_back_months": 3,
}


@dataclass(frozen=True)
class AlertSettings:
    """The `[alerts]` table (DESIGN section 9). Without it these defaults apply: alerts are on."""

    warn_at: float = 0.75
    escalate_after_hours: float = 4.0
    stale_after_hours: float = 24.0


DEFAULT_ALERTS = AlertSettings()


class TermsError(UserError):
    """One or more problems in a terms file, one sentence each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass(frozen=True)
class CalendarTerms:
    """A calendar as written in the terms: [calendar], or a named [calendars.NAME] with its own timezone.

    With a `week` (weekday -> "HH:MM-HH:MM" windows) the workdays and hours are not used."""

    timezone: str | None = None  # None: the agreement's
    workdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    hours: tuple[str, str] = ("09:00", "17:00")
    holidays: str | None = None
    extra_holidays: tuple[str, ...] = ()
    week: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_calendar(self, default_timezone: str) -> BusinessCalendar:
        """The BusinessCalendar these settings describe."""
        return BusinessCalendar(
            timezone=self.timezone or default_timezone,
            workdays=tuple(self.workdays),
            opens=_parse_clock(self.hours[0]),
            closes=_parse_clock(self.hours[1]),
            holidays=self.holidays,
            extra_holidays=tuple(dt.date.fromisoformat(d) for d in self.extra_holidays),
            week=week_seconds(self.week) if self.week else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The TOML layout of a calendar table (timezone only when it has its own)."""
        out: dict[str, Any] = {"timezone": self.timezone} if self.timezone else {}
        if self.week:
            out["week"] = {day: list(windows) for day, windows in self.week.items()}
        else:
            out |= {"workdays": list(self.workdays), "hours": list(self.hours)}
        if self.holidays:
            out["holidays"] = self.holidays
        if self.extra_holidays:
            out["extra_holidays"] = list(self.extra_holidays)
        return out


def week_seconds(week: Mapping[str, tuple[str, ...]]) -> Week:
    """A validated week of "HH:MM-HH:MM" windows as seconds after local midnight, Mon first."""
    return tuple(tuple(_window_seconds(w) for w in week.get(day, ())) for day in WEEKDAY_NAMES)


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
    weights: Mapping[str, float] | None = None  # [consequences].weights; None: every commitment weighs 1
    critical_misses: int = CONSEQUENCE_DEFAULTS["critical_misses"]
    critical_window_months: int = CONSEQUENCE_DEFAULTS["critical_window_months"]
    credit_per_miss: int = CONSEQUENCE_DEFAULTS["credit_per_miss"]
    earn_back_months: int = CONSEQUENCE_DEFAULTS["earn_back_months"]
    alerts: AlertSettings | None = None
    week: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    calendars: Mapping[str, CalendarTerms] = field(default_factory=dict)
    calendar_by_team: Mapping[str, str] = field(default_factory=dict)
    calendar_by_segment: Mapping[str, str] = field(default_factory=dict)

    @property
    def calendar_terms(self) -> CalendarTerms:
        """The [calendar] table, in the agreement's timezone."""
        return CalendarTerms(
            timezone=self.timezone,
            workdays=tuple(self.workdays),
            hours=(self.hours[0], self.hours[1]),
            holidays=self.holidays,
            extra_holidays=tuple(self.extra_holidays),
            week=self.week,
        )

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return self.calendar_terms.to_calendar(self.timezone)

    @cached_property
    def calendars_by_name(self) -> dict[str, BusinessCalendar]:
        """Every calendar a lead's clock can run on: `default` ([calendar]), `24/7` and the named ones."""
        named = {name: cal.to_calendar(self.timezone) for name, cal in self.calendars.items()}
        return {DEFAULT_CALENDAR_NAME: self.calendar, ALWAYS_OPEN_NAME: BusinessCalendar.around_the_clock(), **named}

    @property
    def quota(self) -> int:
        """The month's MQL quota: the sum of segment quotas when they are given."""
        if self.segment_quotas:
            return int(sum(self.segment_quotas.values()))
        return int(self.mql_quota)

    @property
    def alert_settings(self) -> AlertSettings:
        """The `[alerts]` table, or the documented defaults when the terms have none."""
        return self.alerts or DEFAULT_ALERTS

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
        calendar = self.calendar_terms.to_dict()
        calendar.pop("timezone")
        marketing: dict[str, Any] = {"mql_quota": self.quota, "at_risk_ratio": self.at_risk_ratio}
        if self.segment_quotas:
            marketing["segment_quotas"] = dict(self.segment_quotas)
        if self.quota_counts != "mqls":
            marketing["quota_counts"] = self.quota_counts
        if self.max_rejection_rate is not None:
            marketing["max_rejection_rate"] = self.max_rejection_rate
        ft = self.first_touch_hours
        sales: dict[str, Any] = {
            "clock_starts": self.clock_starts,
            "first_touch_hours": dict(ft) if isinstance(ft, Mapping) else ft,
            "first_touch_target": self.first_touch_target,
            "min_attempts": self.min_attempts,
            "attempt_window_days": self.attempt_window_days,
            "attempts_target": self.attempts_target,
        }
        if self.calendar_by_team:
            sales["calendar_by_team"] = dict(self.calendar_by_team)
        if self.calendar_by_segment:
            sales["calendar_by_segment"] = dict(self.calendar_by_segment)
        named = {"calendars": {n: c.to_dict() for n, c in self.calendars.items()}} if self.calendars else {}
        alerts = {} if self.alerts is None else {"alerts": asdict(self.alerts)}
        out = {
            "timezone": self.timezone,
            "calendar": calendar,
            **named,
            "marketing": marketing,
            "sales": sales,
            "targets": {
                "revenue_goal": self.revenue_goal,
                "marketing_share": self.marketing_share,
                "lookback_months": self.lookback_months,
                "cohort_lag_months": self.cohort_lag_months,
                "carry_forward_shortfall": self.carry_forward_shortfall,
            },
            **alerts,
        }
        out["sales"].update(self._acceptance_dict())
        consequences = self.consequences_table()
        if consequences:
            out["consequences"] = consequences
        return out

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

    def consequences_table(self) -> dict[str, Any]:
        """The [consequences] table: only the settings that differ from the defaults (empty: omitted)."""
        table: dict[str, Any] = {}
        if self.weights is not None:
            table["weights"] = dict(self.weights)
        for key, default in CONSEQUENCE_DEFAULTS.items():
            if getattr(self, key) != default:
                table[key] = getattr(self, key)
        return table

    def commitments(self) -> list[str]:
        """The commitments this version holds (consequences weigh these)."""
        return commitments_in_force(asdict(self))

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
    "": (
        "timezone",
        "effective_from",
        "calendar",
        "calendars",
        "marketing",
        "sales",
        "targets",
        "alerts",
        "consequences",
    ),
    "calendar": ("workdays", "hours", "holidays", "extra_holidays", "week"),
    "marketing": ("mql_quota", "segment_quotas", "at_risk_ratio", "quota_counts", "max_rejection_rate"),
    "sales": (
        "clock_starts",
        "first_touch_hours",
        "first_touch_target",
        "min_attempts",
        "attempt_window_days",
        "attempts_target",
        "calendar_by_team",
        "calendar_by_segment",
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
    "alerts": ("warn_at", "escalate_after_hours", "stale_after_hours"),
    "consequences": ("weights", *CONSEQUENCE_DEFAULTS),
}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_OPEN_INLINE_TABLE = re.compile(r"^[^#\n]*=\s*\{[^}\n]*$", re.MULTILINE)
_WINDOW = re.compile(r"^(\d\d:\d\d)-(\d\d:\d\d)$")
_NAMED_CALENDAR_KEYS = ("timezone", *_SECTIONS["calendar"])
_WEEK_EXAMPLE = '{ Mon = ["08:00-12:00", "13:00-17:00"], Fri = ["08:00-15:00"] }'


def parse_terms_toml(text: str, *, base: Terms | None = None) -> tuple[Terms, str | None]:
    """Parse a terms TOML text: (terms, effective_from or None). Raises TermsError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        if _OPEN_INLINE_TABLE.search(text):
            # TOML 1.0 (Python's tomllib) keeps an inline table on one line, unlike DESIGN's layout
            hint = " (an inline table such as week = { ... } must fit on one line; or write [calendar.week] with one weekday a line)"
        raise TermsError([f"The terms file is not valid TOML: {exc}{hint}."]) from None
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
    csq = _table(data, "consequences")

    values = asdict(base)
    values.pop("calendar", None)
    values["calendars"] = dict(base.calendars)
    alerts = _alerts_values(data, base, problems)
    if "timezone" in data:
        values["timezone"] = data["timezone"]
    for source, keys in (
        (cal, _SECTIONS["calendar"]),
        (mkt, _SECTIONS["marketing"]),
        (sales, _SECTIONS["sales"]),
        (tgt, _SECTIONS["targets"]),
        (csq, _SECTIONS["consequences"]),
    ):
        for key in keys:
            if key in source:
                values[key] = source[key]

    if "week" in cal:
        # a week replaces workdays + hours: keep the unused pair at its defaults so exports round-trip
        values["workdays"], values["hours"] = Terms.workdays, Terms.hours
    elif "workdays" in cal or "hours" in cal:
        values["week"] = {}
    if "week" in cal and ("workdays" in cal or "hours" in cal):
        problems.append("calendar.week cannot be given together with calendar.workdays or calendar.hours; use one.")
    calendar_names = set(values["calendars"])
    if "calendars" in data:
        values["calendars"] = _named_calendars(data["calendars"], problems)
        calendar_names = set(data["calendars"]) if isinstance(data["calendars"], Mapping) else set()

    effective_from = data.get("effective_from")
    if effective_from is not None:
        try:
            effective_from = parse_month(str(effective_from))
        except UserError:
            problems.append(f"effective_from '{effective_from}' is not a month written YYYY-MM.")
            effective_from = None

    problems += _validate(values, week_given="week" in cal)
    problems += _routing_problems(values, calendar_names)
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
        week=_week_of(values["week"]),
        calendars=dict(values["calendars"]),
        calendar_by_team={str(k): str(v) for k, v in dict(values["calendar_by_team"]).items()},
        calendar_by_segment={str(k): str(v) for k, v in dict(values["calendar_by_segment"]).items()},
        alerts=alerts,
        weights=None if values["weights"] is None else {str(k): float(w) for k, w in values["weights"].items()},
        **{key: int(values[key]) for key in CONSEQUENCE_DEFAULTS},
        acceptance_hours=None if values["acceptance_hours"] is None else float(values["acceptance_hours"]),
        acceptance_target=float(values["acceptance_target"]),
        touch_accepts=bool(values["touch_accepts"]),
        quota_counts=values["quota_counts"],
        max_rejection_rate=None if values["max_rejection_rate"] is None else float(values["max_rejection_rate"]),
    )
    return terms, effective_from


def _week_of(week: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """A validated week in weekday order, weekdays without a window left out."""
    week = week or {}
    return {day: tuple(week[day]) for day in WEEKDAY_NAMES if week.get(day)}


def _named_calendars(raw: Any, problems: list[str]) -> dict[str, CalendarTerms]:
    """[calendars.NAME] tables as CalendarTerms (defaults of [calendar], nothing inherited); problems appended."""
    if not isinstance(raw, Mapping):
        problems.append("[calendars] must hold named calendar tables such as [calendars.EMEA].")
        return {}
    out = {}
    for name, table in raw.items():
        where = f"calendars.{name}"
        if name in (DEFAULT_CALENDAR_NAME, ALWAYS_OPEN_NAME):
            problems.append(f"[{where}] cannot be defined, because '{name}' is the name of a built-in calendar.")
            continue
        if not isinstance(table, Mapping):
            problems.append(f"[{where}] must be a table of settings.")
            continue
        problems += [
            f"'{key}' in [{where}] is not a setting smarketing knows."
            for key in table
            if key not in _NAMED_CALENDAR_KEYS
        ]
        if "week" in table and ("workdays" in table or "hours" in table):
            problems.append(f"{where}.week cannot be given together with {where}.workdays or {where}.hours; use one.")
        defaults = asdict(CalendarTerms())
        given = {**defaults, **{k: table[k] for k in _NAMED_CALENDAR_KEYS if k in table}}
        found = _calendar_problems(where, given, week_given="week" in table)
        if "timezone" in table:
            found += _timezone_problems(f"{where}.timezone", table["timezone"])
        problems += found
        if not found:
            out[str(name)] = CalendarTerms(
                timezone=given["timezone"],
                workdays=tuple(given["workdays"]) if not given["week"] else CalendarTerms.workdays,
                hours=(given["hours"][0], given["hours"][1]) if not given["week"] else CalendarTerms.hours,
                holidays=given["holidays"] or None,
                extra_holidays=tuple(str(d) for d in given["extra_holidays"]),
                week=_week_of(given["week"]),
            )
    return out


def _alerts_values(data: Mapping[str, Any], base: Terms, problems: list[str]) -> AlertSettings | None:
    """The `[alerts]` table over `base`'s (None when neither has one); problems are appended."""
    if "alerts" not in data:
        return base.alerts
    table = _table(data, "alerts")
    values = {**asdict(base.alert_settings), **{k: table[k] for k in _SECTIONS["alerts"] if k in table}}
    warn_at, escalate, stale = values["warn_at"], values["escalate_after_hours"], values["stale_after_hours"]
    before = len(problems)
    if not _is_number(warn_at) or not 0 < warn_at < 1:
        problems.append(f"alerts.warn_at must be a share above 0 and below 1, not {warn_at!r}.")
    if not _is_number(escalate) or escalate < 0:
        problems.append(
            f"alerts.escalate_after_hours must be a number of business hours of 0 or more, not {escalate!r}."
        )
    if not _is_number(stale) or stale <= 0:
        problems.append(f"alerts.stale_after_hours must be a number of hours above 0, not {stale!r}.")
    if len(problems) > before:
        return None
    return AlertSettings(float(warn_at), float(escalate), float(stale))


def terms_to_toml(terms: Terms, effective_from: str | None = None) -> str:
    data = terms.to_dict()
    if effective_from:
        data = {"effective_from": effective_from, **data}
    return tomli_w.dumps(data)


def with_consequences_table(text: str, table: Mapping[str, Any]) -> str:
    """A terms TOML text with its [consequences] table replaced (dropped when empty); other keys kept."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TermsError([f"The terms file is not valid TOML: {exc}."]) from None
    data.pop("consequences", None)
    if table:
        data["consequences"] = dict(table)
    return tomli_w.dumps(data)


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = data.get(name, {})
    return table if isinstance(table, Mapping) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _validate(v: dict[str, Any], week_given: bool = False) -> list[str]:
    """Every problem with a set of term values, one sentence each."""
    problems = _timezone_problems("timezone", v["timezone"])
    problems += _calendar_problems("calendar", v, week_given=week_given or bool(v["week"]))

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
    problems += _consequence_problems(v)
    problems += _validate_acceptance(v)
    return problems


def commitments_in_force(v: Mapping[str, Any]) -> list[str]:
    """The commitments a set of term values holds: the three of version 1, lead quality and acceptance when set."""
    optional = {"lead_quality": "max_rejection_rate", "acceptance": "acceptance_hours"}
    return [c for c in COMMITMENT_SIDES if c not in optional or v.get(optional[c]) is not None]


def _consequence_problems(v: Mapping[str, Any]) -> list[str]:
    """Problems with the [consequences] table, one sentence each."""
    problems: list[str] = []
    for key in CONSEQUENCE_DEFAULTS:
        if not _is_whole(v[key]) or v[key] < 1:
            problems.append(f"consequences.{key} must be a whole number of 1 or more, not {v[key]!r}.")
    weights = v["weights"]
    if weights is None:
        return problems
    if not isinstance(weights, Mapping):
        problems.append("consequences.weights must be a table such as { mql_quota = 0.5, first_touch = 0.5 }.")
        return problems
    for name, weight in weights.items():
        if name not in COMMITMENT_SIDES:
            problems.append(f"consequences.weights.{name} is not a commitment; use {', '.join(COMMITMENT_SIDES)}.")
        elif not _is_number(weight) or weight < 0:
            problems.append(f"consequences.weights.{name} must be a number of 0 or more, not {weight!r}.")
    if not problems and sum(float(weights.get(c, 0)) for c in commitments_in_force(v)) <= 0:
        problems.append(
            "consequences.weights must give at least one commitment in force "
            f"({', '.join(commitments_in_force(v))}) a weight above 0."
        )
    return problems


def _timezone_problems(key: str, tz: Any) -> list[str]:
    try:
        if not isinstance(tz, str) or not tz:
            raise zoneinfo.ZoneInfoNotFoundError(tz)
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [f"{key} '{tz}' is not an IANA timezone such as 'America/New_York'."]
    return []


def _calendar_problems(prefix: str, v: Mapping[str, Any], week_given: bool) -> list[str]:
    """Every problem with one calendar table's week (or workdays and hours) and holidays."""
    if week_given:
        problems = _week_problems(f"{prefix}.week", v["week"])
    else:
        problems = _workday_problems(prefix, v["workdays"], v["hours"])

    if v["holidays"]:
        try:
            holiday_dates(str(v["holidays"]), 2024, 2024)
        except (NotImplementedError, KeyError, ValueError, AttributeError):
            problems.append(
                f"{prefix}.holidays '{v['holidays']}' is not a country code the holidays package knows "
                '(for example "US", or "US-CA" with a subdivision).'
            )
    extra = v["extra_holidays"]
    if not isinstance(extra, (list, tuple)):
        problems.append(f'{prefix}.extra_holidays must be a list of dates such as ["2026-12-24"].')
    else:
        for day in extra:
            try:
                dt.date.fromisoformat(str(day))
            except ValueError:
                problems.append(f"{prefix}.extra_holidays has '{day}', which is not a date written YYYY-MM-DD.")
    return problems


def _workday_problems(prefix: str, workdays: Any, hours: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(workdays, (list, tuple)) or not workdays:
        problems.append(f'{prefix}.workdays must list at least one day, such as ["Mon", "Tue"].')
    else:
        bad = [d for d in workdays if d not in WEEKDAY_NAMES]
        if bad:
            problems.append(f"{prefix}.workdays has '{bad[0]}', which is not one of {', '.join(WEEKDAY_NAMES)}.")
        elif len(set(workdays)) != len(workdays):
            problems.append(f"{prefix}.workdays names a day twice.")
    if (
        not isinstance(hours, (list, tuple))
        or len(hours) != 2
        or not all(isinstance(h, str) and _CLOCK.match(h) for h in hours)
    ):
        problems.append(f'{prefix}.hours must be two local times such as ["09:00", "17:00"].')
    elif _parse_clock(hours[1]) <= _parse_clock(hours[0]):
        problems.append(f"{prefix}.hours closes at {hours[1]}, which is not after it opens at {hours[0]}.")
    return problems


def _week_problems(key: str, week: Any) -> list[str]:
    """Every problem with a week of windows: weekday names, window format, order and overlaps."""
    if not isinstance(week, Mapping):
        return [f"{key} must be a table of weekdays and their windows, such as {_WEEK_EXAMPLE}."]
    problems: list[str] = []
    for day, windows in week.items():
        if day not in WEEKDAY_NAMES:
            problems.append(f"{key} has '{day}', which is not one of {', '.join(WEEKDAY_NAMES)}.")
            continue
        if not isinstance(windows, (list, tuple)):
            problems.append(f'{key}.{day} must be a list of windows such as ["08:00-12:00", "13:00-17:00"].')
            continue
        previous: tuple[str, int] | None = None
        for window in windows:
            problem = _window_problem(f"{key}.{day}", window)
            if problem:
                problems.append(problem)
                previous = None
                continue
            opens, closes = _window_seconds(window)
            if previous is not None and opens < previous[1]:
                earlier = _window_seconds(previous[0])[0] <= opens
                problems.append(
                    f"{key}.{day} has '{window}' overlapping '{previous[0]}'; a day's windows must not overlap."
                    if earlier
                    else f"{key}.{day} lists '{window}' after '{previous[0]}'; a day's windows must be in order."
                )
            previous = (window, closes)
    if not problems and not any(week.values()):
        problems.append(f"{key} gives no weekday a window, so no time would ever count.")
    return problems


def _window_problem(key: str, window: Any) -> str | None:
    """The problem with one "HH:MM-HH:MM" window (None when it is fine)."""
    match = _WINDOW.match(window) if isinstance(window, str) else None
    if not match or not all(_CLOCK.match(t) or t == "24:00" for t in match.groups()):
        return f'{key} has {window!r}, which is not a window written HH:MM-HH:MM such as "08:00-12:00".'
    if match.group(1) == "24:00":
        return f"{key} has '{window}', but 24:00 may only close a window (midnight at the end of the day)."
    if _window_seconds(window)[1] <= _window_seconds(window)[0]:
        return f"{key} has '{window}', which closes before it opens; an overnight shift is two windows on two days."
    return None


def _window_seconds(window: str) -> tuple[int, int]:
    """'08:00-12:00' as (28800, 43200) seconds after local midnight; '24:00' is the day's end."""
    opens, closes = window.split("-")
    return _clock_seconds(opens), _clock_seconds(closes)


def _clock_seconds(text: str) -> int:
    return SECONDS_PER_DAY if text == "24:00" else int(text[:2]) * 3600 + int(text[3:]) * 60


def _routing_problems(v: Mapping[str, Any], calendar_names: set[str]) -> list[str]:
    """calendar_by_team / calendar_by_segment must be tables naming calendars that exist."""
    known = {DEFAULT_CALENDAR_NAME, ALWAYS_OPEN_NAME, *calendar_names}
    problems: list[str] = []
    for key in ("calendar_by_team", "calendar_by_segment"):
        table = v[key]
        if not isinstance(table, Mapping):
            problems.append(f'sales.{key} must be a table such as {{ EMEA = "EMEA" }}.')
            continue
        for group, name in table.items():
            if not isinstance(name, str) or name not in known:
                problems.append(
                    f"sales.{key}.{group} names the calendar {name!r}, which is not defined "
                    f'(add [calendars.{name}] or use "24/7").'
                )
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


def terms_changes(old: Terms, new: Terms) -> list[str]:
    """What a new version changes, one "field: old → new" line per changed setting (empty: the same)."""
    before, after = _flat(asdict(old)), _flat(asdict(new))
    return [
        f"{key}: {_shown(before.get(key))} → {_shown(after.get(key))}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of dotted keys."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _shown(value: Any) -> str:
    """A setting's value as short text."""
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):
        return ", ".join(_shown(v) for v in value) or "none"
    return str(value)


def with_settings(text: str, sections: Mapping[str, Mapping[str, Any]]) -> str:
    """A terms TOML text with these keys set in their tables ([marketing], [sales], [calendar]…); every
    other key and table kept (the form of the Terms page edits only what people change monthly)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TermsError([f"The terms file is not valid TOML: {exc}."]) from None
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    return tomli_w.dumps(data)
