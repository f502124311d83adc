"""A fake HubSpot portal: canonical truth in, HubSpot-shaped records out.

`build_portal(data)` turns canonical frames (for example `smarketing.sources.demo.generate_demo`)
into a portal of owners with teams, contacts with lifecycle dates, calls, emails,
meetings, notes, tasks, communications and deals with their contact associations and a
deal pipeline, and (with `leads_object=True`) Lead objects whose `hs_pipeline_stage` history
holds the sales decisions instead of the contacts' lead status. The portal keeps the canonical values it was built from (at HubSpot's
millisecond precision) and renders HubSpot's text properties from them, varying the
encodings a real portal shows (ISO 8601 and epoch milliseconds, hs_is_closed present or
only the pipeline stage, inbound and forwarded emails, several contacts on one activity).

`portal.truth()` is what a correct sync must store; `portal.write_canonical_csvs(dir)`
writes the same truth as canonical CSVs for `python -m smarketing import`. Mutations
(`modify_contacts`, `archive`, ...) change both the records and the truth, and bump the
last-modified dates the way HubSpot does. This file never imports smarketing.sources.hubspot:
it is an independent oracle.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smarketing.core.frames import INSTANT, SCHEMAS, CrmData

ACTIVITY_OBJECTS = ("calls", "emails", "meetings", "notes", "tasks", "communications")
KIND_TO_OBJECT = {
    "call": "calls",
    "email": "emails",
    "meeting": "meetings",
    "note": "notes",
    "task": "tasks",
    "other": "communications",
}
OBJECT_TO_KIND = {v: k for k, v in KIND_TO_OBJECT.items()}
LEAD_STATUS_PROPERTY = "hs_lead_status"
REASON_PROPERTY = "smk_rejection_reason"
ACCEPTED_STATUSES = ("OPEN", "IN_PROGRESS", "CONNECTED", "OPEN_DEAL")
REJECTED_STATUSES = ("UNQUALIFIED",)
ASSOCIATION_TYPE_IDS = {
    "calls": 194,
    "emails": 198,
    "meetings": 200,
    "notes": 202,
    "tasks": 204,
    "communications": 82,
    "deals": 3,
    "leads": 578,  # lead to primary contact
}
# HubSpot's default lead pipeline and the stages that accept or reject a lead
LEAD_PIPELINE = "lead-pipeline-id"
LEAD_STAGES = (
    "new-stage-id",
    "attempting-stage-id",
    "connected-stage-id",
    "qualified-stage-id",
    "unqualified-stage-id",
)
LEAD_ACCEPTED_STAGES = ("attempting-stage-id", "connected-stage-id", "qualified-stage-id")
LEAD_REJECTED_STAGES = ("unqualified-stage-id",)
LEAD_STAGE_PROPERTY = "hs_pipeline_stage"
LEAD_REASON_PROPERTY = "hs_lead_disqualification_reason"
LEAD_IDS = 70_000_000  # lead object ids start here
SOURCE_CODES = {
    "Organic Search": "ORGANIC_SEARCH",
    "Paid Search": "PAID_SEARCH",
    "Paid Social": "PAID_SOCIAL",
    "Events": "OFFLINE",
    "Referrals": "REFERRALS",
    "Email Marketing": "EMAIL_MARKETING",
    "Direct": "DIRECT_TRAFFIC",
}
# how HubSpot labels those codes in its UI (what the sync must store)
SOURCE_LABELS = {
    "ORGANIC_SEARCH": "Organic Search",
    "PAID_SEARCH": "Paid Search",
    "PAID_SOCIAL": "Paid Social",
    "OFFLINE": "Offline Sources",
    "REFERRALS": "Referrals",
    "EMAIL_MARKETING": "Email Marketing",
    "DIRECT_TRAFFIC": "Direct Traffic",
}
STAGES = (  # (id, label, probability, closed)
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
)
MINUTE_MS = 60_000
AUTOMATED_SOURCE = "AUTOMATION_PLATFORM"
MANUAL_SOURCES = ("CRM_UI", "EMAIL_INTEGRATION", "SALES", "MOBILE_IOS")

LEAD_INSTANTS = tuple(c for c, kind in SCHEMAS["leads"].items() if kind == INSTANT)


def ms(value: Any) -> int | None:
    """A canonical instant as epoch milliseconds (floored), None when missing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


_EPOCH = datetime(1970, 1, 1)


def iso(value_ms: int | None) -> str | None:
    """Epoch milliseconds as HubSpot's ISO 8601 text (`2026-03-02T14:05:00.123Z`)."""
    if value_ms is None:
        return None
    stamp = _EPOCH + timedelta(milliseconds=int(value_ms))
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(value_ms) % 1000:03d}Z"


def ms_column(values: pd.Series) -> list[int | None]:
    """A column of canonical instants as epoch milliseconds (floored), None where missing."""
    stamps = pd.to_datetime(values, utc=True)
    numbers = stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view("int64")
    missing = stamps.isna().to_numpy()
    return [None if m else int(n // 1_000_000) for n, m in zip(numbers, missing)]


_TIE_KEYS: dict[str, str] = {}


def tie_key(object_id: str) -> str:
    """A repeatable pseudo-random order key for records that sort equal."""
    key = _TIE_KEYS.get(object_id)
    if key is None:
        key = _TIE_KEYS[object_id] = hashlib.md5(object_id.encode()).hexdigest()
    return key


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Obj:
    """One CRM object: HubSpot's text properties, dates, archive state, canonical truth."""

    id: str
    object_type: str
    props: dict[str, str | None]
    created_ms: int
    modified_ms: int
    truth: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    archived_ms: int | None = None
    history: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # property: [(value, ms)], oldest first

    @property
    def modified_prop(self) -> str:
        return "lastmodifieddate" if self.object_type == "contacts" else "hs_lastmodifieddate"

    def stamp_modified(self, value_ms: int) -> None:
        self.modified_ms = value_ms
        self.props[self.modified_prop] = iso(value_ms)


class Portal:
    """The portal's state; every method is thread-safe (the server reads it from many threads)."""

    def __init__(self, *, segment_property: str = "lead_tier", disqualified_property: str = "smk_disqualified_date"):
        self.segment_property = segment_property
        self.disqualified_property = disqualified_property
        self.lead_status_property = LEAD_STATUS_PROPERTY
        self.reason_property = REASON_PROPERTY
        self.owners: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, Obj]] = {t: {} for t in ("contacts", "deals", *ACTIVITY_OBJECTS, "leads")}
        self.contacts_of: dict[str, dict[str, list[str]]] = {t: {} for t in ("deals", *ACTIVITY_OBJECTS, "leads")}
        self.pipelines: list[dict[str, Any]] = [_default_pipeline()]
        self.lock = threading.RLock()
        self.version = 0  # bumped on every change (indexes are rebuilt lazily)
        self._indexes: dict[str, tuple[int, list[int], list[str]]] = {}
        self._sorted_ids: dict[str, tuple[int, list[int]]] = {}

    # -- reading (used by the server) ----------------------------------------------------

    def live(self, object_type: str, archived: bool = False) -> list[Obj]:
        return [o for o in self.objects[object_type].values() if o.archived == archived]

    def sorted_ids(self, object_type: str) -> list[int]:
        """Ids of the type as integers, ascending (the list endpoint's order)."""
        with self.lock:
            cached = self._sorted_ids.get(object_type)
            if cached is None or cached[0] != self.version:
                cached = (self.version, sorted(int(i) for i in self.objects[object_type]))
                self._sorted_ids[object_type] = cached
            return cached[1]

    def modified_index(self, object_type: str) -> tuple[list[int], list[str]]:
        """(modified ms, ids) of the live objects in search order: by modified date, ties in a
        scrambled but repeatable order (HubSpot promises no order among ties)."""
        with self.lock:
            cached = self._indexes.get(object_type)
            if cached is None or cached[0] != self.version:
                pairs = sorted(
                    (o.modified_ms, tie_key(o.id), o.id) for o in self.objects[object_type].values() if not o.archived
                )
                cached = (self.version, [p[0] for p in pairs], [p[2] for p in pairs])
                self._indexes[object_type] = cached
            return cached[1], cached[2]

    def associated_contacts(self, object_type: str, object_id: str) -> list[str]:
        """Live contacts associated with an object (archived contacts are hidden, as in HubSpot)."""
        contacts = self.objects["contacts"]
        if object_type == "contacts":
            return []
        return [
            c for c in self.contacts_of[object_type].get(object_id, []) if c in contacts and not contacts[c].archived
        ]

    def associated_objects(self, contact_id: str, to_type: str) -> list[str]:
        """Live objects of a type associated with a contact."""
        objects = self.objects[to_type]
        return sorted(
            (
                i
                for i, cs in self.contacts_of[to_type].items()
                if contact_id in cs and i in objects and not objects[i].archived
            ),
            key=int,
        )

    # -- truth ---------------------------------------------------------------------------

    def truth(
        self,
        activity_types: tuple[str, ...] = ("calls", "emails", "meetings", "notes", "tasks"),
        *,
        disqualified: bool = True,
    ) -> CrmData:
        """The canonical data a correct sync of this portal stores."""
        with self.lock:
            owners = pd.DataFrame(
                [
                    {
                        "owner_id": o["id"],
                        "name": f"{o['first']} {o['last']}".strip() or o["email"],
                        "email": o["email"],
                        "team": next((t["name"] for t in o["teams"] if t["primary"]), None),
                        "active": not o["archived"],
                    }
                    for o in self.owners.values()
                ]
            )
            leads = pd.DataFrame(
                [
                    {**c.truth, "lead_id": c.id, "updated_at": c.modified_ms}
                    for c in self.objects["contacts"].values()
                    if not c.archived
                ]
            )
            if not disqualified and len(leads):
                leads["disqualified_at"] = None
            touches = []
            for object_type in activity_types:
                for obj in self.objects[object_type].values():
                    if obj.archived:
                        continue
                    for contact in self.associated_contacts(object_type, obj.id):
                        touches.append({**obj.truth, "touch_id": f"{obj.id}:{contact}", "lead_id": contact})
            deals = []
            for obj in self.objects["deals"].values():
                if obj.archived:
                    continue
                contacts = self.associated_contacts("deals", obj.id)
                deals.append({**obj.truth, "deal_id": obj.id, "lead_id": min(contacts, key=int) if contacts else None})
        frames = {
            "owners": owners,
            "leads": _instants(leads, LEAD_INSTANTS),
            "touches": _instants(pd.DataFrame(touches), ("occurred_at",)),
            "deals": _instants(pd.DataFrame(deals), ("created_at", "closed_at")),
        }
        return CrmData.of(**{k: v for k, v in frames.items() if len(v)})

    def write_canonical_csvs(self, directory: str | Path, terms_toml: str | None = None, **truth_kwargs: Any) -> Path:
        """The truth as canonical CSVs (owners, leads, touches, deals) and an optional terms.toml."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        data = self.truth(**truth_kwargs)
        for table in ("owners", "leads", "touches", "deals"):
            frame = data.frame(table).copy()
            for column in frame.columns:
                if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                    frame[column] = frame[column].map(lambda t: None if pd.isna(t) else iso(ms(t)))
                elif frame[column].dtype == bool:
                    frame[column] = frame[column].map({True: "true", False: "false"})
            frame.to_csv(folder / f"{table}.csv", index=False)
        if terms_toml is not None:
            (folder / "terms.toml").write_text(terms_toml, encoding="utf-8")
        return folder

    # -- mutations -----------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1

    def modify_contacts(
        self,
        ids: list[str] | None = None,
        *,
        at_ms: int | list[int] | None = None,
        segment: str | None = None,
        rng_seed: int = 0,
    ) -> list[str]:
        """Touch contacts as a HubSpot user or workflow would: a new last-modified date, maybe a new segment.

        `at_ms` is one instant for all (a bulk edit) or one per contact; default: spread
        over the last minute, one millisecond apart, in random order.
        """
        with self.lock:
            contacts = self.objects["contacts"]
            ids = [i for i in (ids if ids is not None else list(contacts)) if not contacts[i].archived]
            if at_ms is None:
                base = now_ms() - len(ids) - 1000
                order = np.random.default_rng(rng_seed).permutation(len(ids))
                stamps = [base + int(k) for k in order]
            elif isinstance(at_ms, int):
                stamps = [at_ms] * len(ids)
            else:
                stamps = list(at_ms)
            for contact_id, stamp in zip(ids, stamps):
                obj = contacts[contact_id]
                if segment is not None:
                    obj.truth["segment"] = segment
                    obj.props[self.segment_property] = segment
                obj.stamp_modified(stamp)
            self._changed()
            return ids

    def set_contact_owner(self, contact_id: str, owner_id: str | None, at_ms: int | None = None) -> None:
        with self.lock:
            obj = self.objects["contacts"][contact_id]
            stamp = at_ms or now_ms()
            obj.truth["owner_id"] = owner_id
            obj.truth["assigned_at"] = stamp if owner_id else None
            obj.props["hubspot_owner_id"] = owner_id
            obj.props["hubspot_owner_assigneddate"] = iso(stamp) if owner_id else None
            obj.stamp_modified(stamp)
            self._changed()

    def set_lead_status(self, contact_id: str, value: str, at_ms: int, reason: str | None = None) -> None:
        """A rep changes the contact's lead status (and the reason property), as in HubSpot's UI."""
        with self.lock:
            obj = self.objects["contacts"][contact_id]
            obj.history.setdefault(self.lead_status_property, []).append((value, at_ms))
            obj.props[self.lead_status_property] = value
            if reason is not None:
                obj.props[self.reason_property] = reason
            for key, values in (("accepted_at", ACCEPTED_STATUSES), ("rejected_at", REJECTED_STATUSES)):
                if value in values and obj.truth.get(key) is None:
                    obj.truth[key] = at_ms
            if obj.truth.get("rejected_at") is not None:
                obj.truth["rejection_reason"] = obj.props.get(self.reason_property)
            obj.stamp_modified(max(at_ms, obj.modified_ms + 1))
            self._changed()

    def add_lead(
        self,
        contacts: list[str],
        stages: list[tuple[str, int]],
        reason: str | None = None,
        lead_id: str | None = None,
    ) -> str:
        """A rep opens a Lead object on contacts and moves it through stages [(stage id, ms)], oldest first."""
        with self.lock:
            lead_id = lead_id or str(LEAD_IDS + 500_000 + len(self.objects["leads"]))
            created = stages[0][1]
            props = {
                "hs_lead_name": f"Lead {lead_id}",
                "hs_pipeline": LEAD_PIPELINE,
                "hs_createdate": iso(created),
                "hs_lastmodifieddate": iso(stages[-1][1]),
                LEAD_STAGE_PROPERTY: stages[-1][0],
                LEAD_REASON_PROPERTY: reason,
            }
            obj = Obj(lead_id, "leads", props, created, stages[-1][1], history={LEAD_STAGE_PROPERTY: list(stages)})
            self.objects["leads"][lead_id] = obj
            self.contacts_of["leads"][lead_id] = list(contacts)
            self._decide(contacts)
            self._changed()
            return lead_id

    def set_lead_stage(self, lead_id: str, stage: str, at_ms: int, reason: str | None = None) -> None:
        """A rep moves a Lead object to another stage (HubSpot bumps the lead's, not the contact's, modified date)."""
        with self.lock:
            obj = self.objects["leads"][lead_id]
            obj.history.setdefault(LEAD_STAGE_PROPERTY, []).append((stage, at_ms))
            obj.props[LEAD_STAGE_PROPERTY] = stage
            if reason is not None:
                obj.props[LEAD_REASON_PROPERTY] = reason
            obj.stamp_modified(max(at_ms, obj.modified_ms + 1))
            self._decide(self.contacts_of["leads"].get(lead_id, []))
            self._changed()

    def leads_of(self, contact_id: str) -> list[str]:
        return self.associated_objects(contact_id, "leads")

    def _decide(self, contacts: list[str]) -> None:
        """The contacts' accepted_at / rejected_at / rejection_reason from their Lead objects: the
        lead whose first entry into an accepted or rejected stage came first gives all three."""
        for contact_id in contacts:
            contact = self.objects["contacts"].get(contact_id)
            if contact is None:
                continue
            best = None
            for lead_id in self.leads_of(contact_id):
                lead = self.objects["leads"][lead_id]
                history = lead.history.get(LEAD_STAGE_PROPERTY, [])
                accepted = min((t for v, t in history if v in LEAD_ACCEPTED_STAGES), default=None)
                rejected = min((t for v, t in history if v in LEAD_REJECTED_STAGES), default=None)
                decided = [t for t in (accepted, rejected) if t is not None]
                if not decided:
                    continue
                key = (min(decided), int(lead_id))
                if best is None or key < best[0]:
                    reason = lead.props.get(LEAD_REASON_PROPERTY) if rejected is not None else None
                    best = (key, accepted, rejected, reason)
            contact.truth["accepted_at"] = best[1] if best else None
            contact.truth["rejected_at"] = best[2] if best else None
            contact.truth["rejection_reason"] = best[3] if best else None

    def set_activity_contacts(
        self, object_type: str, object_id: str, contacts: list[str], *, bump: bool = True
    ) -> None:
        """Re-associate an activity (or deal); HubSpot bumps its modified date when `bump`."""
        with self.lock:
            self.contacts_of[object_type][object_id] = list(contacts)
            if bump:
                self.objects[object_type][object_id].stamp_modified(now_ms())
            self._changed()

    def touch(self, object_type: str, ids: list[str]) -> None:
        """Bump objects' last-modified dates, one millisecond apart, as an edit in HubSpot would."""
        with self.lock:
            stamp = now_ms() - len(ids)
            for k, object_id in enumerate(ids):
                self.objects[object_type][object_id].stamp_modified(stamp + k)
            self._changed()

    def archive(self, object_type: str, ids: list[str]) -> None:
        with self.lock:
            stamp = now_ms()
            for object_id in ids:
                obj = self.objects[object_type][object_id]
                obj.archived = True
                obj.archived_ms = stamp
            self._changed()

    def archive_owner(self, owner_id: str) -> None:
        with self.lock:
            self.owners[owner_id]["archived"] = True
            self._changed()


# -- building a portal from canonical data ----------------------------------------------------


def build_portal(
    data: CrmData,
    *,
    segment_property: str = "lead_tier",
    disqualified_property: str = "smk_disqualified_date",
    seed: int = 5,
    multi_contact_share: float = 0.02,
    now: int | None = None,
    leads_object: bool = False,
) -> Portal:
    """A portal holding `data` (canonical frames) as HubSpot would; with `leads_object` the
    decisions live in Lead objects and the contacts' lead status stays NEW."""
    rng = np.random.default_rng(seed)
    portal = Portal(segment_property=segment_property, disqualified_property=disqualified_property)
    current = now or now_ms()
    _add_owners(portal, data.owners, rng)
    contact_ids = _add_contacts(portal, data.leads, rng, current)
    _add_activities(portal, data.touches, rng, current, contact_ids, multi_contact_share)
    _add_deals(portal, data.deals, rng, current, contact_ids)
    if leads_object:
        _add_leads(portal, contact_ids)
    portal._changed()
    return portal


def _add_owners(portal: Portal, owners: pd.DataFrame, rng: np.random.Generator) -> None:
    teams = {name: str(100 + i) for i, name in enumerate(sorted(owners["team"].dropna().unique()))}
    for k, row in enumerate(owners.itertuples(index=False)):
        first, _, last = str(row.name or "").partition(" ")
        member = [{"id": teams[row.team], "name": row.team, "primary": True}] if pd.notna(row.team) else []
        if member and k % 4 == 1:  # a second, non-primary team
            other = next(n for n in teams if n != row.team)
            member.insert(0, {"id": teams[other], "name": other, "primary": False})
        portal.owners[str(row.owner_id)] = {
            "id": str(row.owner_id),
            "first": first,
            "last": last,
            "email": row.email,
            "teams": member,
            "archived": not bool(row.active),
            "user_id": 9_000_000 + k,
        }


def _add_contacts(portal: Portal, leads: pd.DataFrame, rng: np.random.Generator, current: int) -> list[str]:
    ids = []
    cols = {c: ms_column(leads[c]) for c in LEAD_INSTANTS}
    for k, row in enumerate(leads.itertuples(index=False)):
        epoch = k % 7 == 3  # some portals hold imported dates as epoch milliseconds
        truth = {
            "created_at": cols["created_at"][k],
            "mql_at": cols["mql_at"][k],
            "assigned_at": cols["assigned_at"][k],
            "sql_at": cols["sql_at"][k],
            "customer_at": cols["customer_at"][k],
            "disqualified_at": cols["disqualified_at"][k],
            "segment": None if pd.isna(row.segment) or row.segment == "all" else str(row.segment),
            "owner_id": None if pd.isna(row.owner_id) else str(row.owner_id),
        }
        code = SOURCE_CODES.get(str(row.source)) if pd.notna(row.source) else None
        truth["source"] = SOURCE_LABELS.get(code) if code else (None if pd.isna(row.source) else str(row.source))
        enc = (lambda v: None if v is None else str(v)) if epoch else iso
        modified = min(current, max(v for v in (cols["updated_at"][k], truth["created_at"], 0) if v is not None))
        props = {
            "createdate": iso(truth["created_at"]),
            "lastmodifieddate": iso(modified),
            "hs_lifecyclestage_marketingqualifiedlead_date": enc(truth["mql_at"]),
            "hs_lifecyclestage_salesqualifiedlead_date": enc(truth["sql_at"]),
            "hs_lifecyclestage_customer_date": enc(truth["customer_at"]),
            "hubspot_owner_id": truth["owner_id"],
            "hubspot_owner_assigneddate": enc(truth["assigned_at"]),
            "hs_analytics_source": code or truth["source"],
            portal.segment_property: truth["segment"],
            portal.disqualified_property: iso(truth["disqualified_at"]),
            "lifecyclestage": "customer"
            if truth["customer_at"]
            else ("salesqualifiedlead" if truth["sql_at"] else "marketingqualifiedlead"),
            "email": f"lead{row.lead_id}@example.org",
        }
        obj = Obj(str(row.lead_id), "contacts", props, truth["created_at"] or modified, modified, truth)
        _add_lead_status(portal, obj, k, cols["accepted_at"][k], cols["rejected_at"][k], row.rejection_reason)
        portal.objects["contacts"][obj.id] = obj
        ids.append(obj.id)
    return ids


def _add_lead_status(portal: Portal, obj: Obj, k: int, accepted: int | None, rejected: int | None, reason: Any) -> None:
    """The contact's lead-status history: NEW at creation, values outside both sets, and the first
    change to an accepted (OPEN) or rejected (UNQUALIFIED) value at the canonical instants; a later
    change to another accepted value (IN_PROGRESS) must not move accepted_at."""
    history = [("NEW", obj.created_ms)]
    if accepted is not None:
        if k % 3 == 0:
            history.append(("ATTEMPTED_TO_CONTACT", accepted - MINUTE_MS))
        history.append(("OPEN", accepted))
        if k % 2 == 0:
            history.append(("IN_PROGRESS", accepted + 60 * MINUTE_MS))
    if rejected is not None:
        history.append(("UNQUALIFIED", rejected))
        obj.props[portal.reason_property] = None if pd.isna(reason) else str(reason)
    history.sort(key=lambda entry: entry[1])
    obj.history[portal.lead_status_property] = history
    obj.props[portal.lead_status_property] = history[-1][0]
    obj.truth["accepted_at"] = accepted
    obj.truth["rejected_at"] = rejected
    obj.truth["rejection_reason"] = obj.props.get(portal.reason_property) if rejected is not None else None


def _add_leads(portal: Portal, contact_ids: list[str]) -> None:
    """A Lead object per contact, its stages at the canonical decision instants: new at the MQL,
    the first accepted stage (attempting or connected) at accepted_at, sometimes qualified an
    hour later (which must not move accepted_at), unqualified at rejected_at with the reason.
    Every seventh decided contact also has a later lead (a re-engagement, rejected for another
    reason) with a lower id, so it is listed first but must not decide. The contacts' own lead
    status is reset to NEW: only the Lead objects tell."""
    for k, contact_id in enumerate(contact_ids):
        contact = portal.objects["contacts"][contact_id]
        accepted, rejected = contact.truth.get("accepted_at"), contact.truth.get("rejected_at")
        reason = contact.truth.get("rejection_reason")
        opened = contact.truth.get("mql_at") or contact.created_ms
        decided = [t for t in (accepted, rejected) if t is not None]
        opened = min([opened, *decided])
        stages = [("new-stage-id", opened)]
        if accepted is not None:
            stages.append(("attempting-stage-id" if k % 2 else "connected-stage-id", accepted))
            if k % 3 == 0:
                stages.append(("qualified-stage-id", accepted + 60 * MINUTE_MS))
        if rejected is not None:
            stages.append(("unqualified-stage-id", rejected))
        stages.sort(key=lambda entry: entry[1])
        portal.add_lead([contact_id], stages, reason if rejected is not None else None, str(LEAD_IDS + k))
        if decided and k % 7 == 0:
            later = max(decided) + 24 * 60 * MINUTE_MS
            stages = [("new-stage-id", later), ("unqualified-stage-id", later + 60 * MINUTE_MS)]
            portal.add_lead([contact_id], stages, "re-engaged, no budget", str(LEAD_IDS - 1 - k))
        contact.history[portal.lead_status_property] = [("NEW", contact.created_ms)]
        contact.props[portal.lead_status_property] = "NEW"
        contact.props[portal.reason_property] = None
        expected = {"accepted_at": accepted, "rejected_at": rejected, "rejection_reason": reason}
        decided_now = {key: contact.truth.get(key) for key in expected}
        if decided_now != expected:  # the portal's own rule (_decide) must give back the canonical values
            raise AssertionError(f"the lead objects of contact {contact_id} give {decided_now}, not {expected}")


def _add_activities(
    portal: Portal,
    touches: pd.DataFrame,
    rng: np.random.Generator,
    current: int,
    contact_ids: list[str],
    multi_share: float,
) -> None:
    extra = rng.random(len(touches)) < multi_share
    partner = rng.integers(0, max(1, len(contact_ids)), len(touches))
    occurred_ms = ms_column(touches["occurred_at"])
    for k, row in enumerate(touches.itertuples(index=False)):
        object_type = KIND_TO_OBJECT[row.kind]
        occurred = occurred_ms[k]
        modified = min(current, occurred + MINUTE_MS)
        automated = bool(row.automated)
        inbound = row.direction == "inbound"
        truth = {
            "owner_id": None if pd.isna(row.owner_id) else str(row.owner_id),
            "kind": row.kind,
            "occurred_at": occurred,
            "automated": automated,
            "direction": "outbound",
        }
        props = {
            "hs_timestamp": str(occurred) if k % 5 == 2 else iso(occurred),
            "hs_createdate": iso(occurred),
            "hs_lastmodifieddate": iso(modified),
            "hubspot_owner_id": truth["owner_id"],
            "hs_engagement_source": AUTOMATED_SOURCE if automated else MANUAL_SOURCES[k % len(MANUAL_SOURCES)],
        }
        if object_type == "calls":
            props["hs_call_direction"] = "INBOUND" if inbound else "OUTBOUND"
            truth["direction"] = "inbound" if inbound else "outbound"
        elif object_type == "emails":
            props["hs_email_direction"] = (
                "INCOMING_EMAIL" if inbound else ("FORWARDED_EMAIL" if k % 11 == 0 else "EMAIL")
            )
            truth["direction"] = "inbound" if inbound else "outbound"
        obj = Obj(str(row.touch_id), object_type, props, occurred, modified, truth)
        portal.objects[object_type][obj.id] = obj
        contacts = [str(row.lead_id)]
        if extra[k] and contact_ids:
            other = contact_ids[int(partner[k])]
            if other != contacts[0]:
                contacts.append(other)
        portal.contacts_of[object_type][obj.id] = contacts


def _add_deals(
    portal: Portal, deals: pd.DataFrame, rng: np.random.Generator, current: int, contact_ids: list[str]
) -> None:
    open_stages = [s[0] for s in STAGES if not s[3]]
    created_ms, closed_ms = ms_column(deals["created_at"]), ms_column(deals["closed_at"])
    for k, row in enumerate(deals.itertuples(index=False)):
        created = created_ms[k]
        closed = closed_ms[k]
        status = str(row.status)
        expected = (created or current) + 45 * 24 * 3600 * 1000
        closedate = closed if status != "open" else (closed or expected)
        modified = min(current, max(v for v in (created, closed, 0) if v is not None) + MINUTE_MS)
        amount = None if pd.isna(row.amount) else float(row.amount)
        stage = {"won": "closedwon", "lost": "closedlost"}.get(status, open_stages[k % len(open_stages)])
        computed = k % 5 != 4  # HubSpot's calculated flags; the rest only have the stage
        props = {
            "amount": None if amount is None else (str(int(amount)) if amount.is_integer() else repr(amount)),
            "createdate": iso(created),
            "closedate": iso(closedate),
            "pipeline": "default" if pd.isna(row.pipeline) else str(row.pipeline),
            "dealstage": stage,
            "hubspot_owner_id": None if pd.isna(row.owner_id) else str(row.owner_id),
            "hs_is_closed_won": ("true" if status == "won" else "false") if computed else None,
            "hs_is_closed": ("false" if status == "open" else "true") if computed else None,
            "hs_lastmodifieddate": iso(modified),
            "dealname": f"Deal {row.deal_id}",
        }
        truth = {
            "owner_id": props["hubspot_owner_id"],
            "amount": amount,
            "created_at": created,
            "closed_at": closed if status != "open" else None,
            "status": status,
            "pipeline": props["pipeline"],
        }
        obj = Obj(str(row.deal_id), "deals", props, created or modified, modified, truth)
        portal.objects["deals"][obj.id] = obj
        contacts = [] if pd.isna(row.lead_id) else [str(row.lead_id)]
        if contacts and k % 29 == 7 and contact_ids:  # a second contact on some deals
            contacts.append(contact_ids[int(rng.integers(0, len(contact_ids)))])
        portal.contacts_of["deals"][obj.id] = list(dict.fromkeys(contacts))


def _default_pipeline() -> dict[str, Any]:
    created = "2020-01-01T00:00:00.000Z"
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "archived": False,
        "createdAt": created,
        "updatedAt": created,
        "stages": [
            {
                "id": sid,
                "label": label,
                "displayOrder": i,
                "archived": False,
                "createdAt": created,
                "updatedAt": created,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                "metadata": {"isClosed": "true" if closed else "false", "probability": prob},
            }
            for i, (sid, label, prob, closed) in enumerate(STAGES)
        ],
    }


def _instants(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Epoch-millisecond columns as UTC instants."""
    frame = frame.copy()
    for column in columns:
        if column in frame:
            frame[column] = pd.to_datetime(pd.to_numeric(frame[column], errors="coerce"), unit="ms", utc=True)
    return frame
