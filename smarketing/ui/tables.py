"""Display frames: core results reshaped for tables (names for ids, local times, words for codes).

Pure functions; nothing here computes a metric. Rates' intervals come from `funnel.rate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from smarketing.core.calendar import ALWAYS_OPEN_NAME, DEFAULT_CALENDAR_NAME, WEEKDAY_NAMES, BusinessCalendar
from smarketing.core.funnel import FEW_LEADS, rate
from smarketing.core.terms import Terms
from smarketing.ui.fmt import DASH, status_text, wilson_text


def local_naive(values: pd.Series, tz: str) -> pd.Series:
    """UTC instants as local wall-clock datetimes (for display columns)."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_convert(tz).dt.tz_localize(None)


def owner_names(owners: pd.DataFrame) -> dict[str, str]:
    """owner_id → display name (the id itself when the CRM has no name)."""
    frame = owners[["owner_id", "name"]].dropna(subset=["owner_id"])
    return {str(o): (str(n) if pd.notna(n) else str(o)) for o, n in frame.itertuples(index=False)}


def owner_teams(owners: pd.DataFrame) -> dict[str, str]:
    """owner_id → team ('' when none)."""
    frame = owners[["owner_id", "team"]].dropna(subset=["owner_id"])
    return {str(o): (str(t) if pd.notna(t) else "") for o, t in frame.itertuples(index=False)}


def name_of(owner_id: object, names: dict[str, str]) -> str:
    """The display name of an owner id ('Unassigned' for none)."""
    if owner_id is None or pd.isna(owner_id) or owner_id == "":
        return "Unassigned"
    return names.get(str(owner_id), str(owner_id))


def segment_table(by_segment: Sequence[dict], link: Callable[[str], str] | None = None) -> pd.DataFrame:
    """Per-segment pacing rows of a scorecard; with `link`, a "Leads in ledger" address per segment."""
    links = {"Leads in ledger": [link(s["segment"]) for s in by_segment]} if link else {}
    return pd.DataFrame(
        {
            "Segment": [s["segment"] for s in by_segment],
            "Delivered": [s["mqls"] for s in by_segment],
            "Quota": [s.get("quota") for s in by_segment],
            "Attainment": [_percent(s.get("attainment")) for s in by_segment],
            "Projected": [s.get("projected") for s in by_segment],
            "Needed per day": [s.get("required_daily_rate") for s in by_segment],
            "Status": [status_text(s.get("status")) if s.get("quota") is not None else "—" for s in by_segment],
            **links,
        }
    )


def segment_summary(by_segment: Sequence[dict]) -> pd.DataFrame:
    """Per-segment 'delivered of quota (attainment)' and status, for narrow spaces."""

    def delivered(s: dict) -> str:
        """'58 of 130 (45%)'."""
        if s.get("quota") is None:
            return f"{s['mqls']:,}"
        return (
            f"{s['mqls']:,} of {s['quota']:,} ({s['attainment'] * 100:.0f}%)"
            if s.get("attainment") is not None
            else f"{s['mqls']:,} of {s['quota']:,}"
        )

    return pd.DataFrame(
        {
            "Segment": [s["segment"] for s in by_segment],
            "Delivered": [delivered(s) for s in by_segment],
            "Status": [status_text(s.get("status")) if s.get("quota") is not None else "—" for s in by_segment],
        }
    )


def source_table(by_source: Sequence[dict], total: int) -> pd.DataFrame:
    """MQLs per source with its share of the month."""
    return pd.DataFrame(
        {
            "Source": [s["source"] for s in by_source],
            "MQLs": [s["mqls"] for s in by_source],
            "Share": [_percent(s["mqls"] / total) if total else None for s in by_source],
        }
    )


NO_TEAM = "no team"
NO_SOURCE = "no source"


def leaderboard(by_owner: Sequence[dict], link: Callable[[str], str | None] | None = None) -> pd.DataFrame:
    """Reps ranked by first-touch compliance (then speed), with each rate's 95% interval, and with
    `link`, a "Leads in ledger" address per rep (owner id → URL).

    Unassigned leads are listed last, unranked: nobody to rank."""
    rows = []
    for o in by_owner:
        judged = o["first_touch_met"] + o["first_touch_breached"]
        ft = rate(o["first_touch_met"], judged)
        rows.append(
            {
                "Rep": o["name"] if o.get("owner_id") else "Unassigned (no owner)",
                "Team": o.get("team") or NO_TEAM,
                "Leads": o["leads"],
                "First touch": _percent(o["first_touch_compliance"]),
                "First touch 95% CI": wilson_text(ft),
                "Median response": o.get("median_hours"),
                "p90 response": o.get("p90_hours"),
                "Attempts": _percent(o.get("attempts_compliance")),
                **({"Acceptance": _percent(o.get("acceptance_compliance"))} if "acceptance_met" in o else {}),
                "Breached": o["first_touch_breached"],
                "Untouched": o.get("untouched", 0),
                "Sample": "few leads" if judged < FEW_LEADS else "",
                **({"Leads in ledger": link(o["owner_id"]) if o.get("owner_id") else None} if link else {}),
                "_assigned": bool(o.get("owner_id")),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.sort_values(
        ["_assigned", "First touch", "Median response"], ascending=[False, False, True], na_position="last"
    )
    ranked = frame["_assigned"].cumsum()
    frame.insert(0, "#", [str(r) if a else "–" for r, a in zip(ranked, frame["_assigned"])])
    return frame.drop(columns="_assigned").reset_index(drop=True)


def filtered_months_table(cards: Mapping[str, Mapping]) -> pd.DataFrame:
    """The filtered leads' figures per month, newest first: MQLs (against a quota only when the filter
    has one), both compliances with their judged counts, and the response times."""
    rows = []
    for month, card in reversed(list(cards.items())):
        m, ft, att = card["marketing"], card["sales"]["first_touch"], card["sales"]["attempts"]
        rows.append(
            {
                "Month": pd.Period(month, freq="M").strftime("%b %Y"),
                "MQLs": m["mqls"],
                "Quota": m.get("quota"),
                "First touch": _percent(ft.get("compliance")),
                "First touch judged": ft["met"] + ft["breached"],
                "Attempts": _percent(att.get("compliance")),
                "Attempts judged": att["met"] + att["breached"],
                "Median response": ft.get("median_hours"),
                "p90 response": ft.get("p90_hours"),
            }
        )
    return pd.DataFrame(rows)


def slowest_reps(by_owner: Sequence[dict], n: int = 3) -> pd.DataFrame:
    """The n reps with the longest median first response."""
    timed = [o for o in by_owner if o.get("median_hours") is not None and o.get("owner_id")]
    timed.sort(key=lambda o: -o["median_hours"])
    return pd.DataFrame(
        {
            "Rep": [o["name"] for o in timed[:n]],
            "Team": [o.get("team") or NO_TEAM for o in timed[:n]],
            "Median response": [o["median_hours"] for o in timed[:n]],
            "p90 response": [o.get("p90_hours") for o in timed[:n]],
            "Leads": [o["leads"] for o in timed[:n]],
        }
    )


def worklist_table(worklist: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The overdue worklist (most overdue first): the lead, its owner and how late first (what a phone
    shows without scrolling), then times, team, segment and source."""
    names, teams = owner_names(owners), owner_teams(owners)
    breached = worklist["first_touch_status"] == "breached"
    return pd.DataFrame(
        {
            "Lead": worklist["lead_id"],
            "Owner": [name_of(o, names) for o in worklist["owner_id"]],
            "How late": [
                f"{h:,.1f} business h late" if b else "deadline not passed"
                for h, b in zip(worklist["overdue_hours"], breached)
            ],
            "Status": ["✘ Overdue" if b else "◷ Due soon" for b in breached],
            "Deadline": local_naive(worklist["first_touch_deadline"], tz),
            "MQL at": local_naive(worklist["mql_at"], tz),
            "Team": [teams.get(str(o)) or NO_TEAM for o in worklist["owner_id"]],
            "Segment": worklist["segment"],
            "Source": worklist["source"].fillna(NO_SOURCE),
            "Business hours late": worklist["overdue_hours"].where(breached),
        }
    )


DUE_SOON_WORDS = {"first_touch_warning": "First touch", "attempts_warning": "Attempts"}


def due_soon_table(due: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Leads whose deadline is near (soonest first) with owner, which promise, deadline and time left."""
    names, teams = owner_names(owners), owner_teams(owners)
    return pd.DataFrame(
        {
            "Lead": due["lead_id"],
            "Owner": [name_of(o, names) for o in due["owner_id"]],
            "Team": [teams.get(str(o), "") for o in due["owner_id"]],
            "Due": [DUE_SOON_WORDS.get(k, k) for k in due["kind"]],
            "Deadline": local_naive(due["deadline"], tz),
            "Business hours left": due["hours_left"].round(2),
        }
    )


def ledger_table(ledger: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The per-lead ledger for browsing."""
    names = owner_names(owners)
    frame = pd.DataFrame(
        {
            "Lead": ledger["lead_id"],
            "Owner": [name_of(o, names) for o in ledger["owner_id"]],
            "Segment": ledger["segment"],
            "Source": ledger["source"].fillna(NO_SOURCE),
            **({"Calendar": ledger["calendar"]} if _several_calendars(ledger) else {}),
            "MQL at": local_naive(ledger["mql_at"], tz),
            "Deadline": local_naive(ledger["first_touch_deadline"], tz),
            "First touch at": local_naive(ledger["first_touch_at"], tz),
            "Response": ledger["response_hours"],
            "First touch": [status_text(s) for s in ledger["first_touch_status"]],
            "Attempts made": ledger["attempts"],
            "Attempts": [status_text(s) for s in ledger["attempts_status"]],
        }
    )
    if "acceptance_status" in ledger and ledger["acceptance_status"].notna().any():
        frame["Acceptance"] = [status_text(s) for s in ledger["acceptance_status"]]
    if "rejected_at" in ledger and ledger["rejected_at"].notna().any():
        frame["Rejected"] = ledger["rejection_reason"].where(ledger["rejected_at"].notna(), None).fillna("")
    return frame


def _several_calendars(ledger: pd.DataFrame) -> bool:
    """True when some lead's clock ran on a calendar other than [calendar]."""
    return "calendar" in ledger and bool((ledger["calendar"] != DEFAULT_CALENDAR_NAME).any())


def calendars_in_view(terms: Terms) -> dict[str, BusinessCalendar]:
    """The calendars worth showing: [calendar], every named one, and 24/7 when leads are routed to it."""
    routed = {*terms.calendar_by_team.values(), *terms.calendar_by_segment.values()}
    return {
        name: cal
        for name, cal in terms.calendars_by_name.items()
        if name != ALWAYS_OPEN_NAME or ALWAYS_OPEN_NAME in routed
    }


def calendar_label(name: str) -> str:
    """'Agreement ([calendar])' for the default, the name otherwise."""
    return "Agreement ([calendar])" if name == DEFAULT_CALENDAR_NAME else name


def schedule_table(terms: Terms) -> pd.DataFrame:
    """Weekdays down, calendars across: each day's windows, then timezone, holidays and the mean day."""
    columns = {}
    for name, cal in calendars_in_view(terms).items():
        columns[calendar_label(name)] = {
            **dict(zip(WEEKDAY_NAMES, day_windows_text(cal))),
            "Mean working day": f"{cal.daily_hours:.2f}".rstrip("0").rstrip(".") + " h",
            "Timezone": cal.timezone if not cal.always_open else "any (every instant counts)",
            "Holidays": holidays_text(cal),
        }
    return pd.DataFrame(columns).rename_axis("Day").reset_index()


def day_windows_text(cal: BusinessCalendar) -> list[str]:
    """Per weekday (Mon first) its windows as '08:00–12:00, 13:00–17:00'; a dash when closed."""
    if cal.always_open:
        return ["all day"] * 7
    return [", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in windows) or DASH for windows in cal.weekly_windows]


def week_summary(cal: BusinessCalendar) -> str:
    """Consecutive weekdays with the same windows grouped: 'Mon–Thu 08:00–12:00, 13:00–17:00 · Fri 08:00–15:00'."""
    if cal.always_open:
        return "24/7"
    runs: list[tuple[int, int, str]] = []
    for i, text in enumerate(day_windows_text(cal)):
        if runs and runs[-1][2] == text and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i, text)
        else:
            runs.append((i, i, text))
    parts = []
    for first, last, text in runs:
        if text == DASH:
            continue
        days = WEEKDAY_NAMES[first] if first == last else f"{WEEKDAY_NAMES[first]}–{WEEKDAY_NAMES[last]}"
        parts.append(f"{days} {text}")
    return " · ".join(parts)


def holidays_text(cal: BusinessCalendar) -> str:
    """'US + 2 dates', 'none'."""
    if cal.always_open:
        return "none"
    extra = f"{len(cal.extra_holidays)} date{'s' if len(cal.extra_holidays) != 1 else ''}"
    if cal.holidays and cal.extra_holidays:
        return f"{cal.holidays} + {extra}"
    return cal.holidays or (extra if cal.extra_holidays else "none")


def routing_rules(terms: Terms) -> list[str]:
    """'segment Hot → 24/7', 'team EMEA → EMEA', in the order they apply (segment before team)."""
    rules = [f"segment {k} → {v}" for k, v in terms.calendar_by_segment.items()]
    return rules + [f"team {k} → {v}" for k, v in terms.calendar_by_team.items()]


def routing_text(terms: Terms) -> str:
    """Which leads run on which calendar, in words (segment first, then the owner's team)."""
    rules = routing_rules(terms)
    if not rules:
        return "Every lead's clock runs on the agreement's calendar."
    return (
        "A lead's clock runs on its segment's calendar, else its owner's team's, else the agreement's: "
        + "; ".join(rules)
        + "."
    )


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def verdict_table(verdicts: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """A lead's touches with whether each counted and why."""
    names = owner_names(owners)
    return pd.DataFrame(
        {
            "When": local_naive(verdicts["occurred_at"], tz),
            "Kind": verdicts["kind"],
            "Direction": verdicts["direction"],
            "By": [name_of(o, names) for o in verdicts["owner_id"]],
            "Automated": verdicts["automated"],
            "Counts": ["✔ yes" if c else "✘ no" for c in verdicts["counts"]],
            "Why": verdicts["why"],
        }
    )


def _percent(value: float | None) -> float | None:
    """A share as a number of percent for NumberColumn('%.1f%%')."""
    return None if value is None or pd.isna(value) else float(value) * 100
