"""Follow-up alerts (DESIGN section 9): which alerts are due, when each triggered, who gets it.

Pure functions of a lead ledger (sales.lead_ledger), terms and an `as_of` instant. "Business
time since X ≥ H hours" is tested as `as_of ≥ deadline(X, H)`: elapsed business time never
decreases, so both say the same, and the deadline is the alert's trigger_at. Comparisons are on
int64 nanoseconds, so an alert exactly at its trigger instant is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smarketing.core.calendar import NAT_NS, NS_PER_HOUR, BusinessCalendar, CalendarMix, from_ns, to_ns
from smarketing.core.sales import PENDING
from smarketing.core.terms import Terms

FIRST_TOUCH_WARNING = "first_touch_warning"
FIRST_TOUCH_BREACH = "first_touch_breach"
ESCALATION = "escalation"
ATTEMPTS_WARNING = "attempts_warning"
KINDS = (FIRST_TOUCH_WARNING, FIRST_TOUCH_BREACH, ESCALATION, ATTEMPTS_WARNING)
EXCLUDED = "excluded"

OWNER, MANAGER, ESCALATION_ROLE = "owner", "manager", "escalation"
ROLES: dict[str, tuple[str, ...]] = {
    FIRST_TOUCH_WARNING: (OWNER,),
    FIRST_TOUCH_BREACH: (OWNER, MANAGER),
    ESCALATION: (ESCALATION_ROLE,),
    ATTEMPTS_WARNING: (OWNER,),
}
ALERT_COLUMNS = ["lead_id", "owner_id", "kind", "trigger_at", "deadline", "hours_left"]


def rejected_by(ledger: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """True for leads that sales rejected by as_of."""
    rejected = to_ns(ledger["rejected_at"])
    return (rejected != NAT_NS) & (rejected <= as_of.value)


def lead_clocks(ledger: pd.DataFrame, terms: Terms) -> CalendarMix:
    """Each lead's business calendar, as the ledger chose it (its `calendar` column)."""
    return CalendarMix(terms.calendars_by_name, ledger["calendar"].to_numpy())


def due_alerts(ledger: pd.DataFrame, terms: Terms, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every alert due at as_of: one row per (lead, kind) with trigger_at, the deadline it is about
    and the business hours left before it (negative: how late), soonest deadline first."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    now = as_of.as_unit("ns").value
    settings, cal = terms.alert_settings, lead_clocks(ledger, terms)
    start = to_ns(ledger["clock_start"])
    live = (start != NAT_NS) & (start <= now) & ~rejected_by(ledger, as_of)

    ft_deadline = to_ns(ledger["first_touch_deadline"])
    untouched = (
        live & ledger["first_touch_at"].isna().to_numpy() & (ledger["first_touch_status"] != EXCLUDED).to_numpy()
    )
    ft_hours = ledger["first_touch_hours_allowed"].to_numpy(dtype="float64")
    ft_warn = cal.deadline_ns(start, settings.warn_at * ft_hours)
    escalate = cal.deadline_ns(ft_deadline, settings.escalate_after_hours)

    window_end = to_ns(ledger["attempts_deadline"])
    att_warn = cal.deadline_ns(start, settings.warn_at * terms.attempt_window_days * cal.daily_hours())
    trying = (
        live
        & (ledger["attempts_status"] == PENDING).to_numpy()
        & (ledger["attempts"].to_numpy() < terms.min_attempts)
        & ledger["converted_at"].isna().to_numpy()
    )

    parts = [
        (FIRST_TOUCH_WARNING, untouched & (now >= ft_warn) & (now <= ft_deadline), ft_warn, ft_deadline),
        (FIRST_TOUCH_BREACH, untouched & (now > ft_deadline), ft_deadline, ft_deadline),
        (ESCALATION, untouched & (now >= escalate), escalate, ft_deadline),
        (ATTEMPTS_WARNING, trying & (now >= att_warn), att_warn, window_end),
    ]
    frames = [_alert_rows(ledger, kind, due, trigger, deadline, cal, as_of) for kind, due, trigger, deadline in parts]
    alerts = pd.concat(frames, ignore_index=True)
    order = alerts["kind"].map({k: i for i, k in enumerate(KINDS)})
    return (
        alerts.assign(_order=order)
        .sort_values(["deadline", "lead_id", "_order"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _alert_rows(
    ledger: pd.DataFrame,
    kind: str,
    due: np.ndarray,
    trigger: np.ndarray,
    deadline: np.ndarray,
    cal: CalendarMix,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """The due rows of one kind, with hours left (> 0) or late (< 0) in business time."""
    deadline_at = from_ns(deadline[due])
    clocks = CalendarMix(cal.calendars, cal.names[due])
    now = np.full(int(due.sum()), as_of.as_unit("ns").value)
    left = clocks.business_ns(now, deadline[due]) - clocks.business_ns(deadline[due], now)
    return pd.DataFrame(
        {
            "lead_id": ledger["lead_id"].to_numpy()[due],
            "owner_id": ledger["owner_id"].to_numpy()[due],
            "kind": kind,
            "trigger_at": from_ns(trigger[due]),
            "deadline": deadline_at,
            "hours_left": left / NS_PER_HOUR,
        },
        columns=ALERT_COLUMNS,
    )


def stale(alerts: pd.DataFrame, as_of: pd.Timestamp, stale_after_hours: float | pd.Series) -> np.ndarray:
    """True for alerts whose trigger_at is more than stale_after_hours (wall clock) before as_of."""
    age_ns = pd.Timestamp(as_of).as_unit("ns").value - to_ns(alerts["trigger_at"])
    return age_ns > np.round(np.asarray(stale_after_hours, dtype="float64") * NS_PER_HOUR).astype("int64")


def due_soon(ledger: pd.DataFrame, terms: Terms, as_of: pd.Timestamp) -> pd.DataFrame:
    """Leads whose first-touch or attempts deadline is near: the warnings due now, soonest deadline first."""
    alerts = due_alerts(ledger, terms, as_of)
    warnings = alerts.loc[alerts["kind"].isin([FIRST_TOUCH_WARNING, ATTEMPTS_WARNING])]
    return warnings.sort_values(["deadline", "owner_id", "lead_id"]).reset_index(drop=True)


# -- recipients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """Where a message can go: `channel` webhook or email, its address (secret for a webhook) and
    the label that may be shown (a webhook's host and route name; an e-mail address)."""

    channel: str
    address: str
    label: str


@dataclass(frozen=True)
class Routing:
    """The deployment's alert routes (read from the environment or a settings file, never terms)."""

    default_webhook: Route | None = None
    team_webhooks: Mapping[str, Route] = field(default_factory=dict)
    escalation_webhook: Route | None = None
    email: bool = False
    managers: Mapping[str, str] = field(default_factory=dict)
    escalation_email: str | None = None


def recipients_for(role: str, owner_email: str | None, team: str | None, routing: Routing) -> list[Route]:
    """The routes of one role for a lead whose owner has this e-mail address and team.

    The owner and the manager are reached by e-mail (when SMTP is set up) and in their team's chat
    channel (the team's webhook, else the default); escalations go to the escalation webhook (else
    the default) and the escalation address."""
    team_chat = routing.team_webhooks.get(team or "") or routing.default_webhook
    if role == ESCALATION_ROLE:
        routes = [routing.escalation_webhook or routing.default_webhook]
        if routing.email and routing.escalation_email:
            routes.append(_email(routing.escalation_email))
        return [r for r in routes if r is not None]
    address = owner_email if role == OWNER else routing.managers.get(team or "")
    routes = [_email(address)] if routing.email and address else []
    return routes + ([team_chat] if team_chat is not None else [])


def _email(address: str) -> Route:
    return Route("email", address, address)


def alert_recipients(alert: Mapping, owner_email: str | None, team: str | None, routing: Routing) -> list[Route]:
    """Every route of an alert's roles, each once, in role order."""
    routes: list[Route] = []
    for role in ROLES[alert["kind"]]:
        routes += [r for r in recipients_for(role, owner_email, team, routing) if r not in routes]
    return routes


def scan_start(terms: Terms, as_of: pd.Timestamp) -> pd.Timestamp:
    """The earliest clock start that can still have an alert that is not stale at as_of.

    An alert triggers at most max(first-touch hours + escalation, warn_at × attempt window)
    business hours after the clock start; that many business days take at most 7 / workdays
    calendar days each on the slowest of the calendars, plus the extra holidays and a week for public ones. Older leads
    can only have stale alerts, so they are not read at all."""
    settings = terms.alert_settings
    ft = terms.first_touch_hours
    ft_max = max(ft.values()) if isinstance(ft, Mapping) else ft
    longest_days = max(
        _calendar_days(cal, float(ft_max) + settings.escalate_after_hours, settings.warn_at * terms.attempt_window_days)
        for cal in terms.calendars_by_name.values()
    )
    days = longest_days + len(terms.extra_holidays) + 7
    return pd.Timestamp(as_of) - pd.Timedelta(hours=settings.stale_after_hours) - pd.Timedelta(days=days)


def _calendar_days(cal: BusinessCalendar, hours: float, working_days: float) -> float:
    """Calendar days that `hours` business hours, or `working_days` working days, can take at most."""
    weekdays = max(sum(1 for windows in cal.weekly_windows if windows), 1)
    return (max(hours / cal.daily_hours, working_days) + 1) * 7 / weekdays
