"""The Sales page's sections: overdue worklist, reps, teams and the response-time distribution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd
import streamlit as st

from smarketing.core.evidence import NO_ACTIVITIES, pending_note, plural
from smarketing.core.funnel import FEW_LEADS
from smarketing.core.lead_filter import count_filter, drill_counts, filter_leads, same_leads
from smarketing.core.sales import owner_summary
from smarketing.ui import charts, loaders, scorecard_view, tables
from smarketing.ui.components import (
    downloads,
    empty_state,
    hours_column,
    percent_column,
    plot,
    status_badge,
    table,
    time_column,
)
from smarketing.ui.context import PageContext
from smarketing.ui.exports import frame_csv, frame_xlsx
from smarketing.ui.fmt import count, hours, page_url, pct
from smarketing.ui.loaders import MonthBundle


def measurable(card: dict) -> bool:
    """Whether follow-up can be judged; when the data has no activities at all, say so instead."""
    if card["sales"]["first_touch"].get("status") != "no_activity_data":
        return True
    empty_state(
        f"{NO_ACTIVITIES} The worklist, the rep and team tables and the response times need the CRM's calls, "
        "e-mails and meetings: import a touches file or sync HubSpot's activities on the Data page.",
        icon=":material/block:",
    )
    return False


def worklist(ctx: PageContext, bundle: MonthBundle) -> None:
    """Leads with no first touch, most overdue first, with owner, deadline and how late; exportable."""
    untouched = same_leads(loaders.worklist(ctx.url, ctx.month, ctx.as_of_iso, ctx.token), scoped_leads(ctx, bundle))
    frame = tables.worklist_table(untouched, bundle.data.owners, ctx.tz)
    with st.container(border=True):
        st.subheader(":material/phone_in_talk: Call today — overdue worklist")
        if frame.empty:
            empty_state(
                "Every MQL of this month has had its first touch. Nothing is overdue.", icon=":material/task_alt:"
            )
            return
        late = int((frame["Status"] == "✘ Overdue").sum())
        st.caption(
            f"{plural(late, 'lead')} past the first-touch deadline with no touch; "
            f"{count(len(frame) - late)} more still inside it. Times in {ctx.tz}; "
            "'late' counts business hours since the deadline."
        )
        table(
            frame.drop(columns="Business hours late"),
            {
                "Lead": st.column_config.TextColumn("Lead", pinned=True),
                "MQL at": time_column("MQL at"),
                "Deadline": time_column("Deadline"),
                "How late": st.column_config.TextColumn("How late", help="Business hours since the deadline passed"),
            },
            height=min(420, 38 + 35 * len(frame)),
            key="worklist",
        )
        downloads(
            f"smarketing-{ctx.month}-overdue",
            lambda: frame_csv(_export(frame)),
            lambda: frame_xlsx({"Overdue": _export(frame)}),
            "worklist",
            "Worklist",
        )


ALL_REPS = "All reps"
LEDGER_URL = "Lead_ledger"


def due_soon(ctx: PageContext, bundle: MonthBundle) -> None:
    """Leads whose first-touch or attempts deadline is near, soonest first, for one rep or all."""
    near = same_leads(loaders.due_soon(ctx.url, ctx.month, ctx.as_of_iso, ctx.token), scoped_leads(ctx, bundle))
    frame = tables.due_soon_table(near, bundle.data.owners, ctx.tz)
    settings = bundle.terms.alert_settings
    with st.container(border=True):
        st.subheader(":material/alarm: Due soon")
        if frame.empty:
            empty_state(
                "No lead of this month is close to its first-touch or attempts deadline.", icon=":material/alarm_off:"
            )
            return
        rep = st.selectbox("Rep", [ALL_REPS, *sorted(set(frame["Owner"]))], key="due_soon_rep")
        shown = frame if rep == ALL_REPS else frame.loc[frame["Owner"] == rep]
        per_rep = shown.groupby("Owner").size().sort_values(ascending=False)
        st.caption(
            f"{count(len(shown))} leads have used {pct(settings.warn_at, 0)} or more of their allowed business time "
            f"and are not done yet: {', '.join(f'{name} {n}' for name, n in per_rep.items())}. "
            f"The same leads get a warning alert. Times in {ctx.tz}."
        )
        table(
            shown,
            {
                "Deadline": time_column("Deadline"),
                "Business hours left": hours_column("Left"),
            },
            height=min(420, 38 + 35 * len(shown)),
            key="due_soon",
        )


def scoped_leads(ctx: PageContext, bundle: MonthBundle) -> pd.DataFrame:
    """The month's ledger inside the page's team / rep / segment / source filter."""
    return filter_leads(bundle.ledger, bundle.data.owners, ctx.leads.scope())


DRILL_LABELS = {
    "overdue": "overdue, never touched",
    "first_touch_breached": "first touches breached",
    "first_touch_pending": "first touches pending",
    "attempts_breached": "attempt windows breached",
    "attempts_pending": "attempt windows open",
}


LIVE_PARTS = (
    "The lead links, worklist, due-soon list, team table and response-time distribution below (and the rep "
    "table when filtered) are drawn from the data as it is stored now; the commitments, the rep table and "
    "the delays are the closed ones."
)


def drill_links(ctx: PageContext, bundle: MonthBundle) -> None:
    """Each count that stands for leads, as a link to exactly those leads in the lead ledger."""
    counts = drill_counts(scoped_leads(ctx, bundle))
    if ctx.leads.scoped:
        st.caption(
            "The two commitments above are the whole month's (the agreement is per month, not per team); "
            "the links, worklist, due-soon list and rep table below keep to the filter."
        )
    with st.container(border=True, horizontal=True):
        for name, label in DRILL_LABELS.items():
            st.page_link(
                "pages/3_Lead_ledger.py",
                label=f"{count(counts[name])} {label}",
                icon=":material/open_in_new:",
                query_params=ctx.ledger_params(count_filter(name, ctx.leads.scope())),
                disabled=counts[name] == 0,
            )


def _export(frame: pd.DataFrame) -> pd.DataFrame:
    """The worklist for files: times as local text, lateness as a number."""
    return frame.drop(columns="How late").assign(
        **{c: frame[c].dt.strftime("%Y-%m-%d %H:%M") for c in ("MQL at", "Deadline")}
    )


def headline(card: dict, prev: dict | None, prev_label: str) -> None:
    """Both sales commitments in one wide band: status, compliance, response times, budget."""
    ft, att = card["sales"]["first_touch"], card["sales"]["attempts"]
    pft = (prev or {}).get("sales", {}).get("first_touch", {})
    patt = (prev or {}).get("sales", {}).get("attempts", {})
    with st.container(border=True):
        st.caption(scorecard_view.promise_text(ft, att))
        if ft.get("status") == "no_activity_data":
            status_badge("no_activity_data", f"{plural(ft.get('leads'), 'MQL')} this month")
            return
        first, a, b, c, d = st.columns([1.4, 1, 1, 1, 1])
        with first:
            st.markdown("**First touch**")
            status_badge(ft.get("status"))
            st.caption(scorecard_view.counts_note(ft))
            _pending_caption(ft)
        a.metric(
            "First-touch compliance",
            pct(ft.get("compliance")),
            delta=scorecard_view.delta(ft.get("compliance"), pft.get("compliance")),
            delta_color=scorecard_view.delta_color(ft.get("compliance"), pft.get("compliance")),
            delta_description=prev_label,
        )
        b.metric(
            "Median response",
            hours(ft.get("median_hours")),
            delta_color=scorecard_view.delta_color(ft.get("median_hours"), pft.get("median_hours"), "inverse"),
            delta_description=prev_label,
            delta=scorecard_view.delta(ft.get("median_hours"), pft.get("median_hours"), "h"),
        )
        c.metric(
            "p90 response",
            hours(ft.get("p90_hours")),
            delta_color=scorecard_view.delta_color(ft.get("p90_hours"), pft.get("p90_hours"), "inverse"),
            delta_description=prev_label,
            delta=scorecard_view.delta(ft.get("p90_hours"), pft.get("p90_hours"), "h"),
        )
        d.metric("Breach budget left", scorecard_view.budget_value(ft))
        first, a, b, c, d = st.columns([1.4, 1, 1, 1, 1])
        with first:
            st.markdown("**Attempts**")
            status_badge(att.get("status"))
            st.caption(scorecard_view.counts_note(att))
            _pending_caption(att)
        a.metric(
            "Attempt compliance",
            pct(att.get("compliance")),
            delta=scorecard_view.delta(att.get("compliance"), patt.get("compliance")),
            delta_color=scorecard_view.delta_color(att.get("compliance"), patt.get("compliance")),
            delta_description=prev_label,
        )
        b.metric(
            "Converted early", count(att.get("converted")), help="Leads that converted inside the window count as met."
        )
        c.metric("Pending", count(att.get("pending")), help="Leads whose attempt window is still open.")
        d.metric("Attempt budget left", scorecard_view.budget_value(att))


def _pending_caption(part: dict) -> None:
    """How many pending leads must still be met (nothing when none is pending)."""
    note = pending_note(part)
    if note:
        st.caption(f":material/hourglass_top: {note}")


def reps(ctx: PageContext, bundle: MonthBundle, card: dict) -> None:
    """Every rep (inside the page's filter): both commitments, response times, with the interval and
    few-leads mark, and a link to the rep's leads in the ledger; unfiltered, the shown card's reps."""
    scope = ctx.leads.scope()
    owners = (
        owner_summary(scoped_leads(ctx, bundle), bundle.data.owners)
        if scope.scoped
        else card["sales"].get("by_owner", [])
    )
    with st.container(border=True):
        st.subheader("Per rep")
        if not owners:
            empty_state("No MQLs were assigned this month yet.")
            return
        board = tables.leaderboard(
            owners, lambda owner: page_url(LEDGER_URL, ctx.ledger_params(replace(scope, owner=owner)))
        )
        table(board, {**_rep_columns(), "Leads in ledger": _LINK}, key="reps", height=38 + 35 * len(board))
        st.caption(
            f"Sorted by first-touch compliance; leads without an owner are listed last, unranked. 'few leads': "
            f"under {FEW_LEADS} judged leads, so the rate can move a lot; the 95% CI shows how much."
        )


_LINK = st.column_config.LinkColumn(
    "Leads in ledger", display_text="Open ↗", help="This row's leads in the lead ledger"
)


def _team_url(ctx: PageContext, team: str) -> str | None:
    """The ledger address of one team's leads (none for the leads whose owner has no team)."""
    if team == "No team":
        return None
    return page_url(LEDGER_URL, ctx.ledger_params(replace(ctx.leads.scope(), team=team, owner="")))


def _rep_columns() -> Mapping[str, object]:
    """Column formats shared by the rep and team tables."""
    return {
        "#": st.column_config.TextColumn("#", width="small"),
        "Rep": st.column_config.TextColumn("Rep", pinned=True),
        "First touch": percent_column("First touch"),
        "First touch 95% CI": st.column_config.TextColumn("95% CI"),
        "Median response": hours_column("Median"),
        "p90 response": hours_column("p90"),
        "Attempts": percent_column("Attempts"),
        "Acceptance": percent_column("Acceptance"),
    }


def teams(ctx: PageContext) -> None:
    """The same measures per team."""
    rows = loaders.team_summary(ctx.url, ctx.month, ctx.as_of_iso, ctx.token)
    with st.container(border=True):
        st.subheader("Per team")
        if not rows:
            empty_state("No MQLs were assigned this month yet.")
            return
        scope = ctx.leads.scope()
        board = (
            tables.leaderboard(rows, lambda team: _team_url(ctx, team))
            .drop(columns=["#", "Team"])
            .rename(columns={"Rep": "Team"})
        )
        table(board, {**_rep_columns(), "Leads in ledger": _LINK}, key="teams")
        if scope.scoped:
            st.caption("Every team of the month, whatever the filter, so they can be compared.")


def delays(card: dict) -> None:
    """Routing delay vs rep delay per rep (medians)."""
    owners = [o for o in card["sales"].get("by_owner", []) if o.get("owner_id")]
    with st.container(border=True):
        st.subheader("Routing vs rep delay")
        ft = card["sales"]["first_touch"]
        st.caption(
            f"Median routing delay {hours(ft.get('routing_delay_median_hours'))} (MQL → assigned), "
            f"median rep delay {hours(ft.get('rep_delay_median_hours'))} (assigned → first touch)."
        )
        if not owners:
            empty_state("No assigned leads yet.")
            return
        rows = pd.DataFrame(
            {
                "Rep": [o["name"] for o in owners],
                "Routing": [o.get("routing_delay_median_hours") or 0 for o in owners],
                "Rep delay": [o.get("rep_delay_median_hours") or 0 for o in owners],
            }
        ).sort_values("Rep delay", ascending=False)
        plot(charts.rep_delays(rows), key="rep_delays")


def response_distribution(bundle: MonthBundle) -> None:
    """Histogram of first-response business hours per segment with its target line."""
    ledger = bundle.ledger
    with st.container(border=True):
        st.subheader("Response-time distribution")
        if ledger["response_hours"].notna().sum() == 0:
            empty_state("No first touches yet this month.")
            return
        plot(charts.response_histogram(ledger[["segment", "response_hours"]], _targets(bundle)), key="response_hist")
        st.caption(
            "Business hours from the clock start to the first qualifying touch; the dashed line is the "
            "segment's first-touch target."
        )


def _targets(bundle: MonthBundle) -> dict[str, float]:
    """First-touch hours per segment present in the month."""
    segments = sorted(set(bundle.ledger["segment"].dropna().unique()))
    return {s: bundle.terms.first_touch_hours_for(s) for s in segments}
