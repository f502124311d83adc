"""Which of a month's leads a view shows: team, rep, segment, source and each status.

A filter travels in the URL (`?team=East&owner=o7&first_touch=breached,pending&untouched=1`), so every
count that stands for leads can link to exactly those leads in the lead ledger. Values that match
nothing are kept, not dropped: a shared link to a team that left shows an empty ledger, not every lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import pandas as pd

from smarketing.core.frames import CrmData, among

STATUSES = ("met", "breached", "pending", "excluded")
SCOPE_KEYS = ("team", "owner", "segment", "source")
STATUS_KEYS = ("first_touch", "attempts")
PARAM_KEYS = (*SCOPE_KEYS, *STATUS_KEYS, "untouched")
# The parts of a quota's pacing that mean nothing without a quota of its own (core.marketing.pacing).
QUOTA_KEYS = (
    "quota",
    "attainment",
    "expected_to_date",
    "pace",
    "projected",
    "prior",
    "prior_source",
    "required_daily_rate",
    "status",
)


@dataclass(frozen=True)
class LeadFilter:
    """The leads to show; an empty field matches every lead."""

    team: str = ""
    owner: str = ""
    segment: str = ""
    source: str = ""
    first_touch: tuple[str, ...] = ()
    attempts: tuple[str, ...] = ()
    untouched: bool = False

    @property
    def active(self) -> bool:
        """Whether anything is filtered."""
        return any(getattr(self, f.name) for f in fields(self))

    @property
    def one_segment(self) -> bool:
        """Whether the scope is a segment and nothing else (the one scope with a quota of its own)."""
        return bool(self.segment) and not (self.team or self.owner or self.source)

    @property
    def scoped(self) -> bool:
        """Whether team, rep, segment or source is filtered (the filters that every page applies)."""
        return any(getattr(self, key) for key in SCOPE_KEYS)

    def scope(self) -> LeadFilter:
        """The same team, rep, segment and source, with no status filter."""
        return LeadFilter(self.team, self.owner, self.segment, self.source)

    def with_status(
        self, first_touch: tuple[str, ...] = (), attempts: tuple[str, ...] = (), untouched: bool = False
    ) -> LeadFilter:
        """This scope narrowed to leads with these statuses."""
        return replace(self, first_touch=first_touch, attempts=attempts, untouched=untouched)

    def params(self) -> dict[str, str]:
        """The filter as URL query parameters (only the fields that are set)."""
        out = {key: getattr(self, key) for key in SCOPE_KEYS if getattr(self, key)}
        out.update({key: ",".join(getattr(self, key)) for key in STATUS_KEYS if getattr(self, key)})
        if self.untouched:
            out["untouched"] = "1"
        return out


def from_params(params: Mapping[str, str]) -> LeadFilter:
    """The filter in URL query parameters; unknown statuses are ignored."""
    scope = {key: str(params.get(key) or "").strip() for key in SCOPE_KEYS}
    statuses = {key: _statuses(params.get(key)) for key in STATUS_KEYS}
    untouched = str(params.get("untouched") or "").strip().lower() in {"1", "true", "yes"}
    return LeadFilter(**scope, **statuses, untouched=untouched)


def _statuses(text: str | None) -> tuple[str, ...]:
    """Comma-separated statuses, known ones only, in their canonical order."""
    wanted = {part.strip().lower() for part in str(text or "").split(",")}
    return tuple(s for s in STATUSES if s in wanted)


def filter_leads(ledger: pd.DataFrame, owners: pd.DataFrame, lead_filter: LeadFilter) -> pd.DataFrame:
    """The ledger rows the filter matches (a lead's team is its owner's team)."""
    keep = pd.Series(True, index=ledger.index)
    if lead_filter.team:
        members = owners.loc[owners["team"].fillna("") == lead_filter.team, "owner_id"]
        keep &= ledger["owner_id"].isin(members)
    if lead_filter.owner:
        keep &= ledger["owner_id"].fillna("") == lead_filter.owner
    if lead_filter.segment:
        keep &= ledger["segment"].fillna("") == lead_filter.segment
    if lead_filter.source:
        keep &= ledger["source"].fillna("") == lead_filter.source
    if lead_filter.first_touch:
        keep &= ledger["first_touch_status"].isin(lead_filter.first_touch)
    if lead_filter.attempts:
        keep &= ledger["attempts_status"].isin(lead_filter.attempts)
    if lead_filter.untouched:
        keep &= ledger["first_touch_at"].isna()
    return ledger.loc[keep]


def scoped_data(data: CrmData, lead_filter: LeadFilter) -> CrmData:
    """The data of the leads inside the filter's team / rep / segment / source (their touches, deals
    and exclusions with them; owners, the earlier months' MQLs and whether the source has touches kept)."""
    scope = lead_filter.scope()
    if not scope.scoped:
        return data
    leads = filter_leads(data.leads, data.owners, scope).reset_index(drop=True)
    ids = leads["lead_id"]

    def of_leads(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["lead_id"].isin(ids).to_numpy(dtype=bool)].reset_index(drop=True)

    return replace(
        data,
        leads=leads,
        touches=of_leads(data.touches),
        deals=of_leads(data.deals),
        exclusions=of_leads(data.exclusions),
        source_has_touches=data.has_touches,
    )


def scoped_marketing(marketing: dict, lead_filter: LeadFilter) -> dict:
    """A filtered card's marketing part: the filtered leads' MQLs, measured against a quota only when
    the filter is one segment alone (that segment's quota); a team, a rep or a source has none."""
    scope = lead_filter.scope()
    if not scope.scoped:
        return marketing
    rows = [row for row in marketing.get("by_segment", []) if row["segment"] == scope.segment or not scope.segment]
    if scope.one_segment and rows:
        return {**marketing, **{k: v for k, v in rows[0].items() if k != "segment"}, "by_segment": rows}
    blank = dict.fromkeys(QUOTA_KEYS)
    kept = [{**row, **blank} for row in rows if row["mqls"]]  # a quota's zero rows mean nothing here
    return {**marketing, **blank, "by_segment": kept}


def same_leads(frame: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """The rows of a per-lead frame (worklist, due soon) whose lead is among `leads`, order kept."""
    return frame.loc[among(frame["lead_id"], leads["lead_id"])].reset_index(drop=True)


def describe(lead_filter: LeadFilter, owner_names: Mapping[str, str]) -> str:
    """The filter in words for a header: "team East · rep Ana Ruiz · segment SMB" ('' when none)."""
    parts = [f"team {lead_filter.team}"] if lead_filter.team else []
    if lead_filter.owner:
        parts.append(f"rep {owner_names.get(lead_filter.owner, lead_filter.owner)}")
    parts += [f"{key} {getattr(lead_filter, key)}" for key in ("segment", "source") if getattr(lead_filter, key)]
    for key, label in (("first_touch", "first touch"), ("attempts", "attempts")):
        if getattr(lead_filter, key):
            parts.append(f"{label} {' or '.join(getattr(lead_filter, key))}")
    if lead_filter.untouched:
        parts.append("no touch yet")
    return " · ".join(parts)


def choices(ledger: pd.DataFrame, owners: pd.DataFrame) -> dict[str, list[str]]:
    """The values each scope filter can take in this data: teams, owner ids, segments, sources."""

    def distinct(values: pd.Series) -> set[str]:
        return {str(v) for v in values.dropna().unique()}  # unique first: a few values in many rows

    return {
        "team": sorted(distinct(owners["team"]) - {""}),
        "owner": sorted(distinct(ledger["owner_id"])),
        "segment": sorted(distinct(ledger["segment"])),
        "source": sorted(distinct(ledger["source"])),
    }


def drill_counts(leads: pd.DataFrame) -> dict[str, int]:
    """The counts a page links to the ledger: each commitment's breached and pending, and overdue
    (breached with no touch at all, the worklist's top)."""
    ft, att = leads["first_touch_status"], leads["attempts_status"]
    return {
        "first_touch_breached": int((ft == "breached").sum()),
        "first_touch_pending": int((ft == "pending").sum()),
        "overdue": int(((ft == "breached") & leads["first_touch_at"].isna()).sum()),
        "attempts_breached": int((att == "breached").sum()),
        "attempts_pending": int((att == "pending").sum()),
    }


def count_filter(name: str, scope: LeadFilter) -> LeadFilter:
    """The filter behind one of `drill_counts`' counts, inside `scope`."""
    side, _, status = name.rpartition("_")
    if name == "overdue":
        return scope.with_status(first_touch=("breached",), untouched=True)
    return scope.with_status(**{side: (status,)})
