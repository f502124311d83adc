"""Issue 18: imports never erase what a file does not carry, and refuse what they cannot read
in one sentence; the database is unchanged by every refusal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.sources import mapping
from smarketing.store import storage

pytestmark = pytest.mark.integration

FULL_LEADS = (
    "lead_id,created_at,mql_at,assigned_at,segment,source,owner_id\n"
    "L1,2026-03-01T09:00:00Z,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z,A,web,o1\n"
)


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", ".", 1) if "." not in name else folder / name).write_text(text, encoding="utf-8")
    return folder


def lead(engine, lead_id: str = "L1") -> pd.Series:
    leads = storage.load_data(engine).leads
    return leads.set_index("lead_id").loc[lead_id]


def test_a_file_with_only_lead_id_and_segment_keeps_the_mqls_dates_owner_and_source(db_engine, tmp_path: Path) -> None:
    api.import_directory(db_engine, write(tmp_path / "full", **{"leads.csv": FULL_LEADS}))
    report = api.import_directory(db_engine, write(tmp_path / "part", **{"leads.csv": "lead_id,segment\nL1,B\n"}))
    assert report["counts"]["leads"] == {"inserted": 0, "updated": 1, "unchanged": 0, "skipped": 0}
    row = lead(db_engine)
    assert row["segment"] == "B"
    assert row["mql_at"] == pd.Timestamp("2026-03-02T10:00:00Z")
    assert (row["owner_id"], row["source"]) == ("o1", "web")
    assert row["assigned_at"] == pd.Timestamp("2026-03-02T11:00:00Z")


def test_an_uploaded_partial_file_keeps_the_other_columns_too(db_engine) -> None:
    mapping.import_files(db_engine, {"leads.csv": FULL_LEADS.encode()})
    again = mapping.import_files(db_engine, {"leads.csv": b"lead_id,source\nL1,event\nL2,event\n"})
    assert again["counts"]["leads"]["inserted"] == 1 and again["counts"]["leads"]["updated"] == 1
    row = lead(db_engine)
    assert (row["source"], row["segment"], row["owner_id"]) == ("event", "A", "o1")
    assert row["mql_at"] == pd.Timestamp("2026-03-02T10:00:00Z")
    assert lead(db_engine, "L2")["segment"] == "all", "a new row gets the defaults"


def test_the_same_partial_file_twice_changes_nothing(db_engine, tmp_path: Path) -> None:
    api.import_directory(db_engine, write(tmp_path / "full", **{"leads.csv": FULL_LEADS}))
    part = write(tmp_path / "part", **{"leads.csv": "lead_id,segment\nL1,A\n"})
    assert api.import_directory(db_engine, part)["counts"]["leads"]["unchanged"] == 1


def test_a_touches_file_without_a_column_new_rows_need_says_so(db_engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "t", **{"leads.csv": FULL_LEADS, "touches.csv": "touch_id,lead_id,kind\nT1,L1,call\n"})
    with pytest.raises(UserError, match=r"touches\.csv has no column 'occurred_at'"):
        api.import_directory(db_engine, folder)
    assert storage.data_counts(db_engine)["leads"] == 0


OWNERS = "owner_id,name\no1,Ann\n"
TOUCHES = (
    "touch_id,lead_id,owner_id,kind,occurred_at\n"
    "T1,L1,o1,call,2026-03-02T12:00:00Z\n"
    "T2,GHOST,o1,call,2026-03-02T12:00:00Z\n"
    "T3,GHOST2,o9,email,2026-03-02T12:00:00Z\n"
)


def test_touches_for_unknown_leads_and_owners_are_reported_with_counts_and_examples(db_engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "r", **{"leads.csv": FULL_LEADS, "owners.csv": OWNERS, "touches.csv": TOUCHES})
    report = api.import_directory(db_engine, folder)
    assert "2 touches name a lead_id that no lead has (for example 'GHOST', 'GHOST2')." in report["warnings"]
    assert "1 touch names an owner_id that no owner has (for example 'o9')." in report["warnings"]
    assert storage.data_counts(db_engine)["touches"] == 3


def test_leads_already_stored_are_known_to_a_later_touches_file(db_engine, tmp_path: Path) -> None:
    api.import_directory(db_engine, write(tmp_path / "a", **{"leads.csv": FULL_LEADS, "owners.csv": OWNERS}))
    touches = "touch_id,lead_id,owner_id,kind,occurred_at\nT1,L1,o1,call,2026-03-02T12:00:00Z\n"
    report = api.import_directory(
        db_engine, write(tmp_path / "b", **{"leads.csv": "lead_id\nL1\n", "touches.csv": touches})
    )
    assert not [w for w in report["warnings"] if "no lead has" in w or "no owner has" in w]


def test_the_refuse_setting_imports_nothing_when_a_reference_is_unknown(db_engine, tmp_path: Path, capsys) -> None:
    from smarketing.cli import main

    folder = write(tmp_path / "r", **{"leads.csv": FULL_LEADS, "owners.csv": OWNERS, "touches.csv": TOUCHES})
    url = db_engine.url.render_as_string(hide_password=False)
    assert main(["--db", url, "import", str(folder), "--refuse-unknown"]) == 2
    err = capsys.readouterr().err
    assert "Nothing was imported" in err and "'GHOST'" in err and "Traceback" not in err
    assert storage.data_counts(db_engine) == {"owners": 0, "leads": 0, "touches": 0, "deals": 0}


def test_dates_in_an_impossible_order_are_reported(db_engine, tmp_path: Path) -> None:
    leads = "lead_id,created_at,mql_at,sql_at\nL1,2026-03-05T00:00:00Z,2026-03-02T00:00:00Z,2026-03-01T00:00:00Z\n"
    deals = "deal_id,lead_id,status,created_at,closed_at\nD1,L1,won,2026-03-10T00:00:00Z,2026-03-09T00:00:00Z\n"
    report = api.import_directory(db_engine, write(tmp_path / "d", **{"leads.csv": leads, "deals.csv": deals}))
    assert "1 lead has mql_at before created_at (for example 'L1')." in report["warnings"]
    assert "1 deal has closed_at before created_at (for example 'D1')." in report["warnings"]
