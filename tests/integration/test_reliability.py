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
