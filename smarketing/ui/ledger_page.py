"""The Lead ledger page's sections: find a lead, see its clock, its touches and why each counted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from smarketing.core.calendar import ALWAYS_OPEN_NAME, DEFAULT_CALENDAR_NAME
from smarketing.core.evidence import plural
from smarketing.core.lead_filter import STATUSES, filter_leads
from smarketing.core.sales import touch_verdicts
from smarketing.ui import charts, loaders, tables
from smarketing.ui.components import downloads, empty_state, hours_column, plot, status_badge, table, time_column
from smarketing.ui.context import PageContext
from smarketing.ui.exports import ledger_csv, ledger_xlsx
from smarketing.ui.fmt import DASH, count, hours, local_time, md_escape, short_time, status_word
from smarketing.ui.loaders import MonthBundle

LEAD_KEY = "lead"
STATUS_WIDGETS = {"first_touch": "ft_pick", "attempts": "att_pick"}
UNTOUCHED_WIDGET = "untouched_pick"
LIVE_PARTS = (
    "The ledger below is live: each lead's clock, touches and verdicts from the data as it is stored now; "
    "the month's numbers just above are the closed ones."
)


def month_numbers(card: dict) -> None:
    """The month's MQLs and both follow-up commitments in numbers (a closed month: its frozen ones)."""
    m, ft, att = card["marketing"], card["sales"]["first_touch"], card["sales"]["attempts"]
    with st.container(border=True, horizontal=True):
        st.metric("MQLs", count(m.get("mqls_total", m.get("mqls"))))
        for label, part in (("First touch", ft), ("Attempts", att)):
            st.metric(
                f"{label} · met / breached / pending",
                f"{count(part.get('met'))} / {count(part.get('breached'))} / {count(part.get('pending'))}",
            )


def browse(ctx: PageContext, bundle: MonthBundle) -> str | None:
    """Filters and the ledger table; returns the lead id picked by search, URL or row click."""
    ledger = bundle.ledger
    with st.container(border=True):
        st.subheader("This month's MQLs")
        if ledger.empty:
            empty_state("No leads became MQLs in this month up to the time shown, so there is nothing to look up.")
            return None
        search, ft_filter, att_filter, untouched = st.columns([2, 1, 1, 0.7], vertical_alignment="bottom")
        wanted = search.text_input(
            "Find a lead by id", value=st.query_params.get(LEAD_KEY, ""), placeholder="e.g. 10007921", key="lead_search"
        ).strip()
        for column, key, label in ((ft_filter, "first_touch", "First touch"), (att_filter, "attempts", "Attempts")):
            _sync(STATUS_WIDGETS[key], list(getattr(ctx.leads, key)))
            column.multiselect(
                label,
                list(STATUSES),
                format_func=status_word,
                key=STATUS_WIDGETS[key],
                on_change=_on_status_change,
                args=(key,),
            )
        _sync(UNTOUCHED_WIDGET, ctx.leads.untouched)
        untouched.checkbox(
            "No touch yet", key=UNTOUCHED_WIDGET, on_change=_on_untouched_change, help="Leads with no qualifying touch"
        )
        shown = filter_leads(ledger, bundle.data.owners, ctx.leads)
        frame = tables.ledger_table(shown, bundle.data.owners, ctx.tz)
        event = table(frame, _columns(), key="ledger_table", height=360, on_select="rerun", selection_mode="single-row")
        st.caption(f"{count(len(shown))} of {plural(len(ledger), 'lead')} · click a row to open it · times in {ctx.tz}")
        downloads(
            f"smarketing-{ctx.month}-ledger",
            lambda: ledger_csv(ledger, ctx.tz),
            lambda: ledger_xlsx(ledger, ctx.tz),
            "ledger_dl",
            "Ledger",
        )
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    if rows:
        return str(frame["Lead"].iloc[rows[0]])
    return wanted or None


def _sync(widget: str, value: object) -> None:
    """Show the URL's value in a widget (the URL is the source of truth, so links open the same view;
    set every run, since a page switch gives a widget a fresh identity)."""
    st.session_state[widget] = value


def _on_status_change(key: str) -> None:
    """Put the picked statuses in the URL (or take them out when none is picked)."""
    picked = st.session_state[STATUS_WIDGETS[key]]
    if picked:
        st.query_params[key] = ",".join(picked)
    elif key in st.query_params:
        del st.query_params[key]


def _on_untouched_change() -> None:
    """Put the "no touch yet" filter in the URL."""
    if st.session_state[UNTOUCHED_WIDGET]:
        st.query_params["untouched"] = "1"
    elif "untouched" in st.query_params:
        del st.query_params["untouched"]


def _columns() -> dict[str, object]:
    """Column formats of the ledger table."""
    return {
        "MQL at": time_column("MQL at"),
        "Deadline": time_column("Deadline"),
        "First touch at": time_column("First touch at"),
        "Response": hours_column("Response", "Business hours from clock start to first touch"),
    }


def lead_detail(ctx: PageContext, bundle: MonthBundle, lead_id: str) -> bool:
    """One lead's clock, its statuses, a timeline and every touch with its verdict; False when the
    month has no such MQL."""
    match = bundle.ledger.loc[bundle.ledger["lead_id"] == lead_id]
    if match.empty:
        st.warning(
            f"No MQL with that id in this month. It may belong to another month, or not be an MQL "
            f"by {local_time(ctx.as_of, ctx.tz)}.",
            icon=":material/search_off:",
        )
        return False
    lead = match.iloc[0]
    touches = loaders.lead_touches(ctx.url, lead_id, ctx.as_of_iso, ctx.token)
    verdicts = touch_verdicts(touches, lead, bundle.terms, bundle.as_of)
    with st.container(border=True):
        st.subheader(":material/person_search: Lead details")
        st.text(_who(bundle, lead))
        _clock(ctx, lead)
        _statuses(lead, bundle)
        _decision(ctx, lead)
        shown = tables.verdict_table(verdicts, bundle.data.owners, ctx.tz)
        if shown.empty:
            empty_state("No touches recorded on this lead.")
            return True
        points = verdicts.assign(occurred_at=tables.local_naive(verdicts["occurred_at"], ctx.tz))
        plot(charts.lead_timeline(_marks(ctx, lead), points), key="timeline")
        st.markdown("**Every touch, and whether it counted**")
        table(shown, {"When": time_column("When")}, key="verdicts")
        st.caption(
            "A touch counts when it is a call, email or meeting, by a person (not automated), outbound, "
            "after the MQL and not after the time these numbers are as of. Attempts are numbered inside the attempt window."
        )
    return True


def _decision(ctx: PageContext, lead: pd.Series) -> None:
    """Acceptance against its deadline, a rejection with its reason, and the commitments it left.
    The reasons are CRM text: plain st.text, never Markdown."""
    if lead.get("acceptance_status") is not None and not pd.isna(lead.get("acceptance_status")):
        decided = short_time(lead["acceptance_decided_at"], ctx.tz) if pd.notna(lead["acceptance_decided_at"]) else DASH
        status_badge(
            lead["acceptance_status"],
            f"Acceptance · decided {decided}, deadline {short_time(lead['acceptance_deadline'], ctx.tz)}",
        )
    if pd.notna(lead.get("rejected_at")):
        reason = lead["rejection_reason"] if pd.notna(lead["rejection_reason"]) else "no reason given"
        st.text(f"Rejected by sales {short_time(lead['rejected_at'], ctx.tz)}: {reason}")
    elif pd.notna(lead.get("accepted_at")):
        st.text(f"Accepted by sales {short_time(lead['accepted_at'], ctx.tz)}")
    if lead.get("excluded_from"):
        why = lead["exclusion_reason"] if pd.notna(lead.get("exclusion_reason")) else ""
        left = ", ".join(str(lead["excluded_from"]).split(",")).replace("_", " ")
        st.text(f"Left out of: {left}" + (f" ({why})" if why else ""))


def _who(bundle: MonthBundle, lead: pd.Series) -> str:
    """Owner, segment and source as plain text."""
    names = tables.owner_names(bundle.data.owners)
    owner = tables.name_of(lead["owner_id"], names)
    source = lead["source"] if pd.notna(lead["source"]) else DASH
    return f"Lead {lead['lead_id']} · owner {owner} · segment {lead['segment']} · source {source}"


def _clock(ctx: PageContext, lead: pd.Series) -> None:
    """MQL time, clock start, deadline, first touch and response."""
    a, b, c, d = st.columns(4)
    a.metric("MQL at", short_time(lead["mql_at"], ctx.tz))
    b.metric(
        "Clock started",
        short_time(lead["clock_start"], ctx.tz),
        help="The MQL time, or the assignment when the terms start the clock at assignment.",
    )
    c.metric(
        "First-touch deadline",
        short_time(lead["first_touch_deadline"], ctx.tz),
        help=f"{lead['first_touch_hours_allowed']:g} business hours after the clock start.",
    )
    d.metric("First touch", short_time(lead["first_touch_at"], ctx.tz), help="The earliest touch that counts.")
    st.caption(f"Times in {ctx.tz}, {pd.Timestamp(lead['mql_at']).tz_convert(ctx.tz).year}.")
    st.caption(_calendar_line(ctx, lead))


def _calendar_line(ctx: PageContext, lead: pd.Series) -> str:
    """Which calendar the clock ran on, and its deadlines in that calendar's local time and the agreement's."""
    name = str(lead.get("calendar", DEFAULT_CALENDAR_NAME))
    zone = str(lead.get("calendar_timezone", ctx.tz))
    label = "the agreement's calendar" if name == DEFAULT_CALENDAR_NAME else f"the {md_escape(name)} calendar"
    if name == ALWAYS_OPEN_NAME:
        return f"The clock ran on {label}: every instant counted, weekends and holidays included."
    if zone == ctx.tz:
        return f"The clock ran on {label} ({zone})."
    deadlines = [
        (what, lead[column])
        for what, column in (
            ("first-touch deadline", "first_touch_deadline"),
            ("attempt window ends", "attempts_deadline"),
        )
    ]
    there = " · ".join(f"{what} {local_time(at, zone)} ({local_time(at, ctx.tz)})" for what, at in deadlines)
    return f"The clock ran on {label}, in {zone}: {there}."


def _statuses(lead: pd.Series, bundle: MonthBundle) -> None:
    """Both statuses with their numbers."""
    left, right = st.columns(2)
    with left:
        status_badge(
            lead["first_touch_status"],
            f"First touch · response {hours(lead['response_hours'])} "
            f"of {lead['first_touch_hours_allowed']:g} h allowed",
        )
    with right:
        converted = " · converted" if pd.notna(lead["converted_at"]) else ""
        status_badge(
            lead["attempts_status"],
            f"Attempts · {int(lead['attempts'])} made, {bundle.terms.min_attempts} "
            f"needed by {local_time(lead['attempts_deadline'], bundle.terms.timezone)}{converted}",
        )


def _marks(ctx: PageContext, lead: pd.Series) -> dict[str, pd.Timestamp | None]:
    """The lead's milestones in local wall-clock time for the timeline."""

    def local(value: object) -> pd.Timestamp | None:
        """A UTC instant as local wall-clock time."""
        return None if pd.isna(value) else pd.Timestamp(value).tz_convert(ctx.tz).tz_localize(None)

    return {
        "MQL": local(lead["mql_at"]),
        "clock start": local(lead["clock_start"]) if lead["clock_start"] != lead["mql_at"] else None,
        "first-touch deadline": local(lead["first_touch_deadline"]),
        "attempt window ends": local(lead["attempts_deadline"]),
        "as of": local(ctx.as_of) if ctx.as_of < lead["attempts_deadline"] else None,
    }


def pick_hint() -> None:
    """What to do before a lead is chosen."""
    empty_state(
        "Click a row above, or type a lead id, to see the lead's clock, both statuses and every touch "
        "with the reason it counted or not.",
        icon=":material/touch_app:",
    )
