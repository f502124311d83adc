"""The Trends page's sections: met/missed history, runs of misses and 12 months of both sides."""

from __future__ import annotations

from functools import cache

import streamlit as st

from smarketing.core.evidence import NO_ACTIVITIES
from smarketing.core.lead_filter import describe
from smarketing.ui import charts, closed_month, loaders, tables
from smarketing.ui.components import empty_state, hours_column, in_order, percent_column, plot, plot_or_empty, table
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import md_escape, month_short, status_text
from smarketing.ui.history import any_value, has_activities, miss_summary, status_history

NO_JUDGED = "No lead of these months has been judged yet (met or breached), so there is no compliance to draw."


def history(cards: dict[str, dict]) -> None:
    """Each commitment's status per month, in words, and how many misses in a row."""
    raw = status_history(cards)
    with st.container(border=True):
        st.subheader("Met / missed history")
        left, right = st.columns([2.4, 1.6])
        with left:
            shown = raw.T.iloc[::-1].map(status_text)
            shown.index = [month_short(m) + (" · frozen" if cards[m].get("frozen") else "") for m in shown.index]
            table(shown.reset_index(names="Month"), key="history", height=38 + 35 * len(shown))
            st.caption(
                "Newest first. A month in progress shows its current status (on track, at risk, behind); "
                "'frozen' marks a closed month shown from its snapshot."
            )
        with right:
            measured = has_activities(cards)
            for row in miss_summary(raw).itertuples(index=False):
                if not measured and str(row[0]).startswith("Sales"):
                    empty_state(f"{row[0]}: {NO_ACTIVITIES}", icon=":material/block:")
                    continue
                st.metric(
                    f"{row[0]} · misses in a row",
                    f"{row[3]}",
                    delta=f"met {row[1]} · missed {row[2]}",
                    delta_arrow="off",
                    delta_color="off" if row[3] == 0 else "inverse",
                    border=True,
                    help="The latest run of missed months (an unfinished month is not counted), "
                    "and the months met and missed in this window.",
                )


def page(ctx: PageContext, month: closed_month.Shown) -> None:
    """Every section, each behind a placeholder until drawn: under a filter the filtered leads' months
    first, then the met/missed history, the scores and the charts (the twelve months load once; closed
    months from their snapshots)."""
    cards = cache(lambda: closed_month.trend_cards(ctx, month))
    leads = cache(
        lambda: (
            loaders.filtered_trend_cards(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month, ctx.scope_key)
            if ctx.leads.scoped
            else None
        )
    )

    def filtered() -> None:
        if cards():
            filtered_note(describe(ctx.leads.scope(), ctx.owner_names()), ctx.leads.scope().one_segment)
            filtered_months(leads())

    def met_missed() -> None:
        if cards():
            history(cards())
        else:
            no_history()

    def weighted() -> None:
        if cards():
            scores(closed_month.consequences(ctx, month))

    def grid() -> None:
        if cards():
            charts_grid(cards(), leads())

    in_order(
        *([("the filtered leads' months", filtered)] if ctx.leads.scoped else []),
        ("the met/missed history", met_missed),
        ("the weighted scores", weighted),
        ("the twelve months' charts", grid),
    )


def filtered_note(scope_words: str, one_segment: bool) -> None:
    """Under a filter: which parts are the agreement's (whole company) and which count the filtered leads."""
    st.caption(
        f":material/filter_alt: The met/missed history and the scores are the agreement's, for the whole "
        f"company; the table and charts below count only the filtered leads ({md_escape(scope_words)})"
        + (", MQLs against the segment's own quota." if one_segment else "; a team, rep or source has no quota.")
        + " Revenue stays the whole company's."
    )


def filtered_months(cards: dict[str, dict]) -> None:
    """The filtered leads' figures per month, as numbers (the charts draw the same)."""
    with st.container(border=True):
        st.subheader("The filtered leads, month by month")
        table(
            tables.filtered_months_table(cards),
            {
                "MQLs": st.column_config.NumberColumn("MQLs", format="%d"),
                "Quota": st.column_config.NumberColumn("Quota", format="%d"),
                "First touch": percent_column("First touch", "Met ÷ judged leads"),
                "Attempts": percent_column("Attempts", "Met ÷ judged leads"),
                "Median response": hours_column("Median"),
                "p90 response": hours_column("p90"),
            },
            key="t_filtered",
        )


def charts_grid(cards: dict[str, dict], leads: dict[str, dict] | None = None) -> None:
    """Both sides' numbers over the months; `leads`: the filtered leads' cards for the MQL and sales charts."""
    leads = leads or cards
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Marketing · MQLs against quota**")
        plot(charts.mqls_trend(leads), key="t_mqls")
    with right, st.container(border=True):
        st.markdown("**Revenue · won per close month against the goal**")
        plot_or_empty(
            charts.revenue_trend(cards),
            any_value(cards, ("funnel", "won_revenue")),
            "Won revenue is unknown in these months: no won deal has an amount.",
            key="t_revenue",
        )
    cards = leads
    if not has_activities(cards):
        empty_state(f"Sales · {NO_ACTIVITIES}", icon=":material/block:")
        return
    left, mid, right = st.columns(3)
    with left, st.container(border=True):
        st.markdown("**Sales · first-touch compliance**")
        plot_or_empty(
            charts.compliance_trend(cards, "first_touch"),
            any_value(cards, ("sales", "first_touch", "compliance")),
            NO_JUDGED,
            key="t_ft",
        )
    with mid, st.container(border=True):
        st.markdown("**Sales · attempt compliance**")
        plot_or_empty(
            charts.compliance_trend(cards, "attempts"),
            any_value(cards, ("sales", "attempts", "compliance")),
            NO_JUDGED,
            key="t_att",
        )
    with right, st.container(border=True):
        st.markdown("**Sales · response time (business hours)**")
        plot_or_empty(
            charts.response_trend(cards),
            any_value(cards, ("sales", "first_touch", "median_hours")),
            "No first touch in these months yet, so no response times.",
            key="t_resp",
        )


def scores(csq: dict) -> None:
    """Marketing's, Sales' and the overall weighted consequences score over the twelve months."""
    with st.container(border=True):
        st.markdown("**Consequences · weighted score per month**")
        plot(charts.score_trend(csq.get("trend") or []), key="t_scores")
        st.caption(
            "Each commitment with a final verdict scores 100 % when met, else what it achieved of its target; "
            "a side's score is their weighted mean (weights of the terms in force for the last month shown). "
            "A gap: nothing in that month is final yet."
        )


def no_history() -> None:
    """Empty state."""
    empty_state("There is no data for the twelve months up to this month yet.")
