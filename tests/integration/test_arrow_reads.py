"""The Arrow (ADBC) SQLite reader returns exactly the frames of the sqlite3 path (issue 17)."""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.frames import ALL_TABLES
from smarketing.sources.demo import generate_demo
from smarketing.store import storage

NOW = pd.Timestamp("2026-11-22T15:00:00Z")


@pytest.fixture
def stored(sqlite_url: str):
    engine = storage.make_engine(sqlite_url)
    storage.save_data(engine, generate_demo(seed=3, months=6, now=NOW, n_leads=3000), source="test")
    yield engine
    engine.dispose()


def _slow(monkeypatch: pytest.MonkeyPatch, load):
    with monkeypatch.context() as patch:
        patch.setattr(storage, "adbc_sqlite", None)
        return load()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tz": "America/New_York", "as_of": NOW},
        {"tz": "America/New_York"},
        {"months": ["2026-10"], "tz": "America/New_York", "as_of": NOW},
        {"months": ["2026-07", "2026-08"], "tz": "UTC", "as_of": pd.Timestamp("2026-08-10T12:00:00Z")},
    ],
)
def test_arrow_reads_equal_the_sqlite3_path(stored, monkeypatch: pytest.MonkeyPatch, kwargs: dict) -> None:
    fast = storage.load_data(stored, **kwargs)
    slow = _slow(monkeypatch, lambda: storage.load_data(stored, **kwargs))
    for table in ALL_TABLES:
        pd.testing.assert_frame_equal(fast.frame(table), slow.frame(table))
    if slow.earlier_mqls is not None:
        pd.testing.assert_frame_equal(fast.earlier_mqls, slow.earlier_mqls)
    assert fast.source_has_touches == slow.source_has_touches


def test_arrow_reader_is_used_for_a_sqlite_file(stored) -> None:
    with stored.connect() as conn:
        frame = storage._arrow_frame(conn, storage._select(conn, storage.DATA_TABLES["owners"]))
    assert frame is not None and len(frame) > 0


def test_recent_data_and_loads_equal_the_sqlite3_path(stored, monkeypatch: pytest.MonkeyPatch) -> None:
    since = pd.Timestamp("2026-10-01T00:00:00Z")
    fast = storage.load_recent_data(stored, since, NOW, assigned_too=True)
    slow = _slow(monkeypatch, lambda: storage.load_recent_data(stored, since, NOW, assigned_too=True))
    for table in ALL_TABLES:
        pd.testing.assert_frame_equal(fast.frame(table), slow.frame(table))
    pd.testing.assert_frame_equal(storage.data_loads(stored), _slow(monkeypatch, lambda: storage.data_loads(stored)))
