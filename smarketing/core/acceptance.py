"""Lead acceptance (DESIGN section 5, version 2): sales accepts or rejects every MQL in time.

`decided_at` is the earliest of accepted_at, rejected_at and (with `touch_accepts`) the
first qualifying touch, each only when known by as_of. A rejection by the acceptance
deadline takes the lead out of first touch and attempts: sales said no in time. Without
`acceptance_hours` nothing is judged and a rejection removes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smarketing.core.calendar import NAT_NS, CalendarMix, to_ns
from smarketing.core.terms import Terms

MET, BREACHED, PENDING = "met", "breached", "pending"
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Acceptance:
    """Per-lead acceptance arrays (int64 ns, NAT_NS where none), positionally aligned with the leads."""

    accepted_at: np.ndarray
    rejected_at: np.ndarray
    decided_at: np.ndarray
    deadline: np.ndarray
    status: np.ndarray  # met / breached / pending, or None without acceptance_hours
    rejected_in_time: np.ndarray  # bool: leaves first touch and attempts


def known_by(values: pd.Series, now: int) -> np.ndarray:
    """Instants as int64 ns, NAT_NS where missing or after as_of (not known yet)."""
    ns = to_ns(values)
    return np.where((ns != NAT_NS) & (ns <= now), ns, NAT_NS)


def earliest(*candidates: np.ndarray) -> np.ndarray:
    """Element-wise earliest instant, ignoring NAT_NS (NAT_NS where all are missing)."""
    stacked = np.vstack(candidates)
    first = np.where(stacked == NAT_NS, _NEVER, stacked).min(axis=0)
    return np.where(first == _NEVER, NAT_NS, first)


def lead_acceptance(
    leads: pd.DataFrame, start: np.ndarray, first_touch: np.ndarray, terms: Terms, now: int, clock: CalendarMix
) -> Acceptance:
    """Acceptance of each lead from its clock start (ns) and first qualifying touch (ns or NAT_NS),
    the deadline on each lead's own calendar (`clock`, as the ledger chose it)."""
    accepted = known_by(leads["accepted_at"], now)
    rejected = known_by(leads["rejected_at"], now)
    n = len(leads)
    if terms.acceptance_hours is None:
        none = np.full(n, NAT_NS, dtype="int64")
        return Acceptance(accepted, rejected, none, none, np.full(n, None, dtype=object), np.zeros(n, dtype=bool))
    decided = earliest(accepted, rejected, first_touch if terms.touch_accepts else np.full(n, NAT_NS))
    deadline = clock.deadline_ns(start, float(terms.acceptance_hours))
    has_decision = decided != NAT_NS
    status = np.full(n, PENDING, dtype=object)
    status[has_decision & (decided <= deadline)] = MET
    status[has_decision & (decided > deadline)] = BREACHED
    status[~has_decision & (now > deadline)] = BREACHED
    in_time = (rejected != NAT_NS) & (rejected <= deadline)
    return Acceptance(accepted, rejected, decided, deadline, status, in_time)
