"""The Terms page's sections: versions in force, a new version from a month on, the calculator."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from smarketing.core.months import add_months, month_range
from smarketing.core.terms import Terms, TermsVersion, terms_to_toml
from smarketing.ui import actions, loaders
from smarketing.ui.calculator import reverse_funnel
from smarketing.ui.components import empty_state, table
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import count, md_escape, money, month_label, number, pct


def versions(ctx: PageContext) -> None:
    """Every stored version with its period and key terms; the one in force this month marked."""
    rows = ctx.summary.versions
    with st.container(border=True):
        st.subheader("Versions of the agreement")
        if not rows:
            empty_state(
                "No terms are stored yet, so the defaults of DESIGN section 3 apply (UTC, 400 MQLs, "
                "4 business hours). Save a version below."
            )
            return
        in_force = _in_force(rows, ctx.month)
        table(_versions_frame(rows, in_force), key="versions")
        st.caption(
            f"{month_label(ctx.month)} is measured with version {in_force.version_id}. A version applies "
            "from its month until the next one; months before the first use the first."
        )


def _in_force(rows: list[TermsVersion], month: str) -> TermsVersion:
    """The version in force in a month (the first one for earlier months)."""
    chosen = rows[0]
    for row in rows:
        if row.effective_from <= month:
            chosen = row
    return chosen


def _versions_frame(rows: list[TermsVersion], in_force: TermsVersion) -> pd.DataFrame:
    """Settings down, versions across (newest first), the one in force marked."""
    until = [add_months(r.effective_from, -1) for r in rows[1:]] + ["open"]
    columns = {}
    for row, end in reversed(list(zip(rows, until))):
        title = f"v{row.version_id} · {row.effective_from} → {end}" + (" (this month)" if row is in_force else "")
        columns[title] = _settings(row.terms)
    return pd.DataFrame(columns).rename_axis("Setting").reset_index()


def _settings(terms: Terms) -> dict[str, str]:
    """The agreement's settings in words."""
    return {
        "MQL quota": _quota(terms),
        "At risk below": f"{pct(terms.at_risk_ratio, 0)} of quota projected",
        "First touch": _first_touch(terms),
        "Clock starts at": "the MQL" if terms.clock_starts == "mql" else "assignment (or the MQL if later)",
        "Attempts": f"{terms.min_attempts} within {terms.attempt_window_days:g} business days · target "
        f"{pct(terms.attempts_target, 0)}",
        "Acceptance": _acceptance(terms),
        "Quota counts": "every MQL" if terms.quota_counts == "mqls" else "MQLs not rejected by sales",
        "Lead quality": "not promised"
        if terms.max_rejection_rate is None
        else f"at most {pct(terms.max_rejection_rate, 0)} of MQLs rejected by sales",
        "Business hours": f"{', '.join(terms.workdays)} {terms.hours[0]}–{terms.hours[1]} · holidays "
        f"{terms.holidays or 'none'}",
        "Timezone": terms.timezone,
        "Revenue goal": f"{money(terms.revenue_goal)} a month · {pct(terms.marketing_share, 0)} from marketing",
        "Targets from": f"{terms.lookback_months} months of history, cohorts lagged {terms.cohort_lag_months} months",
    }


def _acceptance(terms: Terms) -> str:
    """'accept or reject within 8 business hours · target 95% · a touch counts' (or not promised)."""
    if terms.acceptance_hours is None:
        return "not promised (a rejection removes nothing)"
    touch = " · a qualifying touch counts as accepting" if terms.touch_accepts else ""
    return (
        f"accept or reject within {terms.acceptance_hours:g} business hours · target "
        f"{pct(terms.acceptance_target, 0)}{touch}"
    )


def _quota(terms: Terms) -> str:
    """'420 (Enterprise 50, …)'."""
    if terms.segment_quotas:
        return f"{terms.quota} (" + ", ".join(f"{k} {v}" for k, v in terms.segment_quotas.items()) + ")"
    return str(terms.quota)


def _first_touch(terms: Terms) -> str:
    """'4 h · target 90%' or per segment."""
    hours = terms.first_touch_hours
    text = ", ".join(f"{k} {v:g} h" for k, v in hours.items()) if isinstance(hours, Mapping) else f"{hours:g} h"
    return f"{text} · target {pct(terms.first_touch_target, 0)}"


def editor(ctx: PageContext, terms: Terms) -> None:
    """Edit the TOML and save it as a new version from a chosen month on; problems shown inline."""
    version = _in_force(ctx.summary.versions, ctx.month) if ctx.summary.versions else None
    base = loaders.terms_toml(ctx.url, version.version_id, ctx.token) if version else terms_to_toml(terms)
    starts = _start_months(ctx)
    with st.container(border=True):
        st.subheader("Change the terms")
        st.caption(
            "Changing terms never edits a version: it adds a new one from a month on. Months already "
            "closed keep the version they were measured with."
        )
        with st.form("new_terms_version"):
            text = st.text_area("Terms (TOML)", value=base, height=420, key="terms_text")
            left, right = st.columns(2)
            start = left.selectbox("In force from", starts, index=min(1, len(starts) - 1), format_func=month_label)
            note = right.text_input("Note", placeholder="what changed and why", max_chars=200)
            submitted = st.form_submit_button("Save as a new version", type="primary", icon=":material/save:")
        if submitted:
            outcome = actions.save_terms(ctx.engine, text, start, note, ctx.summary.closed)
            if outcome.ok:
                st.success(outcome.message, icon=":material/check_circle:")
            else:
                st.error(
                    "The terms were not saved:\n\n" + "\n".join(f"- {md_escape(p)}" for p in outcome.problems),
                    icon=":material/error:",
                )


def _start_months(ctx: PageContext) -> list[str]:
    """Months a new version may start from: after the last closed month, up to a year ahead."""
    first = ctx.month if not ctx.summary.closed else max(ctx.month, add_months(max(ctx.summary.closed), 1))
    return month_range(first, add_months(ctx.month, 12))


def calculator(ctx: PageContext, terms: Terms) -> None:
    """Revenue goal × marketing share → customers needed → MQLs needed, with editable inputs."""
    deal, rate, deal_from, rate_from = _calculator_defaults(ctx, terms)
    with st.container(border=True):
        st.subheader("Reverse-funnel calculator")
        st.caption(
            f"Starting values: the revenue goal and share of the terms in force; the average won deal of "
            f"{deal_from}; the MQL → customer rate of the {rate_from} cohort. Change any of them."
        )
        a, b, c, d = st.columns(4)
        goal = a.number_input(
            "Revenue goal per month", min_value=0.0, value=float(terms.revenue_goal), step=10000.0, format="%.0f"
        )
        share = b.number_input(
            "Marketing share",
            min_value=0.0,
            max_value=1.0,
            value=float(terms.marketing_share),
            step=0.05,
            format="%.2f",
        )
        size = c.number_input("Average won deal", min_value=0.0, value=float(deal), step=1000.0, format="%.0f")
        conv = d.number_input(
            "MQL → customer rate", min_value=0.0, max_value=1.0, value=float(rate), step=0.005, format="%.3f"
        )
        result = reverse_funnel(goal, share, size, conv)
        x, y, z = st.columns(3)
        x.metric("Revenue expected from marketing", money(result["marketing_revenue"]))
        y.metric(
            "Customers needed", number(result["customers_needed"], 1) if result["customers_needed"] is not None else "—"
        )
        quota_delta = (
            f"{result['mqls_needed'] - terms.quota:+,} vs quota {terms.quota:,}"
            if result["mqls_needed"] is not None
            else None
        )
        z.metric("MQLs needed per month", count(result["mqls_needed"]), delta=quota_delta, delta_color="off")


def _calculator_defaults(ctx: PageContext, terms: Terms) -> tuple[float, float, str, str]:
    """Average won deal of last month and the MQL→customer rate of the cohort lag month."""
    deal_month = add_months(ctx.month, -1)
    rate_month = add_months(ctx.month, -max(1, terms.cohort_lag_months))
    deal = ctx.bundle(deal_month).card["funnel"].get("avg_won_deal_size") or 0.0
    rate = (ctx.bundle(rate_month).card["funnel"].get("mql_to_customer") or {}).get("value") or 0.0
    return float(deal), float(rate), month_label(deal_month), month_label(rate_month)
