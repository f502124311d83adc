"""Exclusions (DESIGN sections 2 and 5): disputes that leave a lead out of a commitment.

A request names a lead, a commitment (or `all`) and a reason; an approver approves or
denies it. Only an approved request decided by as_of excludes anything, so a scorecard
for a past instant is reproduced exactly. Requests are never deleted: the table is the
audit trail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smarketing.core.errors import UserError
from smarketing.core.frames import COMMITMENTS, key_positions

ALL = "all"
APPROVED, DENIED, PENDING = "approved", "denied", "pending"


def approved_by(exclusions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Requests approved with decided_at ≤ as_of."""
    keep = (exclusions["decision"] == APPROVED) & exclusions["decided_at"].notna()
    keep &= exclusions["decided_at"] <= as_of
    return exclusions.loc[keep.fillna(False).to_numpy(dtype=bool)]


def excluded_mask(lead_ids: pd.Series, exclusions: pd.DataFrame, commitment: str, as_of: pd.Timestamp) -> np.ndarray:
    """For each lead, whether an approved exclusion for `commitment` or `all` leaves it out."""
    approved = approved_by(exclusions, as_of)
    hit = approved.loc[approved["commitment"].isin([commitment, ALL]), "lead_id"]
    return lead_ids.isin(hit).to_numpy(dtype=bool, copy=True)


def exclusion_reasons(lead_ids: pd.Series, exclusions: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """The reasons of each lead's approved exclusions, joined by '; ' (missing where none)."""
    approved = approved_by(exclusions, as_of)
    joined = approved.groupby("lead_id")["reason"].agg(lambda r: "; ".join(r.dropna().astype(str)))
    if not len(joined):
        return pd.Series(pd.NA, index=lead_ids.index, dtype="string")
    rows = key_positions(pd.Series(joined.index), lead_ids)
    reasons = np.append(joined.to_numpy(dtype=object), None)[rows]  # row -1 (no exclusion) → missing
    return pd.Series(reasons, index=lead_ids.index, dtype="string")


def check_commitment(commitment: str) -> str:
    """The commitment name, or a UserError naming the allowed ones."""
    if commitment not in COMMITMENTS:
        raise UserError(f"'{commitment}' is not a commitment; use one of {', '.join(COMMITMENTS)}.")
    return commitment


def check_decidable(request: pd.Series | dict, approver: str | None, *, forbid_self: bool = False) -> None:
    """Refuse to decide a request twice, or (with login on) by the person who asked."""
    if request["decision"] != PENDING:
        raise UserError(
            f"Exclusion {request['exclusion_id']} was already {request['decision']} by "
            f"{request['decided_by'] or 'someone'}; a decided request is not decided again."
        )
    if forbid_self and approver and approver == request["requested_by"]:
        raise UserError(f"Exclusion {request['exclusion_id']} was requested by you; another approver must decide it.")
