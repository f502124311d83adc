"""Marketing side (DESIGN section 5): MQLs delivered against the month's quota, and pacing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smarketing.core.exclusions import excluded_mask
from smarketing.core.months import add_months, days_left_in_month, month_bounds, month_codes
from smarketing.core.sales import mqls_as_of
from smarketing.core.terms import Terms

PRIOR_WEIGHT = 0.25  # w: how many months' worth of evidence the prior counts for
PRIOR_MONTHS = 3


def elapsed_fraction(month: str, as_of: pd.Timestamp, tz: str) -> float:
    """Share of the local month's real duration that has passed at as_of, in [0, 1]."""
    start, end = month_bounds(month, tz)
    fraction = (as_of - start) / (end - start)
    return float(min(max(fraction, 0.0), 1.0))


def quota_status(
    mqls: int, quota: float, projected: float | None, month_over: bool, at_risk_ratio: float, *, started: bool = True
) -> str:
    """not_started / met / missed / on_track / at_risk / behind."""
    if not started:
        return "not_started"
    if mqls >= quota:
        return "met"
    if month_over:
        return "missed"
    if projected is None or projected >= quota:
        return "on_track"
    if projected >= at_risk_ratio * quota:
        return "at_risk"
    return "behind"


def blended_projection(mqls: int, fraction: float, prior: float) -> float:
    """Month-end MQLs: the month's own pace pulled toward `prior` while evidence is thin.

    mqls + (1 − f) × (mqls + prior × w) / (f + w): at f = 0 it is prior, at f = 1 it is mqls."""
    return mqls + (1 - fraction) * (mqls + prior * PRIOR_WEIGHT) / (fraction + PRIOR_WEIGHT)


def prior_months(month: str) -> list[str]:
    """The calendar months whose MQL counts make a month's prior, oldest first."""
    return [add_months(month, -k) for k in range(PRIOR_MONTHS, 0, -1)]


MqlCounts = tuple[pd.Series, pd.Series]
Priors = tuple[float | None, dict]


def mql_counts(history: pd.DataFrame, months: list[str], as_of: pd.Timestamp, tz: str) -> MqlCounts:
    """MQLs known by as_of per local month of `months` and per (segment, month), in one pass;
    a month (or pair) with no MQL is absent."""
    mql_at = history["mql_at"]
    code = month_codes(mql_at, months, tz)
    keep = (mql_at.notna() & (mql_at <= as_of)).to_numpy(dtype=bool) & (code >= 0)
    earlier = history.loc[keep, ["segment"]].assign(month=np.asarray(months, dtype=object)[code[keep]])
    return earlier.groupby("month").size(), earlier.groupby(["segment", "month"]).size()


def priors_of(counts: MqlCounts, month: str) -> Priors:
    """Mean MQL count of the three months before `month`, over those with at least one MQL
    (None when none has), overall and per segment: (overall, {segment: prior})."""
    window = prior_months(month)
    overall, pairs = counts
    overall = overall[overall.index.isin(window)]
    by_segment = pairs[pairs.index.get_level_values("month").isin(window)].groupby(level="segment").mean()
    return (float(overall.mean()) if len(overall) else None), {str(k): float(v) for k, v in by_segment.items()}


def monthly_priors(history: pd.DataFrame, month: str, as_of: pd.Timestamp, tz: str) -> Priors:
    """The prior of one month (see priors_of) from the MQLs known by as_of."""
    return priors_of(mql_counts(history, prior_months(month), as_of, tz), month)


def pacing(
    mqls: int, quota: float | None, month: str, as_of: pd.Timestamp, terms: Terms, prior: float | None = None
) -> dict:
    """Attainment, pace, projection, required daily rate and status of one quota.

    `prior` is the recent months' mean (None: no recent MQLs, the quota stands in; with no
    quota either, nothing is assumed)."""
    tz = terms.timezone
    fraction = elapsed_fraction(month, as_of, tz)
    start, end = month_bounds(month, tz)
    over = as_of >= end
    source = "recent_months" if prior is not None else ("quota" if quota is not None else None)
    prior = quota if prior is None else prior
    projected = blended_projection(mqls, fraction, 0.0 if prior is None else prior)
    if quota is None:
        return {
            "mqls": mqls,
            "quota": None,
            "prior": prior,
            "prior_source": source,
            "attainment": None,
            "elapsed_fraction": fraction,
            "expected_to_date": None,
            "pace": None,
            "projected": projected,
            "required_daily_rate": None,
            "status": None,
        }
    expected = quota * fraction
    days_left = days_left_in_month(month, as_of, tz)
    if over:
        required = None
    elif mqls >= quota:
        required = 0.0
    else:
        required = (quota - mqls) / days_left
    return {
        "mqls": mqls,
        "quota": quota,
        "attainment": mqls / quota if quota else None,
        "elapsed_fraction": fraction,
        "expected_to_date": expected,
        "pace": mqls / expected if expected else None,
        "prior": prior,
        "prior_source": source,
        "projected": projected,
        "required_daily_rate": required,
        "days_left": days_left,
        "status": quota_status(mqls, quota, projected, over, terms.at_risk_ratio, started=as_of >= start),
    }


def quota_mqls(
    month_mqls: pd.DataFrame, terms: Terms, as_of: pd.Timestamp, exclusions: pd.DataFrame | None
) -> pd.DataFrame:
    """The MQLs that count toward the quota: without those rejected by as_of when
    quota_counts = "not_rejected", and without approved mql_quota / all exclusions."""
    keep = pd.Series(True, index=month_mqls.index)
    if terms.quota_counts == "not_rejected":
        keep &= ~(month_mqls["rejected_at"].notna() & (month_mqls["rejected_at"] <= as_of))
    if exclusions is not None and len(exclusions):
        keep &= ~excluded_mask(month_mqls["lead_id"], exclusions, "mql_quota", as_of)
    return month_mqls.loc[keep.to_numpy(dtype=bool)]


def marketing_summary(
    leads: pd.DataFrame,
    terms: Terms,
    month: str,
    as_of: pd.Timestamp,
    *,
    history: pd.DataFrame | None = None,
    exclusions: pd.DataFrame | None = None,
    priors: Priors | None = None,
) -> dict:
    """The marketing column of a month's scorecard, with per-segment and per-source splits.

    `history` holds the MQLs (mql_at, segment) of the months before `month` for the prior
    (None: they are in `leads`); pass `priors` when already computed (build_scorecards)."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    all_mqls = mqls_as_of(leads, as_of, month, terms.timezone)
    month_mqls = quota_mqls(all_mqls, terms, as_of, exclusions)
    if priors is None:
        priors = monthly_priors(leads if history is None else history, month, as_of, terms.timezone)
    prior, segment_priors = priors
    summary = pacing(int(len(month_mqls)), terms.quota, month, as_of, terms, prior)
    summary["mqls_total"] = int(len(all_mqls))
    summary["quota_counts"] = terms.quota_counts
    summary["at_risk_ratio"] = terms.at_risk_ratio
    by_segment_counts = month_mqls["segment"].value_counts()
    segments = sorted(set(by_segment_counts.index) | set(terms.segment_quotas))
    summary["by_segment"] = [
        {
            "segment": seg,
            **pacing(
                int(by_segment_counts.get(seg, 0)),
                terms.segment_quotas.get(seg) if terms.segment_quotas else None,
                month,
                as_of,
                terms,
                segment_priors.get(seg),
            ),
        }
        for seg in segments
    ]
    by_source = month_mqls["source"].fillna("(none)").value_counts()
    summary["by_source"] = [{"source": src, "mqls": int(n)} for src, n in by_source.items()]
    return summary


def daily_mqls(
    leads: pd.DataFrame, terms: Terms, month: str, as_of: pd.Timestamp, exclusions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """MQLs that count toward the quota per local day of the month, with the cumulative count."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    month_mqls = quota_mqls(mqls_as_of(leads, as_of, month, terms.timezone), terms, as_of, exclusions)
    days = pd.date_range(f"{month}-01", periods=pd.Period(month, freq="M").days_in_month, freq="D")
    local_day = month_mqls["mql_at"].dt.tz_convert(terms.timezone).dt.tz_localize(None).dt.normalize()
    counts = local_day.value_counts().reindex(days, fill_value=0)
    frame = pd.DataFrame({"day": days.date, "mqls": counts.to_numpy(dtype="int64")})
    frame["cumulative"] = frame["mqls"].cumsum()
    return frame
