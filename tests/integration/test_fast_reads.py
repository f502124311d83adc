"""The fast read paths (issue 17) give exactly what the plain ones give, on SQLite and PostgreSQL.

- SQLite rows are read straight from the driver's cursor (storage._read_columns): every frame
  equals the one pandas.read_sql + normalize gives.
- The history behind consequences loads only what commitment-only scorecards read (some lead
  and deal columns, only the touches that can count as follow-up): its scorecards and the
  consequences equal those computed from the whole load, at several as_of instants (mid-month,
  exactly at a month's start, long after).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from smarketing import api
from smarketing.core.frames import INSTANT, CrmData
from smarketing.core.scorecard import build_scorecards
from smarketing.sources.demo import DEMO_TERMS_TOML, generate_demo
from smarketing.store import storage

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


@pytest.fixture
def stored(db_engine):
    storage.save_terms_version(db_engine, DEMO_TERMS_TOML, "2025-11")
    storage.save_data(db_engine, _demo_with_edge_touches(), source="demo")
    lead = storage.load_data(db_engine).leads.sort_values("mql_at").iloc[40]["lead_id"]
    request = storage.add_exclusion(db_engine, lead, "first_touch", "duplicate", requested_by="ana", at=NOW)
    storage.decide_exclusion(db_engine, request["exclusion_id"], approve=True, decided_by="bo", at=NOW)
    return db_engine


def _plain_reader(monkeypatch) -> None:
    """Read every select through pandas.read_sql, as before the fast path."""

    def plain(conn, stmt, kinds, finish=lambda frame: frame):
        instants = [c.name for c in stmt.selected_columns if kinds.get(c.name) == INSTANT]
        return finish(storage._read_frame(conn, stmt, instants))

    monkeypatch.setattr(storage, "_read_columns", plain)


def _same(actual: CrmData, expected: CrmData) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(actual, table), getattr(expected, table), check_exact=True)


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


@pytest.mark.parametrize("as_of", AS_OFS)
def test_commitment_only_loads_score_every_month_as_the_whole_load(stored, as_of) -> None:
    as_of = pd.Timestamp(as_of)
    months = api.data_months(stored)
    tz = api.month_terms(stored, months[-1]).timezone
    versions = api.terms_versions(stored)
    whole = storage.load_data(stored, months=months, tz=tz, as_of=as_of)
    slim = storage.load_data(stored, months=months, tz=tz, as_of=as_of, commitments_only=True)
    assert len(slim.touches) < len(whole.touches)
    expected = build_scorecards(whole, versions, months, as_of, commitments_only=True)
    assert build_scorecards(slim, versions, months, as_of, commitments_only=True) == expected


@pytest.mark.parametrize("as_of", AS_OFS[:2])
def test_consequences_over_the_slim_history_equal_the_whole_one(stored, as_of, monkeypatch) -> None:
    as_of = pd.Timestamp(as_of)
    month = api.data_months(stored)[-1]
    fast = api.scorecard(stored, month, as_of)
    whole = storage.load_data
    monkeypatch.setattr(storage, "load_data", lambda *a, commitments_only=False, **k: whole(*a, **k))
    slow = api.scorecard(stored, month, as_of)
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)
    assert fast["consequences"]["by_commitment"]
