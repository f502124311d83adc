"""Scorecard assembly: both sides of one month as a JSON-ready dict (DESIGN section 7)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from smarketing.core.consequences import consequence_rows
from smarketing.core.frames import CrmData
from smarketing.core.funnel import funnel_summary
from smarketing.core.lead_filter import LeadFilter, filter_leads, scoped_data, scoped_marketing
from smarketing.core.marketing import Priors, marketing_summary, mql_counts, prior_months, priors_of
from smarketing.core.months import is_over
from smarketing.core.quality import lead_quality
from smarketing.core.sales import (
    PENDING,
    acceptance_summary,
    attempts_summary,
    first_touch_summary,
    lead_ledger,
    mqls_as_of,
    mqls_by_month,
    owner_summary,
)
from smarketing.core.terms import Terms, TermsVersion, terms_for_month

LEDGER_COLUMNS = [
    "lead_id",
    "owner_id",
    "segment",
    "mql_at",
    "clock_start",
    "first_touch_deadline",
    "first_touch_at",
    "response_hours",
    "first_touch_status",
    "attempts",
    "attempts_deadline",
    "attempts_status",
    "accepted_at",
    "rejected_at",
    "rejection_reason",
    "acceptance_deadline",
    "acceptance_status",
    "excluded_from",
]
# Version 2 keys of `leads --format json` (DESIGN section 7), after the version 1 ones.
LEDGER_V2_COLUMNS = ["calendar"]


def build_scorecard(
    data: CrmData,
    terms: Terms,
    month: str,
    as_of: pd.Timestamp,
    ledger: pd.DataFrame | None = None,
    *,
    commitments_only: bool = False,
    month_mqls: pd.DataFrame | None = None,
    priors: Priors | None = None,
) -> dict[str, Any]:
    """The month's two-sided scorecard as of an instant (pass `ledger`, `month_mqls` (the month's
    mqls_as_of) and the marketing `priors` when already computed).

    With `commitments_only` the card holds just what consequences read (the marketing part, the
    sales commitments, month_over): no funnel and no by-owner table, for history months."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    if ledger is None:
        ledger = lead_ledger(data, terms, as_of, month)
    if month_mqls is None:
        month_mqls = mqls_as_of(data.leads, as_of, month, terms.timezone)
    over = is_over(month, as_of, terms.timezone)
    marketing = marketing_summary(
        month_mqls, terms, month, as_of, history=data.mql_history(), exclusions=data.exclusions, priors=priors
    )
    if terms.max_rejection_rate is not None:
        pending = int((ledger["acceptance_status"] == PENDING).sum())
        marketing.update(lead_quality(month_mqls, terms.max_rejection_rate, as_of, over, pending))
    sales = {
        "has_activities": data.has_touches,
        "first_touch": first_touch_summary(ledger, terms, over, has_touches=data.has_touches),
        "attempts": attempts_summary(ledger, terms, over, has_touches=data.has_touches),
    }
    if not commitments_only:
        sales["by_owner"] = owner_summary(ledger, data.owners)
    acceptance = acceptance_summary(ledger, terms, over)
    if acceptance is not None:
        sales["acceptance"] = acceptance
    card = {
        "month": month,
        "as_of": iso(as_of, terms.timezone),
        "timezone": terms.timezone,
        "month_over": over,
        "marketing": marketing,
        "sales": sales,
    }
    if not commitments_only:
        card["funnel"] = funnel_summary(data, month, as_of, terms.timezone, cohort=month_mqls)
        card["funnel"]["revenue_goal"] = terms.revenue_goal
        card["funnel"]["marketing_revenue_goal"] = terms.revenue_goal * terms.marketing_share
    return jsonable(card)


def build_scorecards(
    data: CrmData,
    versions: list[TermsVersion],
    months: list[str],
    as_of: pd.Timestamp,
    *,
    commitments_only: bool = False,
) -> dict[str, dict[str, Any]]:
    """Scorecards for many months, each under the terms version in force for it.

    The ledger is computed once per distinct terms version; it, the MQLs and the marketing priors
    are split by month in one pass each (the same rows and numbers as build_scorecard per month)."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    by_terms: dict[int, tuple[Terms, list[str]]] = {}
    for month in months:
        terms = terms_for_month(versions, month)
        by_terms.setdefault(id(terms), (terms, []))[1].append(month)
    cards: dict[str, dict[str, Any]] = {}
    history = data.mql_history()
    for terms, group in by_terms.values():
        tz = terms.timezone
        ledgers = mqls_by_month(lead_ledger(data, terms, as_of), as_of, group, tz)
        mqls = mqls_by_month(data.leads, as_of, group, tz)
        counts = mql_counts(history, sorted({p for m in group for p in prior_months(m)}), as_of, tz)
        for month in group:
            cards[month] = build_scorecard(
                data,
                terms,
                month,
                as_of,
                ledger=ledgers[month].reset_index(drop=True),
                commitments_only=commitments_only,
                month_mqls=mqls[month],
                priors=priors_of(counts, month),
            )
    return {m: cards[m] for m in months}


def scoped_scorecard(
    data: CrmData,
    terms: Terms,
    month: str,
    as_of: pd.Timestamp,
    lead_filter: LeadFilter,
    ledger: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The month's commitments computed over the filter's leads only (pass the month's whole `ledger`
    when already computed): their MQLs, sources, rejections, compliance and response times."""
    if ledger is not None:
        ledger = filter_leads(ledger, data.owners, lead_filter.scope()).reset_index(drop=True)
    card = build_scorecard(scoped_data(data, lead_filter), terms, month, as_of, ledger=ledger, commitments_only=True)
    return {**card, "marketing": scoped_marketing(card["marketing"], lead_filter), "scope": lead_filter.params()}


def scoped_scorecards(
    data: CrmData, versions: list[TermsVersion], months: list[str], as_of: pd.Timestamp, lead_filter: LeadFilter
) -> dict[str, dict[str, Any]]:
    """`scoped_scorecard` for many months from one load (build_scorecards over the filter's leads)."""
    cards = build_scorecards(scoped_data(data, lead_filter), versions, months, as_of, commitments_only=True)
    scope = lead_filter.params()
    return {
        m: {**c, "marketing": scoped_marketing(c["marketing"], lead_filter), "scope": scope} for m, c in cards.items()
    }


def ledger_records(ledger: pd.DataFrame, tz: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Ledger rows as JSON-ready dicts: instants ISO 8601 in local time, missing as None."""
    frame = ledger[columns or LEDGER_COLUMNS]
    out = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = [iso(v, tz) for v in values]
        elif column == "excluded_from":
            out[column] = [str(v).split(",") if isinstance(v, str) and v else [] for v in values]
        else:
            out[column] = [jsonable(v) for v in values.astype(object)]
    return [dict(zip(out, row)) for row in zip(*out.values())]


def iso(instant: Any, tz: str) -> str | None:
    """An instant as ISO 8601 with the local offset (None when missing)."""
    if instant is None or pd.isna(instant):
        return None
    return pd.Timestamp(instant).tz_convert(tz).isoformat()


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars and NaN into plain JSON values, recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _or_none(value: Any, absent: str) -> Any:
    """The value, or words for its absence (never a literal None in a table)."""
    return absent if value is None else value


MARKETING_HEADLINE = (
    "quota",
    "mqls",
    "attainment",
    "elapsed_fraction",
    "expected_to_date",
    "pace",
    "prior",
    "projected",
    "required_daily_rate",
    "status",
)


def scorecard_rows(card: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The headline numbers as (side, measure, value) rows, for tables and CSV."""
    mkt, ft, att, fun = (card["marketing"], card["sales"]["first_touch"], card["sales"]["attempts"], card["funnel"])
    rows = [("marketing", k, mkt.get(k)) for k in MARKETING_HEADLINE]
    rows += [
        ("marketing", f"segment {s['segment']} mqls / quota", f"{s['mqls']} / {_or_none(s['quota'], 'no quota')}")
        for s in mkt["by_segment"]
    ]
    rows += [
        ("sales first touch", k, ft.get(k))
        for k in (
            "met",
            "breached",
            "pending",
            "compliance",
            "median_hours",
            "p90_hours",
            "status",
            "budget_left",
            "needed_of_pending",
        )
    ]
    rows += [
        ("sales attempts", k, att.get(k))
        for k in ("met", "breached", "pending", "compliance", "status", "budget_left", "needed_of_pending")
    ]
    if card["sales"].get("acceptance"):
        rows += [
            ("sales acceptance", k, card["sales"]["acceptance"].get(k))
            for k in (
                "met",
                "breached",
                "pending",
                "excluded",
                "compliance",
                "status",
                "budget_left",
                "needed_of_pending",
            )
        ]
    if mkt.get("quality_status"):
        rows += [
            ("marketing lead quality", k, mkt.get(k))
            for k in ("mqls_total", "rejected", "rejection_rate", "max_rejection_rate", "quality_status")
        ]
    rows += [
        ("funnel", k, fun.get(k))
        for k in ("mqls", "sqls", "customers", "won_deals", "won_revenue", "won_deals_without_amount")
    ]
    if card.get("consequences"):
        rows += consequence_rows(card["consequences"])
    return rows
