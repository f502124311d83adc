"""The "Next month's targets" panel (DESIGN section 6): the proposed quota with every input, and Apply.

Which month: the month after the one on screen (the reviewed month), so that the lookback and
the cohorts are anchored on the reviewed month and its data, not on the wall clock: reviewing
February proposes March from the months up to February, and a data set that ends in 2018 gets
a proposal from 2018. A closed month keeps its terms (see apply_blocker).

Nothing is applied silently: Apply needs a ticked "I reviewed these inputs" first, then saves a
new terms version effective from that month (api.apply_recalc) and clears every cache.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.evidence import plural
from smarketing.core.funnel import FEW_LEADS, rate
from smarketing.core.months import add_months
from smarketing.core.terms import TermsVersion, version_for_month
from smarketing.ui import loaders
from smarketing.ui.components import table
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import count, local_time, md_escape, money, month_label, month_short, number, wilson_text

FLASH_KEY = "smk_targets_flash"
REVIEWED_KEY = "targets_reviewed"
APPLY_KEY = "targets_apply"


def target_month(ctx: PageContext) -> str:
    """The month targets are proposed for: the one after the month on screen."""
    return add_months(ctx.month, 1)


def prefetch_targets(ctx: PageContext) -> None:
    """Start next month's proposal in the background (it reads months of leads and deals), for a
    page that shows the panel below its headline: it then computes while the sections above draw."""
    loaders.prefetch(loaders.proposal, ctx.url, target_month(ctx), ctx.as_of_iso, ctx.token)


def next_month_targets(ctx: PageContext, card: dict | None = None) -> None:
    """Full-width panel: proposed vs current quota, every input, per segment, and a reviewed Apply.

    `card` is the scorecard the page shows; it only adds the selected month's quota for context."""
    month = target_month(ctx)
    with st.container(border=True):
        st.subheader(f":material/flag: Next month's targets · {month_label(month)}")
        flash = st.session_state.pop(FLASH_KEY, None)
        if flash:
            st.success(flash, icon=":material/check_circle:")
        try:
            proposal = loaders.proposal(ctx.url, month, ctx.as_of_iso, ctx.token)
        except UserError as exc:
            st.error(md_escape(exc), icon=":material/error:")
            return
        st.caption(_basis_line(ctx, proposal, card))
        _headline(proposal)
        if proposal.get("reason"):
            st.warning(md_escape(proposal["reason"]), icon=":material/history_toggle_off:")
        if proposal.get("by_segment"):
            _segments(proposal["by_segment"])
        st.caption(_formula_line(proposal))
        _in_force(ctx, month)
        _apply(ctx, proposal)


def _basis_line(ctx: PageContext, proposal: Mapping, card: dict | None) -> str:
    """Where the proposal comes from, in one line."""
    inputs = proposal["inputs"]
    text = (
        f"Proposed from what actually happened, as of {local_time(proposal.get('as_of') or ctx.as_of, ctx.tz)}: "
        f"won deals closed {_span(inputs.get('lookback_months'))}, MQL cohorts {_span(inputs.get('cohort_months'))} "
        "(customers counted as of now). Nothing changes until someone applies it."
    )
    if card is not None:
        quota = (card.get("marketing") or {}).get("quota")
        text += f" {month_label(ctx.month)}, the month on screen, has a quota of {plural(quota, 'MQL')}."
    without = inputs.get("won_deals_without_amount")
    if without:
        text += f" {plural(without, 'won deal')} without an amount left out of the average."
    return text


def _span(months: list[str] | None) -> str:
    """'Oct 2025 – Mar 2026 (6 months)'."""
    if not months:
        return "—"
    if len(months) == 1:
        return month_short(months[0])
    return f"{month_short(months[0])} – {month_short(months[-1])} ({len(months)} months)"


def _headline(proposal: Mapping) -> None:
    """Current vs proposed quota, then the inputs of the total."""
    inputs = proposal["inputs"]
    current, proposed = proposal.get("current_quota"), proposal.get("proposed_quota")
    change = None if current is None or proposed is None else proposed - current
    a, b, c, d, e = st.columns(5)
    a.metric("Current quota", count(current), border=True, help="The MQL quota of the terms in force for that month.")
    b.metric(
        "Proposed quota",
        count(proposed),
        border=True,
        delta=f"{change:+,}" if change else ("no change" if change == 0 else None),
        delta_color="off" if not change else "normal",
        delta_arrow="off" if not change else "auto",
        help="ceil(customers needed ÷ lead-to-customer rate), plus a carried shortfall when enabled; "
        "with segment quotas the sum of the segments' proposals.",
    )
    c.metric(
        "Average won deal",
        money(inputs.get("avg_deal_size")),
        border=True,
        help="Mean amount of the won deals closed in the lookback months.",
    )
    c.caption(f"from {plural(inputs.get('won_deals'), 'won deal')} · {money(inputs.get('won_revenue'))} won")
    d.metric(
        "Lead → customer",
        _rate_value(inputs),
        border=True,
        help="Customers ÷ MQLs of the cohort months (customers counted as of now), with its Wilson interval.",
    )
    d.caption(_rate_note(inputs))
    e.metric(
        "Customers needed",
        number(inputs.get("customers_needed")),
        border=True,
        help="Revenue goal × marketing's share ÷ average won deal, not rounded; the quota is rounded up once, "
        "at the end.",
    )
    e.caption(_customers_note(inputs))
    carried = inputs.get("carried_shortfall")
    if carried:
        st.caption(f":material/redo: Carried forward: last month's shortfall of {plural(carried, 'MQL')} is added.")


def _customers_note(inputs: Mapping) -> str:
    """'$960.0k from marketing ÷ $21.5k = 44.65 (not rounded)'."""
    goal, size, needed = inputs.get("revenue_goal"), inputs.get("avg_deal_size"), inputs.get("customers_needed")
    if needed is None:
        return f"{money(goal)} expected from marketing leads"
    return f"{money(goal)} from marketing ÷ {money(size)} = {needed:,.2f}, not rounded (the quota is rounded up)"


def _rate_value(inputs: Mapping) -> str:
    """The lead-to-customer rate with two decimals (rates are small)."""
    value = inputs.get("lead_to_customer_rate")
    return "—" if value is None else f"{value * 100:.2f}%"


def _rate_note(inputs: Mapping) -> str:
    """'171 customers of 2,488 MQLs · 95% CI 5.9–7.9%' (with 'few leads' under the threshold)."""
    mqls, customers = int(inputs.get("cohort_mqls") or 0), int(inputs.get("cohort_customers") or 0)
    r = rate(customers, mqls)
    text = f"{plural(customers, 'customer')} of {plural(mqls, 'MQL')}"
    if mqls:
        text += f" · 95% CI {wilson_text(r)}"
    return text + (" · few leads, read with care" if r["few"] else "")


def _segments(rows: list[dict]) -> None:
    """One row per segment: its own rate, deal size, share of the goal and proposal (or why it was kept)."""
    st.markdown(
        "**Per segment** — each segment's own deal size and conversion; its share of the goal is its "
        "share of the won revenue in the lookback months"
    )
    table(
        segment_frame(rows),
        {
            "Current": st.column_config.NumberColumn("Current"),
            "Proposed": st.column_config.NumberColumn("Proposed"),
            "Change": st.column_config.TextColumn("Change"),
            "Won deals": st.column_config.NumberColumn("Won deals"),
            "Average won deal": st.column_config.NumberColumn("Average won deal", format="$%,.0f"),
            "Customers / MQLs": st.column_config.TextColumn(
                "Customers / MQLs", help="Customers ÷ MQLs of the cohort months"
            ),
            "Lead → customer": st.column_config.NumberColumn("Lead → customer", format="%.2f%%"),
            "95% CI": st.column_config.TextColumn("95% CI", help=f"Wilson interval; 'few' under {FEW_LEADS} MQLs"),
            "Share of goal": st.column_config.NumberColumn(
                "Share of goal", format="%.1f%%", help="The segment's share of the won revenue in the lookback"
            ),
            "Customers needed": st.column_config.NumberColumn("Customers needed", format="%.1f"),
        },
        key="targets_segments",
    )


def segment_frame(rows: list[dict]) -> pd.DataFrame:
    """The per-segment proposals as display rows (pure); Carried and Note only when some segment has one."""
    out = []
    for row in rows:
        current, proposed = row.get("current_quota"), row.get("proposed_quota")
        mqls, customers = int(row.get("cohort_mqls") or 0), int(row.get("cohort_customers") or 0)
        r = rate(customers, mqls)
        out.append(
            {
                "Segment": str(row.get("segment")),
                "Current": current,
                "Proposed": proposed,
                "Change": f"{proposed - current:+,}" if current is not None and proposed is not None else "—",
                "Average won deal": row.get("avg_deal_size"),
                "Won deals": row.get("won_deals"),
                "Customers / MQLs": f"{count(customers)} / {count(mqls)}",
                "Lead → customer": None if not mqls else customers / mqls * 100,
                "95% CI": wilson_text(r) + (" · few" if r["few"] else ""),
                "Share of goal": None if row.get("revenue_share") is None else row["revenue_share"] * 100,
                "Customers needed": row.get("customers_needed"),
                "Carried": row.get("carried_shortfall"),
                "Note": row.get("reason") or "",
            }
        )
    frame = pd.DataFrame(out)
    if not frame["Carried"].fillna(0).any():
        frame = frame.drop(columns="Carried")
    if not frame["Note"].astype(bool).any():
        frame = frame.drop(columns="Note")
    return frame


def _formula_line(proposal: Mapping) -> str:
    """How the number is made, with this proposal's values."""
    inputs = proposal["inputs"]
    carried = " + carried shortfall" if inputs.get("carried_shortfall") else ""
    if proposal.get("by_segment"):
        return (
            "Each segment's proposal = ceil(its customers needed ÷ its lead-to-customer rate)"
            + carried
            + "; the total is their sum. The whole-company inputs above are for reference. A segment with too "
            "thin a history keeps its current quota."
        )
    if proposal.get("reason"):
        return "When the history is too thin for a rate or a deal size, the current target is kept."
    return (
        f"Proposed quota = ceil(customers needed {number(inputs.get('customers_needed'))} ÷ lead-to-customer rate "
        f"{_rate_value(inputs)}){carried}."
    )


def _in_force(ctx: PageContext, month: str) -> None:
    """Which terms version measures that month now, who made it and when."""
    version = _version_in_force(ctx, month)
    if version is None:
        st.caption(f"No terms are stored yet: {month_label(month)} would use the default terms.")
        return
    meta = loaders.version_note(ctx.url, version.version_id, ctx.token)
    saved = f", saved {local_time(meta['created_at'], ctx.tz, with_zone=False)}" if meta.get("created_at") else ""
    note = f" · {md_escape(meta['note'])}" if meta.get("note") else ""
    st.caption(
        f":material/handshake: In force for {month_label(month)} now: terms version {version.version_id} "
        f"(from {version.effective_from}{saved}){note}."
    )


def _version_in_force(ctx: PageContext, month: str) -> TermsVersion | None:
    """The stored version in force in a month (as api.version_for), from the cached list of versions."""
    return version_for_month(ctx.summary.versions, month)


def apply_blocker(proposal: Mapping, closed: list[str]) -> str | None:
    """Why the proposal cannot be applied (None when it can)."""
    if closed and proposal["month"] <= max(closed):
        return (
            f"{month_label(max(closed))} is closed and keeps its terms; a new version can only start "
            "after the last closed month."
        )
    current = proposal.get("current_quota")
    if proposal.get("proposed_quota") == current and not proposal.get("by_segment"):
        return "The proposal equals the quota in force, so there is nothing to apply."
    if proposal.get("by_segment") and all(
        r.get("proposed_quota") == r.get("current_quota") for r in proposal["by_segment"]
    ):
        return "Every segment's proposal equals its quota in force, so there is nothing to apply."
    return None


def _apply(ctx: PageContext, proposal: Mapping) -> None:
    """'I reviewed these inputs' then Apply: a new terms version from that month; never without the tick."""
    month = proposal["month"]
    blocker = apply_blocker(proposal, ctx.summary.closed)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        reviewed = st.checkbox(
            "I reviewed these inputs",
            key=REVIEWED_KEY,
            disabled=blocker is not None,
            help="Applying saves a new version of the agreement from that month on.",
        )
        clicked = st.button(
            f"Apply: quota {count(proposal['proposed_quota'])} from {month_label(month)}",
            key=APPLY_KEY,
            type="primary",
            icon=":material/done_all:",
            disabled=blocker is not None or not reviewed,
        )
    if blocker:
        st.caption(blocker)
        return
    if not clicked:
        return
    if not reviewed:  # a disabled button cannot be clicked; belt and braces all the same
        st.warning("Tick “I reviewed these inputs” first.", icon=":material/warning:")
        return
    try:
        version_id = api.apply_recalc(ctx.engine, dict(proposal), by=ctx.auth.user or "dashboard")
    except UserError as exc:
        st.error(md_escape(exc), icon=":material/error:")
        return
    loaders.refresh()
    st.session_state.pop(REVIEWED_KEY, None)
    st.session_state[FLASH_KEY] = (
        f"Applied: terms version {version_id} is in force from {month_label(month)} "
        f"(quota {count(proposal['current_quota'])} → {count(proposal['proposed_quota'])})."
    )
    st.rerun()
