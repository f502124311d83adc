"""The few writes a HubSpot sync needs besides storage.save_data: deletions, and the sync lock.

storage.save_data only upserts, but a sync must also remove rows: the touch rows of an
activity whose contacts changed, and records HubSpot archived. These deletions are
idempotent and always run *before* the save_data call that stores the cursor of the
same batch, so a sync killed between the two redoes them and ends in the same state.
(Candidates to move into storage as `delete_rows` when its owner wants them there.)

The lock keeps two syncs of one database apart: on PostgreSQL a session advisory lock
(held by a connection for the whole sync; PostgreSQL frees it if the process dies); on
SQLite an exclusive `flock` on `<database file>.hubspot-sync.lock` (the kernel frees it if
the process dies). Neither can go stale after a crash or a SIGKILL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from smarketing.core.errors import UserError
from smarketing.store import storage
from smarketing.store.tables import DATA_TABLES

_LEADS: sa.Table = DATA_TABLES["leads"]
_TOUCHES: sa.Table = DATA_TABLES["touches"]
_DEALS: sa.Table = DATA_TABLES["deals"]
_CHUNK = 200


@contextlib.contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite, like storage's own writes)."""
    with engine.connect() as conn:
        conn.execution_options(smarketing_write=True)
        with conn.begin():
            yield conn


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in ids:
        batch.append(str(value))
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


_RANGE_SELECTS: dict[int, sa.TextClause] = {}


def _touch_ids_of(conn: Connection, activity_ids: list[str]) -> list[str]:
    """Stored touch ids of these activities: one index range per activity, as plain bound SQL
    (building thousands of SQLAlchemy expressions costs more than the query)."""
    n = len(activity_ids)
    stmt = _RANGE_SELECTS.get(n)
    if stmt is None:
        ranges = " OR ".join(f"(touch_id >= :lo{i} AND touch_id < :hi{i})" for i in range(n))
        stmt = _RANGE_SELECTS[n] = sa.text(f"SELECT touch_id FROM {_TOUCHES.name} WHERE {ranges}")
    params: dict[str, str] = {}
    for i, activity_id in enumerate(activity_ids):
        params[f"lo{i}"] = f"{activity_id}:"
        params[f"hi{i}"] = f"{activity_id};"
    return [row[0] for row in conn.execute(stmt, params)]


def replace_activity_touches(engine: Engine, activity_ids: Iterable[str], keep: set[str]) -> int:
    """Delete the touch rows of these activities whose id is not in `keep`; returns the count."""
    deleted = 0
    with _writing(engine) as conn:
        for chunk in _chunks(activity_ids):
            stale = [t for t in _touch_ids_of(conn, chunk) if t not in keep]
            for part in _chunks(stale):
                deleted += conn.execute(sa.delete(_TOUCHES).where(_TOUCHES.c.touch_id.in_(part))).rowcount or 0
    return deleted


def delete_archived(engine: Engine, object_type: str, ids: Iterable[str]) -> dict[str, int]:
    """Remove what archived HubSpot records had put in the tables; returns rows deleted per table."""
    counts = {"leads": 0, "touches": 0, "deals": 0}
    with _writing(engine) as conn:
        for chunk in _chunks(ids):
            if object_type == "contacts":
                counts["leads"] += conn.execute(sa.delete(_LEADS).where(_LEADS.c.lead_id.in_(chunk))).rowcount or 0
                counts["touches"] += (
                    conn.execute(sa.delete(_TOUCHES).where(_TOUCHES.c.lead_id.in_(chunk))).rowcount or 0
                )
            elif object_type == "deals":
                counts["deals"] += conn.execute(sa.delete(_DEALS).where(_DEALS.c.deal_id.in_(chunk))).rowcount or 0
            else:
                for part in _chunks(_touch_ids_of(conn, chunk)):
                    counts["touches"] += (
                        conn.execute(sa.delete(_TOUCHES).where(_TOUCHES.c.touch_id.in_(part))).rowcount or 0
                    )
    return counts


def clear_lead_decisions(engine: Engine, columns: Iterable[str]) -> int:
    """Empty these decision columns (accepted_at, rejected_at, rejection_reason) of every lead;
    returns the leads changed. The Leads-object route runs it before re-reading every lead
    object from the start, so values of an earlier source or of deleted leads do not stay."""
    values = {c: None for c in columns}
    with _writing(engine) as conn:
        condition = sa.or_(*(_LEADS.c[c].is_not(None) for c in values))
        return conn.execute(sa.update(_LEADS).where(condition).values(**values)).rowcount or 0


# -- the sync lock -----------------------------------------------------------------------

_LOCK_NAME = "smarketing.sources.hubspot.sync"
_PG_KEY = int.from_bytes(hashlib.sha256(_LOCK_NAME.encode()).digest()[:8], "big", signed=True)
_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_BUSY = (
    "Another HubSpot sync is already running on this database{who}; wait for it to finish (or stop it) and try again."
)


@contextlib.contextmanager
def sync_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's HubSpot sync lock, or fail at once with a clear sentence."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with _advisory_lock(engine):
            yield
        return
    database = engine.url.database or ""
    if backend == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        with _file_lock(Path(database).expanduser().resolve().with_name(Path(database).name + ".hubspot-sync.lock")):
            yield
        return
    lock = _MEMORY_LOCKS.setdefault(storage.mask_url(engine.url), threading.Lock())
    if not lock.acquire(blocking=False):
        raise UserError(_BUSY.format(who=""))
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    conn = engine.connect()
    try:
        got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(_PG_KEY))).scalar()
        conn.commit()
        if not got:
            raise UserError(_BUSY.format(who=""))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                conn.execute(sa.select(sa.func.pg_advisory_unlock(_PG_KEY)))
                conn.commit()
    finally:
        conn.close()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the lock's lifetime)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(_BUSY.format(who=_holder(path))) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started}))
        handle.flush()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _holder(path: Path) -> str:
    """' (process N on HOST since T)' from the lock file, when it says."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return ""
    if not info.get("pid"):
        return ""
    return f" (process {info['pid']} on {info.get('host', '?')} since {info.get('started', '?')})"
