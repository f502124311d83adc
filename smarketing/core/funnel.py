"""Funnel and revenue (DESIGN section 5): the revenue link between the two sides."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smarketing.core.calendar import NAT_NS, to_ns
from smarketing.core.frames import CrmData
from smarketing.core.months import month_bounds
from smarketing.core.sales import mqls_as_of

FEW_LEADS = 20  # below this many, a rate is shown with a "few leads" mark


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion (None when there are no trials)."""
    if trials <= 0:
        return None
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, trials: int) -> dict:
    """A rate with its Wilson interval and a small-sample flag."""
    interval = wilson_interval(successes, trials)
    return {
        "value": successes / trials if trials else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
        "successes": successes,
        "trials": trials,
        "few": trials < FEW_LEADS,
    }


def cohort_funnel(leads: pd.DataFrame, month: str, as_of: pd.Timestamp, tz: str) -> dict:
    """MQLs of a cohort month and how many became SQLs and customers by as_of."""
    cohort = mqls_as_of(leads, as_of, month, tz)
    customer = cohort["customer_at"].notna() & (cohort["customer_at"] <= as_of)
    sql = (cohort["sql_at"].notna() & (cohort["sql_at"] <= as_of)) | customer
    mqls, sqls, customers = int(len(cohort)), int(sql.sum()), int(customer.sum())
    return {
        "mqls": mqls,
        "sqls": sqls,
        "customers": customers,
        "mql_to_sql": rate(sqls, mqls),
        "mql_to_customer": rate(customers, mqls),
    }


def won_deals_in(deals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Deals won with closed_at in [start, end) and not after as_of."""
    return deals.loc[won_mask(deals, start, end, as_of)]


def won_mask(deals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp) -> np.ndarray:
    """Which deals won_deals_in keeps."""
    return (
        (deals["status"] == "won")
        & deals["closed_at"].notna()
        & (deals["closed_at"] >= start)
        & (deals["closed_at"] < end)
        & (deals["closed_at"] <= as_of)
    ).to_numpy(dtype=bool)


def revenue_summary(data: CrmData, month: str, as_of: pd.Timestamp, tz: str) -> dict:
    """Won deals and revenue of a close month, and the part from deals whose lead was an MQL."""
    start, end = month_bounds(month, tz)
    won_rows = won_mask(data.deals, start, end, as_of)
    won = data.deals.loc[won_rows]
    rows = data.deal_lead_rows()[won_rows]
    mql_ns = np.append(to_ns(data.leads["mql_at"]), NAT_NS)  # row -1 (unknown lead) → missing
    lead_mql = mql_ns[rows]
    from_mqls = won.loc[(lead_mql != NAT_NS) & (lead_mql <= as_of.value)]
    known = won["amount"].dropna()
    return {
        "won_deals": int(len(won)),
        "won_revenue": known_total(won["amount"]),
        "avg_won_deal_size": float(known.mean()) if len(known) else None,
        "won_deals_without_amount": int(won["amount"].isna().sum()),
        "mql_won_deals": int(len(from_mqls)),
        "mql_won_revenue": known_total(from_mqls["amount"]),
    }


def known_total(amounts: pd.Series) -> float | None:
    """Sum of the known amounts; None (unknown) when there are amounts but none is known.

    No deal at all is 0 revenue; deals whose amounts are all missing are unknown revenue."""
    known = amounts.dropna()
    if len(amounts) and not len(known):
        return None
    return float(known.sum())


def funnel_summary(data: CrmData, month: str, as_of: pd.Timestamp, tz: str, cohort: pd.DataFrame | None = None) -> dict:
    """The shared strip of a scorecard: cohort funnel plus close-month revenue (pass the month's
    MQLs as `cohort` when already selected)."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    leads = data.leads if cohort is None else cohort
    return {**cohort_funnel(leads, month, as_of, tz), **revenue_summary(data, month, as_of, tz)}
