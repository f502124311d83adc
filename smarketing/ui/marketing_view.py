"""The Marketing page's sections: headline, segment / source drill-down, daily MQLs, 12-month trend."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from smarketing.core.evidence import plural, projection_note
from smarketing.ui import charts, closed_month, loaders
from smarketing.ui.components import empty_state, plot, status_badge, table
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import count, month_label, number, page_url, pct
from smarketing.ui.scorecard_view import segment_table

SEGMENT_KEY = "mkt_segment"
LIVE_PARTS = (
    "The drill-down's per-source bars and daily chart are drawn from the data as it is stored now; "
    "the numbers above them and the segment table are the closed ones."
)


def headline(card: dict) -> None:
    """Status and the five numbers of the marketing commitment."""
    m = card["marketing"]
    with st.container(border=True):
        status_badge(
            m.get("status"),
            f"{count(m['mqls'])} of {plural(m.get('quota'), 'MQL')} · "
            f"{pct(m.get('elapsed_fraction'), 0)} of the month gone",
        )
        cols = st.columns(5)
        cols[0].metric("MQLs delivered", count(m["mqls"]))
        cols[1].metric("Quota", count(m.get("quota")))
        cols[2].metric("Attainment", pct(m.get("attainment"), 0))
        cols[3].metric(
            "Projected at month end",
            count(m.get("projected")),
            help="This month's pace blended with the last three months' average while the month is young.",
        )
        cols[4].metric(
            "Needed per day",
            number(m.get("required_daily_rate")) if m.get("required_daily_rate") is not None else "—",
            help=f"{plural(m.get('days_left', 0), 'calendar day')} left, counting today.",
        )
        note = projection_note(m)
        if note:
            st.caption(f":material/insights: {note}")


def rejections(card: dict) -> None:
    """Lead quality, closed loop: why sales rejected MQLs, by source and by segment (plain-text tables)."""
    m = card["marketing"]
    if not m.get("quality_status"):
        return
    with st.container(border=True):
        st.subheader("Rejected by sales")
        status_badge(
            m.get("quality_status"),
            f"{count(m.get('rejected'))} of {count(m.get('mqls_total'))} MQLs rejected · "
            f"rate {pct(m.get('rejection_rate'))}, at most {pct(m.get('max_rejection_rate'), 0)}",
        )
        if not m.get("rejected"):
            empty_state("Sales has rejected none of this month's MQLs so far.")
            return
        left, right = st.columns(2)
        for column, key, title in ((left, "source", "By source"), (right, "segment", "By segment")):
            with column:
                st.markdown(f"**{title}**")
                frame = reason_frame(m.get(f"rejections_by_{key}") or [], key)
                # every row shown (up to 16; a row cut off at the bottom reads as missing data)
                table(frame, key=f"rejections_{key}", height=38 + 35 * min(max(len(frame), 1), 16))
        st.caption("Reasons as sales entered them in the CRM.")


def reason_frame(rows: list[dict], key: str) -> pd.DataFrame:
    """One row per (source or segment, reason) with the counts and the group's rejection rate."""
    out = [
        {
            key.title(): row[key],
            "MQLs": row["mqls"],
            "Rejected": row["rejected"],
            "Rate": pct(row["rejection_rate"]),
            "Reason": reason["reason"],
            "Count": reason["count"],
        }
        for row in rows
        for reason in row["reasons"]
    ]
    return pd.DataFrame(out, columns=[key.title(), "MQLs", "Rejected", "Rate", "Reason", "Count"])


def segments(ctx: PageContext, card: dict) -> None:
    """Delivered vs quota per segment, chart and table, each segment's MQLs a link to the ledger."""
    by_segment = card["marketing"].get("by_segment", [])
    with st.container(border=True):
        st.subheader("By segment")
        if not by_segment:
            empty_state("No segments this month: no MQLs yet and no segment quotas in the terms.")
            return
        plot(charts.segment_bars(by_segment), key="segments")
        scope = ctx.leads.scope()
        segment_table(
            by_segment,
            link=lambda segment: page_url("Lead_ledger", ctx.ledger_params(replace(scope, segment=segment))),
        )


def filtered(ctx: PageContext, card: dict) -> tuple[dict, pd.DataFrame]:
    """The card and daily MQLs the sections below the headline draw: the filtered leads' own figures
    when the page is filtered (say so), else the month's."""
    if not ctx.leads.scoped:
        return card, ctx.bundle().daily
    st.caption(
        ":material/filter_alt: The commitment above is the whole month's (the quota is the company's); "
        "the segments, rejections, sources, days and twelve months below count only the filtered leads"
        + (", against the segment's own quota." if ctx.leads.scope().one_segment else ", with no quota of their own.")
    )
    return loaders.filtered_month(ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.scope_key)


def drill_down(ctx: PageContext, card: dict, shown: dict, daily: pd.DataFrame) -> None:
    """Sources and daily MQLs of the shown (filtered) card, with a segment picker that is the URL's segment."""
    names = [s["segment"] for s in card["marketing"].get("by_segment", [])]
    with st.container(border=True):
        st.subheader("Sources and days")
        wanted = ctx.leads.segment
        if wanted and wanted not in names:
            names.append(wanted)
        st.session_state[SEGMENT_KEY] = wanted  # the URL decides, every run ("" is every segment, not "no choice")
        st.selectbox(
            "Segment",
            ["", *names],
            format_func=lambda s: s or "All segments",
            key=SEGMENT_KEY,
            on_change=_on_segment_change,
            width=320,
            help="The same segment filter as the sidebar's: kept in the address bar.",
        )
        by_source = shown["marketing"].get("by_source", [])
        total = sum(s["mqls"] for s in by_source)
        left, right = st.columns([2, 3])
        with left:
            st.markdown("**MQLs per source**")
            if by_source:
                plot(charts.source_bars(by_source, height=80 + 30 * len(by_source)), key="sources")
                st.caption(f"{plural(total, 'MQL')} in this selection.")
            else:
                empty_state("No MQLs for this selection yet.")
        with right:
            st.markdown("**MQLs per day**")
            _daily(ctx, shown, daily)


def _on_segment_change() -> None:
    """Put the picked segment in the URL, so the other pages keep it."""
    picked = st.session_state[SEGMENT_KEY]
    if picked:
        st.query_params["segment"] = picked
    elif "segment" in st.query_params:
        del st.query_params["segment"]


def _daily(ctx: PageContext, card: dict, daily: pd.DataFrame) -> None:
    """The daily bar chart with the even pace and the rate still needed (of the shown card's quota, if any)."""
    part = card["marketing"]
    quota = part.get("quota")
    even = quota / len(daily) if quota else None
    as_of_local = ctx.as_of.tz_convert(ctx.tz).tz_localize(None)
    plot(charts.daily_bars(daily, as_of_local, even, part.get("required_daily_rate")), key="daily")
    st.caption(
        "Days in the agreement's timezone. Dotted: the even pace that meets the quota; "
        "dashed: the pace needed from today on."
    )


def trend(ctx: PageContext, month: closed_month.Shown) -> None:
    """Twelve months of MQLs against the quota, and the source mix (the filtered leads' own, when filtered;
    closed months from their snapshots)."""
    if ctx.leads.scoped:
        cards = loaders.filtered_trend_cards(
            ctx.url, ctx.month, ctx.as_of_iso, ctx.token, ctx.first_month, ctx.scope_key
        )
    else:
        cards = closed_month.trend_cards(ctx, month)
    with st.container(border=True):
        st.subheader(f"Twelve months to {month_label(ctx.month)}")
        if not cards:
            empty_state("No earlier months with data.")
            return
        left, right = st.columns(2)
        with left:
            st.markdown("**MQLs against the quota** (bar colour and hover give the status)")
            plot(charts.mqls_trend(cards), key="mql_trend")
        with right:
            st.markdown("**Source mix**")
            plot(charts.source_mix_trend(cards), key="source_mix")
