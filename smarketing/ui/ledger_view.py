"""Why each touch on a lead counted or not (the lead ledger page's explanation).

`touch_verdicts` restates the rule of `sales.qualifying_touches` touch by touch, with the
same constants, so a dispute can be settled by reading it. It is a pure function meant to
move to `smarketing.sales`; tests check it agrees with `qualifying_touches` on every touch.
"""

from __future__ import annotations

import pandas as pd

from smarketing.frames import QUALIFYING_KINDS
from smarketing.terms import Terms

VERDICT_COLUMNS = [
    "touch_id", "occurred_at", "kind", "direction", "automated", "owner_id",
    "counts", "attempt", "why",
]


def touch_reasons(touch: pd.Series, mql_at: pd.Timestamp, as_of: pd.Timestamp) -> list[str]:
    """Every reason a touch does not count (empty: it counts), in the words of the rule."""
    reasons = []
    if touch["occurred_at"] > as_of:
        reasons.append("after as_of")
    if touch["kind"] not in QUALIFYING_KINDS:
        reasons.append(f"not a call/email/meeting ({touch['kind']})")
    if bool(touch["automated"]):
        reasons.append("automated")
    if touch["direction"] == "inbound":
        reasons.append("inbound")
    if pd.isna(mql_at) or touch["occurred_at"] < mql_at:
        reasons.append("before MQL")
    return reasons


def touch_verdicts(touches: pd.DataFrame, lead: pd.Series, terms: Terms, as_of: pd.Timestamp) -> pd.DataFrame:
    """The lead's touches, oldest first, with whether each counted and why.

    `lead` is the lead's ledger row (mql_at, attempts_deadline, first_touch_at). A counting
    touch is numbered as an attempt while it is inside the attempt window and not after as_of.
    """
    own = touches.loc[touches["lead_id"] == lead["lead_id"]].sort_values(["occurred_at", "touch_id"])
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    window_end = lead.get("attempts_deadline")
    cutoff = as_of if pd.isna(window_end) else min(as_of, window_end)
    rows, attempt, seen_first = [], 0, False
    for _, touch in own.iterrows():
        reasons = touch_reasons(touch, lead["mql_at"], as_of)
        counts = not reasons
        number = None
        if counts and touch["occurred_at"] <= cutoff:
            attempt += 1
            number = attempt
        first = counts and not seen_first
        seen_first = seen_first or counts
        rows.append({
            **{c: touch.get(c) for c in VERDICT_COLUMNS[:6]},
            "counts": counts,
            "attempt": number,
            "why": _why(reasons, number, first, terms.min_attempts),
        })
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def _why(reasons: list[str], attempt: int | None, first: bool, min_attempts: int) -> str:
    """One line: the reasons against, or what the touch counted for."""
    if reasons:
        return "; ".join(reasons)
    if attempt is None:
        late = "qualifying, but after the attempt window closed"
        return f"first touch; {late}" if first else late
    label = f"attempt {attempt} of {min_attempts}"
    return f"first touch; {label}" if first else label
