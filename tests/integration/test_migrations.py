"""Schema migrations: a version-1 database upgrades in place with nothing lost, on SQLite and PostgreSQL.

`tests/data/v1/` was written by smarketing version 1 (commit bec32f0): the DDL its
`create_all` emitted for each dialect, every row of a database holding 3 demo months, the
`data/sample` import, a forced close of 2026-10, a second and third terms version, meeting
notes and a sync cursor, and that version's `scorecard` / `leads` JSON for five months.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.scorecard import ledger_records
from smarketing.store import migrate, storage
from smarketing.store.tables import metadata

V1 = Path(__file__).resolve().parents[1] / "data" / "v1"
AS_OF = pd.Timestamp("2026-12-01T12:00:00Z")
# Keys whose meaning version 2 keeps when no v2 setting is used: they must not move by a digit.
MARKETING_KEYS = ("quota", "mqls", "attainment", "elapsed_fraction", "expected_to_date", "pace", "required_daily_rate")
SEGMENT_KEYS = (
    "segment",
    "mqls",
    "quota",
    "attainment",
    "expected_to_date",
    "pace",
    "required_daily_rate",
    "days_left",
)
SALES_KEYS = ("met", "breached", "pending", "compliance", "budget_left")
LEAD_KEYS = (
    "lead_id",
    "owner_id",
    "segment",
    "mql_at",
    "clock_start",
    "first_touch_deadline",
    "first_touch_at",
    "response_hours",
    "first_touch_status",
    "attempts",
    "attempts_deadline",
    "attempts_status",
)


def v1_rows() -> dict[str, dict]:
    return json.loads(gzip.open(V1 / "rows.json.gz", "rt").read())


def v1_outputs() -> dict[str, dict]:
    return json.loads(gzip.open(V1 / "outputs.json.gz", "rt").read())


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v1.db'}"
    return request.getfixturevalue("fresh_postgres_url")


def _value(value, column: sa.Column):
    """A stored version-1 value (SQLite text and integers) as the column's Python value."""
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(column.type, sa.Boolean):
        return bool(value)
    return value


def write_version_1_database(url: str) -> None:
    """The version-1 schema (its own DDL) and rows, written without smarketing's code."""
    engine = storage.open_unmigrated_engine(url)
    ddl = (V1 / f"schema_{engine.dialect.name}.sql").read_text()
    with engine.begin() as conn:
        for statement in filter(str.strip, ddl.split(";")):
            conn.exec_driver_sql(statement)
        reflected = sa.MetaData()
        reflected.reflect(conn)
        for name, table in v1_rows().items():
            target = reflected.tables[name]
            rows = [{c: _value(v, target.c[c]) for c, v in zip(table["columns"], row)} for row in table["rows"]]
            if rows:
                conn.execute(target.insert(), rows)
        if engine.dialect.name == "postgresql":  # serial columns continue after the copied ids
            for name in ("terms_versions", "month_snapshots", "data_loads"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                )
    engine.dispose()


def stored_rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of the version-1 tables, instants as UTC, in key order."""
    out = {}
    with engine.connect() as conn:
        reflected = sa.MetaData()
        reflected.reflect(conn)
        for name, table in v1_rows().items():
            target = reflected.tables[name]
            cols = [target.c[c] for c in table["columns"]]
            rows = conn.execute(sa.select(*cols).order_by(*target.primary_key.columns)).all()
            out[name] = [tuple(_normal(v, c) for v, c in zip(r, cols)) for r in rows]
    return out


def _normal(value, column: sa.Column):
    if isinstance(value, str) and isinstance(column.type, sa.DateTime):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(column.type, sa.Boolean) and value is not None:
        value = bool(value)
    return value


def expected_rows() -> dict[str, list[tuple]]:
    """The fixture's rows as the columns' Python values, in key order."""
    out = {}
    metadata_by_name = metadata.tables
    for name, table in v1_rows().items():
        cols = [metadata_by_name[name].c[c] for c in table["columns"]]
        pk = [table["columns"].index(c.name) for c in metadata_by_name[name].primary_key.columns]
        rows = [tuple(_normal(_value(v, c), c) for v, c in zip(row, cols)) for row in table["rows"]]
        out[name] = sorted(rows, key=lambda r: tuple(r[i] for i in pk))
    return out


def test_a_version_1_database_upgrades_in_place_with_every_row_kept(empty_url: str) -> None:
    write_version_1_database(empty_url)
    engine = storage.make_engine(empty_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
    assert stored_rows(engine) == expected_rows()
    assert storage.data_counts(engine) == {"owners": 14, "leads": 1012, "touches": 5232, "deals": 142}
    assert storage.load_month_notes(engine, "2026-10").startswith("Agreed: SMB quota up")
    assert storage.closed_months(engine) == ["2026-10"]
    assert [v.effective_from for v in storage.load_terms_versions(engine)] == ["2026-03", "2026-10", "2026-12"]


def test_every_scorecard_and_ledger_number_is_the_same_after_the_upgrade(empty_url: str) -> None:
    write_version_1_database(empty_url)
    engine = storage.make_engine(empty_url)
    for month, before in v1_outputs().items():
        card = api.scorecard(engine, month, AS_OF)
        for key in MARKETING_KEYS:
            assert card["marketing"][key] == before["scorecard"]["marketing"][key], (month, key)
        segments = [{k: s[k] for k in SEGMENT_KEYS} for s in card["marketing"]["by_segment"]]
        assert segments == [{k: s[k] for k in SEGMENT_KEYS} for s in before["scorecard"]["marketing"]["by_segment"]]
        for part in ("first_touch", "attempts"):
            for key in SALES_KEYS:
                assert card["sales"][part][key] == before["scorecard"]["sales"][part][key], (month, part, key)
        for key in ("median_hours", "p90_hours"):
            assert card["sales"]["first_touch"][key] == before["scorecard"]["sales"]["first_touch"][key], (month, key)
        for key in ("mqls", "sqls", "customers", "won_deals"):
            assert card["funnel"][key] == before["scorecard"]["funnel"][key], (month, key)
        ledger, terms = api.ledger(engine, month, AS_OF)
        after = {r["lead_id"]: {k: r[k] for k in LEAD_KEYS} for r in ledger_records(ledger, terms.timezone)}
        assert after == {r["lead_id"]: {k: r[k] for k in LEAD_KEYS} for r in before["leads"]}, month


def test_the_migrated_schema_is_exactly_the_models(empty_url: str) -> None:
    """Every change to store/tables.py has its revision: autogenerate finds nothing left to do."""
    engine = storage.make_engine(empty_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diffs == []


def test_a_database_of_a_newer_smarketing_is_refused_in_one_sentence(sqlite_url: str) -> None:
    engine = storage.make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    storage._ENGINES.clear()
    with pytest.raises(UserError, match=r"schema revision 9999, written by a newer smarketing; upgrade smarketing"):
        storage.make_engine(sqlite_url)
    storage._ENGINES.clear()


def test_opening_an_up_to_date_database_changes_nothing(sqlite_url: str) -> None:
    storage.make_engine(sqlite_url)
    storage._ENGINES.clear()
    engine = storage.make_engine(sqlite_url)
    assert migrate.upgrade(engine) == (migrate.head_revision(), migrate.head_revision())


def test_a_revision_0001_database_with_rows_upgrades_to_the_newest_with_every_row_kept(empty_url: str) -> None:
    engine = storage.open_unmigrated_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0001")
        conn.execute(
            sa.text("INSERT INTO leads (lead_id, mql_at, segment) VALUES ('a', :t, 'A'), ('b', NULL, NULL)"),
            {"t": datetime(2026, 11, 2, 14, tzinfo=UTC)},
        )
        conn.execute(sa.text("INSERT INTO owners (owner_id, name, active) VALUES ('o1', 'Ann', :yes)"), {"yes": True})
    engine.dispose()
    storage._ENGINES.pop(empty_url, None)
    engine = storage.make_engine(empty_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
        rows = conn.execute(
            sa.text("SELECT lead_id, segment, accepted_at, rejected_at, rejection_reason FROM leads ORDER BY lead_id")
        ).all()
        assert [tuple(r) for r in rows] == [("a", "A", None, None, None), ("b", None, None, None, None)]
        assert conn.execute(sa.text("SELECT name FROM owners")).scalar_one() == "Ann"
        assert conn.execute(sa.text("SELECT count(*) FROM exclusions")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM alert_log")).scalar_one() == 0
    data = storage.load_data(engine)
    assert data.leads["mql_at"].notna().sum() == 1 and data.exclusions.empty
    storage._ENGINES.pop(empty_url, None)


def test_revisions_read_from_file_names_are_alembics_own():
    """Opening a database at the head reads the revisions from the file names (no Alembic import);
    they must be exactly Alembic's own walk of the scripts, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate._config())
    assert migrate.revisions() == tuple(reversed([rev.revision for rev in script.walk_revisions()]))
    assert migrate.head_revision() == script.get_current_head()


def test_a_revision_0003_database_gets_the_follow_up_index_with_every_touch_kept(empty_url: str) -> None:
    """Revision 0004 replaces the index on touches.lead_id by one that answers follow-up reads alone."""
    engine = storage.open_unmigrated_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0003")
        conn.execute(
            sa.text(
                "INSERT INTO touches (touch_id, lead_id, kind, occurred_at, automated, direction) VALUES "
                "('t1', 'a', 'call', :t, :no, NULL), ('t2', 'a', 'email', :t, :yes, 'outbound')"
            ),
            {"t": datetime(2026, 11, 2, 14, tzinfo=UTC), "no": False, "yes": True},
        )
    engine.dispose()
    storage._ENGINES.pop(empty_url, None)
    engine = storage.make_engine(empty_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
        indexes = {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("touches")}
        assert "ix_touches_lead_id" not in indexes
        assert indexes["ix_touches_lead_follow_ups"] == ["lead_id", "occurred_at", "kind", "automated", "direction"]
        rows = conn.execute(sa.text("SELECT touch_id, lead_id, kind, automated FROM touches ORDER BY touch_id")).all()
        assert [tuple(r) for r in rows] == [("t1", "a", "call", False), ("t2", "a", "email", True)]
        if conn.dialect.name == "sqlite":
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT lead_id, kind, occurred_at FROM touches "
                "WHERE lead_id IN ('a', 'b') AND automated = 0 AND kind IN ('call', 'email')"
            ).all()
            assert any("COVERING INDEX ix_touches_lead_follow_ups" in row[-1] for row in plan), plan
    storage._ENGINES.pop(empty_url, None)
