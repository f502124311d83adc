"""Consequences (DESIGN section 10): monthly scores, weighted side scores, strikes, the critical
flag, and credits with earn-back, read from the scorecards of the months up to M.

A commitment is in force in a month when its part is in that month's scorecard (lead quality:
when `quality_status` is), so commitments added to the agreement later are picked up from the
cards alone. A month counts for a commitment once it is over and the status is `met` or
`missed`; any other status (no_data, no_activity_data, pending follow-ups) leaves the month out:
it is neither a miss nor part of a run of met months. The settings (weights, window, credits)
are those of the terms in force for M, applied to every month, so the trend is comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from smarketing.core.terms import COMMITMENT_SIDES, Terms

FINAL = ("met", "missed")
COMMITMENT_LABELS: dict[str, str] = {
    "mql_quota": "Marketing · MQL quota",
    "lead_quality": "Marketing · lead quality",
    "first_touch": "Sales · first touch",
    "attempts": "Sales · attempts",
    "acceptance": "Sales · acceptance",
}
TREND_MONTHS = 12
_FRAME_COLUMNS = ["month", "commitment", "side", "status", "over", "achieved", "target"]


def commitment_months(cards: Mapping[str, Mapping], terms: Terms) -> pd.DataFrame:
    """One row per month and commitment in force: status, whether the month is over, achieved and target."""
    rows = [
        (month, name, COMMITMENT_SIDES[name], part.get("status"), bool(card.get("month_over")), *ratio)
        for month, card in cards.items()
        for name, part, ratio in _parts(card, terms)
    ]
    frame = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
    frame["achieved"] = pd.to_numeric(frame["achieved"], errors="coerce").astype(float)
    frame["target"] = pd.to_numeric(frame["target"], errors="coerce").astype(float)
    return frame.sort_values(["month", "commitment"], kind="stable").reset_index(drop=True)


def _parts(card: Mapping, terms: Terms) -> list[tuple[str, Mapping, tuple[Any, Any]]]:
    """(commitment, its status holder, (achieved, target)) for each commitment in the card."""
    marketing = card.get("marketing") or {}
    sales = card.get("sales") or {}
    parts: list[tuple[str, Mapping, tuple[Any, Any]]] = []
    if marketing:
        parts.append(("mql_quota", marketing, (marketing.get("mqls"), marketing.get("quota"))))
    if marketing.get("quality_status") is not None:
        # Lower is better: the score is max_rejection_rate / rejection_rate.
        ceiling = marketing.get("max_rejection_rate", getattr(terms, "max_rejection_rate", None))
        parts.append(
            ("lead_quality", {"status": marketing["quality_status"]}, (ceiling, marketing.get("rejection_rate")))
        )
    for name in ("first_touch", "attempts", "acceptance"):
        part = sales.get(name)
        if isinstance(part, Mapping):
            parts.append((name, part, (part.get("compliance"), part.get("target"))))
    return parts


def monthly_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `counts` (the month is over and final) and `score`: 1 when met, achieved/target in [0, 1] when missed."""
    counts = frame["over"].to_numpy(bool) & frame["status"].isin(FINAL).to_numpy()
    achieved, target = frame["achieved"].to_numpy(float), frame["target"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(np.where(target > 0, achieved / target, 0.0), 0.0, 1.0)
    ratio = np.nan_to_num(ratio, nan=0.0)
    score = np.where(frame["status"].to_numpy() == "met", 1.0, ratio)
    return frame.assign(counts=counts, score=np.where(counts, score, np.nan))


def weight_of(terms: Terms, commitment: str) -> float:
    """A commitment's weight: 1 each without `[consequences].weights`, else its entry (0 when unnamed)."""
    if terms.weights is None:
        return 1.0
    return float(terms.weights.get(commitment, 0.0))


def side_scores(scored: pd.DataFrame, terms: Terms) -> pd.DataFrame:
    """Per month: marketing, sales and overall Σ weight × score / Σ weight over the scored commitments."""
    months = pd.Index(scored["month"].unique(), name="month")
    weight = scored["commitment"].map(lambda c: weight_of(terms, c)).to_numpy(float)
    has = scored["score"].notna().to_numpy()
    work = pd.DataFrame(
        {
            "month": scored["month"],
            "side": scored["side"],
            "num": np.where(has, weight * np.nan_to_num(scored["score"].to_numpy(float)), 0.0),
            "den": np.where(has, weight, 0.0),
        }
    )
    out = pd.DataFrame(index=months)
    for side, rows in (("marketing", work[work["side"] == "marketing"]), ("sales", work[work["side"] == "sales"])):
        out[side] = _weighted(rows, months)
    out["overall"] = _weighted(work, months)
    return out


def _weighted(rows: pd.DataFrame, months: pd.Index) -> pd.Series:
    """Σ num / Σ den per month (NaN when the weights of the scored commitments sum to 0)."""
    sums = rows.groupby("month")[["num", "den"]].sum().reindex(months, fill_value=0.0)
    return (sums["num"] / sums["den"]).where(sums["den"] > 0)


def window_months(scored: pd.DataFrame, window: int) -> list[str]:
    """The last `window` finished months (fewer early in the history)."""
    return sorted(scored.loc[scored["over"], "month"].unique())[-window:]


def strikes(scored: pd.DataFrame, window: int) -> pd.Series:
    """Per commitment: misses in the last `window` finished months."""
    recent = scored[scored["month"].isin(window_months(scored, window))]
    missed = recent["counts"] & (recent["status"] == "missed")
    return missed.groupby(recent["commitment"]).sum().astype(int)


def credit_walk(scored: pd.DataFrame, credit_per_miss: int, earn_back_months: int) -> pd.DataFrame:
    """The counted months of every commitment in order, with each one's change of credits and the balance after it.

    A miss adds credit_per_miss and ends the run of met months; every earn_back_months-th met month
    of a run cancels one credit. The balance is the walk of those changes held at 0 from below
    (balance = running sum - min(0, lowest running sum so far)).
    """
    walk = scored[scored["counts"]].sort_values(["commitment", "month"], kind="stable").copy()
    missed = (walk["status"] == "missed").to_numpy()
    run_id = pd.Series(missed, index=walk.index).groupby(walk["commitment"]).cumsum()
    met_in_run = pd.Series(~missed, index=walk.index).groupby([walk["commitment"], run_id]).cumsum()
    earned = ~missed & (met_in_run.to_numpy() % earn_back_months == 0)
    walk["step"] = np.where(missed, credit_per_miss, np.where(earned, -1, 0))
    running = walk.groupby("commitment")["step"].cumsum()
    floor = running.groupby(walk["commitment"]).cummin().clip(upper=0)
    walk["balance"] = (running - floor).astype(int)
    before = walk.groupby("commitment")["balance"].shift(1, fill_value=0)
    walk["change"] = (walk["balance"] - before).astype(int)
    return walk


def credit_history(walk: pd.DataFrame, commitment: str, earn_back_months: int) -> list[dict[str, Any]]:
    """The changes of one commitment's credit balance: [{"event", "months", "change", "balance"}]."""
    mine = walk[walk["commitment"] == commitment].reset_index(drop=True)
    months = mine["month"].tolist()
    history = []
    for at in np.flatnonzero(mine["change"].to_numpy() != 0):
        row = mine.iloc[at]
        missed = row["status"] == "missed"
        span = [row["month"]] if missed else months[at - earn_back_months + 1 : at + 1]
        history.append(
            {"event": row["status"], "months": span, "change": int(row["change"]), "balance": int(row["balance"])}
        )
    return history


def history_text(history: list[dict[str, Any]], month: str) -> str:
    """'missed in February: +2; met March and April: −1' (misses in a row are one entry; years
    named when not M's year)."""
    if not history:
        return "no credits owed"
    merged: list[dict[str, Any]] = []
    for event in history:
        if merged and event["event"] == "missed" == merged[-1]["event"]:
            merged[-1] = {**merged[-1], "months": merged[-1]["months"] + event["months"]}
            merged[-1]["change"] += event["change"]
        else:
            merged.append(dict(event))
    parts = []
    for event in merged:
        names = _and([_month_name(m, month) for m in event["months"]])
        change = f"+{event['change']}" if event["change"] > 0 else f"−{-event['change']}"
        parts.append(f"missed in {names}: {change}" if event["event"] == "missed" else f"met {names}: {change}")
    return "; ".join(parts)


def consequence_rows(result: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The consequences as (side, measure, value) rows, for tables and CSV."""
    rows = [("consequences", f"score {side}", result["score"][side]) for side in ("marketing", "sales", "overall")]
    for c in result["by_commitment"]:
        name = c["commitment"]
        rows += [
            ("consequences", f"{name} status", c["status"]),
            ("consequences", f"{name} score", c["score"]),
            ("consequences", f"{name} weight", c["weight"]),
            ("consequences", f"{name} strikes", c["strikes"]),
            ("consequences", f"{name} critical", c["critical"]),
            ("consequences", f"{name} credits", c["credits"]),
            ("consequences", f"{name} credit history", c["credit_history_text"]),
        ]
    return rows


def _month_name(month: str, reference: str) -> str:
    period = pd.Period(month, freq="M")
    return period.strftime("%B") if month[:4] == reference[:4] else period.strftime("%B %Y")


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def consequences(cards: Mapping[str, Mapping], month: str, terms: Terms) -> dict[str, Any]:
    """The `consequences` of month M from the scorecards of the months up to it (DESIGN section 10).

    `cards` are the scorecards from the first month with an MQL through M; later months are ignored."""
    upto = {m: cards[m] for m in sorted(cards) if m <= month}
    scored = monthly_scores(commitment_months(upto, terms))
    sides = side_scores(scored, terms)
    struck = strikes(scored, terms.critical_window_months)
    walk = credit_walk(scored, terms.credit_per_miss, terms.earn_back_months)
    balance = walk.groupby("commitment")["balance"].last()
    now = scored[scored["month"] == month]
    by_commitment = []
    for row in now.itertuples():
        count = int(struck.get(row.commitment, 0))
        history = credit_history(walk, row.commitment, terms.earn_back_months)
        by_commitment.append(
            {
                "commitment": row.commitment,
                "side": row.side,
                "status": row.status,
                "score": None if pd.isna(row.score) else float(row.score),
                "weight": weight_of(terms, row.commitment),
                "strikes": count,
                "critical": count >= terms.critical_misses,
                "credits": int(balance.get(row.commitment, 0)),
                "credit_history": history,
                "credit_history_text": history_text(history, month),
            }
        )
    by_commitment.sort(key=lambda c: list(COMMITMENT_SIDES).index(c["commitment"]))
    return {
        "score": _score_row(sides, month),
        "by_commitment": by_commitment,
        "settings": {
            "critical_misses": terms.critical_misses,
            "critical_window_months": terms.critical_window_months,
            "credit_per_miss": terms.credit_per_miss,
            "earn_back_months": terms.earn_back_months,
            "window_months": window_months(scored, terms.critical_window_months),
        },
        "trend": [{"month": m, **_score_row(sides, m)} for m in list(upto)[-TREND_MONTHS:]],
    }


def _score_row(sides: pd.DataFrame, month: str) -> dict[str, float | None]:
    """{"marketing", "sales", "overall"} of one month (None where nothing was scored)."""
    if month not in sides.index:
        return {"marketing": None, "sales": None, "overall": None}
    row = sides.loc[month]
    return {k: None if pd.isna(row[k]) else float(row[k]) for k in ("marketing", "sales", "overall")}
