"""smarketing.store.storage against real SQLite and PostgreSQL (each test runs on both via db_url)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

from smarketing.core.errors import UserError
from smarketing.core.frames import ID_COLUMN, SCHEMAS, TABLES, CrmData, normalize
from smarketing.core.terms import Terms, terms_to_toml
from smarketing.store import migrate, storage

NY = "America/New_York"


def utc(text: str) -> pd.Timestamp:
    """A UTC instant written without offset."""
    return pd.Timestamp(text, tz="UTC")


def sample() -> CrmData:
    """Every column of every table, with missing values, a non-UTC offset and sub-second parts."""
    owners = pd.DataFrame(
        {
            "owner_id": ["o1", "o2"],
            "name": ["Ann Lee", None],
            "email": ["ann@example.com", None],
            "team": ["East", None],
            "active": [True, False],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["l1", "l2", "l3"],
            "created_at": [utc("2026-02-27 08:00"), utc("2026-03-01 09:00"), None],
            "mql_at": [pd.Timestamp("2026-03-02 10:15:30.123456", tz=NY), utc("2026-03-03 11:00"), None],
            "assigned_at": [utc("2026-03-02 16:00"), None, None],
            "sql_at": [utc("2026-03-05 12:00"), None, None],
            "customer_at": [None, None, None],
            "disqualified_at": [None, utc("2026-03-20 12:00"), None],
            "segment": ["enterprise", None, "smb"],
            "source": ["webinar", "ads", None],
            "owner_id": ["o1", None, "o2"],
            "updated_at": [utc("2026-03-05 12:00"), utc("2026-03-20 12:00"), utc("2026-01-01 00:00")],
        }
    )
    touches = pd.DataFrame(
        {
            "touch_id": ["t1", "t2", "t3"],
            "lead_id": ["l1", "l1", "l2"],
            "owner_id": ["o1", None, "o1"],
            "kind": ["call", "email", "meeting"],
            "occurred_at": [utc("2026-03-02 17:00"), utc("2026-03-03 09:30:00.5"), utc("2026-03-04 10:00")],
            "automated": [False, True, False],
            "direction": ["outbound", "inbound", None],
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["d1", "d2"],
            "lead_id": ["l1", None],
            "owner_id": ["o1", None],
            "amount": [12500.5, None],
            "created_at": [utc("2026-03-06 10:00"), None],
            "closed_at": [utc("2026-03-25 10:00"), None],
            "status": ["won", "open"],
            "pipeline": ["default", None],
        }
    )
    return CrmData.of(owners=owners, leads=leads, touches=touches, deals=deals)


def by_id(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame sorted by id, for comparisons."""
    return frame.sort_values(ID_COLUMN[table]).reset_index(drop=True)


def assert_same_data(actual: CrmData, expected: CrmData) -> None:
    """Every table equal, dtypes included, ignoring row order."""
    for table in TABLES:
        pd.testing.assert_frame_equal(by_id(table, actual.frame(table)), by_id(table, expected.frame(table)))


def with_rows(data: CrmData, table: str, frame: pd.DataFrame) -> CrmData:
    """A copy of data with one table replaced (normalised)."""
    frames = {t: data.frame(t) for t in TABLES} | {table: frame}
    return CrmData.of(**frames)


# -- schema and engines ------------------------------------------------------------------


def test_tables_have_the_frame_columns_and_indexes(db_engine):
    inspector = sa.inspect(db_engine)
    for table in TABLES:
        assert [c["name"] for c in inspector.get_columns(table)] == list(SCHEMAS[table])
        assert inspector.get_pk_constraint(table)["constrained_columns"] == [ID_COLUMN[table]]
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("leads", "touches", "deals", "month_snapshots")
        for index in inspector.get_indexes(table)
    }
    for expected in [
        ("leads", ("mql_at",)),
        ("touches", ("lead_id", "occurred_at", "kind", "automated", "direction")),  # follow-up reads from it alone
        ("touches", ("occurred_at",)),
        ("deals", ("lead_id",)),
        ("deals", ("closed_at",)),
        ("month_snapshots", ("month",)),
    ]:
        assert expected in indexed
    for table in ("terms_versions", "month_snapshots", "month_notes", "sync_state", "data_loads"):
        assert inspector.has_table(table)


def test_make_engine_is_cached_and_idempotent(db_url):
    engine = storage.make_engine(db_url)
    assert storage.make_engine(db_url) is engine
    assert migrate.upgrade(engine) == (
        migrate.head_revision(),
        migrate.head_revision(),
    )  # opening again changes nothing
    assert storage.data_counts(engine) == {t: 0 for t in TABLES}


def test_default_db_url(monkeypatch):
    monkeypatch.delenv("SMARKETING_DB", raising=False)
    url = storage.default_db_url()
    assert url.startswith("sqlite:////") and url.endswith("/data/smarketing.db")
    monkeypatch.setenv("SMARKETING_DB", "postgresql+psycopg://me@db/smarketing")
    assert storage.default_db_url() == "postgresql+psycopg://me@db/smarketing"


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://admin:hunter2@127.0.0.1/x",
        "postgresql+psycopg://admin:hunter2@127.0.0.1:1/nothing",
        "sqlite:////proc/definitely/not/here/x.db",
    ],
)
def test_bad_database_urls_explain_without_the_password(url):
    with pytest.raises(UserError) as caught:
        storage.make_engine(url)
    message = str(caught.value)
    assert "hunter2" not in message
    assert message.count("\n") == 0 and message.endswith(".")


def test_mask_url_hides_the_password():
    assert "hunter2" not in storage.mask_url("postgresql+psycopg://me:hunter2@db:5432/x")
    assert "hunter2" not in storage.mask_url("weird://me:hunter2@db/x y")


# -- saving and loading ------------------------------------------------------------------


def test_round_trip_of_every_table(db_engine):
    data = sample()
    counts = storage.save_data(db_engine, data, source="test", detail="sample")
    assert counts == {t: {"inserted": len(data.frame(t)), "updated": 0, "unchanged": 0} for t in TABLES}
    loaded = storage.load_data(db_engine)
    assert_same_data(loaded, data)
    assert str(loaded.leads["mql_at"].dtype) == "datetime64[ns, UTC]"
    lead = loaded.leads.set_index("lead_id")
    assert lead.loc["l1", "mql_at"] == pd.Timestamp("2026-03-02 15:15:30.123456", tz="UTC")
    assert pd.isna(lead.loc["l3", "mql_at"]) and lead.loc["l2", "segment"] == "all"
    assert list(by_id("owners", loaded.owners)["active"]) == [True, False]
    assert pd.isna(loaded.deals.set_index("deal_id").loc["d2", "amount"])
    assert storage.data_counts(db_engine) == data.counts()


def test_nanoseconds_are_dropped_so_a_resave_is_unchanged(db_engine):
    data = sample()
    data.touches.loc[0, "occurred_at"] = pd.Timestamp("2026-03-02 17:00:00.000000789", tz="UTC")
    storage.save_data(db_engine, data, source="test")
    again = storage.save_data(db_engine, data, source="test")
    assert again["touches"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    stored = storage.load_data(db_engine).touches.set_index("touch_id")
    assert stored.loc["t1", "occurred_at"] == pd.Timestamp("2026-03-02 17:00", tz="UTC")


def test_resaving_the_same_data_changes_nothing(db_engine):
    data = sample()
    storage.save_data(db_engine, data, source="test")
    counts = storage.save_data(db_engine, data, source="test")
    assert counts == {t: {"inserted": 0, "updated": 0, "unchanged": len(data.frame(t))} for t in TABLES}
    assert_same_data(storage.load_data(db_engine), data)
    assert storage.data_counts(db_engine) == data.counts()


def test_updates_are_stored_and_counted(db_engine):
    data = sample()
    storage.save_data(db_engine, data, source="test")
    leads = data.leads.copy()
    leads.loc[leads["lead_id"] == "l2", "segment"] = "enterprise"
    leads.loc[leads["lead_id"] == "l3", "mql_at"] = pd.Timestamp("2026-03-10 10:00", tz="UTC")
    leads = pd.concat([leads, normalize("leads", pd.DataFrame({"lead_id": ["l4"]}))], ignore_index=True)
    deals = data.deals.copy()
    deals.loc[deals["deal_id"] == "d2", ["status", "amount"]] = ["lost", 99.0]
    changed = with_rows(with_rows(data, "leads", leads), "deals", deals)
    counts = storage.save_data(db_engine, changed, source="test")
    assert counts["leads"] == {"inserted": 1, "updated": 2, "unchanged": 1}
    assert counts["deals"] == {"inserted": 0, "updated": 1, "unchanged": 1}
    assert counts["touches"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    assert_same_data(storage.load_data(db_engine), changed)


def test_frames_that_are_not_canonical_yet_are_normalised(db_engine):
    raw = CrmData(leads=pd.DataFrame({"lead_id": [7], "mql_at": ["2026-03-01T09:00:00-05:00"], "segment": [""]}))
    storage.save_data(db_engine, raw, source="test")
    lead = storage.load_data(db_engine).leads.iloc[0]
    assert (lead["lead_id"], lead["mql_at"], lead["segment"]) == ("7", utc("2026-03-01 14:00"), "all")


def test_a_partial_save_keeps_the_other_rows(db_engine):
    storage.save_data(db_engine, sample(), source="test")
    one = CrmData.of(leads=pd.DataFrame({"lead_id": ["l9"], "mql_at": [utc("2026-03-09 09:00")]}))
    assert storage.save_data(db_engine, one, source="test")["leads"]["inserted"] == 1
    assert storage.data_counts(db_engine)["leads"] == 4


def test_many_rows_in_several_chunks(db_engine, monkeypatch):
    monkeypatch.setattr(storage, "CHUNK_ROWS", 7)
    n = 50
    leads = pd.DataFrame(
        {"lead_id": [f"l{i}" for i in range(n)], "mql_at": pd.date_range("2026-03-01", periods=n, freq="h", tz="UTC")}
    )
    first = storage.save_data(db_engine, CrmData.of(leads=leads), source="test")
    assert first["leads"] == {"inserted": n, "updated": 0, "unchanged": 0}
    leads.loc[::10, "source"] = "ads"
    more = pd.concat([leads, pd.DataFrame({"lead_id": ["x1", "x2"]})], ignore_index=True)
    second = storage.save_data(db_engine, CrmData.of(leads=more), source="test")
    assert second["leads"] == {"inserted": 2, "updated": 5, "unchanged": n - 5}
    assert storage.data_counts(db_engine)["leads"] == n + 2


# -- all or nothing ----------------------------------------------------------------------


def _bad_saves() -> list[tuple[str, CrmData]]:
    """Changed data that also carries one bad row."""
    base = sample()
    touches = base.touches.copy()
    duplicate = pd.concat([touches, touches.iloc[[0]]], ignore_index=True)
    no_kind = touches.copy()
    no_kind["kind"] = no_kind["kind"].astype(object)
    no_kind.loc[2, "kind"] = None
    leads = base.leads.copy()
    leads.loc[0, "segment"] = "changed"
    bad_status = base.deals.copy()
    bad_status.loc[0, "status"] = "maybe"
    changed = with_rows(base, "leads", leads)
    return [
        ("appears more than once", with_rows(changed, "touches", duplicate)),
        ("has no kind", with_rows(changed, "touches", no_kind)),
        ("not one of", with_rows(changed, "deals", bad_status)),
    ]


@pytest.mark.parametrize("case", range(3))
def test_a_bad_row_saves_nothing(db_engine, case):
    message, bad = _bad_saves()[case]
    storage.save_data(db_engine, sample(), source="test", sync_cursors={"contacts": "1"})
    with pytest.raises(UserError, match=message):
        storage.save_data(db_engine, bad, source="import", sync_cursors={"contacts": "2"})
    assert_same_data(storage.load_data(db_engine), sample())
    assert storage.get_cursor(db_engine, "contacts") == "1"
    loads = storage.data_loads(db_engine)
    assert list(loads["status"]) == ["failed", "ok"]
    assert message in loads["error"].iloc[0]


def test_a_failure_midway_rolls_back_every_table(db_engine, monkeypatch):
    storage.save_data(db_engine, sample(), source="test")
    original = storage._upsert_frame

    def failing(conn, name, frame, carried):
        if name == "deals":  # owners, leads and touches were already written in this transaction
            raise RuntimeError("disk on fire")
        return original(conn, name, frame, carried)

    monkeypatch.setattr(storage, "_upsert_frame", failing)
    extra = sample()
    extra.leads.loc[0, "source"] = "changed"
    extra = with_rows(
        extra,
        "touches",
        pd.concat(
            [
                extra.touches,
                normalize(
                    "touches",
                    pd.DataFrame(
                        {
                            "touch_id": ["t9"],
                            "lead_id": ["l1"],
                            "kind": ["call"],
                            "occurred_at": [utc("2026-03-09 10:00")],
                        }
                    ),
                ),
            ]
        ),
    )
    with pytest.raises(RuntimeError):
        storage.save_data(db_engine, extra, source="hubspot", sync_cursors={"calls": "99"})
    assert_same_data(storage.load_data(db_engine), sample())
    assert storage.get_cursor(db_engine, "calls") is None


@pytest.mark.parametrize("stored_before", [False, True], ids=["empty", "merge"])
def test_a_database_constraint_failure_is_a_user_error_and_saves_nothing(db_engine, monkeypatch, stored_before):
    if stored_before:
        storage.save_data(db_engine, sample(), source="test")
    monkeypatch.setattr(storage, "_validate", lambda name, frame: None)  # let the database catch it
    bad = sample()
    bad.leads.loc[0, "source"] = "changed"
    bad.deals.loc[1, "status"] = None
    with pytest.raises(UserError, match="nothing was saved"):
        storage.save_data(db_engine, bad, source="test")
    if stored_before:
        assert_same_data(storage.load_data(db_engine), sample())
    else:
        assert storage.data_counts(db_engine) == {t: 0 for t in TABLES}
    assert storage.data_loads(db_engine)["status"].iloc[0] == "failed"


# -- month-filtered loading --------------------------------------------------------------


def month_data() -> CrmData:
    """Leads in Feb, Mar (New York) and Apr 2026 with touches and deals around them."""
    leads = pd.DataFrame(
        {
            "lead_id": ["feb", "mar1", "mar2", "mar_late", "apr", "never"],
            # 2026-03-01 03:00 UTC is still February in New York.
            "mql_at": [
                utc("2026-03-01 03:00"),
                utc("2026-03-01 06:00"),
                utc("2026-03-15 12:00"),
                utc("2026-03-31 20:00"),
                utc("2026-04-10 12:00"),
                None,
            ],
        }
    )
    touches = pd.DataFrame(
        {
            "touch_id": ["t_feb", "t_mar1", "t_mar1_after_month", "t_mar2_after_as_of", "t_apr"],
            "lead_id": ["feb", "mar1", "mar1", "mar2", "apr"],
            "kind": "call",
            "occurred_at": [
                utc("2026-03-01 04:00"),
                utc("2026-03-02 10:00"),
                utc("2026-04-03 10:00"),
                utc("2026-04-20 10:00"),
                utc("2026-04-11 10:00"),
            ],
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["d_mar1", "d_feb_closed_in_mar", "d_apr", "d_orphan_closed_in_mar", "d_open"],
            "lead_id": ["mar1", "feb", "apr", None, None],
            "closed_at": [
                utc("2026-05-01 10:00"),
                utc("2026-03-20 10:00"),
                utc("2026-04-20 10:00"),
                utc("2026-03-10 10:00"),
                None,
            ],
            "status": ["won", "won", "lost", "won", "open"],
        }
    )
    owners = pd.DataFrame({"owner_id": ["o1", "o2"]})
    return CrmData.of(owners=owners, leads=leads, touches=touches, deals=deals)


def test_load_one_month_with_as_of(db_engine):
    storage.save_data(db_engine, month_data(), source="test")
    data = storage.load_data(db_engine, months=["2026-03"], tz=NY, as_of=pd.Timestamp("2026-04-15 00:00", tz="UTC"))
    # "feb" is loaded as the lead of a deal closed in March (its touches are not needed).
    assert sorted(data.leads["lead_id"]) == ["feb", "mar1", "mar2", "mar_late"]
    assert sorted(data.touches["touch_id"]) == ["t_mar1", "t_mar1_after_month"]
    assert sorted(data.deals["deal_id"]) == ["d_feb_closed_in_mar", "d_mar1", "d_orphan_closed_in_mar"]
    assert sorted(data.owners["owner_id"]) == ["o1", "o2"]
    for table in TABLES:
        assert list(data.frame(table).columns) == list(SCHEMAS[table])
    assert str(data.touches["occurred_at"].dtype) == "datetime64[ns, UTC]"


def test_as_of_inside_the_month_hides_later_mqls(db_engine):
    storage.save_data(db_engine, month_data(), source="test")
    data = storage.load_data(db_engine, months=["2026-03"], tz=NY, as_of=pd.Timestamp("2026-03-15 12:00", tz="UTC"))
    assert sorted(data.leads["lead_id"]) == ["mar1", "mar2"]  # mql_at == as_of is included
    assert sorted(data.touches["touch_id"]) == ["t_mar1"]


def test_load_several_months_and_utc_months(db_engine):
    storage.save_data(db_engine, month_data(), source="test")
    data = storage.load_data(db_engine, months=["2026-04", "2026-02"], tz=NY)
    assert sorted(data.leads["lead_id"]) == ["apr", "feb", "mar1", "mar2", "mar_late"]
    utc_march = storage.load_data(db_engine, months=["2026-03"])
    assert sorted(utc_march.leads["lead_id"]) == ["feb", "mar1", "mar2", "mar_late"]


def test_load_everything_up_to_as_of(db_engine):
    storage.save_data(db_engine, month_data(), source="test")
    data = storage.load_data(db_engine, as_of=pd.Timestamp("2026-04-01", tz="UTC"))
    assert sorted(data.leads["lead_id"]) == ["feb", "mar1", "mar2", "mar_late", "never"]
    assert sorted(data.touches["touch_id"]) == ["t_feb", "t_mar1"]
    assert len(data.deals) == 5


def test_month_span(db_engine):
    assert storage.month_span(db_engine, NY) is None
    storage.save_data(db_engine, month_data(), source="test")
    assert storage.month_span(db_engine, NY) == ("2026-02", "2026-04")
    assert storage.month_span(db_engine, "UTC") == ("2026-03", "2026-04")


def test_delete_all_data_keeps_terms_and_snapshots(db_engine):
    storage.save_data(db_engine, sample(), source="test", sync_cursors={"contacts": "5"})
    version = storage.save_terms_version(db_engine, terms_to_toml(Terms()), "2026-01")
    storage.save_snapshot(db_engine, "2026-03", {"x": 1}, as_of="2026-04-01", closed_by="ann", terms_version_id=version)
    storage.delete_all_data(db_engine)
    assert storage.data_counts(db_engine) == {t: 0 for t in TABLES}
    assert storage.all_cursors(db_engine) == {}
    assert len(storage.load_terms_versions(db_engine)) == 1
    assert storage.closed_months(db_engine) == ["2026-03"]


# -- terms -------------------------------------------------------------------------------


def test_terms_versions(db_engine):
    first = terms_to_toml(Terms(mql_quota=300))
    second = terms_to_toml(Terms(mql_quota=450, timezone=NY), effective_from="2026-04")
    v1 = storage.save_terms_version(db_engine, first, "2026-01", note="initial")
    v2 = storage.save_terms_version(db_engine, second, "2026-04")
    versions = storage.load_terms_versions(db_engine)
    summary = [(v.version_id, v.effective_from, v.terms.quota) for v in versions]
    assert summary == [(v1, "2026-01", 300), (v2, "2026-04", 450)]
    assert versions[1].terms.timezone == NY
    assert storage.load_terms_toml(db_engine, v2) == second
    with pytest.raises(UserError):
        storage.load_terms_toml(db_engine, 9999)


@pytest.mark.parametrize(
    "toml_text, month",
    [("mql_quota = [", "2026-01"), ("[marketing]\nmql_quota = -5\n", "2026-01"), ("", "March")],
)
def test_invalid_terms_are_refused_and_not_stored(db_engine, toml_text, month):
    with pytest.raises(UserError):
        storage.save_terms_version(db_engine, toml_text, month)
    assert storage.load_terms_versions(db_engine) == []


# -- snapshots ---------------------------------------------------------------------------


def test_snapshots_and_forced_reclose(db_engine):
    payload = {"month": "2026-03", "marketing": {"quota": 400, "mqls": 380}, "as_of": "ignored"}
    first = storage.save_snapshot(
        db_engine,
        "2026-03",
        payload,
        as_of=pd.Timestamp("2026-04-01 04:00", tz="UTC"),
        closed_by="ann",
        terms_version_id=None,
    )
    current = storage.load_snapshot(db_engine, "2026-03")
    assert current["marketing"] == {"quota": 400, "mqls": 380}
    assert current["snapshot_id"] == first and current["closed_by"] == "ann"
    assert current["as_of"] == "2026-04-01T04:00:00+00:00" and current["terms_version_id"] is None
    assert pd.Timestamp(current["closed_at"]).tzinfo is not None
    with pytest.raises(UserError, match="already closed"):
        storage.save_snapshot(db_engine, "2026-03", payload, as_of="2026-04-02", closed_by="bob", terms_version_id=None)
    second = storage.save_snapshot(
        db_engine,
        "2026-03",
        {"month": "2026-03", "v": 2},
        as_of="2026-04-02",
        closed_by="bob",
        terms_version_id=7,
        force=True,
        notes="late deals",
    )
    assert storage.load_snapshot(db_engine, "2026-03")["v"] == 2
    history = storage.snapshot_history(db_engine, "2026-03")
    summary = [(h["snapshot_id"], h["superseded"], h["closed_by"]) for h in history]
    assert summary == [(second, False, "bob"), (first, True, "ann")]
    assert history[0]["notes"] == "late deals" and history[1]["payload"] == payload
    storage.save_snapshot(db_engine, "2026-02", {}, as_of="2026-03-01", closed_by="ann", terms_version_id=None)
    assert storage.closed_months(db_engine) == ["2026-02", "2026-03"]
    assert storage.load_snapshot(db_engine, "2026-05") is None


def test_snapshot_payload_with_pandas_and_numpy_values(db_engine):
    import numpy as np

    payload = {"n": np.int64(3), "rate": np.float64(0.5), "when": pd.Timestamp("2026-03-01", tz="UTC"), "gap": pd.NA}
    storage.save_snapshot(db_engine, "2026-03", payload, as_of="2026-04-01", closed_by="ann", terms_version_id=None)
    loaded = storage.load_snapshot(db_engine, "2026-03")
    assert (loaded["n"], loaded["rate"], loaded["when"], loaded["gap"]) == (3, 0.5, "2026-03-01T00:00:00+00:00", None)


# -- notes, cursors, loads ---------------------------------------------------------------


def test_month_notes(db_engine):
    assert storage.load_month_notes(db_engine, "2026-03") == ""
    storage.save_month_notes(db_engine, "2026-03", "Quota missed: webinar cancelled.", "ann")
    storage.save_month_notes(db_engine, "2026-03", "Quota missed; webinar moved to April.", "bob")
    assert storage.load_month_notes(db_engine, "2026-03") == "Quota missed; webinar moved to April."
    assert storage.load_month_notes(db_engine, "2026-04") == ""


def test_cursors_commit_with_their_rows(db_engine):
    assert storage.get_cursor(db_engine, "contacts") is None
    storage.save_data(db_engine, sample(), source="hubspot", sync_cursors={"contacts": "1700000000000", "calls": "a"})
    storage.save_data(db_engine, CrmData(), source="hubspot", sync_cursors={"calls": "b"})
    assert storage.all_cursors(db_engine) == {"contacts": "1700000000000", "calls": "b"}
    assert storage.get_cursor(db_engine, "calls") == "b"


def test_data_loads_newest_first(db_engine):
    storage.save_data(db_engine, sample(), source="demo", detail="seed 1")
    storage.save_data(db_engine, sample(), source="import", detail="/tmp/x")
    loads = storage.data_loads(db_engine)
    assert list(loads["source"]) == ["import", "demo"]
    assert loads["counts"].iloc[1]["leads"] == {"inserted": 3, "updated": 0, "unchanged": 0}
    assert loads["counts"].iloc[0]["leads"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    assert str(loads["started_at"].dtype).endswith("UTC]") and (loads["finished_at"] >= loads["started_at"]).all()
    assert list(loads["status"]) == ["ok", "ok"] and loads["error"].isna().all()
    assert len(storage.data_loads(db_engine, limit=1)) == 1


# -- what a month's load knows of the whole source (v2) -------------------------------------------


def _months_of_mqls() -> CrmData:
    """MQLs (New York): Dec 2 (one without a segment), Jan 1, Feb 3 (one after the as_of used
    below), Mar 1; one March touch."""
    stamps = {
        "d1": "2025-12-10T15:00Z",
        "d2": "2025-12-11T15:00Z",
        "j1": "2026-01-10T15:00Z",
        "f1": "2026-02-10T15:00Z",
        "f2": "2026-02-11T15:00Z",
        "f3": "2026-02-27T15:00Z",
        "m1": "2026-03-10T15:00Z",
    }
    leads = pd.DataFrame(
        {
            "lead_id": list(stamps),
            "mql_at": pd.to_datetime(list(stamps.values()), utc=True),
            "segment": ["A", None, "A", "A", "B", "B", "A"],
        }
    )
    touches = pd.DataFrame(
        {"touch_id": ["t1"], "lead_id": ["m1"], "kind": ["call"], "occurred_at": [pd.Timestamp("2026-03-10T16:00Z")]}
    )
    return CrmData.of(leads=leads, touches=touches)


def test_a_month_load_carries_the_three_months_before_and_whether_the_source_has_touches(db_engine):
    storage.save_data(db_engine, _months_of_mqls(), source="test")
    as_of = pd.Timestamp("2026-02-20T12:00Z")  # f3 (Feb 27) and m1 are not known yet
    data = storage.load_data(db_engine, months=["2026-03"], tz=NY, as_of=as_of)
    assert data.touches.empty and data.has_touches  # the month has none; the source has one
    earlier = data.earlier_mqls.sort_values("lead_id")
    assert list(earlier["lead_id"]) == ["d1", "d2", "f1", "f2", "j1"]
    assert dict(zip(earlier["lead_id"], earlier["segment"]))["d2"] == "all"  # no segment: segment all
    assert str(earlier["mql_at"].dt.tz) == "UTC"


def test_a_load_of_a_source_without_touches_says_so(db_engine):
    data = _months_of_mqls()
    storage.save_data(db_engine, CrmData.of(leads=data.leads), source="test")
    assert not storage.load_data(db_engine, months=["2026-03"], tz=NY).has_touches


def test_latest_mql_month_respects_as_of_and_before(db_engine):
    storage.save_data(db_engine, _months_of_mqls(), source="test")
    as_of = pd.Timestamp("2026-03-20T12:00Z")
    assert storage.latest_mql_month(db_engine, NY, as_of) == "2026-03"
    assert storage.latest_mql_month(db_engine, NY, as_of, before="2026-03") == "2026-02"
    assert storage.latest_mql_month(db_engine, NY, pd.Timestamp("2025-12-01T00:00Z")) is None


def test_counts_on_a_sqlite_file_are_read_again_only_after_a_commit(sqlite_url: str) -> None:
    """data_counts asks SQLite's data_version first: unchanged, the last counts stand (no scan);
    after a commit by any connection of any process, the rows are counted again."""
    engine = storage.make_engine(sqlite_url)
    storage.save_data(engine, _one_lead("a"), source="test")
    counted: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: counted.append(args[2]))
    assert storage.data_counts(engine)["leads"] == 1
    scans = len(counted)
    assert scans >= len(TABLES)
    assert storage.data_counts(engine)["leads"] == 1 and len(counted) == scans  # nothing committed: no scan
    path = sqlite_url.removeprefix("sqlite:///")
    code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()"
    insert = "INSERT INTO leads (lead_id) VALUES ('b')"
    subprocess.run([sys.executable, "-c", code, path, insert], check=True)  # another process commits
    assert storage.data_counts(engine)["leads"] == 2 and len(counted) > scans
    storage.save_data(engine, _one_lead("c"), source="test")  # this process, another connection
    assert storage.data_counts(engine)["leads"] == 3


def _one_lead(lead_id: str) -> CrmData:
    return CrmData(leads=pd.DataFrame({"lead_id": [lead_id], "mql_at": ["2026-03-02T09:00:00-05:00"]}))


def test_a_sqlite_command_never_imports_psycopg_and_its_errors_count_once_it_is() -> None:
    # psycopg costs a tenth of a second of every CLI run; only a PostgreSQL engine needs it.
    code = (
        "import sys; import smarketing.cli; from smarketing.store import storage; "
        "storage.make_engine('sqlite:///:memory:').connect().close(); print('psycopg' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    import psycopg

    assert psycopg.Error in storage.database_errors() and sa.exc.DBAPIError in storage.database_errors()
