"""Met/missed history of the three commitments over months (pure: scorecard dicts in, rows out)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

COMMITMENTS: dict[str, tuple[str, ...]] = {
    "Marketing · MQL quota": ("marketing", "status"),
    "Sales · first touch": ("sales", "first_touch", "status"),
    "Sales · attempts": ("sales", "attempts", "status"),
}
MISSES = {"missed"}


def dig(card: Mapping, path: tuple[str, ...]) -> object:
    """card[path[0]][path[1]]... (None when a key is absent)."""
    value: object = card
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def any_value(cards: Mapping[str, Mapping], path: tuple[str, ...]) -> bool:
    """Whether any month's card has a value at path (a chart of it would not be bare axes)."""
    return any(dig(c, path) is not None for c in cards.values())


def has_activities(cards: Mapping[str, Mapping]) -> bool:
    """Whether any month's follow-up could be judged (False for a source without activities)."""
    return any(dig(c, ("sales", "first_touch", "status")) != "no_activity_data" for c in cards.values())


def status_history(cards: Mapping[str, Mapping]) -> pd.DataFrame:
    """Commitments × months of raw statuses, months in the given order."""
    return pd.DataFrame(
        {month: {name: dig(card, path) for name, path in COMMITMENTS.items()} for month, card in cards.items()}
    ).reindex(list(COMMITMENTS))


def consecutive_misses(statuses: list[str | None]) -> int:
    """How many of the latest finished months in a row were missed (an unfinished last month is skipped)."""
    finished = [s for s in statuses if s in ("met", "missed")]
    if statuses and statuses[-1] not in ("met", "missed"):
        finished = [s for s in statuses[:-1] if s in ("met", "missed")]
    streak = 0
    for status in reversed(finished):
        if status not in MISSES:
            break
        streak += 1
    return streak


def miss_summary(history: pd.DataFrame) -> pd.DataFrame:
    """Per commitment: months met, months missed and the current run of misses."""
    rows = []
    for name, statuses in history.iterrows():
        values = list(statuses)
        rows.append(
            {
                "Commitment": name,
                "Met": sum(v == "met" for v in values),
                "Missed": sum(v == "missed" for v in values),
                "Missed in a row (latest)": consecutive_misses(values),
            }
        )
    return pd.DataFrame(rows)
