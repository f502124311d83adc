"""Monthly recalculation (DESIGN section 6): next month's MQL quota from what actually happened.

For month M with lookback L and cohort lag G:
- avg_deal_size: mean amount of won deals closed in the L months before M;
- lead_to_customer_rate: customers / MQLs of the MQL cohorts [M − G − L, M − G), customers
  counted as of `as_of` (now);
- customers_needed = revenue_goal × marketing_share / avg_deal_size;
- proposed_quota = ceil(customers_needed / lead_to_customer_rate), plus last month's shortfall
  with carry_forward_shortfall.

With segment quotas, each segment gets its own rate and deal size, and its share of the
revenue goal is its share of the lookback's won revenue (the mix that actually happened).
When the history is too thin for a number, the current target is kept and `reason` says why.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from smarketing.core.frames import CrmData
from smarketing.core.funnel import won_deals_in
from smarketing.core.months import add_months, month_bounds, month_range
from smarketing.core.sales import lookup, mqls_as_of
from smarketing.core.scorecard import jsonable
from smarketing.core.terms import Terms

# ceil() of a value that is whole but for float noise (100.00000000001) must not add one.
_CEIL_TOLERANCE = 1e-9


def lookback_months(month: str, terms: Terms) -> list[str]:
    """The L months before M, where won deals give the average deal size."""
    return month_range(add_months(month, -terms.lookback_months), add_months(month, -1))


def cohort_months(month: str, terms: Terms) -> list[str]:
    """The MQL cohorts [M − G − L, M − G) whose conversion gives the lead-to-customer rate."""
    last = add_months(month, -terms.cohort_lag_months - 1)
    return month_range(add_months(month, -terms.cohort_lag_months - terms.lookback_months), last)


def reverse_funnel(
    revenue_goal: float, marketing_share: float, avg_deal_size: float | None, lead_to_customer_rate: float | None
) -> dict[str, float | int | None]:
    """Revenue goal × marketing share → customers needed → MQLs needed (None where undefined).

    The one formula of both the proposal and the Terms page's calculator: customers needed is
    not rounded; the MQLs are rounded up once, at the end."""
    marketing_revenue = revenue_goal * marketing_share
    customers = marketing_revenue / avg_deal_size if avg_deal_size and avg_deal_size > 0 else None
    mqls = (
        math.ceil(customers / lead_to_customer_rate - _CEIL_TOLERANCE)
        if customers is not None and lead_to_customer_rate and lead_to_customer_rate > 0
        else None
    )
    return {"marketing_revenue": marketing_revenue, "customers_needed": customers, "mqls_needed": mqls}


def _span(months: list[str], tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return month_bounds(months[0], tz)[0], month_bounds(months[-1], tz)[1]


def _inputs(
    won: pd.DataFrame,
    cohort: pd.DataFrame,
    as_of: pd.Timestamp,
    terms: Terms,
    revenue_share: float,
    current: int,
    shortfall: int,
    carry: bool,
) -> dict[str, Any]:
    """Every input of one quota proposal and the proposal itself (or the kept quota and why)."""
    won_count = int(len(won))
    known = won["amount"].dropna()  # an unknown amount is not 0 (DESIGN v2, section 2)
    avg_size = float(known.mean()) if len(known) else None
    mqls = int(len(cohort))
    customers = int((cohort["customer_at"].notna() & (cohort["customer_at"] <= as_of)).sum())
    rate = customers / mqls if mqls else None
    funnel = reverse_funnel(terms.revenue_goal * revenue_share, terms.marketing_share, avg_size, rate)
    goal, needed = funnel["marketing_revenue"], funnel["customers_needed"]
    reason = None
    if not won_count:
        reason = "no won deal closed in the lookback months, so there is no average deal size"
    elif not avg_size:
        reason = "the won deals in the lookback months have no amounts, so there is no average deal size"
    elif not mqls:
        reason = "the cohort months have no MQLs, so there is no lead-to-customer rate"
    elif not customers:
        reason = "no MQL of the cohort months has become a customer yet, so the rate is 0"
    carried = max(0, shortfall) if carry else 0
    proposed = current if reason else int(funnel["mqls_needed"]) + carried
    return {
        "current_quota": current,
        "proposed_quota": int(proposed),
        "inputs": {
            "avg_deal_size": avg_size,
            "won_deals": won_count,
            "won_revenue": float(known.sum()),
            "won_deals_without_amount": won_count - int(len(known)),
            "lead_to_customer_rate": rate,
            "cohort_mqls": mqls,
            "cohort_customers": customers,
            "revenue_goal": goal,
            "customers_needed": needed,
            "carried_shortfall": carried,
        },
        "reason": f"Kept the current quota: {reason}." if reason else None,
    }


def recalculate(
    data: CrmData, terms: Terms, month: str, as_of: pd.Timestamp, previous_terms: Terms | None = None
) -> dict[str, Any]:
    """The proposed quota for `month` with every input and where it came from.

    `terms` is the version in force for the month; `previous_terms` the one of the month
    before (for the carried shortfall; default the same)."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    tz = terms.timezone
    previous_terms = previous_terms or terms
    looked_back, cohorts = lookback_months(month, terms), cohort_months(month, terms)
    won = won_deals_in(data.deals, *_span(looked_back, tz), as_of)
    cohort_leads = mqls_as_of(data.leads, as_of, None, tz)
    start, end = _span(cohorts, tz)
    cohort_leads = cohort_leads.loc[(cohort_leads["mql_at"] >= start) & (cohort_leads["mql_at"] < end)]
    last_month = add_months(month, -1)
    last_mqls = mqls_as_of(data.leads, as_of, last_month, previous_terms.timezone)

    total = _inputs(
        won,
        cohort_leads,
        as_of,
        terms,
        1.0,
        terms.quota,
        previous_terms.quota - len(last_mqls),
        terms.carry_forward_shortfall,
    )
    by_segment = []
    if terms.segment_quotas:
        won_segment = lookup(data.leads.set_index("lead_id")["segment"], won["lead_id"])
        revenue = won.groupby(won_segment)["amount"].sum()
        total_revenue = float(revenue.sum())
        proposals = []
        for segment, current in terms.segment_quotas.items():
            share = float(revenue.get(segment, 0.0)) / total_revenue if total_revenue else 0.0
            seg_last = previous_terms.segment_quotas.get(segment, 0) - int((last_mqls["segment"] == segment).sum())
            proposal = _inputs(
                won.loc[won_segment == segment],
                cohort_leads.loc[cohort_leads["segment"] == segment],
                as_of,
                terms,
                share,
                int(current),
                seg_last,
                terms.carry_forward_shortfall,
            )
            proposal["inputs"]["revenue_share"] = share
            proposals.append({"segment": segment, **proposal})
        by_segment = proposals
        total["proposed_quota"] = int(sum(p["proposed_quota"] for p in proposals))
        kept = [p["segment"] for p in proposals if p["reason"]]
        if kept:
            total["reason"] = (
                "Kept the current quota for "
                + ", ".join(kept)
                + ": their history is too thin (see each segment's reason)."
            )
        else:
            total["reason"] = None
    result = {
        "month": month,
        "as_of": as_of.isoformat(),
        "current_quota": total["current_quota"],
        "proposed_quota": total["proposed_quota"],
        "inputs": {
            **total["inputs"],
            "lookback_months": looked_back,
            "cohort_months": cohorts,
        },
        "by_segment": [
            {
                "segment": p["segment"],
                "current_quota": p["current_quota"],
                "proposed_quota": p["proposed_quota"],
                **p["inputs"],
                "reason": p["reason"],
            }
            for p in by_segment
        ],
        "reason": total["reason"],
    }
    return jsonable(result)


def proposed_terms(terms: Terms, proposal: dict[str, Any]) -> Terms:
    """The terms with the proposal's quotas (what `--apply` saves as a new version)."""
    if proposal["by_segment"]:
        return terms.with_quota(
            proposal["proposed_quota"], {p["segment"]: p["proposed_quota"] for p in proposal["by_segment"]}
        )
    return terms.with_quota(proposal["proposed_quota"], None)
