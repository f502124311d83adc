"""The Home page's sections: the two-sided scorecard, the revenue strip and the detail row."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from smarketing.core.evidence import NO_ACTIVITIES, UNKNOWN, pending_note, plural, projection_note
from smarketing.core.funnel import FEW_LEADS, rate
from smarketing.ui import charts, tables
from smarketing.ui.components import (
    downloads,
    empty_state,
    hours_column,
    percent_column,
    plot,
    plot_or_empty,
    status_badge,
    table,
)
from smarketing.ui.context import PageContext
from smarketing.ui.exports import ledger_csv, ledger_xlsx, scorecard_csv, scorecard_xlsx
from smarketing.ui.fmt import (
    STATUS_BADGE,
    count,
    hours,
    local_time,
    md_escape,
    missing,
    money,
    month_label,
    number,
    pct,
    pp,
    rate_text,
    signed_money,
    status_word,
)
from smarketing.ui.loaders import MonthBundle, month_window


def delta_color(now: float | None, before: float | None, normal: str = "normal") -> str:
    """The metric's delta colour: grey when nothing changed (a zero change is neither good nor bad)."""
    if missing(now) or missing(before) or now == before:
        return "off"
    return normal


def delta(now: float | None, before: float | None, kind: str = "pp") -> str | None:
    """The change since last month as display text (None when either side is missing)."""
    if missing(now) or missing(before):
        return None
    if kind == "pp":
        return pp(now - before)
    if kind == "h":
        return f"{now - before:+.1f} h"
    return f"{now - before:+,.0f}"


def month_state(card: dict, ctx: PageContext) -> str:
    """'in progress (56% of the month gone)', 'over, not closed yet' or 'closed … (frozen)'."""
    if card.get("closed_at"):
        return (
            f"closed on {local_time(card['closed_at'], ctx.tz, with_zone=False)} by "
            f"{md_escape(card.get('closed_by'))} · frozen scorecard"
        )
    if ctx.month in ctx.summary.closed:
        return "closed · showing live numbers (the frozen ones are the numbers of record)"
    if card.get("month_over"):
        return "month over · live numbers (not closed yet)"
    if card["marketing"].get("status") == "not_started":
        return "not started yet"
    share = card["marketing"].get("elapsed_fraction") or 0
    return f"in progress · {share * 100:.0f}% of the month gone"


def header_line(ctx: PageContext, bundle: MonthBundle, card: dict) -> None:
    """Month, its state, the terms version and the export menu."""
    left, right = st.columns([5, 1], vertical_alignment="center")
    version = (
        f"terms version {bundle.version_id} (from {bundle.version_from})" if bundle.version_id else "default terms"
    )
    left.caption(
        f"**{month_label(ctx.month)}** · {month_state(card, ctx)} · as of "
        f"{local_time(card['as_of'], ctx.tz)} · {version}"
    )
    with right.popover("Export", icon=":material/download:", width="stretch"):
        name = f"smarketing-{ctx.month}"
        downloads(f"{name}-scorecard", lambda: scorecard_csv(card), lambda: scorecard_xlsx(card), "score", "Scorecard")
        downloads(
            f"{name}-ledger",
            lambda: ledger_csv(bundle.ledger, ctx.tz),
            lambda: ledger_xlsx(bundle.ledger, ctx.tz),
            "ledger",
            "Lead ledger",
        )


def last_month_glance(prev: dict | None, prev_month: str) -> None:
    """Did both teams keep their side last month? One line of three statuses."""
    if not prev or not prev["marketing"].get("mqls"):
        return
    m, ft, att = prev["marketing"], prev["sales"]["first_touch"], prev["sales"]["attempts"]
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(f"**Last month, {month_label(prev_month)}:**", width="content")
        for name, part, note in (
            ("Marketing", m, f"{count(m['mqls'])} of {plural(m.get('quota'), 'MQL')}"),
            ("First touch", ft, pct(ft.get("compliance"))),
            ("Attempts", att, pct(att.get("compliance"))),
        ):
            icon, color = STATUS_BADGE.get(part.get("status") or "no_data", (":material/help:", "gray"))
            shown = f" · {note}" if note != "—" else ""
            st.badge(f"{name}: {status_word(part.get('status'))}{shown}", icon=icon, color=color)


def marketing_card(card: dict, prev: dict | None, prev_label: str) -> None:
    """Marketing's commitment: delivered vs quota, pace, projection, required daily rate."""
    m = card["marketing"]
    p = (prev or {}).get("marketing", {})
    with st.container(border=True):
        st.subheader(":material/campaign: Marketing")
        st.caption(
            f"Promise: {plural(m.get('quota'), 'MQL')} this month"
            if m.get("quota") is not None
            else "No MQL quota in the terms for this month"
        )
        status_badge(m.get("status"), _marketing_note(m))
        a, b = st.columns(2)
        a.metric(
            "MQLs delivered",
            count(m["mqls"]),
            help="Leads that became MQLs this month, up to the moment these numbers are as of.",
            delta=delta(m["mqls"], p.get("mqls"), "n") if card.get("month_over") else None,
            delta_color=delta_color(m["mqls"], p.get("mqls")),
            delta_description=prev_label if card.get("month_over") else None,
        )
        b.metric(
            "Pace",
            pct(m.get("pace"), 0),
            delta=delta(m.get("pace"), _final_pace(p)),
            delta_color=delta_color(m.get("pace"), _final_pace(p)),
            delta_description=prev_label,
            help="MQLs against the straight pacing line "
            "(quota × share of the month gone). At month end this is the attainment.",
        )
        c, d = st.columns(2)
        c.metric(
            "Projected at month end",
            count(m.get("projected")),
            help="This month's pace blended with the last three months' average (the quota when they have "
            "no MQLs): early in the month the recent months weigh most, from about a week in the month's own pace.",
        )
        d.metric(
            "Needed per day",
            number(m.get("required_daily_rate")) if m.get("required_daily_rate") is not None else "—",
            help="(quota − delivered) ÷ calendar days left, counting today.",
        )
        st.caption(f"Attainment {pct(m.get('attainment'), 0)} of quota · {plural(m.get('days_left', 0), 'day')} left")
        note = projection_note(m)
        if note:
            st.caption(note)
        if m.get("quota_counts") == "not_rejected" or m.get("mqls_total", m["mqls"]) != m["mqls"]:
            st.caption(
                f"{count(m['mqls'])} of {count(m.get('mqls_total'))} MQLs count toward the quota "
                "(rejected by sales or excluded by an approved dispute: not counted)."
            )
        lead_quality(m)
        segment_table(m.get("by_segment", []), compact=True)


def lead_quality(m: dict) -> None:
    """Marketing's quality promise: the share of MQLs sales rejected, against the maximum."""
    if not m.get("quality_status"):
        return
    status_badge(
        m.get("quality_status"),
        f"Lead quality · {count(m.get('rejected'))} of {count(m.get('mqls_total'))} rejected "
        f"(at most {pct(m.get('max_rejection_rate'), 0)})",
    )
    top = ", ".join(f"{r['reason']} {r['count']}" for r in (m.get("rejections_by_reason") or [])[:3])
    st.metric(
        "Rejection rate",
        pct(m.get("rejection_rate")),
        help="MQLs of this month that sales rejected by as_of ÷ all MQLs of the month.",
    )
    if top:
        st.caption(f"Top reasons: {md_escape(top)}")


def _marketing_note(m: dict) -> str:
    """The status in numbers."""
    if m.get("quota") is None:
        return plural(m["mqls"], "MQL")
    if m.get("status") == "not_started":
        return f"nothing delivered yet · projected {count(m.get('projected'))} of {count(m['quota'])}"
    if m.get("status") in ("met", "missed"):
        return f"{count(m['mqls'])} of {count(m['quota'])} delivered"
    return f"projected {count(m.get('projected'))} of {count(m['quota'])}"


def _final_pace(p: dict) -> float | None:
    """Last month's pace (its attainment once it is over)."""
    return p.get("pace") if p else None


def revenue_strip(card: dict, prev: dict | None, prev_label: str) -> None:
    """MQLs → SQLs → customers → won revenue against the goal (the link between the sides)."""
    f = card["funnel"]
    with st.container(border=True):
        st.subheader(":material/paid: Revenue")
        st.metric("MQLs", count(f["mqls"]), help="This month's MQLs (the cohort below).")
        st.metric("→ SQLs", count(f["sqls"]), help="MQLs of this month with an SQL (or later) date by the time shown.")
        st.caption(rate_text(f.get("mql_to_sql")))
        st.metric(
            "→ Customers", count(f["customers"]), help="MQLs of this month that became customers by the time shown."
        )
        st.caption(rate_text(f.get("mql_to_customer"), 1))
        goal = f.get("revenue_goal") or 0
        won = f.get("won_revenue")
        p = (prev or {}).get("funnel", {})
        over = bool(card.get("month_over"))
        compare = over and won is not None and p.get("won_revenue") is not None
        st.metric(
            "Won revenue",
            UNKNOWN if won is None else money(won),
            help="Deals won with a close date in this month, from the deals whose amount is known.",
            delta=signed_money(won - p["won_revenue"]) if compare else None,
            delta_color=delta_color(won, p.get("won_revenue")) if compare else "normal",
            delta_description=prev_label if compare else None,
        )
        if goal and won is not None:
            st.progress(min(1.0, won / goal), text=f"{pct(won / goal, 0)} of {money(goal)} goal")
        without = f.get("won_deals_without_amount") or 0
        mql_won = f.get("mql_won_revenue")
        st.caption(
            f"{plural(f.get('won_deals'), 'deal')} won"
            + (f" ({plural(without, 'deal')} without an amount)" if without else "")
            + f" · {UNKNOWN if mql_won is None else money(mql_won)} from MQLs "
            f"(marketing's part of the goal: {money(f.get('marketing_revenue_goal'))})"
        )


def sales_card(card: dict, prev: dict | None, prev_label: str) -> None:
    """Sales' two commitments: first touch in time and enough attempts."""
    ft, att = card["sales"]["first_touch"], card["sales"]["attempts"]
    pft = (prev or {}).get("sales", {}).get("first_touch", {})
    patt = (prev or {}).get("sales", {}).get("attempts", {})
    with st.container(border=True):
        st.subheader(":material/support_agent: Sales")
        st.caption(promise_text(ft, att))
        if ft.get("status") == "no_activity_data":
            status_badge("no_activity_data", f"{plural(ft.get('leads'), 'MQL')} this month")
            empty_state(
                NO_ACTIVITIES + " Import the CRM's calls, e-mails and meetings to judge first touch and attempts."
            )
            return
        status_badge(ft.get("status"), "First touch · " + _budget_note(ft))
        a, b = st.columns(2)
        a.metric(
            "First-touch compliance",
            pct(ft.get("compliance")),
            delta=delta(ft.get("compliance"), pft.get("compliance")),
            delta_color=delta_color(ft.get("compliance"), pft.get("compliance")),
            delta_description=prev_label,
            help=f"Met ÷ (met + breached), target {pct(ft.get('target'), 0)}; pending leads are not judged yet.",
        )
        b.metric(
            "Median response",
            hours(ft.get("median_hours")),
            delta=delta(ft.get("median_hours"), pft.get("median_hours"), "h"),
            delta_color=delta_color(ft.get("median_hours"), pft.get("median_hours"), "inverse"),
            delta_description=prev_label,
            help="Business hours from the clock start to the first touch.",
        )
        c, d = st.columns(2)
        c.metric(
            "p90 response",
            hours(ft.get("p90_hours")),
            delta=delta(ft.get("p90_hours"), pft.get("p90_hours"), "h"),
            delta_color=delta_color(ft.get("p90_hours"), pft.get("p90_hours"), "inverse"),
            delta_description=prev_label,
            help="90% of first touches came faster than this.",
        )
        d.metric(
            "Breach budget left",
            budget_value(ft),
            help="Breaches the target still allows this month: floor((1 − target) × leads) − breached.",
        )
        st.caption(counts_note(ft))
        _pending_caption(ft)
        status_badge(att.get("status"), "Attempts · " + _budget_note(att))
        e, g = st.columns(2)
        e.metric(
            "Attempt compliance",
            pct(att.get("compliance")),
            delta=delta(att.get("compliance"), patt.get("compliance")),
            delta_color=delta_color(att.get("compliance"), patt.get("compliance")),
            delta_description=prev_label,
            help=f"Leads with {att.get('min_attempts')} attempts (or converted) "
            f"within the window, of those judged; target {pct(att.get('target'), 0)}.",
        )
        g.metric("Attempt budget left", budget_value(att), help="Breaches the attempts target still allows.")
        st.caption(counts_note(att) + f" · {count(att.get('converted'))} converted early")
        _pending_caption(att)
        acceptance_block(
            card["sales"].get("acceptance"), (prev or {}).get("sales", {}).get("acceptance") or {}, prev_label
        )


def _pending_caption(part: dict) -> None:
    """How many pending leads must still be met, when some are pending."""
    note = pending_note(part)
    if note:
        st.caption(f":material/hourglass_top: {note}")


def acceptance_block(acc: dict | None, prev: dict, prev_label: str = "") -> None:
    """Sales' third commitment (when the terms set acceptance_hours): accept or reject every MQL in time."""
    if not acc:
        return
    status_badge(acc.get("status"), "Acceptance · " + _budget_note(acc))
    a, b = st.columns(2)
    a.metric(
        "Acceptance compliance",
        pct(acc.get("compliance")),
        delta=delta(acc.get("compliance"), prev.get("compliance")),
        delta_description=prev_label or None,
        help=f"MQLs accepted or rejected within {number(acc.get('target_hours'), 0)} business hours"
        + (" (a qualifying touch counts as accepting)" if acc.get("touch_accepts") else "")
        + f", of those judged; target {pct(acc.get('target'), 0)}.",
    )
    b.metric("Acceptance budget left", budget_value(acc), help="Late decisions the acceptance target still allows.")
    st.caption(
        counts_note(acc) + f" · {count(acc.get('rejected'))} rejected ({count(acc.get('rejected_in_time'))} in time)"
    )


def budget_value(part: dict) -> str:
    """'11 of 22' breaches left, or '45 over' when the budget is spent."""
    if not part.get("leads") or part.get("budget_left") is None:
        return "—"
    left = part.get("budget_left")
    return f"{left} of {part.get('allowed_breaches')}" if left >= 0 else f"{-left} over"


def promise_text(ft: dict, att: dict) -> str:
    """The sales side's promise in one sentence."""
    return (
        f"Promise: first touch within {_target_hours(ft.get('target_hours'))} business hours for "
        f"{pct(ft.get('target'), 0)} of MQLs; {att.get('min_attempts')} attempts within "
        f"{number(att.get('window_days'), 0)} business days for {pct(att.get('target'), 0)}"
    )


def _target_hours(target: object) -> str:
    """'4' or '2 / 4 / 8' for a per-segment table."""
    if isinstance(target, dict):
        return " / ".join(f"{v:g}" for v in target.values()) + f" ({' / '.join(target)})"
    return f"{target:g}" if isinstance(target, (int, float)) else "—"


def _budget_note(part: dict) -> str:
    """'11 of 22 allowed breaches left' (or how far over budget)."""
    left, allowed = part.get("budget_left"), part.get("allowed_breaches")
    if left is None or not part.get("leads"):
        return "no leads to judge yet"
    if left < 0:
        return f"{-left} breaches over the budget of {allowed}"
    return f"{left} of {allowed} allowed breaches left"


def counts_note(part: dict) -> str:
    """'208 met · 11 breached · 5 pending', with the interval and a few-leads mark."""
    judged = part.get("met", 0) + part.get("breached", 0)
    text = (
        f"{count(part.get('met'))} met · {count(part.get('breached'))} breached · {count(part.get('pending'))} pending"
    )
    if part.get("excluded"):
        text += f" · {count(part['excluded'])} excluded"
    r = rate(part.get("met", 0), judged)
    if judged:
        text += f" · 95% CI {pct(r['low'], 0)}–{pct(r['high'], 0)}"
    if judged < FEW_LEADS:
        text += " · few leads, read with care"
    return text


def pace_section(ctx: PageContext, bundle: MonthBundle, card: dict) -> None:
    """The pace chart and the segment / source split."""
    m = card["marketing"]
    with st.container(border=True):
        st.markdown("**Pace of the month** — cumulative MQLs, the straight pacing line and the projection")
        if not m["mqls"] and not m.get("quota"):
            empty_state("No MQLs in this month yet, and no quota to pace against.")
        else:
            start, end = month_window(ctx.month, ctx.tz)
            as_of_local = bundle.as_of.tz_convert(ctx.tz).tz_localize(None)
            plot(
                charts.pace_chart(bundle.daily, m.get("quota"), m["mqls"], m.get("projected"), start, end, as_of_local),
                key="pace",
            )
        st.markdown("**MQLs per source**")
        if m.get("by_source"):
            plot(charts.source_bars(m["by_source"], height=60 + 26 * len(m["by_source"])), key="sources")
        else:
            empty_state("No MQLs yet this month, so no sources to show.")


def segment_table(by_segment: list[dict], compact: bool = False, link: Callable[[str], str] | None = None) -> None:
    """Per-segment delivered / quota / attainment / status (compact: without the pacing columns); with
    `link` (segment → URL), each segment's leads open in the ledger."""
    if not by_segment:
        empty_state("No segments yet: no MQLs this month and no segment quotas in the terms.")
        return
    if compact:
        table(tables.segment_summary(by_segment), key="segments_compact")
        return
    table(
        tables.segment_table(by_segment, link),
        {
            "Leads in ledger": st.column_config.LinkColumn(
                "Leads in ledger", display_text="Open ↗", help="The segment's MQLs in the lead ledger"
            ),
            "Attainment": st.column_config.ProgressColumn("Attainment", format="%.0f%%", min_value=0, max_value=100),
            "Projected": st.column_config.NumberColumn("Projected", format="%.0f"),
            "Needed per day": st.column_config.NumberColumn("Needed per day", format="%.1f"),
        },
    )


def details(ctx: PageContext, bundle: MonthBundle, card: dict) -> None:
    """The pace (left) and the rep leaderboard with the slowest responders (right)."""
    left, right = st.columns(2)
    with left:
        pace_section(ctx, bundle, card)
    with right:
        sales_details(card)


def sales_details(card: dict) -> None:
    """Rep leaderboard, the slowest responders and routing vs rep delay."""
    ft = card["sales"]["first_touch"]
    owners = card["sales"].get("by_owner", [])
    with st.container(border=True):
        st.markdown("**Rep leaderboard** — first-touch compliance, best first")
        if ft.get("status") == "no_activity_data":
            empty_state(NO_ACTIVITIES)
            return
        if not owners:
            empty_state("No MQLs to follow up this month yet.")
            return
        board = tables.leaderboard(owners)
        table(
            board[["Rep", "Leads", "First touch", "First touch 95% CI", "Median response", "Sample"]],
            {
                "First touch": percent_column("First touch", "Met ÷ judged leads"),
                "First touch 95% CI": st.column_config.TextColumn("95% CI", help="Wilson interval of the compliance"),
                "Median response": hours_column("Median"),
                "Sample": st.column_config.TextColumn("Sample", help=f"'few leads' under {FEW_LEADS} judged leads"),
            },
            key="leaderboard",
            height=38 + 35 * len(board),
        )
        st.markdown("**Slowest first response** (median business hours)")
        slowest = tables.slowest_reps(owners)
        if slowest.empty:
            empty_state("No rep has a first touch this month yet, so there are no response times to rank.")
        else:
            table(
                slowest,
                {"Median response": hours_column("Median"), "p90 response": hours_column("p90")},
                key="slowest",
            )
        st.markdown("**Where the wait comes from** — routing vs rep delay (mean business hours)")
        plot_or_empty(
            charts.delay_split(ft.get("routing_delay_mean_hours"), ft.get("rep_delay_mean_hours")),
            ft.get("rep_delay_mean_hours") is not None,
            "No first touch yet this month, so there is no wait to split.",
            key="delays",
        )
        st.caption(
            f"Median routing delay {hours(ft.get('routing_delay_median_hours'))} · "
            f"median rep delay {hours(ft.get('rep_delay_median_hours'))}"
        )


def previous_label(month: str) -> str:
    """'vs Feb 2026'."""
    return f"vs {pd.Period(month, freq='M').strftime('%b')}"
