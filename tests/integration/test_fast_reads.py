"""The fast read paths (issue 17) give exactly what the plain ones give, on SQLite and PostgreSQL.

- SQLite rows are read straight from the driver's cursor (storage._read_columns): every frame
  equals the one pandas.read_sql + normalize gives.
- Loads from a SQLite file go through the Arrow reader's child process (store/arrow_reads.py):
  every frame equals the cursor path's (demo data; NULL-first, all-NULL, unicode and oddly stored
  values; empty tables; every load variant), a failing reader falls back with one warning, and the
  process's own SQLite locks survive the reads (the in-process reader dropped them).
- Loads from PostgreSQL go through ADBC in this process (store/arrow_postgres.py): every frame has the
  cursor path's rows and dtypes (rows in any order: PostgreSQL fixes none without ORDER BY), a failing
  reader falls back with one warning, a connection the server closed while idle is replaced, the reads
  are one read-only REPEATABLE READ snapshot, and concurrent reads each have their own connection.
- The history behind consequences loads only what commitment-only scorecards read (some lead
  and deal columns, only the touches that can count as follow-up): its scorecards and the
  consequences equal those computed from the whole load, at several as_of instants (mid-month,
  exactly at a month's start, long after).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading

import pandas as pd
import psycopg.conninfo
import pyarrow as pa
import pytest
import sqlalchemy as sa
import sqlalchemy.dialects.sqlite

from smarketing import api
from smarketing.core.frames import INSTANT, QUALIFYING_KINDS, CrmData
from smarketing.core.lead_filter import LeadFilter
from smarketing.core.scorecard import build_scorecards, scoped_scorecards
from smarketing.sources.demo import DEMO_TERMS_TOML, generate_demo
from smarketing.store import arrow_postgres, arrow_reads, storage

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-06-20T15:00:00Z")
AS_OFS = ["2026-06-20T15:00:00Z", "2026-05-14T09:30:00Z", "2026-04-01T04:00:00Z", "2025-12-31T23:59:59Z"]
TABLES = ("owners", "leads", "touches", "deals", "exclusions")


def _demo_with_edge_touches() -> CrmData:
    """A small demo company plus touches that never count (automated, inbound, notes) and ones that do
    with no direction, on the first leads; and a lead with no MQL."""
    data = generate_demo(seed=3, months=8, now=NOW, n_leads=600)
    leads = data.leads.head(6)
    at = leads["mql_at"] + pd.Timedelta(minutes=20)
    extra = pd.DataFrame(
        {
            "touch_id": [f"edge-{i}" for i in range(len(leads) * 4)],
            "lead_id": list(leads["lead_id"]) * 4,
            "owner_id": list(leads["owner_id"]) * 4,
            "kind": ["call"] * len(leads) + ["email"] * len(leads) + ["note"] * len(leads) + ["call"] * len(leads),
            "occurred_at": list(at) * 4,
            "automated": [True] * len(leads) + [False] * len(leads) * 3,
            "direction": ["outbound"] * len(leads) + ["inbound"] * len(leads) + ["outbound"] * len(leads) + [None] * 6,
        }
    )
    touches = pd.concat([data.touches, extra], ignore_index=True)
    no_mql = data.leads.head(1).assign(lead_id="no-mql", mql_at=pd.NaT)
    return CrmData.of(
        owners=data.owners, leads=pd.concat([data.leads, no_mql], ignore_index=True), touches=touches, deals=data.deals
    )


def _store_demo(engine):
    storage.save_terms_version(engine, DEMO_TERMS_TOML, "2025-11")
    storage.save_data(engine, _demo_with_edge_touches(), source="demo")
    lead = storage.load_data(engine).leads.sort_values("mql_at").iloc[40]["lead_id"]
    request = storage.add_exclusion(engine, lead, "first_touch", "duplicate", requested_by="ana", at=NOW)
    storage.decide_exclusion(engine, request["exclusion_id"], approve=True, decided_by="bo", at=NOW)
    return engine


@pytest.fixture
def stored(db_engine):
    return _store_demo(db_engine)


def _plain_reader(monkeypatch) -> None:
    """Read every select through pandas.read_sql, as before the fast path."""

    def plain(conn, stmt, kinds, finish=lambda frame: frame):
        instants = [c.name for c in stmt.selected_columns if kinds.get(c.name) == INSTANT]
        return finish(storage._read_frame(conn, stmt, instants))

    monkeypatch.setattr(storage, "_read_columns", plain)


def _same(actual: CrmData, expected: CrmData) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(actual, table), getattr(expected, table), check_exact=True)
        _same_zones(getattr(actual, table), getattr(expected, table))


def _same_zones(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same kind of UTC in every instant column: assert_frame_equal takes any UTC for UTC, but
    pandas.concat of ZoneInfo("UTC") and timezone.utc instants falls back to objects."""
    zones = [
        (c, type(expected[c].dt.tz)) for c in expected.columns if isinstance(expected[c].dtype, pd.DatetimeTZDtype)
    ]
    assert [(c, type(actual[c].dt.tz)) for c, _ in zones] == zones


def test_the_cursor_reader_gives_the_frames_pandas_gives(stored, monkeypatch) -> None:
    as_of = pd.Timestamp(AS_OFS[1])
    fast = [
        storage.load_data(stored),
        storage.load_data(stored, as_of=as_of),
        storage.load_data(stored, months=["2026-03", "2026-04"], tz="America/New_York", as_of=as_of),
        storage.load_recent_data(stored, as_of - pd.Timedelta(days=20), as_of),
    ]
    with monkeypatch.context() as patched:
        _plain_reader(patched)
        plain = [
            storage.load_data(stored),
            storage.load_data(stored, as_of=as_of),
            storage.load_data(stored, months=["2026-03", "2026-04"], tz="America/New_York", as_of=as_of),
            storage.load_recent_data(stored, as_of - pd.Timedelta(days=20), as_of),
        ]
    for actual, expected in zip(fast, plain):
        _same(actual, expected)
    pd.testing.assert_frame_equal(fast[2].earlier_mqls, plain[2].earlier_mqls, check_exact=True)
    assert len(fast[0].touches) > 0 and fast[0].touches["kind"].nunique() > 1


def test_text_is_read_as_pandas_strings(stored) -> None:
    touches = storage.load_data(stored).touches
    assert all(touches[c].dtype == "string" for c in ("touch_id", "lead_id", "kind", "direction"))
    assert touches["direction"].notna().all()  # a touch stored without a direction reads as outbound


def _whole_and_slim(stored, as_of: pd.Timestamp, first_months: int | None, **slim: bool) -> tuple:
    """(months, terms versions, the whole load, the slim load) of the data's first months (None: all)."""
    months = api.data_months(stored)[:first_months]
    tz = api.month_terms(stored, months[-1]).timezone
    whole = storage.load_data(stored, months=months, tz=tz, as_of=as_of)
    return (
        months,
        api.terms_versions(stored),
        whole,
        storage.load_data(stored, months=months, tz=tz, as_of=as_of, **slim),
    )


@pytest.mark.parametrize("as_of", AS_OFS)
@pytest.mark.parametrize("first_months", [None, 3])  # all (the touches' span is scanned) or old ones (matched by lead)
def test_commitment_only_loads_score_every_month_as_the_whole_load(stored, as_of, first_months) -> None:
    as_of = pd.Timestamp(as_of)
    months, versions, whole, slim = _whole_and_slim(stored, as_of, first_months, commitments_only=True)
    follow_ups = slim.touches["kind"].isin(QUALIFYING_KINDS) & ~slim.touches["automated"]
    assert follow_ups.all() and (slim.touches["direction"] != "inbound").all()
    expected = build_scorecards(whole, versions, months, as_of, commitments_only=True)
    assert build_scorecards(slim, versions, months, as_of, commitments_only=True) == expected


@pytest.mark.parametrize("as_of", AS_OFS)
@pytest.mark.parametrize("first_months", [None, 3])
def test_follow_up_loads_give_every_months_whole_scorecard(stored, as_of, first_months) -> None:
    as_of = pd.Timestamp(as_of)
    months, versions, whole, slim = _whole_and_slim(stored, as_of, first_months, follow_ups_only=True)
    assert set(slim.touches["kind"]) <= set(QUALIFYING_KINDS) and slim.source_has_touches
    pd.testing.assert_frame_equal(slim.leads, whole.leads, check_exact=True)
    assert build_scorecards(slim, versions, months, as_of) == build_scorecards(whole, versions, months, as_of)
    owner = whole.leads["owner_id"].dropna().iloc[0]
    scope = LeadFilter(owner=owner, first_touch=("breached", "pending"), untouched=True)
    assert scoped_scorecards(slim, versions, months, as_of, scope) == scoped_scorecards(
        whole, versions, months, as_of, scope
    )


@pytest.mark.parametrize("as_of", AS_OFS)
def test_a_follow_up_load_of_everything_gives_every_months_whole_scorecard(stored, as_of) -> None:
    """What the benchmark's "all months" reads: no months named, only the follow-up touches."""
    as_of = pd.Timestamp(as_of)
    months, versions = api.data_months(stored), api.terms_versions(stored)
    tz = api.month_terms(stored, months[-1]).timezone
    whole = storage.load_data(stored, tz=tz, as_of=as_of)
    slim = storage.load_data(stored, tz=tz, as_of=as_of, follow_ups_only=True)
    assert len(slim.touches) < len(whole.touches) and set(slim.touches["kind"]) <= set(QUALIFYING_KINDS)
    assert build_scorecards(slim, versions, months, as_of) == build_scorecards(whole, versions, months, as_of)


def test_a_follow_up_load_of_a_source_with_touches_but_no_follow_ups_still_has_touches(sqlite_url) -> None:
    engine = storage.make_engine(sqlite_url)
    data = generate_demo(seed=3, months=3, now=NOW, n_leads=50)
    notes = data.touches.assign(kind="note")
    storage.save_data(engine, CrmData.of(owners=data.owners, leads=data.leads, touches=notes), source="test")
    slim = storage.load_data(engine, as_of=NOW, follow_ups_only=True)
    assert slim.touches.empty and slim.has_touches


def _whole_loads(monkeypatch) -> list[dict]:
    """Make every load_data read every column and touch (no commitments_only or follow_ups_only, with
    touches, no columns);
    returns the list of the calls' keyword arguments, so a test can see the patched loader ran."""
    whole, calls = storage.load_data, []

    def load(*args, commitments_only=False, follow_ups_only=False, with_touches=True, columns=None, **kwargs):
        calls.append(kwargs)
        return whole(*args, **kwargs)

    monkeypatch.setattr(storage, "load_data", load)
    return calls


@pytest.mark.parametrize("as_of", AS_OFS[:2])
def test_consequences_over_the_slim_history_equal_the_whole_one(stored, as_of, monkeypatch) -> None:
    as_of = pd.Timestamp(as_of)
    month = api.data_months(stored)[-1]
    fast = api.scorecard(stored, month, as_of)
    _whole_loads(monkeypatch)
    slow = api.scorecard(stored, month, as_of)
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)
    assert fast["consequences"]["by_commitment"]


def test_a_closed_history_loads_only_the_live_months_and_keeps_every_card(stored, monkeypatch) -> None:
    as_of = pd.Timestamp(AS_OFS[0])
    months = api.data_months(stored)
    live_before = api.scorecards(stored, months, as_of)
    for month in months[1:-2]:
        api.close_month(stored, month, closed_by="test", as_of=as_of)
    read = _whole_loads(monkeypatch)
    cards = api.closed_or_live_cards(stored, months, as_of)
    assert [closed for _, closed in cards.values()] == [False] + [True] * (len(months) - 3) + [False, False]
    assert all(card == storage.load_snapshot(stored, m) for m, (card, closed) in cards.items() if closed)
    assert all(card == live_before[m] for m, (card, closed) in cards.items() if not closed)
    # The live months are the first and the last two: one load of the span from the first to the last.
    assert [call["months"] for call in read] == [months]
    read.clear()
    tail = api.closed_or_live_cards(stored, months[2:], as_of)
    assert [call["months"] for call in read] == [months[-2:]] and tail[months[-1]][0] == live_before[months[-1]]


@pytest.mark.parametrize("as_of", AS_OFS[:2])
def test_recalculation_without_touches_equals_the_whole_load(stored, as_of, monkeypatch) -> None:
    as_of = pd.Timestamp(as_of)
    month = api.data_months(stored)[-1]
    fast = api.recalc(stored, month, as_of)
    slim = storage.load_data(stored, months=[month], tz="America/New_York", as_of=as_of, with_touches=False)
    assert slim.touches.empty and slim.source_has_touches
    read = _whole_loads(monkeypatch)
    assert api.recalc(stored, month, as_of) == fast and read
    assert fast["inputs"]["cohort_mqls"] > 0


# -- the Arrow reader (SQLite files) -----------------------------------------------------

AS_OF = pd.Timestamp(AS_OFS[1])
NY = "America/New_York"
LOADS = [
    {},
    {"as_of": AS_OF},
    {"tz": NY, "as_of": AS_OF, "commitments_only": True},
    {"months": ["2026-03", "2026-04"], "tz": NY, "as_of": AS_OF},
    {"months": ["2026-04"], "tz": NY, "as_of": AS_OF, "commitments_only": True},
    {"months": ["2026-02"], "tz": "UTC"},
    {"months": ["2024-01"], "tz": "UTC"},  # nothing in range: empty frames
]


@pytest.fixture
def sqlite_stored(sqlite_url):
    engine = storage.make_engine(sqlite_url)
    yield _store_demo(engine)
    engine.dispose()


def _arrow_only(patch: pytest.MonkeyPatch) -> None:
    """Fail any read that does not go through the Arrow reader (so equality below is not the cursor's with itself)."""

    def refuse(*args, **kwargs):
        raise AssertionError("read through the cursor, not the Arrow reader")

    patch.setattr(storage, "_read_columns", refuse)


def _cursor_only(patch: pytest.MonkeyPatch) -> None:
    """Read as if the database were not a SQLite file: the cursor path."""
    patch.setattr(storage, "_sqlite_file", lambda conn: None)


def _loads(engine, monkeypatch, setup) -> list[CrmData]:
    since = AS_OF - pd.Timedelta(days=20)
    with monkeypatch.context() as patched:
        setup(patched)
        return [
            *(storage.load_data(engine, **kwargs) for kwargs in LOADS),
            storage.load_recent_data(engine, since, AS_OF),
            storage.load_recent_data(engine, since, AS_OF, assigned_too=True),
        ]


def _same_loads(engine, monkeypatch) -> list[CrmData]:
    """The Arrow reader's loads, after checking each equals the cursor path's."""
    fast, slow = _loads(engine, monkeypatch, _arrow_only), _loads(engine, monkeypatch, _cursor_only)
    for actual, expected in zip(fast, slow, strict=True):
        _same(actual, expected)
        assert actual.source_has_touches is expected.source_has_touches
        if expected.earlier_mqls is None:
            assert actual.earlier_mqls is None
        else:
            pd.testing.assert_frame_equal(actual.earlier_mqls, expected.earlier_mqls, check_exact=True)
            _same_zones(actual.earlier_mqls, expected.earlier_mqls)
        pd.testing.assert_frame_equal(actual.mql_history(), expected.mql_history(), check_exact=True)
        assert actual.mql_history()["mql_at"].dtype == "datetime64[ns, UTC]"
    return fast


def test_the_arrow_reader_gives_the_frames_the_cursor_gives(sqlite_stored, monkeypatch) -> None:
    fast = _same_loads(sqlite_stored, monkeypatch)
    assert len(fast[0].touches) > 0 and len(fast[3].earlier_mqls) > 0 and fast[3].source_has_touches is True
    assert len(fast[-2].leads) > 0 and len(fast[0].exclusions) == 1
    assert all(len(fast[6].frame(t)) == 0 for t in ("leads", "touches", "deals"))


def _odd_data() -> CrmData:
    """NULL-first and all-NULL columns, unicode and odd text, both flags, amounts; no exclusions."""
    at = pd.Timestamp("2026-03-02 10:15:30.123456", tz=NY)
    owners = pd.DataFrame(
        {
            "owner_id": ["o0", "o1", "o2"],
            "name": [None, "Zoë 李 🚀", 'O\'Brien "Bo"\nline\ttab'],
            "email": [None, None, "bo@example.com"],
            "team": [None, "Ost–West", "  padded  "],
            "active": [False, True, True],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["l0", "l1", "l2", "l3", "l4"],
            "created_at": [None, at, at, at, at - pd.Timedelta(days=30)],
            "mql_at": [None, at, at + pd.Timedelta(hours=1), at + pd.Timedelta(days=1), at - pd.Timedelta(days=25)],
            "assigned_at": [None, None, at + pd.Timedelta(hours=2), at + pd.Timedelta(days=1), None],
            "segment": [None, "Ünïcødé", "enterprise", None, "smb"],
            "source": [None, "webinar", "ads 🎯", None, None],
            "owner_id": [None, "o1", "o2", "o1", None],
            "updated_at": [at] * 5,
            "accepted_at": [None, None, at + pd.Timedelta(hours=3), None, None],
            "rejected_at": [None, None, None, at + pd.Timedelta(days=2), None],
            "rejection_reason": [None, None, None, "not a fit — ça", None],
        }
    )
    touches = pd.DataFrame(
        {
            "touch_id": ["t0", "t1", "t2", "t3"],
            "lead_id": ["l1", "l1", "l2", "l3"],
            "owner_id": [None, "o1", "o2", "o1"],
            "kind": ["call", "email", "meeting", "call"],
            "occurred_at": [at + pd.Timedelta(minutes=m) for m in (5, 50, 70, 24 * 60 + 5)],
            "automated": [False, True, False, False],
            "direction": [None, "inbound", "outbound", None],
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["d0", "d1", "d2"],
            "lead_id": [None, "l2", "l4"],
            "owner_id": [None, "o2", None],
            "amount": [None, 12500.5, 0.1],
            "created_at": [None, at + pd.Timedelta(days=3), at],
            "closed_at": [None, at + pd.Timedelta(days=9), None],
            "status": ["open", "won", "open"],
            "pipeline": [None, None, None],
        }
    )
    return CrmData.of(owners=owners, leads=leads, touches=touches, deals=deals)


# Instants other writers may have stored: without a fraction, with an offset, with a shorter fraction.
ODD_STORAGE = [
    "UPDATE leads SET mql_at = '2026-02-05 10:00:00' WHERE lead_id = 'l4'",
    "UPDATE leads SET created_at = '2026-03-01T09:00:00+00:00' WHERE lead_id = 'l2'",
    "UPDATE deals SET created_at = '2026-03-05 08:00:00.5' WHERE deal_id = 'd1'",
]


def test_the_arrow_reader_equals_the_cursor_on_odd_values_and_empty_tables(sqlite_url, monkeypatch) -> None:
    engine = storage.make_engine(sqlite_url)
    empty = _same_loads(engine, monkeypatch)
    assert all(len(load.frame(t)) == 0 for load in empty for t in TABLES)
    storage.save_data(engine, _odd_data(), source="test")
    with engine.begin() as conn:
        for update in ODD_STORAGE:
            conn.execute(sa.text(update))
    odd = _same_loads(engine, monkeypatch)
    assert odd[0].owners["name"].tolist()[1:] == ["Zoë 李 🚀", 'O\'Brien "Bo"\nline\ttab']
    assert odd[0].touches["automated"].tolist() == [False, True, False, False]
    assert odd[0].deals["pipeline"].isna().all() and len(odd[0].exclusions) == 0
    assert odd[5].earlier_mqls is not None and list(odd[5].earlier_mqls["lead_id"]) == []
    march = storage.load_data(engine, months=["2026-03"], tz=NY)
    assert list(march.earlier_mqls["lead_id"]) == ["l4"]  # stored without a fraction: parsed as the cursor parses it
    engine.dispose()


def test_a_failing_arrow_reader_falls_back_with_one_warning(sqlite_stored, monkeypatch, caplog) -> None:
    expected = storage.load_data(sqlite_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
    monkeypatch.setattr(arrow_reads, "CHILD", arrow_reads.CHILD.with_name("no_such_child.py"))
    for child in list(arrow_reads._IDLE):  # the next read starts a new (broken) child
        child.process.kill()
    with caplog.at_level(logging.WARNING, logger=storage.__name__):
        fallen = storage.load_data(sqlite_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
    _same(fallen, expected)
    pd.testing.assert_frame_equal(fallen.earlier_mqls, expected.earlier_mqls, check_exact=True)
    warnings = [r for r in caplog.records if r.name == storage.__name__]
    assert len(warnings) == 1 and "Arrow reader failed" in warnings[0].getMessage()


def test_a_dead_child_is_replaced(sqlite_stored, monkeypatch) -> None:
    first = storage.load_data(sqlite_stored)
    assert arrow_reads._IDLE
    for child in list(arrow_reads._IDLE):
        child.process.kill()
        child.process.wait()
    with monkeypatch.context() as patched:
        _arrow_only(patched)
        _same(storage.load_data(sqlite_stored), first)


def test_writes_and_other_databases_take_the_cursor_path(sqlite_stored, db_engine) -> None:
    with sqlite_stored.connect() as conn:
        assert storage._sqlite_file(conn) == str(sa.make_url(str(sqlite_stored.url)).database)
        assert storage._sqlite_file(conn.execution_options(smarketing_write=True)) is None
        assert storage._postgres_conninfo(conn) is None
    with db_engine.connect() as conn:
        postgres = db_engine.dialect.name == "postgresql"
        assert (storage._sqlite_file(conn) is None) == postgres
        assert (storage._postgres_conninfo(conn) is not None) == postgres  # PostgreSQL: the ADBC reader
        writing = conn.execution_options(smarketing_write=True)
        assert storage._sqlite_file(writing) is None and storage._postgres_conninfo(writing) is None
    memory = sa.create_engine("sqlite://")
    with memory.connect() as conn:
        assert storage._sqlite_file(conn) is None and storage._postgres_conninfo(conn) is None


def test_the_postgres_conninfo_carries_the_url_and_the_engine_options(monkeypatch) -> None:
    engine = sa.create_engine("postgresql+psycopg://ana:p%40ss%20w@db.example:6543/crm?sslmode=require")
    with monkeypatch.context() as patched:
        patched.setattr(arrow_postgres, "AVAILABLE", True)
        conninfo = storage._postgres_conninfo(_Offline(engine))
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    assert parts == {
        "host": "db.example",
        "port": "6543",
        "dbname": "crm",
        "user": "ana",
        "password": "p@ss w",
        "sslmode": "require",
        "connect_timeout": "10",
        "options": "-c timezone=UTC",
    }
    with monkeypatch.context() as patched:
        patched.setattr(arrow_postgres, "AVAILABLE", False)
        assert storage._postgres_conninfo(_Offline(engine)) is None
    several_hosts = sa.create_engine("postgresql+psycopg://ana@/crm?host=a.example&host=b.example")
    assert storage._postgres_conninfo(_Offline(several_hosts)) is None  # left to psycopg


class _Offline:
    """A stand-in for a connection of an engine whose server is not there (only what _postgres_conninfo reads)."""

    def __init__(self, engine: sa.Engine, **options) -> None:
        self.engine, self._options = engine, options

    def get_execution_options(self) -> dict:
        return self._options


def test_the_child_imports_neither_pandas_nor_sqlalchemy() -> None:
    started = subprocess.run(
        [sys.executable, "-P", "-X", "importtime", str(arrow_reads.CHILD)],
        input=b"",
        capture_output=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in started.stderr.decode().splitlines()}
    assert "pyarrow" in imported and "adbc_driver_sqlite" in imported
    assert not {name for name in imported if name.split(".")[0] in ("pandas", "sqlalchemy", "smarketing")}


LOCK_PROBE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    conn.execute("BEGIN IMMEDIATE")
except sqlite3.OperationalError as exc:
    print(exc)
else:
    print("got the write lock")
"""


def _other_process_write_lock(path: str) -> str:
    """What another process hears when it asks for the write lock at once."""
    return subprocess.run([sys.executable, "-c", LOCK_PROBE, path], capture_output=True, text=True, check=True).stdout


def test_arrow_reads_leave_this_process_sqlite_locks_alone(sqlite_stored, monkeypatch) -> None:
    """Closing a second SQLite library's descriptors in this process would drop sqlite3's POSIX locks;
    the reader's child has its own. Held transactions stay held, and writes go on from many threads."""
    engine = sqlite_stored
    path = sa.make_url(str(engine.url)).database
    owners = storage.DATA_TABLES["owners"]
    with monkeypatch.context() as patched:
        _arrow_only(patched)
        with engine.connect() as reader:
            before = reader.execute(sa.select(sa.func.count()).select_from(owners)).scalar_one()
            with storage._writing(engine) as writer:
                writer.execute(sa.update(owners).values(team="held"))
                for _ in range(3):
                    storage.load_data(engine)
                    storage.load_data(engine, months=["2026-04"], tz=NY, as_of=AS_OF)
                assert "database is locked" in _other_process_write_lock(path)
                assert set(storage.load_data(engine).owners["team"]) != {"held"}  # a snapshot before the write
            assert reader.execute(sa.select(sa.func.count()).select_from(owners)).scalar_one() == before
        assert set(storage.load_data(engine).owners["team"]) == {"held"}
        assert _other_process_write_lock(path) == "got the write lock\n"

        errors: list[BaseException] = []
        leads = list(storage.load_data(engine).leads["lead_id"][:40])

        def dispute(chunk: list[str]) -> None:
            try:
                for lead in chunk:
                    storage.add_exclusion(engine, lead, "first_touch", "duplicate", requested_by="ana", at=NOW)
                    storage.load_data(engine, months=["2026-04"], tz=NY, as_of=AS_OF)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=dispute, args=(leads[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(storage.load_data(engine).exclusions) == 1 + len(leads)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_a_statement_error_is_reported_and_the_child_reads_on(sqlite_stored) -> None:
    path = sa.make_url(str(sqlite_stored.url)).database
    with pytest.raises(arrow_reads.ArrowReadError, match="no such table"):
        list(arrow_reads.read_batches(path, [("SELECT * FROM owners", []), ("SELECT * FROM nosuch", [])], 10))
    before = {child.process.pid for child in arrow_reads._IDLE}
    assert before
    (owners,) = [
        list(batches) for batches in arrow_reads.read_batches(path, [("SELECT ? AS n, owner_id FROM owners", [7])], 5)
    ]
    assert {child.process.pid for child in arrow_reads._IDLE} == before  # the same child answered
    assert sum(b.num_rows for b in owners) == len(storage.load_data(sqlite_stored).owners) and len(owners[0]) == 5


def _children_answering(monkeypatch) -> list[tuple[int, int]]:
    """(child pid, number of statements) of each request a child answers from now on."""
    requests: list[tuple[int, int]] = []
    ask = arrow_reads._ask

    def recorded(child, path, statements, batch_rows):
        requests.append((child.process.pid, len(statements)))
        return ask(child, path, statements, batch_rows)

    monkeypatch.setattr(arrow_reads, "_ask", recorded)
    return requests


def test_a_load_is_read_by_two_children_at_once(sqlite_stored, monkeypatch) -> None:
    expected = storage.load_data(sqlite_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
    requests = _children_answering(monkeypatch)
    _arrow_only(monkeypatch)
    _same(storage.load_data(sqlite_stored, months=["2026-04"], tz=NY, as_of=AS_OF), expected)
    # The touches by one child, the six other reads by another.
    assert [count for _, count in requests] == [1, 6] and requests[0][0] != requests[1][0]


def test_a_commit_between_the_two_childrens_snapshots_reads_all_again_in_one(sqlite_stored, monkeypatch) -> None:
    path = sa.make_url(str(sqlite_stored.url)).database
    version = storage._commit_version
    calls: list[object] = []

    def commit_after_the_first_look(engine):
        seen = version(engine)
        if not calls:  # another connection commits before the children begin their transactions
            with sqlite3.connect(path) as other:
                other.execute("UPDATE owners SET team = 'moved'")
        calls.append(seen)
        return seen

    monkeypatch.setattr(storage, "_commit_version", commit_after_the_first_look)
    requests = _children_answering(monkeypatch)
    _arrow_only(monkeypatch)
    data = storage.load_data(sqlite_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
    assert calls[0] != calls[1]  # the version moved: the two snapshots could differ
    # Read again, every statement by one child in one transaction, which sees the commit.
    assert [count for _, count in requests] == [1, 6, 7]
    assert set(data.owners["team"]) == {"moved"}


def test_an_error_or_an_early_close_of_a_two_child_read_stops_its_children_and_the_next_read_is_whole(
    sqlite_stored, monkeypatch
) -> None:
    path = sa.make_url(str(sqlite_stored.url)).database
    whole = storage.load_data(sqlite_stored)
    statements = [("SELECT * FROM touches", []), ("SELECT * FROM owners", []), ("SELECT * FROM nosuch", [])]
    with pytest.raises(arrow_reads.ArrowReadError, match="no such table"):
        list(arrow_reads.read_batches(path, statements, 10, commit_version=lambda: 1))
    taken: list[arrow_reads._Child] = []
    take = arrow_reads._take
    monkeypatch.setattr(arrow_reads, "_take", lambda: taken.append(take()) or taken[-1])
    reads = arrow_reads.read_batches(path, statements[:2], 10, commit_version=lambda: 1)
    assert sum(batch.num_rows for batch in next(reads)) == len(whole.touches)
    reads.close()  # a caller that stops after the first statement, the other child mid-answer or not
    assert len(taken) == 2 and all(child.process.poll() is not None for child in taken)
    assert not {child.process.pid for child in taken} & {child.process.pid for child in arrow_reads._IDLE}
    answered = [
        sum(batch.num_rows for batch in batches)
        for batches in arrow_reads.read_batches(path, statements[:2], 10, commit_version=lambda: 1)
    ]
    assert answered == [len(whole.touches), len(whole.owners)]


# -- the Arrow reader (PostgreSQL, in process) -------------------------------------------


@pytest.fixture
def postgres_stored(postgres_url):
    engine = storage.make_engine(postgres_url)
    yield _store_demo(engine)
    engine.dispose()


def _psycopg_only(patch: pytest.MonkeyPatch) -> None:
    """Read as if the ADBC PostgreSQL driver were missing: the cursor path (pandas.read_sql)."""
    patch.setattr(storage, "_postgres_conninfo", lambda conn: None)


def _in_order(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The frame's rows sorted by every column: PostgreSQL answers a select without ORDER BY in any order
    (a parallel scan's differs from run to run, on either path)."""
    return None if frame is None else frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _same_rows(actual: CrmData, expected: CrmData) -> None:
    """Equal loads but for the order of the rows."""
    for table in TABLES:
        pd.testing.assert_frame_equal(
            _in_order(actual.frame(table)), _in_order(expected.frame(table)), check_exact=True
        )
        _same_zones(actual.frame(table), expected.frame(table))
    assert actual.source_has_touches is expected.source_has_touches
    assert (actual.earlier_mqls is None) == (expected.earlier_mqls is None)
    if expected.earlier_mqls is not None:
        pd.testing.assert_frame_equal(
            _in_order(actual.earlier_mqls), _in_order(expected.earlier_mqls), check_exact=True
        )
        _same_zones(actual.earlier_mqls, expected.earlier_mqls)
    pd.testing.assert_frame_equal(_in_order(actual.mql_history()), _in_order(expected.mql_history()), check_exact=True)
    assert actual.mql_history()["mql_at"].dtype == "datetime64[ns, UTC]"


def _same_postgres_loads(engine, monkeypatch) -> list[CrmData]:
    """The ADBC reader's loads, after checking each equals the cursor path's (rows in any order)."""
    fast, slow = _loads(engine, monkeypatch, _arrow_only), _loads(engine, monkeypatch, _psycopg_only)
    for actual, expected in zip(fast, slow, strict=True):
        _same_rows(actual, expected)
    return fast


def test_the_postgres_arrow_reader_gives_the_frames_the_cursor_gives(postgres_stored, monkeypatch) -> None:
    fast = _same_postgres_loads(postgres_stored, monkeypatch)
    assert len(fast[0].touches) > 0 and len(fast[3].earlier_mqls) > 0 and fast[3].source_has_touches is True
    assert len(fast[-2].leads) > 0 and len(fast[0].exclusions) == 1
    assert all(len(fast[6].frame(t)) == 0 for t in ("leads", "touches", "deals"))
    assert fast[0].touches["automated"].any() and fast[0].owners["active"].dtype == bool


# Values other writers may have stored: an instant given with an offset or without a fraction, amounts
# a float holds but few print, a flag false.
POSTGRES_ODD_STORAGE = [
    "UPDATE leads SET mql_at = '2026-02-05 10:00:00' WHERE lead_id = 'l4'",
    "UPDATE leads SET created_at = '2026-03-01T09:00:00.000001+05:30' WHERE lead_id = 'l2'",
    "UPDATE deals SET amount = 0.1::float8 + 0.2::float8, created_at = '2026-03-05 08:00:00.5-08' WHERE deal_id = 'd1'",
    "UPDATE deals SET amount = 'NaN' WHERE deal_id = 'd0'",
    "UPDATE deals SET amount = 1e300 WHERE deal_id = 'd2'",
    "UPDATE owners SET active = false WHERE owner_id = 'o1'",
]


def test_the_postgres_arrow_reader_equals_the_cursor_on_odd_values_and_empty_tables(postgres_url, monkeypatch) -> None:
    engine = storage.make_engine(postgres_url)
    empty = _same_postgres_loads(engine, monkeypatch)
    assert all(len(load.frame(t)) == 0 for load in empty for t in TABLES)
    storage.save_data(engine, _odd_data(), source="test")
    with engine.begin() as conn:
        for update in POSTGRES_ODD_STORAGE:
            conn.execute(sa.text(update))
    odd = _same_postgres_loads(engine, monkeypatch)
    owners = odd[0].owners.sort_values("owner_id")
    assert owners["name"].tolist()[1:] == ["Zoë 李 🚀", 'O\'Brien "Bo"\nline\ttab']
    assert owners["active"].tolist() == [False, False, True]
    assert sorted(odd[0].touches["automated"].tolist()) == [False, False, False, True]
    deals = odd[0].deals.sort_values("deal_id")
    assert deals["amount"].isna().tolist() == [True, False, False] and deals["amount"].iloc[1] == 0.1 + 0.2
    assert deals["pipeline"].isna().all() and len(odd[0].exclusions) == 0
    march = storage.load_data(engine, months=["2026-03"], tz=NY)
    assert list(march.earlier_mqls["lead_id"]) == ["l4"]
    engine.dispose()


def test_a_failing_postgres_arrow_reader_falls_back_with_one_warning(postgres_stored, monkeypatch, caplog) -> None:
    expected = storage.load_data(postgres_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
    real = storage._postgres_conninfo
    broken = {
        "no such database": lambda conn: real(conn) + " dbname=no_such_database password=hunter2-not-shown",
        "a statement fails": lambda conn: real(conn),
    }
    for why, conninfo in broken.items():
        with monkeypatch.context() as patched:
            patched.setattr(storage, "_postgres_conninfo", conninfo)
            if why == "a statement fails":
                patched.setattr(storage, "POSTGRES_DOLLAR", sa.dialects.sqlite.dialect(paramstyle="qmark"))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger=storage.__name__):
                fallen = storage.load_data(postgres_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
        _same_rows(fallen, expected)
        warnings = [r.getMessage() for r in caplog.records if r.name == storage.__name__]
        assert len(warnings) == 1 and "Arrow reader failed" in warnings[0] and "psycopg" in warnings[0], why
        assert "hunter2" not in warnings[0]
    # A failed read's connection is closed, not kept: the next read is the Arrow reader's again.
    with monkeypatch.context() as patched:
        _arrow_only(patched)
        _same_rows(storage.load_data(postgres_stored, months=["2026-04"], tz=NY, as_of=AS_OF), expected)


def test_a_postgres_connection_closed_while_idle_is_replaced(postgres_stored, monkeypatch, caplog) -> None:
    first = storage.load_data(postgres_stored)
    assert any(arrow_postgres._IDLE.values())
    with postgres_stored.connect() as conn:  # the server ends every other session of the database
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING, logger=storage.__name__):
        _arrow_only(patched)
        _same_rows(storage.load_data(postgres_stored), first)
    assert not [r for r in caplog.records if r.name == storage.__name__]


def test_postgres_arrow_reads_are_one_read_only_repeatable_read_snapshot(postgres_stored) -> None:
    with postgres_stored.connect() as conn:
        conninfo = storage._postgres_conninfo(conn)
    settings = (
        "SELECT current_setting('transaction_isolation') AS i, current_setting('transaction_read_only') AS r, "
        "current_setting('work_mem') AS m"
    )
    answers = [
        pa.Table.from_batches(list(batches)).to_pylist()
        for batches in arrow_postgres.read_batches(
            conninfo, [(settings, []), ("SELECT txid_current_if_assigned() AS t, $1::text AS p", ["x"])]
        )
    ]
    # work_mem: a month's `lead_id IN (its leads)` is hashed, not matched row by row, at 10M leads
    assert answers == [[{"i": "repeatable read", "r": "on", "m": "256MB"}], [{"t": None, "p": "x"}]]


def test_concurrent_postgres_arrow_reads_each_have_their_own_connection(postgres_stored, monkeypatch) -> None:
    expected = storage.load_data(postgres_stored, months=["2026-04"], tz=NY, as_of=AS_OF)
    loads: list[CrmData] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            for _ in range(3):
                loads.append(storage.load_data(postgres_stored, months=["2026-04"], tz=NY, as_of=AS_OF))
        except BaseException as exc:  # reported below
            errors.append(exc)

    with monkeypatch.context() as patched:
        _arrow_only(patched)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and len(loads) == 12
    for actual in loads:
        _same_rows(actual, expected)
    assert 1 <= sum(len(idle) for idle in arrow_postgres._IDLE.values()) <= arrow_postgres.IDLE_CONNECTIONS * 2
