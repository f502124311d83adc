"""Display frames: core results reshaped for tables (names for ids, local times, words for codes).

Pure functions; nothing here computes a metric. Rates' intervals come from `funnel.rate`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from smarketing.core.funnel import FEW_LEADS, rate
from smarketing.ui.fmt import status_text, wilson_text


def local_naive(values: pd.Series, tz: str) -> pd.Series:
    """UTC instants as local wall-clock datetimes (for display columns)."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_convert(tz).dt.tz_localize(None)


def owner_names(owners: pd.DataFrame) -> dict[str, str]:
    """owner_id → display name (the id itself when the CRM has no name)."""
    frame = owners[["owner_id", "name"]].dropna(subset=["owner_id"])
    return {str(o): (str(n) if pd.notna(n) else str(o)) for o, n in frame.itertuples(index=False)}


def owner_teams(owners: pd.DataFrame) -> dict[str, str]:
    """owner_id → team ('' when none)."""
    frame = owners[["owner_id", "team"]].dropna(subset=["owner_id"])
    return {str(o): (str(t) if pd.notna(t) else "") for o, t in frame.itertuples(index=False)}


def name_of(owner_id: object, names: dict[str, str]) -> str:
    """The display name of an owner id ('Unassigned' for none)."""
    if owner_id is None or pd.isna(owner_id) or owner_id == "":
        return "Unassigned"
    return names.get(str(owner_id), str(owner_id))


def segment_table(by_segment: Sequence[dict]) -> pd.DataFrame:
    """Per-segment pacing rows of a scorecard."""
    return pd.DataFrame(
        {
            "Segment": [s["segment"] for s in by_segment],
            "Delivered": [s["mqls"] for s in by_segment],
            "Quota": [s.get("quota") for s in by_segment],
            "Attainment": [_percent(s.get("attainment")) for s in by_segment],
            "Projected": [s.get("projected") for s in by_segment],
            "Needed per day": [s.get("required_daily_rate") for s in by_segment],
            "Status": [status_text(s.get("status")) if s.get("quota") is not None else "—" for s in by_segment],
        }
    )


def segment_summary(by_segment: Sequence[dict]) -> pd.DataFrame:
    """Per-segment 'delivered of quota (attainment)' and status, for narrow spaces."""

    def delivered(s: dict) -> str:
        """'58 of 130 (45%)'."""
        if s.get("quota") is None:
            return f"{s['mqls']:,}"
        return (
            f"{s['mqls']:,} of {s['quota']:,} ({s['attainment'] * 100:.0f}%)"
            if s.get("attainment") is not None
            else f"{s['mqls']:,} of {s['quota']:,}"
        )

    return pd.DataFrame(
        {
            "Segment": [s["segment"] for s in by_segment],
            "Delivered": [delivered(s) for s in by_segment],
            "Status": [status_text(s.get("status")) if s.get("quota") is not None else "—" for s in by_segment],
        }
    )


def source_table(by_source: Sequence[dict], total: int) -> pd.DataFrame:
    """MQLs per source with its share of the month."""
    return pd.DataFrame(
        {
            "Source": [s["source"] for s in by_source],
            "MQLs": [s["mqls"] for s in by_source],
            "Share": [_percent(s["mqls"] / total) if total else None for s in by_source],
        }
    )


def leaderboard(by_owner: Sequence[dict]) -> pd.DataFrame:
    """Reps ranked by first-touch compliance (then speed), with each rate's 95% interval."""
    rows = []
    for o in by_owner:
        judged = o["first_touch_met"] + o["first_touch_breached"]
        ft = rate(o["first_touch_met"], judged)
        rows.append(
            {
                "Rep": o["name"],
                "Team": o.get("team") or "",
                "Leads": o["leads"],
                "First touch": _percent(o["first_touch_compliance"]),
                "First touch 95% CI": wilson_text(ft),
                "Median response": o.get("median_hours"),
                "p90 response": o.get("p90_hours"),
                "Attempts": _percent(o.get("attempts_compliance")),
                **({"Acceptance": _percent(o.get("acceptance_compliance"))} if "acceptance_met" in o else {}),
                "Breached": o["first_touch_breached"],
                "Untouched": o.get("untouched", 0),
                "Sample": "few leads" if judged < FEW_LEADS else "",
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.sort_values(["First touch", "Median response"], ascending=[False, True], na_position="last")
    frame.insert(0, "#", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def slowest_reps(by_owner: Sequence[dict], n: int = 3) -> pd.DataFrame:
    """The n reps with the longest median first response."""
    timed = [o for o in by_owner if o.get("median_hours") is not None and o.get("owner_id")]
    timed.sort(key=lambda o: -o["median_hours"])
    return pd.DataFrame(
        {
            "Rep": [o["name"] for o in timed[:n]],
            "Team": [o.get("team") or "" for o in timed[:n]],
            "Median response": [o["median_hours"] for o in timed[:n]],
            "p90 response": [o.get("p90_hours") for o in timed[:n]],
            "Leads": [o["leads"] for o in timed[:n]],
        }
    )


def worklist_table(worklist: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The overdue worklist (most overdue first) with names, local times and how late."""
    names, teams = owner_names(owners), owner_teams(owners)
    breached = worklist["first_touch_status"] == "breached"
    return pd.DataFrame(
        {
            "Lead": worklist["lead_id"],
            "Owner": [name_of(o, names) for o in worklist["owner_id"]],
            "Team": [teams.get(str(o), "") for o in worklist["owner_id"]],
            "Segment": worklist["segment"],
            "Source": worklist["source"],
            "MQL at": local_naive(worklist["mql_at"], tz),
            "Deadline": local_naive(worklist["first_touch_deadline"], tz),
            "Status": ["✘ Overdue" if b else "◷ Due soon" for b in breached],
            "How late": [
                f"{h:,.1f} business h late" if b else "deadline not passed"
                for h, b in zip(worklist["overdue_hours"], breached)
            ],
            "Business hours late": worklist["overdue_hours"].where(breached),
        }
    )


def ledger_table(ledger: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The per-lead ledger for browsing."""
    names = owner_names(owners)
    frame = pd.DataFrame(
        {
            "Lead": ledger["lead_id"],
            "Owner": [name_of(o, names) for o in ledger["owner_id"]],
            "Segment": ledger["segment"],
            "Source": ledger["source"],
            "MQL at": local_naive(ledger["mql_at"], tz),
            "Deadline": local_naive(ledger["first_touch_deadline"], tz),
            "First touch at": local_naive(ledger["first_touch_at"], tz),
            "Response": ledger["response_hours"],
            "First touch": [status_text(s) for s in ledger["first_touch_status"]],
            "Attempts made": ledger["attempts"],
            "Attempts": [status_text(s) for s in ledger["attempts_status"]],
        }
    )
    if "acceptance_status" in ledger and ledger["acceptance_status"].notna().any():
        frame["Acceptance"] = [status_text(s) for s in ledger["acceptance_status"]]
    if "rejected_at" in ledger and ledger["rejected_at"].notna().any():
        frame["Rejected"] = ledger["rejection_reason"].where(ledger["rejected_at"].notna(), None).fillna("")
    return frame


def verdict_table(verdicts: pd.DataFrame, owners: pd.DataFrame, tz: str) -> pd.DataFrame:
    """A lead's touches with whether each counted and why."""
    names = owner_names(owners)
    return pd.DataFrame(
        {
            "When": local_naive(verdicts["occurred_at"], tz),
            "Kind": verdicts["kind"],
            "Direction": verdicts["direction"],
            "By": [name_of(o, names) for o in verdicts["owner_id"]],
            "Automated": verdicts["automated"],
            "Counts": ["✔ yes" if c else "✘ no" for c in verdicts["counts"]],
            "Why": verdicts["why"],
        }
    )


def _percent(value: float | None) -> float | None:
    """A share as a number of percent for NumberColumn('%.1f%%')."""
    return None if value is None or pd.isna(value) else float(value) * 100
