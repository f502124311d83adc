"""The alert log (DESIGN section 9): each (lead, kind) is delivered at most once.

A row's `state` is `sent` or `stale` (final: never sent again), `failed` (retried by the next
run) or `pending` (some of its recipients have their message, the others not yet: a run stopped
between two messages). `recipients` and `delivered` are JSON lists of recipient labels (a
webhook's host, an e-mail address), never a webhook URL.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from smarketing.core.errors import UserError
from smarketing.store.tables import ALERT_LOG

SENT, STALE, FAILED, PENDING = "sent", "stale", "failed", "pending"
FINAL_STATES = (SENT, STALE)
LOG_COLUMNS = ["lead_id", "kind", "state", "delivered", "attempts"]
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"smarketing.alerts").digest()[:8], "big", signed=True)
_CHUNK = 500  # keys per IN (...) lookup
BUSY = "Another alerts run is still sending on this database; this run sent nothing (the next one will)."


@contextmanager
def run_lock(engine: Engine) -> Iterator[None]:
    """One sending run at a time per database, so two overlapping runs never send the same alert:
    a PostgreSQL advisory lock, or an exclusive lock on a file beside the SQLite database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}).scalar()
            conn.commit()
            if not got:
                raise UserError(BUSY)
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.alerts-lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(BUSY) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite), committed at the end."""
    with engine.connect() as conn:
        conn.execution_options(smarketing_write=True)
        with conn.begin():
            yield conn


def _bind(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("us").to_pydatetime()


def load_alert_log(engine: Engine, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """The logged alerts whose trigger_at is at or after `since` (None: all), `delivered` as lists."""
    stmt = sa.select(*(ALERT_LOG.c[c] for c in LOG_COLUMNS))
    if since is not None:
        stmt = stmt.where(ALERT_LOG.c.trigger_at >= _bind(since))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=LOG_COLUMNS)
    frame["delivered"] = frame["delivered"].map(json.loads)
    return frame


def alert_log_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every row of the log, for inspection and tests, by lead and kind."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ALERT_LOG).order_by(ALERT_LOG.c.lead_id, ALERT_LOG.c.kind)).mappings().all()
    return [{**r, "recipients": json.loads(r["recipients"]), "delivered": json.loads(r["delivered"])} for r in rows]


def record_stale(engine: Engine, alerts: Iterable[Mapping[str, Any]], now: pd.Timestamp) -> None:
    """Log alerts as stale: too old to send, never sent later."""
    _apply(engine, alerts, now, lambda row, alert: {"state": STALE})


def record_failed(engine: Engine, alerts: Iterable[Mapping[str, Any]], error: str, now: pd.Timestamp) -> None:
    """Log a failed delivery of these alerts (one sentence, no secret): the next run retries them."""
    _apply(
        engine,
        alerts,
        now,
        lambda row, alert: {"state": FAILED, "error": error, "attempts": (row["attempts"] if row else 0) + 1},
    )


def record_delivered(engine: Engine, alerts: Iterable[Mapping[str, Any]], label: str, now: pd.Timestamp) -> None:
    """Log that the message to `label` reached it; an alert every recipient has is `sent`."""

    def change(row: Mapping[str, Any] | None, alert: Mapping[str, Any]) -> dict[str, Any]:
        delivered = json.loads(row["delivered"]) if row else []
        delivered += [] if label in delivered else [label]
        done = set(alert["recipients"]) <= set(delivered)
        values: dict[str, Any] = {"delivered": json.dumps(delivered), "state": SENT if done else PENDING}
        if row and row["state"] == FAILED and not done:
            values["state"] = FAILED  # still owed to a recipient whose delivery failed
        if done:
            values["sent_at"] = _bind(now)
        return values

    _apply(engine, alerts, now, change)


def _apply(
    engine: Engine,
    alerts: Iterable[Mapping[str, Any]],
    now: pd.Timestamp,
    change: Callable[[Mapping[str, Any] | None, Mapping[str, Any]], dict[str, Any]],
) -> None:
    """Insert or update each alert's row with `change(existing row or None, alert)`, in one transaction."""
    stamp = _bind(now)
    alerts = list(alerts)
    with _writing(engine) as conn:
        for chunk in range(0, len(alerts), _CHUNK):
            part = alerts[chunk : chunk + _CHUNK]
            keys = [(str(a["lead_id"]), a["kind"]) for a in part]
            existing = {
                (r["lead_id"], r["kind"]): r
                for r in conn.execute(
                    sa.select(ALERT_LOG).where(sa.tuple_(ALERT_LOG.c.lead_id, ALERT_LOG.c.kind).in_(keys))
                ).mappings()
            }
            inserts = []
            for key, alert in zip(keys, part):
                row = existing.get(key)
                values = {
                    "recipients": json.dumps(list(alert["recipients"])),
                    "updated_at": stamp,
                    **change(row, alert),
                }
                if row is None:
                    base = {"delivered": "[]", "attempts": 0, "error": None, "sent_at": None}
                    inserts.append(
                        {
                            **base,
                            "lead_id": key[0],
                            "kind": key[1],
                            "owner_id": _text(alert.get("owner_id")),
                            "trigger_at": _bind(alert["trigger_at"]),
                            "first_seen_at": stamp,
                            **values,
                        }
                    )
                else:
                    where = (ALERT_LOG.c.lead_id == key[0]) & (ALERT_LOG.c.kind == key[1])
                    conn.execute(sa.update(ALERT_LOG).where(where).values(**values))
            if inserts:
                conn.execute(sa.insert(ALERT_LOG), inserts)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def utc_now() -> pd.Timestamp:
    return pd.Timestamp(datetime.now(UTC))
