"""HubSpot records to canonical frames (DESIGN "HubSpot mapping"). Pure: no I/O.

Decisions the design leaves open, made here:
- Instants: HubSpot sends every property as text, either ISO 8601 (`2026-03-02T14:05:00.123Z`,
  or a bare date, read as midnight UTC) or epoch milliseconds (`1772460300123`). Both
  are read; anything else becomes empty and is reported as a warning with the property.
- Touches: an activity associated with several contacts is a touch on each of them (an
  email to three leads touches all three), one row per contact with touch_id
  `<activity id>:<contact id>`. An activity with no contact gives no row. `automated` is
  true when `hs_engagement_source` is one of the settings' automated sources (workflows,
  sequences, bots by default). Direction: calls from `hs_call_direction` (INBOUND →
  inbound), emails from `hs_email_direction` (INCOMING_EMAIL → inbound; EMAIL and
  FORWARDED_EMAIL → outbound), every other kind outbound. The `communications` object
  (SMS, WhatsApp, LinkedIn messages), when configured, gives kind `other`.
- Deals: status from `hs_is_closed_won` / `hs_is_closed`; when HubSpot did not compute
  them, from the stage's metadata in its pipeline (isClosed, and probability 1.0 = won).
  `closed_at` is `closedate` for won and lost deals only: on an open deal HubSpot's
  closedate is the expected close date, not an event. lead_id is the associated contact
  with the lowest id (HubSpot has no primary deal contact; the lowest id is stable
  whichever endpoint listed the associations).
- Leads: `hs_analytics_source` codes become HubSpot's labels ("ORGANIC_SEARCH" → "Organic
  Search"); unknown codes are kept as they are. disqualified_at comes from the contact
  date property named by HUBSPOT_DISQUALIFIED_PROPERTY (HubSpot has no standard one).
- Leads object (HUBSPOT_ACCEPTANCE_SOURCE=leads_object): see `lead_object_decisions`.
- Owners: name is "first last" (the email when both are empty), team the primary team's
  name (else the first team's), archived owners are inactive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from smarketing.core import bounds
from smarketing.core.frames import normalize
from smarketing.sources.hubspot.client import Record, Stage

MODIFIED = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate
KIND = {
    "calls": "call",
    "emails": "email",
    "meetings": "meeting",
    "notes": "note",
    "tasks": "task",
    "communications": "other",
}

SOURCE_LABELS = {
    "ORGANIC_SEARCH": "Organic Search",
    "PAID_SEARCH": "Paid Search",
    "EMAIL_MARKETING": "Email Marketing",
    "SOCIAL_MEDIA": "Organic Social",
    "REFERRALS": "Referrals",
    "OTHER_CAMPAIGNS": "Other Campaigns",
    "DIRECT_TRAFFIC": "Direct Traffic",
    "OFFLINE": "Offline Sources",
    "PAID_SOCIAL": "Paid Social",
    "AI_REFERRALS": "AI Referrals",
}

LIFECYCLE = {
    "mql_at": "hs_lifecyclestage_marketingqualifiedlead_date",
    "sql_at": "hs_lifecyclestage_salesqualifiedlead_date",
    "customer_at": "hs_lifecyclestage_customer_date",
}


def modified_property(object_type: str) -> str:
    """The last-modified property HubSpot's search filters and sorts this object type by."""
    return MODIFIED.get(object_type, "hs_lastmodifieddate")


@dataclass(frozen=True)
class LeadStatusRule:
    """How a contact property's history becomes accepted_at / rejected_at (DESIGN section 2)."""

    property: str
    accepted: frozenset[str]
    rejected: frozenset[str]
    reason_property: str | None = None


@dataclass(frozen=True)
class LeadStageRule:
    """How a HubSpot Lead object's pipeline-stage history becomes its contact's decision."""

    accepted: frozenset[str]
    rejected: frozenset[str]
    reason_property: str | None = None


LEAD_STAGE_PROPERTY = "hs_pipeline_stage"
DECISION_COLUMNS = ("accepted_at", "rejected_at", "rejection_reason")


def lead_properties(reason_property: str | None) -> list[str]:
    """The Lead object properties the sync reads (the stage's history is asked for separately)."""
    props = [LEAD_STAGE_PROPERTY, "hs_pipeline", "hs_createdate", "hs_lastmodifieddate"]
    return list(dict.fromkeys([*props, *([reason_property] if reason_property else [])]))


def lead_object_decisions(
    records: Sequence[Record],
    rule: LeadStageRule,
    stored: Mapping[str, int | None],
    warnings: list[str] | None = None,
    skipped: list[str] | None = None,
) -> pd.DataFrame:
    """accepted_at / rejected_at / rejection_reason of the contacts of some Lead objects.

    A lead's accepted_at is the first entry into an accepted stage of its `hs_pipeline_stage`
    history, rejected_at the first entry into a rejected stage (a lead moved from accepted to
    rejected has both), the reason the lead's reason property when it was rejected. A lead
    associated with several contacts decides for each of them.

    Several leads for one contact: the lead decided first gives all three values. The SLA asks
    how sales answered the MQL, and the first decision is that answer; HubSpot opens a new lead
    on the same contact when it comes back later (a re-engagement), and that later lead must
    not move nor undo the answer, nor mix its stamps with the first lead's. A lead's first
    decision never moves (the history only grows), so this batch's choice is compared with the
    stored one: `stored` maps each stored contact (lead_id) to the epoch milliseconds of its
    stored decision, the earlier of accepted_at and rejected_at (None: undecided); a batch lead decided later than the stored decision changes nothing.
    Undecided leads write nothing, and leads whose contact is not in `stored` (not a synced
    lead, or none) are skipped, counted in a warning and their ids appended to `skipped`.

    Returns the rows to write: lead_id and the three decision columns (other columns empty).
    """
    best: dict[str, tuple[int, int, str, int | None, int | None, str | None]] = {}
    unknown: list[str] = []
    for record in records:
        if record.archived:
            continue
        history = record.history.get(LEAD_STAGE_PROPERTY) or []
        accepted = first_change_to(history, rule.accepted)
        rejected = first_change_to(history, rule.rejected)
        contacts = [c for c in record.associations.get("contacts", []) if c]
        known = [c for c in contacts if c in stored]
        if not known:
            unknown.append(record.id)
            continue
        if accepted is None and rejected is None:
            continue
        first = min(v for v in (accepted, rejected) if v is not None)
        reason = _text([record.properties.get(rule.reason_property)])[0] if rule.reason_property else None
        order = int(record.id) if record.id.isdigit() else 0
        candidate = (first, order, record.id, accepted, rejected, reason if rejected is not None else None)
        for contact in known:
            if contact not in best or candidate[:2] < best[contact][:2]:
                best[contact] = candidate
    if unknown and warnings is not None:
        n = len(unknown)
        warnings.append(
            f"{n} HubSpot lead{'s have' if n != 1 else ' has'} no associated contact among the synced leads and "
            f"{'were' if n != 1 else 'was'} skipped (retried at the next syncs)"
        )
    if skipped is not None:
        skipped.extend(unknown)
    rows = []
    for contact, (first, _, _, accepted, rejected, reason) in best.items():
        earlier = stored[contact]
        if earlier is not None and earlier < first:
            continue  # decided earlier by another lead
        rows.append((contact, accepted, rejected, reason))
    ids, accepted_ms, rejected_ms, reasons = (list(c) for c in zip(*rows)) if rows else ([], [], [], [])
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series(ids, dtype=object),
            "accepted_at": parse_instants(accepted_ms),  # from the lists: a column would turn ms into floats
            "rejected_at": parse_instants(rejected_ms),
            "rejection_reason": pd.Series(reasons, dtype=object),
        }
    )
    return normalize("leads", frame)


def first_change_to(history: Sequence[dict[str, Any]], values: frozenset[str]) -> Any:
    """The timestamp of the earliest history entry whose value is one of `values` (None: never)."""
    stamps = []
    for entry in history:
        if str(entry.get("value") or "").strip().upper() not in values:
            continue
        try:
            stamp = _instant_ns(entry.get("timestamp"))
        except (ValueError, TypeError, OverflowError):
            continue  # an unreadable entry decides nothing
        if stamp is not None:
            stamps.append(stamp)
    return min(stamps) // 1_000_000 if stamps else None


def contact_properties(
    segment_property: str | None, disqualified_property: str | None, reason_property: str | None = None
) -> list[str]:
    props = [
        "createdate",
        "lastmodifieddate",
        *LIFECYCLE.values(),
        "hubspot_owner_id",
        "hubspot_owner_assigneddate",
        "hs_analytics_source",
    ]
    props += [p for p in (segment_property, disqualified_property, reason_property) if p]
    return list(dict.fromkeys(props))


def activity_properties(object_type: str) -> list[str]:
    props = ["hs_timestamp", "hubspot_owner_id", "hs_engagement_source", "hs_lastmodifieddate"]
    if object_type == "calls":
        props.append("hs_call_direction")
    if object_type == "emails":
        props.append("hs_email_direction")
    return props


DEAL_PROPERTIES = [
    "amount",
    "createdate",
    "closedate",
    "pipeline",
    "dealstage",
    "hubspot_owner_id",
    "hs_is_closed_won",
    "hs_is_closed",
    "hs_lastmodifieddate",
]


# -- values ------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAT = np.iinfo(np.int64).min


def _instant_ns(value: Any) -> int | None:
    """One HubSpot instant as epoch nanoseconds; None when empty; raises ValueError when unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return _bounded_ns(int(text) * 1_000_000)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        parsed = pd.Timestamp(text)  # raises ValueError when unreadable
        if parsed is pd.NaT:
            raise ValueError(text) from None
        parsed = parsed.tz_localize("UTC") if parsed.tzinfo is None else parsed.tz_convert("UTC")
        return _bounded_ns(int(parsed.as_unit("ns").value))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    delta = stamp - _EPOCH
    return _bounded_ns((delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000)


def _bounded_ns(ns: int) -> int:
    """Epoch nanoseconds within the years 1900-2199; raises ValueError outside them."""
    if not bounds.EARLIEST.value <= ns < bounds.LATEST.value:
        raise ValueError(f"outside {bounds.YEARS}")
    return ns


def parse_instants(values: Iterable[Any], warnings: list[str] | None = None, what: str = "") -> pd.Series:
    """HubSpot instants (ISO 8601 text or epoch milliseconds) as datetime64[ns, UTC]."""
    items = list(values)
    out = np.full(len(items), _NAT, dtype=np.int64)
    bad, example = 0, None
    for i, value in enumerate(items):
        try:
            ns = _instant_ns(value)
        except (ValueError, TypeError, OverflowError):
            bad += 1
            example = example if example is not None else value
            continue
        if ns is not None:
            out[i] = ns
    if bad and warnings is not None:
        warnings.append(f"{bad} {what or 'values'} were not instants (for example '{example}') and were left empty")
    return pd.Series(out.view("datetime64[ns]")).dt.tz_localize("UTC")


def to_ms(value: Any) -> int | None:
    """One HubSpot instant as epoch milliseconds (None when empty or unreadable)."""
    try:
        ns = _instant_ns(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if ns is None else ns // 1_000_000


def _column(records: Sequence[Record], name: str | None) -> list[Any]:
    if not name:
        return [None] * len(records)
    return [r.properties.get(name) for r in records]


def _text(values: Iterable[Any]) -> list[str | None]:
    out = []
    for value in values:
        text = None if value is None else str(value).strip()
        out.append(text or None)
    return out


def _first_contact(contacts: Sequence[str]) -> str | None:
    ids = [c for c in contacts if c]
    if not ids:
        return None
    return min(ids, key=lambda c: (len(c), c) if c.isdigit() else (10**9, c))


# -- frames ------------------------------------------------------------------------------


def owners_frame(owners: Sequence[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for owner in owners:
        name = " ".join(p for p in (owner.get("first_name"), owner.get("last_name")) if p).strip()
        teams = owner.get("teams") or []
        primary = next((t for t in teams if t.get("primary")), teams[0] if teams else None)
        rows.append(
            {
                "owner_id": owner["id"],
                "name": name or owner.get("email"),
                "email": owner.get("email"),
                "team": primary.get("name") if primary else None,
                "active": not owner.get("archived", False),
            }
        )
    frame = pd.DataFrame(rows, columns=["owner_id", "name", "email", "team", "active"])
    # an owner listed both active and archived keeps the active entry
    frame = frame.sort_values("active", ascending=False, kind="stable").drop_duplicates("owner_id")
    return normalize("owners", frame)


def leads_frame(
    records: Sequence[Record],
    segment_property: str | None = None,
    disqualified_property: str | None = None,
    warnings: list[str] | None = None,
    lead_status: LeadStatusRule | None = None,
) -> pd.DataFrame:
    def instants(prop: str | None) -> pd.Series:
        return parse_instants(_column(records, prop), warnings, f"contact {prop} values")

    source = [SOURCE_LABELS.get(s.upper(), s) if s else None for s in _text(_column(records, "hs_analytics_source"))]
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series([r.id for r in records], dtype=object),
            "created_at": instants("createdate"),
            "mql_at": instants(LIFECYCLE["mql_at"]),
            "assigned_at": instants("hubspot_owner_assigneddate"),
            "sql_at": instants(LIFECYCLE["sql_at"]),
            "customer_at": instants(LIFECYCLE["customer_at"]),
            "disqualified_at": instants(disqualified_property),
            "segment": pd.Series(_text(_column(records, segment_property)), dtype=object),
            "source": pd.Series(source, dtype=object),
            "owner_id": pd.Series(_text(_column(records, "hubspot_owner_id")), dtype=object),
            "updated_at": instants("lastmodifieddate"),
        }
    )
    if lead_status is not None:
        frame = frame.assign(**_decisions(records, lead_status, warnings))
    return normalize("leads", frame)


def _decisions(records: Sequence[Record], rule: LeadStatusRule, warnings: list[str] | None) -> dict[str, Any]:
    """accepted_at, rejected_at (first change to a value of each set) and the reason of rejected leads."""
    histories = [r.history.get(rule.property) or [] for r in records]
    accepted = [first_change_to(h, rule.accepted) for h in histories]
    rejected = [first_change_to(h, rule.rejected) for h in histories]
    reasons = _text(_column(records, rule.reason_property))
    return {
        "accepted_at": parse_instants(accepted, warnings, f"{rule.property} history timestamps"),
        "rejected_at": parse_instants(rejected, warnings, f"{rule.property} history timestamps"),
        "rejection_reason": pd.Series(
            [reason if at is not None else None for reason, at in zip(reasons, rejected)], dtype=object
        ),
    }


def touches_frame(
    object_type: str,
    records: Sequence[Record],
    automated_sources: Iterable[str] = (),
    warnings: list[str] | None = None,
) -> pd.DataFrame:
    """One row per (activity, associated contact); activities without a contact give none."""
    kind = KIND[object_type]
    automated_set = {s.upper() for s in automated_sources}
    direction_prop, inbound_value = {
        "calls": ("hs_call_direction", "INBOUND"),
        "emails": ("hs_email_direction", "INCOMING_EMAIL"),
    }.get(object_type, (None, None))
    occurred = parse_instants(_column(records, "hs_timestamp"), warnings, f"{object_type} hs_timestamp values")
    missing_time = occurred.isna().to_numpy()
    rows: dict[str, list[Any]] = {c: [] for c in ("touch_id", "lead_id", "owner_id", "automated", "direction")}
    positions: list[int] = []
    skipped = 0
    for i, record in enumerate(records):
        contacts = record.associations.get("contacts", [])
        if not contacts:
            continue
        if missing_time[i]:
            skipped += 1
            continue
        props = record.properties
        owner = _text([props.get("hubspot_owner_id")])[0]
        source = str(props.get("hs_engagement_source") or "").strip().upper()
        raw = str(props.get(direction_prop) or "").strip().upper() if direction_prop else ""
        direction = "inbound" if direction_prop and raw == inbound_value else "outbound"
        for contact in contacts:
            rows["touch_id"].append(f"{record.id}:{contact}")
            rows["lead_id"].append(contact)
            rows["owner_id"].append(owner)
            rows["automated"].append(source in automated_set)
            rows["direction"].append(direction)
            positions.append(i)
    if skipped and warnings is not None:
        warnings.append(f"{skipped} {object_type} without hs_timestamp were skipped")
    frame = pd.DataFrame(
        {
            "touch_id": pd.Series(rows["touch_id"], dtype=object),
            "lead_id": pd.Series(rows["lead_id"], dtype=object),
            "owner_id": pd.Series(rows["owner_id"], dtype=object),
            "kind": kind,
            "occurred_at": occurred.iloc[np.asarray(positions, dtype=np.int64)].reset_index(drop=True),
            "automated": pd.Series(rows["automated"], dtype=bool),
            "direction": pd.Series(rows["direction"], dtype=object),
        }
    )
    return normalize("touches", frame)


def deals_frame(
    records: Sequence[Record], stages: Sequence[Stage] = (), warnings: list[str] | None = None
) -> pd.DataFrame:
    by_stage = {(s.pipeline_id, s.stage_id): s for s in stages}
    statuses = []
    unknown = 0
    for record in records:
        props = record.properties
        won = str(props.get("hs_is_closed_won") or "").strip().lower()
        closed = str(props.get("hs_is_closed") or "").strip().lower()
        stage = by_stage.get((str(props.get("pipeline") or ""), str(props.get("dealstage") or "")))
        stage_status = None
        if stage is not None and stage.is_closed is not None:
            stage_status = "open" if not stage.is_closed else ("won" if (stage.probability or 0) >= 1.0 else "lost")
        if won == "true":
            statuses.append("won")
        elif closed == "true":
            statuses.append("lost" if won == "false" or stage_status != "won" else "won")
        elif closed == "false":
            statuses.append("open")
        elif stage_status is not None:
            statuses.append(stage_status)
        else:
            unknown += 1
            statuses.append("open")
    if unknown and warnings is not None:
        warnings.append(f"{unknown} deals had neither hs_is_closed nor a known pipeline stage and were taken as open")
    status = pd.Series(statuses, dtype="object")
    closed_at = parse_instants(_column(records, "closedate"), warnings, "deal closedate values")
    amount = pd.Series([_number(v) for v in _column(records, "amount")], dtype="float64")
    outside = bounds.amounts_outside(amount)
    if outside.any() and warnings is not None:
        example = amount[outside].iloc[0]
        warnings.append(
            f"{int(outside.sum())} deal amounts were not {bounds.AMOUNTS} (for example {example}) and were left unknown"
        )
    amount = amount.mask(outside)
    frame = pd.DataFrame(
        {
            "deal_id": pd.Series([r.id for r in records], dtype=object),
            "lead_id": pd.Series([_first_contact(r.associations.get("contacts", [])) for r in records], dtype=object),
            "owner_id": pd.Series(_text(_column(records, "hubspot_owner_id")), dtype=object),
            "amount": amount,
            "created_at": parse_instants(_column(records, "createdate"), warnings, "deal createdate values"),
            "closed_at": closed_at.where(status != "open"),
            "status": status,
            "pipeline": pd.Series(_text(_column(records, "pipeline")), dtype=object),
        }
    )
    return normalize("deals", frame)


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", "")) if value not in (None, "") else float("nan")
    except ValueError:
        return float("nan")
