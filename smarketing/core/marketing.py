"""Marketing side (DESIGN section 5): MQLs delivered against the month's quota, and pacing."""

from __future__ import annotations

import pandas as pd

from smarketing.core.exclusions import excluded_mask
from smarketing.core.months import days_left_in_month, month_bounds
from smarketing.core.sales import mqls_as_of
from smarketing.core.terms import Terms


def elapsed_fraction(month: str, as_of: pd.Timestamp, tz: str) -> float:
    """Share of the local month's real duration that has passed at as_of, in [0, 1]."""
    start, end = month_bounds(month, tz)
    fraction = (as_of - start) / (end - start)
    return float(min(max(fraction, 0.0), 1.0))


def quota_status(mqls: int, quota: float, projected: float | None, month_over: bool, at_risk_ratio: float) -> str:
    """met / missed / on_track / at_risk / behind. A month that has not started (nothing
    expected yet, no projection) is on_track."""
    if mqls >= quota:
        return "met"
    if month_over:
        return "missed"
    if projected is None or projected >= quota:
        return "on_track"
    if projected >= at_risk_ratio * quota:
        return "at_risk"
    return "behind"


def pacing(mqls: int, quota: float | None, month: str, as_of: pd.Timestamp, terms: Terms) -> dict:
    """Attainment, pace, projection, required daily rate and status of one quota."""
    tz = terms.timezone
    fraction = elapsed_fraction(month, as_of, tz)
    over = as_of >= month_bounds(month, tz)[1]
    projected = mqls / fraction if fraction > 0 else None
    if quota is None:
        return {
            "mqls": mqls,
            "quota": None,
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
        "projected": projected,
        "required_daily_rate": required,
        "days_left": days_left,
        "status": quota_status(mqls, quota, projected, over, terms.at_risk_ratio),
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
    leads: pd.DataFrame, terms: Terms, month: str, as_of: pd.Timestamp, exclusions: pd.DataFrame | None = None
) -> dict:
    """The marketing column of a month's scorecard, with per-segment and per-source splits."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    all_mqls = mqls_as_of(leads, as_of, month, terms.timezone)
    month_mqls = quota_mqls(all_mqls, terms, as_of, exclusions)
    summary = pacing(int(len(month_mqls)), terms.quota, month, as_of, terms)
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
