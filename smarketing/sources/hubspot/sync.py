"""`sync hubspot`: an incremental, resumable, rate-limited pull of a HubSpot portal.

Per object type (contacts, each activity type, deals; owners and deal pipelines are
small and read whole every run) the sync keeps a cursor in storage's sync_state, under
`hubspot:<type>`, as JSON. The cursor moves through three phases:

1. `list` — the first run (and `--full`) reads everything with the list endpoint, 100 a
   page, following `after`; activities and deals come with their contact associations.
   `since` is when the backfill began, minus the overlap.
2. `archived` — with `--full` only: the same list with archived=true; what those records
   had put in the tables is deleted (incremental runs cannot see deletions: HubSpot's
   search never returns archived records, so schedule a nightly `--full`).
3. `search` — later runs ask the search API for records whose last-modified date
   (`lastmodifieddate` for contacts, `hs_lastmodifieddate` for activities and deals) is at
   or after `since` minus the overlap, ascending, 200 a page, and fetch the contacts of
   activities and deals with the v4 batch association read. Every page is a new query
   starting at the last modified instant seen (duplicates at that instant are dropped by
   id), so no query ever nears HubSpot's 10,000-result cap, and a record modified during
   the sync cannot shift later pages and hide another record, as offset paging would.
   When a whole page shares one instant, the sync pages that instant by `hs_object_id`
   before moving past it.

Rows are committed in batches (HUBSPOT_BATCH_ROWS records, and at every phase end) by
storage.save_data, which writes the rows and the cursor that covers them in one
transaction. A sync killed at any point therefore restarts at the last committed batch;
upserts by id make the re-read of that batch change nothing. A record modified between
two runs is re-read whole, so the tables end exactly as one clean sync would leave them.

Leads object (HUBSPOT_ACCEPTANCE_SOURCE=leads_object): a `leads` type with its own cursor
(`hubspot:leads`) runs after all the others, so the contacts its leads decide for are stored.
The list phase asks for the `hs_pipeline_stage` history (50 leads a page) and the contacts
inline; the search phase reads the history of each page's leads with a batch read and their
contacts with the v4 batch read. Each batch writes only accepted_at / rejected_at /
rejection_reason, of stored leads only (storage.save_data's partial upsert); the contacts
type then never writes those three columns. When the leads list starts from the beginning
(the first run in this mode, or `--full`) those columns are emptied first, so values of the
contact-property route or of leads deleted since do not stay; there is no archived phase.
After switching HUBSPOT_ACCEPTANCE_SOURCE, run once with `--full`.

Known limit: an association changed in HubSpot without touching either record's
last-modified date (HubSpot does not always bump it) reaches the tables at the next
`--full` run. A lead object whose contact is not stored when the lead is read (say, both
created in HubSpot after this run read the contacts) is skipped with a warning; its id stays
in the leads cursor (`retry`) and later runs read it again, for a week, after their contacts.

Concurrency, all of it paced by one limiter (ratelimit.py): object types run side by side
(HUBSPOT_PARALLEL_TYPES, default 3; each has its own cursor and rows); within a type, pages
are fetched up to a batch ahead in a background thread while the previous batch is written,
and in the search phase the contacts of page k are read while the search for page k+1 runs.
Progress events are handed to the callback in the caller's thread. When one type fails,
the others stop after committing what they had read.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from smarketing.core.errors import UserError
from smarketing.core.frames import SCHEMAS, TABLES, CrmData, empty_frame
from smarketing.sources.hubspot import mapping
from smarketing.sources.hubspot.client import HubSpotClient, Record, Stage
from smarketing.sources.hubspot.settings import HubSpotSettings, scrub, settings_from_env
from smarketing.store import storage, sync_writes

log = logging.getLogger(__name__)

PREFIX = "hubspot:"
LAST_SYNC = "hubspot:last_sync"
CURSOR_VERSION = 1
SOURCE = "hubspot"
# Lead objects skipped because no associated contact was stored are read again by later runs
# (their contact may be stored by then) for a week, at most this many.
RETRY_MS = 7 * 86_400_000
RETRY_MAX = 1000

Progress = Callable[[dict[str, Any]], None]


@dataclass
class SyncReport:
    """What one sync did; `to_dict()` is what last_sync() returns and the Data page shows."""

    full: bool = False
    status: str = "running"
    started_at: str = ""
    finished_at: str | None = None
    seconds: float = 0.0
    fetched: dict[str, int] = field(default_factory=dict)
    saved: dict[str, dict[str, int]] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    requests: int = 0
    search_requests: int = 0
    retries: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a terminal or a log."""
        order = [
            "owners",
            "contacts",
            "calls",
            "emails",
            "meetings",
            "notes",
            "tasks",
            "communications",
            "deals",
            "leads",
        ]
        ranked = sorted(self.fetched.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        fetched = ", ".join(f"{t} {n}" for t, n in ranked if n) or "nothing new"
        changed = {t: c.get("inserted", 0) + c.get("updated", 0) for t, c in self.saved.items()}
        saved = ", ".join(f"{t} {n}" for t, n in changed.items() if n) or "no changes"
        deleted = ", ".join(f"{t} {n}" for t, n in self.deleted.items() if n)
        text = (
            f"HubSpot sync {self.status} in {self.seconds:.1f} s: read {fetched}; saved {saved}"
            f"{'; deleted ' + deleted if deleted else ''}; {self.requests} requests"
            f"{f', {self.retries} retries' if self.retries else ''}."
        )
        return text


def run_sync(
    engine: Engine,
    settings: HubSpotSettings | None = None,
    *,
    full: bool = False,
    progress: Progress | None = None,
    client: HubSpotClient | None = None,
) -> SyncReport:
    """Pull HubSpot into the database; raises a UserError (with `.report`) when it cannot finish.

    Whatever was committed before a failure stays, and the next run resumes from it.
    """
    settings = settings or settings_from_env()
    report = SyncReport(full=full, started_at=_now_iso())
    started = time.monotonic()
    with sync_writes.sync_lock(engine):
        job = _Sync(engine, settings, report, progress, client or HubSpotClient(settings))
        try:
            job.run()
            report.status = "ok"
        except BaseException as exc:
            report.status = "failed"
            report.error = scrub(str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}")
            report.error_kind = getattr(exc, "kind", None) or (
                "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
            )
            job.finish(started)
            if isinstance(exc, UserError):
                exc.report = report  # type: ignore[attr-defined]
                raise
            if not isinstance(exc, Exception):
                raise
            # An unexpected error's own text and traceback may hold the token: log them scrubbed
            # and tell the user one scrubbed sentence.
            log.error("HubSpot sync failed: %s", scrub("".join(traceback.format_exception(exc))))
            failed = UserError(f"The HubSpot sync failed: {report.error}; nothing after the last commit was written.")
            failed.report = report  # type: ignore[attr-defined]
            raise failed from None
        job.finish(started)
    return report


def last_sync(engine: Engine) -> dict[str, Any] | None:
    """The last finished sync's report (a dict) with the current cursors; None before any."""
    cursors = storage.all_cursors(engine)
    raw = cursors.get(LAST_SYNC)
    if raw is None:
        return None
    try:
        result = json.loads(raw)
    except ValueError:
        return None
    result["cursors"] = {
        k[len(PREFIX) :]: _loads(v) for k, v in cursors.items() if k.startswith(PREFIX) and k != LAST_SYNC
    }
    return result


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Stopped(Exception):
    """Another object type failed; this one stopped after committing what it had read."""


# -- the job -----------------------------------------------------------------------------


@dataclass
class _Page:
    records: list[Record]
    state: dict[str, Any]  # the cursor once this page (and all before it) is committed
    total: int | None = None
    phase: str = ""


class _Sync:
    def __init__(
        self,
        engine: Engine,
        settings: HubSpotSettings,
        report: SyncReport,
        progress: Progress | None,
        client: HubSpotClient,
    ):
        self.engine = engine
        self.settings = settings
        self.report = report
        self.progress = progress
        self.client = client
        self.stages: list[Stage] = []
        pacing = client.limiter.stats  # shared by the runs of this process: report this run's share
        self._stop = threading.Event()
        self._events: queue.Queue = queue.Queue()
        self._owner = threading.current_thread()
        self._lock = threading.Lock()
        self._pacing_start = (pacing.search_requests, pacing.waited_seconds)
        self._lead_retry: dict[str, int] = {}  # skipped lead id -> when it was first skipped (ms)

    # -- top level ---------------------------------------------------------------------

    def run(self) -> None:
        cursors = {k[len(PREFIX) :]: v for k, v in storage.all_cursors(self.engine).items() if k.startswith(PREFIX)}
        self.sync_owners()
        self.stages = self.client.deal_stages()
        types = ["contacts", *self.settings.activity_types, "deals"]
        states = {t: self.start_state(t, cursors.get(t)) for t in types}
        # Object types are independent (own cursor, own rows), so a few run side by side: a
        # search is sequential within a type (each page starts where the last one ended), and
        # one type alone cannot keep the search limit busy while answers are on their way.
        workers = max(1, min(self.settings.parallel_types, len(types)))
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hubspot-type") as pool:
            futures = [pool.submit(self._sync_type_guarded, t, states[t], errors) for t in types]
            try:
                while not all(f.done() for f in futures):
                    self._drain_events(timeout=0.1)
            except BaseException:  # Ctrl-C, or the progress callback failed: stop the workers too
                self._stop.set()
                raise
            self._drain_events(timeout=0)
        real = [e for e in errors if not isinstance(e, _Stopped)]
        if real:
            raise real[0]
        if self.settings.leads_object:
            # After every other type: a lead decides for its contact only once that contact is
            # stored, and contacts created before this run began are stored by now.
            self.sync_type("leads", self.start_state("leads", cursors.get("leads")))

    def _sync_type_guarded(self, object_type: str, state: dict[str, Any], errors: list[BaseException]) -> None:
        if self._stop.is_set():
            return
        try:
            self.sync_type(object_type, state)
        except BaseException as exc:
            self._stop.set()  # the other types stop after committing what they read
            errors.append(exc)

    def _drain_events(self, timeout: float) -> None:
        """Hand progress events to the callback in the calling thread (Streamlit needs that)."""
        try:
            event = self._events.get(timeout=timeout) if timeout else self._events.get_nowait()
            while True:
                if self.progress is not None:
                    self.progress(event)
                event = self._events.get_nowait()
        except queue.Empty:
            return

    def finish(self, started: float) -> None:
        """Fill in the totals and store the report as the last sync (best effort on failure)."""
        report = self.report
        report.finished_at = _now_iso()
        report.seconds = round(time.monotonic() - started, 3)
        report.requests = self.client.stats.attempts
        pacing = self.client.limiter.stats
        report.search_requests = pacing.search_requests - self._pacing_start[0]
        report.retries = self.client.stats.retries
        report.throttled = self.client.stats.throttled
        report.waited_seconds = round(pacing.waited_seconds - self._pacing_start[1], 3)
        try:
            storage.save_data(
                self.engine,
                _data(),
                source=SOURCE,
                detail=scrub(report.summary()),
                sync_cursors={LAST_SYNC: json.dumps(report.to_dict())},
                error=None if report.status == "ok" else report.error or "failed",
            )
        except Exception:
            if report.status == "ok":
                raise
            log.warning("could not record the failed sync", exc_info=True)
        self.emit(object_type=None, phase="done", fetched=sum(report.fetched.values()), total=None)

    def emit(self, **event: Any) -> None:
        if self.progress is None:
            return
        event["requests"] = self.client.stats.attempts
        if threading.current_thread() is self._owner:
            self.progress(event)
        else:
            self._events.put(event)

    # -- owners ------------------------------------------------------------------------

    def sync_owners(self) -> None:
        self.emit(object_type="owners", phase="list", fetched=0, total=None)
        owners = self.client.owners(archived=False) + self.client.owners(archived=True)
        frame = mapping.owners_frame(owners)
        self.report.fetched["owners"] = len(owners)
        cursor = {"v": CURSOR_VERSION, "mode": "list", "synced_at": _now_ms()}
        self.save(_data(owners=frame), "owners", cursor, f"owners: {len(frame)}")
        self.emit(object_type="owners", phase="done", fetched=len(owners), total=len(owners))

    # -- one object type ---------------------------------------------------------------

    def start_state(self, object_type: str, raw: str | None) -> dict[str, Any]:
        state = _loads(raw) if raw else None
        fresh = (
            not isinstance(state, dict)
            or state.get("v") != CURSOR_VERSION
            or state.get("mode") not in ("list", "archived", "search")
        )
        if self.report.full or fresh:
            since = _now_ms() - int(self.settings.overlap_seconds * 1000)
            # Lead objects have no archived phase: the list from the start rebuilds every decision.
            archived = self.report.full and object_type != "leads"
            return {"v": CURSOR_VERSION, "mode": "list", "after": None, "since": since, "archived": archived}
        return state

    def sync_type(self, object_type: str, state: dict[str, Any]) -> None:
        if object_type == "leads" and state["mode"] == "list" and state.get("after") is None:
            # Reading every lead object from the start: decisions stored before (by the contact
            # property route, or from leads deleted since) must not survive. Redone when a sync
            # killed before its first leads commit runs again, which changes nothing.
            cleared = sync_writes.clear_lead_decisions(self.engine, mapping.DECISION_COLUMNS)
            log.info("cleared the decisions of %d leads before reading every lead object", cleared)
        elif object_type == "leads":
            self._lead_retry = {str(k): int(v) for k, v in (state.get("retry") or {}).items()}
            if self._lead_retry:
                state = self.retry_leads(state)
        if state["mode"] == "list":
            state = self.consume(object_type, self.list_pages(object_type, state), state)
        if state["mode"] == "archived":
            state = self.consume_archived(object_type, state)
        if state["mode"] == "search":
            self.consume(object_type, self.search_pages(object_type, state), state)

    def consume(self, object_type: str, pages: Iterator[_Page], state: dict[str, Any]) -> dict[str, Any]:
        """Buffer pages and commit them in batches; returns the cursor after the last page."""
        buffer: dict[str, Record] = {}
        fetched = 0
        last_state = state
        try:
            depth = 2 + -(-self.settings.batch_rows // self.settings.list_page_size)  # a batch ahead
            for page in _prefetch(pages, depth):
                for record in page.records:
                    buffer.pop(record.id, None)
                    buffer[record.id] = record
                fetched += len(page.records)
                with self._lock:
                    self.report.fetched[object_type] = self.report.fetched.get(object_type, 0) + len(page.records)
                last_state = page.state
                if len(buffer) >= self.settings.batch_rows:
                    records, buffer = list(buffer.values()), {}
                    self.commit(object_type, records, last_state)
                self.emit(object_type=object_type, phase=page.phase, fetched=fetched, total=page.total)
                if self._stop.is_set():
                    raise _Stopped(object_type)
        except Exception:
            # keep what was read before HubSpot stopped answering (a daily limit, an outage),
            # or before another object type failed
            if buffer:
                try:
                    self.commit(object_type, list(buffer.values()), last_state)
                except Exception:
                    log.warning("could not save the last %s pages before failing", object_type, exc_info=True)
            raise
        if buffer or last_state != state:
            self.commit(object_type, list(buffer.values()), last_state)
        return last_state

    def commit(self, object_type: str, records: list[Record], state: dict[str, Any]) -> None:
        """Write one batch and its cursor in one transaction (stale touch rows go first)."""
        warnings: list[str] = []
        columns: dict[str, list[str]] | None = None
        if object_type == "contacts":
            rule = self.lead_status_rule()
            if rule is not None:
                self._attach_history(records, rule.property)
            data = _data(
                leads=mapping.leads_frame(
                    records, self.settings.segment_property, self.settings.disqualified_property, warnings, rule
                )
            )
            if self.settings.leads_object:  # the Leads route owns the decision columns
                columns = {"leads": [c for c in SCHEMAS["leads"] if c not in mapping.DECISION_COLUMNS]}
        elif object_type == "leads":
            skipped: list[str] = []
            data = _data(leads=self.lead_decisions(records, warnings, skipped))
            columns = {"leads": list(mapping.DECISION_COLUMNS)}
            state = self._with_retry(state, records, skipped)
        elif object_type == "deals":
            data = _data(deals=mapping.deals_frame(records, self.stages, warnings))
        else:
            touches = mapping.touches_frame(object_type, records, self.settings.automated_sources, warnings)
            if records:
                removed = sync_writes.replace_activity_touches(
                    self.engine, [r.id for r in records], set(touches["touch_id"])
                )
                self._deleted("touches", removed)
            data = _data(touches=touches)
        with self._lock:
            for warning in warnings:
                if warning not in self.report.warnings:
                    self.report.warnings.append(warning)
        detail = f"{object_type}: {len(records)} records ({state['mode']})"
        self.save(data, object_type, state, detail, columns)

    def save(
        self,
        data: CrmData,
        object_type: str,
        state: dict[str, Any],
        detail: str,
        columns: dict[str, list[str]] | None = None,
    ) -> None:
        counts = storage.save_data(
            self.engine,
            data,
            source=SOURCE,
            detail=detail,
            sync_cursors={PREFIX + object_type: json.dumps(state, sort_keys=True)},
            columns=columns,
        )
        with self._lock:
            self.report.batches += 1
            for table in TABLES:
                c = counts.get(table, {})
                if any(c.values()):
                    total = self.report.saved.setdefault(table, {"inserted": 0, "updated": 0, "unchanged": 0})
                    for key, value in c.items():
                        total[key] = total.get(key, 0) + value

    def _deleted(self, table: str, count: int) -> None:
        if count:
            with self._lock:
                self.report.deleted[table] = self.report.deleted.get(table, 0) + count

    # -- page producers (run in the prefetch thread) -------------------------------------

    def lead_status_rule(self) -> mapping.LeadStatusRule | None:
        """The lead-status settings as a mapping rule (None: acceptance is not read from HubSpot)."""
        s = self.settings
        if not s.lead_status_property or s.leads_object:
            return None
        return mapping.LeadStatusRule(
            s.lead_status_property,
            _upper_set(s.accepted_statuses),
            _upper_set(s.rejected_statuses),
            s.rejection_reason_property,
        )

    def _attach_history(self, records: list[Record], prop: str, object_type: str = "contacts") -> None:
        """Read a property's history for a batch's records that lack it (the search API does not
        return history; the leads list already did)."""
        live = [r for r in records if not r.archived and prop not in r.history]
        found = self.client.histories(object_type, [r.id for r in live], [prop])
        for record in live:
            record.history = found.get(record.id, {})

    def retry_leads(self, state: dict[str, Any]) -> dict[str, Any]:
        """Read again the lead objects earlier runs skipped (their contact was not stored), and
        commit what they decide now; returns the cursor with the retry list that is left."""
        ids = sorted(self._lead_retry, key=lambda i: (len(i), i))
        records = self.client.read_records("leads", ids, self.properties("leads"), [mapping.LEAD_STAGE_PROPERTY])
        for gone in set(ids) - {r.id for r in records}:  # deleted in HubSpot meanwhile
            self._lead_retry.pop(gone, None)
        contacts = self.client.contact_associations("leads", [r.id for r in records])
        for record in records:
            record.associations["contacts"] = contacts.get(record.id, [])
        with self._lock:
            self.report.fetched["leads"] = self.report.fetched.get("leads", 0) + len(records)
        self.commit("leads", records, state)
        return self._with_retry(state, [], [])

    def _with_retry(self, state: dict[str, Any], records: list[Record], skipped: list[str]) -> dict[str, Any]:
        """The cursor carrying the retry list after a batch: its leads leave it, its skipped ones
        join it (keeping when they were first skipped); a week after that, or past RETRY_MAX, they go."""
        now = _now_ms()
        first = {i: self._lead_retry.get(i, now) for i in skipped}
        for record in records:
            self._lead_retry.pop(record.id, None)
        self._lead_retry.update(first)
        kept = sorted(((t, i) for i, t in self._lead_retry.items() if t >= now - RETRY_MS), reverse=True)
        self._lead_retry = {i: t for t, i in kept[:RETRY_MAX]}
        rest = {k: v for k, v in state.items() if k != "retry"}
        return {**rest, "retry": dict(sorted(self._lead_retry.items()))} if self._lead_retry else rest

    def lead_decisions(self, records: list[Record], warnings: list[str], skipped: list[str]) -> pd.DataFrame:
        """The decision columns a batch of Lead objects gives their stored contacts."""
        s = self.settings
        self._attach_history(records, mapping.LEAD_STAGE_PROPERTY, "leads")
        contacts = sorted({c for r in records if not r.archived for c in r.associations.get("contacts", [])})
        stored = storage.read_rows(self.engine, "leads", contacts, ["accepted_at", "rejected_at"])
        first = stored[["accepted_at", "rejected_at"]].min(axis=1)
        decided = {
            lead_id: None if pd.isna(at) else int(at.value // 1_000_000)
            for lead_id, at in zip(stored["lead_id"], first)
        }
        rule = mapping.LeadStageRule(
            _upper_set(s.lead_accepted_stages), _upper_set(s.lead_rejected_stages), s.lead_reason_property
        )
        return mapping.lead_object_decisions(records, rule, decided, warnings, skipped)

    def properties(self, object_type: str) -> list[str]:
        if object_type == "contacts":
            return mapping.contact_properties(
                self.settings.segment_property,
                self.settings.disqualified_property,
                None if self.settings.leads_object else self.settings.rejection_reason_property,
            )
        if object_type == "leads":
            return mapping.lead_properties(self.settings.lead_reason_property)
        if object_type == "deals":
            return list(mapping.DEAL_PROPERTIES)
        return mapping.activity_properties(object_type)

    def list_pages(self, object_type: str, state: dict[str, Any]) -> Iterator[_Page]:
        """The list endpoint from the cursor's `after`; the last page's state opens the next phase."""
        associations = None if object_type == "contacts" else ["contacts"]
        history = [mapping.LEAD_STAGE_PROPERTY] if object_type == "leads" else None
        after = state.get("after")
        while True:
            records, after = self.client.list_page(
                object_type,
                after=after,
                properties=self.properties(object_type),
                associations=associations,
                history=history,
            )
            if associations:
                for record in records:
                    if "contacts" in record.incomplete:
                        record.associations["contacts"] = self.client.all_contacts_of(object_type, record.id)
            if after:
                nxt = {**state, "after": after}
            else:
                nxt = {
                    "v": CURSOR_VERSION,
                    "mode": "archived" if state.get("archived") else "search",
                    "since": state["since"],
                    **({"after": None} if state.get("archived") else {}),
                }
            yield _Page(records, nxt, None, "list")
            if not after:
                return

    def consume_archived(self, object_type: str, state: dict[str, Any]) -> dict[str, Any]:
        """Delete what archived records had put in the tables, page by page."""
        after = state.get("after")
        while True:
            records, after = self.client.list_page(object_type, after=after, properties=["hs_object_id"], archived=True)
            ids = [r.id for r in records]
            for table, count in sync_writes.delete_archived(self.engine, object_type, ids).items():
                self._deleted(table, count)
            nxt = (
                {**state, "after": after} if after else {"v": CURSOR_VERSION, "mode": "search", "since": state["since"]}
            )
            self.save(_data(), object_type, nxt, f"{object_type}: {len(ids)} archived")
            self.emit(object_type=object_type, phase="archived", fetched=len(ids), total=None)
            if not after:
                return nxt
            if self._stop.is_set():
                raise _Stopped(object_type)

    def search_pages(self, object_type: str, state: dict[str, Any]) -> Iterator[_Page]:
        """Keyset-paged search by last-modified instant (see the module docstring).

        The contacts of page k are read (v4 batch) while the search for page k+1 runs, so
        both limits are used; pages still come out in order, each with its contacts.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hubspot-assoc") as pool:
            pending: tuple[Future, _Page] | None = None
            for page in self._search_pages(object_type, state):
                future = pool.submit(self._attach_contacts, object_type, page.records)
                if pending is not None:
                    pending[0].result()
                    yield pending[1]
                pending = (future, page)
            if pending is not None:
                pending[0].result()
                yield pending[1]

    def _search_pages(self, object_type: str, state: dict[str, Any]) -> Iterator[_Page]:
        prop = mapping.modified_property(object_type)
        limit = self.settings.search_page_size
        stored = int(state["since"])
        position = stored - int(self.settings.overlap_seconds * 1000)
        seen_at_position: set[str] = set()
        strict = False  # GT instead of GTE, right after a tie group was paged by id
        total: int | None = None
        while True:
            op = "GT" if strict else "GTE"
            records, count = self.client.search_page(
                object_type,
                filter_groups=[{"filters": [{"property_name": prop, "operator": op, "value": str(position)}]}],
                sort=prop,
                properties=self.properties(object_type),
            )
            total = count if total is None else total
            stamps = [mapping.to_ms(r.properties.get(prop)) for r in records]
            stamps = [position if s is None else s for s in stamps]
            fresh = [r for r in records if r.id not in seen_at_position] if not strict else records
            if len(records) == limit and stamps[-1] == position and not strict:
                yield from self._tie_group(object_type, prop, position, fresh, seen_at_position, stored, total)
                strict = True
                continue
            last = max(stamps) if stamps else position
            stored = max(stored, last)
            yield _Page(fresh, {"v": CURSOR_VERSION, "mode": "search", "since": stored}, total, "search")
            if len(records) < limit:
                return
            strict = False
            seen_at_position = {r.id for r, s in zip(records, stamps) if s == last} | (
                seen_at_position if last == position else set()
            )
            position = last

    def _tie_group(
        self,
        object_type: str,
        prop: str,
        instant: int,
        first: list[Record],
        seen: set[str],
        stored: int,
        total: int | None,
    ) -> Iterator[_Page]:
        """Page every record modified at exactly `instant` by hs_object_id."""
        limit = self.settings.search_page_size
        state = {"v": CURSOR_VERSION, "mode": "search", "since": max(stored, instant)}
        done = set(seen)
        done.update(r.id for r in first)
        yield _Page(first, state, total, "search")
        last_id = "0"
        while True:
            records, _ = self.client.search_page(
                object_type,
                filter_groups=[
                    {
                        "filters": [
                            {"property_name": prop, "operator": "EQ", "value": str(instant)},
                            {"property_name": "hs_object_id", "operator": "GT", "value": last_id},
                        ]
                    }
                ],
                sort="hs_object_id",
                properties=self.properties(object_type),
            )
            fresh = [r for r in records if r.id not in done]
            done.update(r.id for r in fresh)
            yield _Page(fresh, state, total, "search")
            if len(records) < limit:
                return
            last_id = records[-1].id

    def _attach_contacts(self, object_type: str, records: list[Record]) -> None:
        if object_type == "contacts" or not records:
            return
        found = self.client.contact_associations(object_type, [r.id for r in records])
        for record in records:
            record.associations["contacts"] = found.get(record.id, [])


_EMPTY: dict[str, pd.DataFrame] = {}


def _upper_set(values: tuple[str, ...]) -> frozenset[str]:
    """Status values compared case-insensitively."""
    return frozenset(v.strip().upper() for v in values)


def _data(**frames: pd.DataFrame) -> CrmData:
    """A CrmData of already canonical frames, the other tables empty (built once)."""
    if not _EMPTY:
        _EMPTY.update({t: empty_frame(t) for t in TABLES})
    return CrmData(**{t: frames.get(t, _EMPTY[t]) for t in TABLES})


# -- prefetching -------------------------------------------------------------------------

_END = object()


def _prefetch(pages: Iterator[_Page], depth: int = 2) -> Iterator[_Page]:
    """Run the page producer one step ahead in a thread; its errors surface here."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        out.put((page, None), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            out.put((_END, None))
        except BaseException as exc:  # handed to the consumer
            out.put((_END, exc))

    thread = threading.Thread(target=produce, name="hubspot-pages", daemon=True)
    thread.start()
    try:
        while True:
            item, error = out.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


# -- terminal progress -------------------------------------------------------------------


class TerminalProgress:
    """A tqdm bar per object type on stderr (silent when stderr is not a terminal)."""

    def __init__(self, stream: Any = None, disable: bool | None = None):
        self.stream = stream or sys.stderr
        self.disable = disable
        self.bars: dict[str, Any] = {}
        self.count = 0

    def __call__(self, event: dict[str, Any]) -> None:
        from tqdm import tqdm

        kind = event.get("object_type")
        if kind is None:
            return
        bar = self.bars.get(kind)
        if bar is None:
            bar = self.bars[kind] = tqdm(
                desc=f"{kind:>14}",
                unit=" rec",
                file=self.stream,
                disable=self.disable,
                leave=True,
                dynamic_ncols=True,
                position=self.count,
            )
            self.count += 1
        total = event.get("total")
        if total and (bar.total is None or total > bar.total):
            bar.total = total
        fetched = int(event.get("fetched") or 0)
        if fetched > bar.n:
            bar.update(fetched - bar.n)
        bar.set_postfix_str(f"{event.get('phase', '')}, {event.get('requests', 0)} req", refresh=True)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars = {}
