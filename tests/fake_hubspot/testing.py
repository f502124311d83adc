"""Helpers for tests that sync the fake HubSpot: settings, environments, comparisons, dumps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from smarketing.core.frames import ID_COLUMN, TABLES, CrmData
from smarketing.sources.hubspot import HubSpotSettings, RateLimit
from smarketing.store import storage
from tests.fake_hubspot.portal import Portal
from tests.fake_hubspot.server import FakeHubSpot

ROOT = Path(__file__).resolve().parents[2]
FAST = {"rate_limit": RateLimit(5000, 1.0), "search_rate_limit": RateLimit(1000, 1.0)}


def fast_fake(portal: Portal, **kwargs: Any) -> FakeHubSpot:
    """A fake whose own limits are far above what a test sync sends (pass limits to test pacing)."""
    kwargs.setdefault("rate_limit", (5000, 1.0))
    kwargs.setdefault("search_rate_limit", (1000, 1.0))
    return FakeHubSpot(portal, **kwargs)


def settings_for(fake: FakeHubSpot, portal: Portal, **changes: Any) -> HubSpotSettings:
    """Settings pointing at the fake, with high limits and quick back-off unless changed."""
    values: dict[str, Any] = {
        "access_token": fake.token,
        "api_base": fake.base_url,
        "segment_property": portal.segment_property,
        "disqualified_property": portal.disqualified_property,
        "rejection_reason_property": portal.reason_property,
        "backoff_factor": 0.02,
        **FAST,
    }
    values.update(changes)
    return HubSpotSettings(**values)


def sync_env(fake: FakeHubSpot, portal: Portal, **extra: str) -> dict[str, str]:
    """The environment of a `python -m smarketing sync hubspot` subprocess aimed at the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBSPOT_")}
    env.update(
        {
            "HUBSPOT_ACCESS_TOKEN": fake.token,
            "HUBSPOT_API_BASE": fake.base_url,
            "HUBSPOT_SEGMENT_PROPERTY": portal.segment_property,
            "HUBSPOT_DISQUALIFIED_PROPERTY": portal.disqualified_property,
            "HUBSPOT_REJECTION_REASON_PROPERTY": portal.reason_property,
            "HUBSPOT_RATE_LIMIT": "5000/1",
            "HUBSPOT_SEARCH_RATE_LIMIT": "1000/1",
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def sync_command(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "smarketing", "--db", db_url, "sync", "hubspot", *args]


def run_cli(db_url: str, env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        sync_command(db_url, *args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def stored_rows(db_url: str) -> int:
    counts = storage.data_counts(storage.make_engine(db_url))
    return counts["leads"] + counts["touches"] + counts["deals"]


def kill_after_requests(
    db_url: str,
    env: dict[str, str],
    fake: FakeHubSpot,
    requests: int | None = None,
    rows: int | None = None,
    timeout: float = 180,
    cursor: str | None = None,
) -> tuple[bool, int]:
    """Start a sync subprocess and SIGKILL it once the fake has answered `requests` more
    requests, once the database holds `rows` more leads, touches and deals than before, or
    once the sync cursor named `cursor` is stored (a batch of that type was committed).

    Returns (killed, requests seen); killed is False when the sync finished first.
    """
    before = fake.count()
    rows_before = stored_rows(db_url) if rows is not None else 0
    proc = subprocess.Popen(
        sync_command(db_url), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            reached = (
                (requests is not None and fake.count() - before >= requests)
                or (rows is not None and stored_rows(db_url) - rows_before >= rows)
                or (cursor is not None and cursor in storage.all_cursors(storage.make_engine(db_url)))
            )
            if reached:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return True, fake.count() - before
            if time.monotonic() > deadline:
                raise TimeoutError("the sync subprocess did not reach the kill point in time")
            time.sleep(0.005 if rows is None and cursor is None else 0.02)
        return False, fake.count() - before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def sorted_frames(data: CrmData) -> dict[str, pd.DataFrame]:
    return {t: data.frame(t).sort_values(ID_COLUMN[t]).reset_index(drop=True) for t in TABLES}


def assert_same_data(got: CrmData, expected: CrmData) -> None:
    """Equal tables, row for row and value for value (order ignored)."""
    left, right = sorted_frames(got), sorted_frames(expected)
    for table in TABLES:
        assert len(left[table]) == len(right[table]), f"{table}: {len(left[table])} rows, expected {len(right[table])}"
        pd.testing.assert_frame_equal(left[table], right[table], obj=table)


def assert_db_matches(db_url: str, expected: CrmData) -> None:
    assert_same_data(storage.load_data(storage.make_engine(db_url)), expected)


def database_text(db_url: str) -> str:
    """Every value of every table of the database as text (for secret checks)."""
    engine = storage.make_engine(db_url)
    chunks = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def sqlite_bytes(db_url: str) -> bytes:
    """The raw bytes of a SQLite database and its WAL."""
    path = Path(sa.make_url(db_url).database or "")
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
