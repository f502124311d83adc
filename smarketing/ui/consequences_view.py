"""Consequences on screen (DESIGN section 10): both sides' weighted score with its trend, and per
commitment its strikes, the critical flag and the credit balance with its history in words."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from smarketing.core.consequences import COMMITMENT_LABELS
from smarketing.ui import charts
from smarketing.ui.components import plot, table
from smarketing.ui.fmt import md_escape, pct, pp, status_text

SIDES = (("marketing", "Marketing score"), ("sales", "Sales score"), ("overall", "Overall score"))
CRITICAL = "⚑ Critical"


def label(commitment: str) -> str:
    """'Sales · first touch'."""
    return COMMITMENT_LABELS.get(commitment, commitment)


def window_text(csq: Mapping) -> str:
    """'the last 6 finished months' (fewer early in the history)."""
    seen = len(csq["settings"]["window_months"])
    return f"the last {seen} finished month{'s' if seen != 1 else ''}"


def standing_frame(csq: Mapping) -> pd.DataFrame:
    """One row per commitment in force: status, score, weight, strikes, critical flag, credits, history (pure)."""
    seen = len(csq["settings"]["window_months"])
    rows = [
        {
            "Commitment": label(c["commitment"]),
            "Status": status_text(c["status"]),
            "Score": None if c["score"] is None else c["score"] * 100,
            "Weight": c["weight"],
            "Strikes": f"{c['strikes']} of {seen}",
            "Critical": CRITICAL if c["critical"] else "",
            "Credits": c["credits"],
            "Credit history": c["credit_history_text"],
        }
        for c in csq["by_commitment"]
    ]
    return pd.DataFrame(
        rows, columns=["Commitment", "Status", "Score", "Weight", "Strikes", "Critical", "Credits", "Credit history"]
    )


def critical_lines(csq: Mapping) -> list[str]:
    """One sentence per critical commitment, naming the rule of the terms (pure)."""
    return [
        f"**{label(c['commitment'])}** missed {c['strikes']} of {window_text(csq)}: **time to renegotiate the "
        "agreement** (change the target, or what it takes to keep it)."
        for c in csq["by_commitment"]
        if c["critical"]
    ]


def month(csq: dict) -> None:
    """The month's consequences: the weighted scores, then strikes, critical flags and credits."""
    scores(csq, key="review")
    standing(csq)


def scores(csq: Mapping, key: str) -> None:
    """Each side's weighted score for the month (change against the month before) and its 12-month trend."""
    trend = csq.get("trend") or []
    before = trend[-2] if len(trend) > 1 else {}
    with st.container(border=True):
        st.subheader(":material/scoreboard: Consequences · weighted score")
        left, right = st.columns([1, 2.2])
        with left:
            for side, title in SIDES:
                value = csq["score"][side]
                delta = None if value is None or before.get(side) is None else pp(value - before[side])
                st.metric(
                    title,
                    pct(value) if value is not None else "not final",
                    delta=delta,
                    border=True,
                    help="Σ weight × score / Σ weight over the commitments judged this month: a met commitment "
                    "scores 100 %, a missed one what it achieved of its target.",
                )
        with right:
            plot(charts.score_trend(trend), key=f"{key}_scores")
        if all(csq["score"][side] is None for side, _ in SIDES):
            st.caption("No score yet: a month counts for a commitment once it is over and nothing in it is pending.")
        else:
            st.caption(
                "A commitment without a final verdict this month (still pending, or no data) is left out of the "
                "score; the chart shows the same score for each of the last twelve months."
            )


def standing(csq: Mapping) -> None:
    """The per-commitment table (strikes, critical flag, credits in words) and the renegotiation flags."""
    settings = csq["settings"]
    with st.container(border=True):
        st.subheader(":material/gavel: Strikes, critical failures and credits")
        table(
            standing_frame(csq),
            {
                "Commitment": st.column_config.TextColumn("Commitment", pinned=True),
                "Score": st.column_config.NumberColumn("Score", format="%.1f%%"),
                "Weight": st.column_config.NumberColumn("Weight", format="%.2f"),
                "Credit history": st.column_config.TextColumn("Credit history", width="large"),
            },
            key="consequences",
        )
        st.caption(
            f"Strikes: misses in {window_text(csq)}; critical at {settings['critical_misses']} "
            f"(of {settings['critical_window_months']} months). Each miss adds {settings['credit_per_miss']} "
            f"credit(s); {settings['earn_back_months']} met months in a row earn one back."
        )
        lines = critical_lines(csq)
        for line in lines:
            st.error(line, icon=":material/gavel:")
        if not lines:
            st.success(
                f"No commitment missed {settings['critical_misses']} of {window_text(csq)}: the agreement holds.",
                icon=":material/handshake:",
            )
        owed = [c for c in csq["by_commitment"] if c["credits"]]
        for c in owed:
            st.markdown(
                f"**{label(c['commitment'])}** owes {c['credits']} credit{'s' if c['credits'] != 1 else ''}: "
                f"{md_escape(c['credit_history_text'])}."
            )
