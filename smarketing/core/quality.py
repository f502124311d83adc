"""Lead quality (DESIGN section 5, version 2): marketing's promise that sales rejects few MQLs.

`rejected` counts the month's MQLs with rejected_at ≤ as_of, in time or not; the rate is
over every MQL of the month (`mqls_total`). The verdict is final once the month is over
and no MQL still waits for an accept/reject decision.
"""

from __future__ import annotations

import pandas as pd

NO_REASON = "(no reason)"
NO_SOURCE = "(none)"


def rejected_mask(month_mqls: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Which MQLs sales rejected by as_of."""
    return (month_mqls["rejected_at"].notna() & (month_mqls["rejected_at"] <= as_of)).astype(bool)


def quality_status(total: int, rate: float | None, limit: float, month_over: bool, pending: int) -> str:
    """no_data / met / missed once final, else on_track / behind on the rate so far."""
    if total == 0 or rate is None:
        return "no_data"
    within = rate <= limit
    if month_over and pending == 0:
        return "met" if within else "missed"
    return "on_track" if within else "behind"


def reason_counts(reasons: pd.Series) -> list[dict]:
    """[{"reason", "count"}], most frequent first, then by reason."""
    counts = reasons.fillna(NO_REASON).astype(str).value_counts()
    rows = [{"reason": r, "count": int(n)} for r, n in counts.items()]
    return sorted(rows, key=lambda row: (-row["count"], row["reason"]))


def rejections_by(month_mqls: pd.DataFrame, rejected: pd.Series, column: str) -> list[dict]:
    """Per value of `column` (source or segment): MQLs, rejected, rate and the reasons."""
    keys = month_mqls[column].fillna(NO_SOURCE).astype(str)
    rows = []
    for key in sorted(keys.unique()):
        mine = (keys == key).to_numpy()
        n, r = int(mine.sum()), int(rejected.to_numpy()[mine].sum())
        reasons = month_mqls.loc[mine & rejected.to_numpy(), "rejection_reason"]
        rows.append(
            {
                column: key,
                "mqls": n,
                "rejected": r,
                "rejection_rate": r / n if n else None,
                "reasons": reason_counts(reasons),
            }
        )
    return rows


def lead_quality(
    month_mqls: pd.DataFrame, max_rejection_rate: float, as_of: pd.Timestamp, month_over: bool, pending: int
) -> dict:
    """The lead-quality keys of the marketing column; `pending` = MQLs whose acceptance is pending."""
    rejected = rejected_mask(month_mqls, as_of)
    total, count = int(len(month_mqls)), int(rejected.sum())
    rate = count / total if total else None
    return {
        "max_rejection_rate": max_rejection_rate,
        "rejected": count,
        "rejection_rate": rate,
        "quality_status": quality_status(total, rate, max_rejection_rate, month_over, pending),
        "rejections_by_reason": reason_counts(month_mqls.loc[rejected.to_numpy(), "rejection_reason"]),
        "rejections_by_source": rejections_by(month_mqls, rejected, "source"),
        "rejections_by_segment": rejections_by(month_mqls, rejected, "segment"),
    }
