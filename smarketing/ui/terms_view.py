"""The Terms page's sections: versions in force, business hours, a new version from a month on, the calculator."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from smarketing.core.consequences import COMMITMENT_LABELS, weight_of
from smarketing.core.errors import UserError
from smarketing.core.evidence import plural
from smarketing.core.months import add_months, month_range
from smarketing.core.recalc import reverse_funnel
from smarketing.core.terms import (
    CONSEQUENCE_DEFAULTS,
    Terms,
    TermsVersion,
    parse_terms_toml,
    terms_changes,
    terms_to_toml,
    with_consequences_table,
    with_settings,
)
from smarketing.ui import actions, loaders, tables
from smarketing.ui.components import empty_state, table
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import count, md_escape, money, month_label, month_short, number, pct


def versions(ctx: PageContext) -> None:
    """Every stored version with its period and key terms; the one in force this month marked."""
    rows = ctx.summary.versions
    with st.container(border=True):
        st.subheader("Versions of the agreement")
        if not rows:
            empty_state(
                "No terms are stored yet, so the default agreement applies (UTC, 400 MQLs, "
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
        "Business hours": _business_hours(terms),
        "Calendars by team / segment": _routing(terms),
        "Timezone": terms.timezone,
        "Revenue goal": f"{money(terms.revenue_goal)} a month · {pct(terms.marketing_share, 0)} from marketing",
        "Targets from": f"{terms.lookback_months} months of history, cohorts lagged {terms.cohort_lag_months} months",
        "Consequence weights": _weights(terms),
        "Critical failure": f"{terms.critical_misses} misses in {terms.critical_window_months} finished months",
        "Credits": f"{terms.credit_per_miss} per miss · {terms.earn_back_months} met months in a row earn one back",
    }


def _business_hours(terms: Terms) -> str:
    """'Mon, Tue … 09:00–17:00 · holidays US', or the week grouped by runs of equal days."""
    if not terms.week:
        return f"{', '.join(terms.workdays)} {terms.hours[0]}–{terms.hours[1]} · holidays {terms.holidays or 'none'}"
    return f"{tables.week_summary(terms.calendar)} · holidays {terms.holidays or 'none'}"


def _routing(terms: Terms) -> str:
    """'segment Hot → 24/7 · team EMEA → EMEA', or 'all leads on the agreement's calendar'."""
    return " · ".join(tables.routing_rules(terms)) or "all leads on the agreement's calendar"


def schedules(terms: Terms) -> None:
    """Each calendar's week as a table (weekdays down, calendars across) and how leads are routed to them."""
    with st.container(border=True):
        st.subheader("Business hours")
        table(tables.schedule_table(terms), key="schedules")
        st.caption(
            f"{md_escape(tables.routing_text(terms))} Months are always counted in {terms.timezone}; a named "
            'calendar\'s windows are in its own timezone. "K business days" are K mean working days.'
        )


def _weights(terms: Terms) -> str:
    """'MQL quota 0.4, first touch 0.3, …' or 'each commitment 1'."""
    if terms.weights is None:
        return "each commitment 1"
    return ", ".join(f"{c.replace('_', ' ')} {weight_of(terms, c):g}" for c in terms.commitments())


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


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def monthly_form(ctx: PageContext, terms: Terms) -> None:
    """What people change monthly, as inputs checked as they type (the core's terms validation) and
    saved as a new version from a chosen month; the TOML editor below keeps everything else."""
    version = _in_force(ctx.summary.versions, ctx.month) if ctx.summary.versions else None
    base = loaders.terms_toml(ctx.url, version.version_id, ctx.token) if version else terms_to_toml(terms)
    starts = _start_months(ctx)
    with st.container(border=True):
        st.subheader("Monthly settings")
        st.caption(
            "Quotas, follow-up and business hours. Each change is checked at once; nothing is saved until you save."
        )
        sections = {"marketing": _marketing_inputs(terms), "sales": _sales_inputs(terms)}
        if not terms.week:
            sections["calendar"] = _calendar_inputs(terms)
        left, right = st.columns(2)
        start = left.selectbox(
            "In force from", starts, index=min(1, len(starts) - 1), format_func=month_label, key="form_from"
        )
        note = right.text_input("Note", placeholder="what changed and why", max_chars=200, key="form_note")
        text = with_settings(base, sections)
        problems = actions.terms_problems(text, start, ctx.summary.closed)
        changes = [] if problems else terms_changes(terms, parse_terms_toml(text)[0])
        if problems:
            st.error("These settings cannot be saved yet:", icon=":material/error:")
            st.text("\n".join(f"• {p}" for p in problems))
        elif changes:
            st.caption("What changes:")
            st.text("\n".join(f"• {c}" for c in changes))
        if st.button(
            "Save as a new version",
            type="primary",
            icon=":material/save:",
            disabled=bool(problems) or not changes,
            key="form_save",
        ):
            outcome = actions.save_terms(ctx.engine, text, start, note, ctx.summary.closed)
            if outcome.ok:
                st.success(outcome.message, icon=":material/check_circle:")
            else:
                st.error("The terms were not saved:", icon=":material/error:")
                st.text("\n".join(f"• {p}" for p in outcome.problems))


def _marketing_inputs(terms: Terms) -> dict:
    """The MQL quota and the segment quotas."""
    quotas = dict(terms.segment_quotas)
    columns = st.columns(1 + len(quotas))
    values: dict = {
        "mql_quota": int(columns[0].number_input("MQL quota", value=int(terms.mql_quota), step=10, key="form_quota"))
    }
    if quotas:
        values["segment_quotas"] = {
            name: int(col.number_input(f"{name} quota", value=int(q), step=5, key=f"form_quota_{name}"))
            for col, (name, q) in zip(columns[1:], quotas.items())
        }
    return values


def _sales_inputs(terms: Terms) -> dict:
    """First-touch hours (per segment when the terms give them so) and target, attempts and their target."""
    hours = terms.first_touch_hours
    if isinstance(hours, Mapping):
        columns = st.columns(len(hours))
        first_touch = {
            name: float(col.number_input(f"First touch, {name} (h)", value=float(h), step=0.5, key=f"form_ft_{name}"))
            for col, (name, h) in zip(columns, hours.items())
        }
    else:
        first_touch = float(st.number_input("First touch (business h)", value=float(hours), step=0.5, key="form_ft"))
    a, b, c, d = st.columns(4)
    return {
        "first_touch_hours": first_touch,
        "first_touch_target": a.number_input(
            "First-touch target", value=float(terms.first_touch_target), step=0.01, format="%.2f", key="form_ft_target"
        ),
        "min_attempts": int(
            b.number_input("Attempts needed", value=int(terms.min_attempts), step=1, key="form_attempts")
        ),
        "attempt_window_days": c.number_input(
            "Attempt window (business days)", value=float(terms.attempt_window_days), step=1.0, key="form_window"
        ),
        "attempts_target": d.number_input(
            "Attempts target", value=float(terms.attempts_target), step=0.01, format="%.2f", key="form_att_target"
        ),
    }


def _calendar_inputs(terms: Terms) -> dict:
    """Workdays and the business hours of each."""
    a, b, c = st.columns([2, 1, 1])
    workdays = a.multiselect("Workdays", WEEKDAYS, default=list(terms.workdays), key="form_workdays")
    opens = b.text_input("Opens", value=terms.hours[0], key="form_opens", help="HH:MM")
    closes = c.text_input("Closes", value=terms.hours[1], key="form_closes", help="HH:MM")
    return {"workdays": list(workdays), "hours": [opens.strip(), closes.strip()]}


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


COUNT_INPUTS = {
    "critical_misses": ("Critical at … misses", "Misses of one commitment within the window that flag it critical."),
    "critical_window_months": ("… within the last months", "Finished months the misses are counted over."),
    "credit_per_miss": ("Credits per miss", "Credits a side owes for each missed commitment."),
    "earn_back_months": ("Met months to earn one back", "Consecutive met months that cancel one credit."),
}


def consequences_editor(ctx: PageContext, terms: Terms) -> None:
    """The [consequences] settings as inputs, saved as a new version through the same validation as the TOML."""
    version = _in_force(ctx.summary.versions, ctx.month) if ctx.summary.versions else None
    base = loaders.terms_toml(ctx.url, version.version_id, ctx.token) if version else terms_to_toml(terms)
    starts = _start_months(ctx)
    with st.container(border=True):
        st.subheader("Consequences")
        st.caption(
            "How misses weigh and when a commitment calls for renegotiating. Without weights every commitment "
            "in force weighs 1; with weights, an unnamed commitment weighs 0."
        )
        with st.form("consequences_settings"):
            equal = st.checkbox("Every commitment weighs the same", value=terms.weights is None, key="csq_equal")
            weights = {}
            for column, name in zip(st.columns(len(terms.commitments())), terms.commitments()):
                weights[name] = column.number_input(
                    COMMITMENT_LABELS.get(name, name),
                    min_value=0.0,
                    value=weight_of(terms, name),
                    step=0.05,
                    format="%.2f",
                    key=f"csq_weight_{name}",
                )
            counts = {}
            for column, (key, (label, help_text)) in zip(st.columns(len(COUNT_INPUTS)), COUNT_INPUTS.items()):
                counts[key] = column.number_input(
                    label, min_value=1, value=int(getattr(terms, key)), step=1, help=help_text, key=f"csq_{key}"
                )
            left, right = st.columns(2)
            start = left.selectbox(
                "In force from", starts, index=min(1, len(starts) - 1), format_func=month_label, key="csq_from"
            )
            note = right.text_input("Note", placeholder="what changed and why", max_chars=200, key="csq_note")
            submitted = st.form_submit_button("Save as a new version", type="primary", icon=":material/save:")
        if submitted:
            table = consequences_table(None if equal else weights, counts)
            outcome = actions.save_terms(
                ctx.engine, with_consequences_table(base, table), start, note, ctx.summary.closed
            )
            if outcome.ok:
                st.success(outcome.message, icon=":material/check_circle:")
            else:
                st.error(
                    "The consequences were not saved:\n\n" + "\n".join(f"- {md_escape(p)}" for p in outcome.problems),
                    icon=":material/error:",
                )


def consequences_table(weights: Mapping[str, float] | None, counts: Mapping[str, int]) -> dict:
    """The [consequences] table of the inputs: weights when given, counts that differ from the defaults (pure)."""
    table: dict = {} if weights is None else {"weights": {k: float(v) for k, v in weights.items()}}
    table |= {k: int(v) for k, v in counts.items() if int(v) != CONSEQUENCE_DEFAULTS[k]}
    return table


def _start_months(ctx: PageContext) -> list[str]:
    """Months a new version may start from: after the last closed month, up to a year ahead."""
    first = ctx.month if not ctx.summary.closed else max(ctx.month, add_months(max(ctx.summary.closed), 1))
    return month_range(first, add_months(ctx.month, 12))


def calculator(ctx: PageContext, terms: Terms) -> None:
    """Revenue goal × marketing share → customers needed → MQLs needed, with editable inputs."""
    proposal = _proposal(ctx)
    inputs = (proposal or {}).get("inputs") or {}
    deal, rate = float(inputs.get("avg_deal_size") or 0.0), float(inputs.get("lead_to_customer_rate") or 0.0)
    with st.container(border=True):
        st.subheader("Reverse-funnel calculator")
        st.caption(_calculator_basis(proposal))
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
        if proposal is not None and (proposal.get("by_segment") or inputs.get("carried_shortfall")):
            st.caption(
                f"The proposal for {month_label(proposal['month'])} is {count(proposal['proposed_quota'])}: "
                + (
                    "it adds up each segment's own deal size and conversion, so it differs from this "
                    "one-line, whole-company calculation"
                    if proposal.get("by_segment")
                    else f"it adds last month's shortfall of {plural(inputs['carried_shortfall'], 'MQL')}"
                )
                + "."
            )


def _proposal(ctx: PageContext) -> dict | None:
    """Next month's proposal (the month after the one on screen), whose inputs the calculator starts from."""
    try:
        return loaders.proposal(ctx.url, add_months(ctx.month, 1), ctx.as_of_iso, ctx.token)
    except UserError:
        return None


def _calculator_basis(proposal: dict | None) -> str:
    """Where the starting values come from: the same inputs as next month's proposal."""
    if proposal is None:
        return "Enter a revenue goal, a share, an average won deal and a conversion rate."
    inputs = proposal["inputs"]
    looked, cohorts = inputs.get("lookback_months") or [], inputs.get("cohort_months") or []
    return (
        f"Starting values are the inputs of the proposal for {month_label(proposal['month'])}: the revenue goal "
        f"and share of the terms in force, the average of {plural(inputs.get('won_deals'), 'won deal')} closed "
        f"{month_short(looked[0])} – {month_short(looked[-1])} and the MQL → customer rate of the "
        f"{month_short(cohorts[0])} – {month_short(cohorts[-1])} cohorts. With these values both give the same "
        "number; change any of them to try another."
    )
