"""Broken files through the presets and the command line: each gives the message a user needs
and writes nothing (all or nothing), on SQLite.

The files are copies of the real Olist and Salesforce-sample files, broken in one way each,
written to a temporary folder."""

from __future__ import annotations

import codecs
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from smarketing.cli import main
from smarketing.core.errors import UserError
from smarketing.sources import mapping
from smarketing.sources.canonical import ImportFailed
from smarketing.store import storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OLIST = ROOT.parent / "shared" / "datasets" / "olist-marketing-funnel"
SALESFORCE = Path(__file__).resolve().parents[1] / "data" / "salesforce"
MQL = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"
EMPTY = {"owners": 0, "leads": 0, "touches": 0, "deals": 0}

needs_olist = pytest.mark.skipif(
    not OLIST.is_dir() and os.environ.get("CI") != "true", reason=f"the Olist dataset is not at {OLIST}"
)


@pytest.fixture
def engine(tmp_path: Path):
    engine = storage.make_engine(f"sqlite:///{tmp_path}/x.db")
    yield engine
    engine.dispose()


@pytest.fixture
def olist(tmp_path: Path) -> Path:
    """A copy of the Olist folder to break."""
    folder = tmp_path / "olist"
    folder.mkdir()
    for name in (MQL, DEALS):
        shutil.copy(OLIST / name, folder / name)
    return folder


def mql_text(folder: Path) -> list[str]:
    return (folder / MQL).read_text(encoding="utf-8").splitlines(keepends=True)


def write_mql(folder: Path, lines: list[str], encoding: str = "utf-8", bom: bool = False) -> None:
    data = "".join(lines).encode(encoding)
    (folder / MQL).write_bytes((codecs.BOM_UTF8 if bom else b"") + data)


def failed_import(engine, folder: Path, **how) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        mapping.import_mapped(engine, folder, **how)
    assert storage.data_counts(engine) == EMPTY
    assert storage.load_terms_versions(engine) == []
    return caught.value


@needs_olist
def test_an_unparseable_date_in_row_5000_is_named_and_nothing_is_written(engine, olist):
    lines = mql_text(olist)
    row = lines[4999].split(",")  # spreadsheet row 5000 (the header is row 1)
    row[1] = "31-02-2018"
    lines[4999] = ",".join(row)
    write_mql(olist, lines)
    problem = failed_import(engine, olist, preset="olist")
    assert problem.problems == [
        f"{MQL}, row 5000, column first_contact_date: '31-02-2018' is not a date in the format %d-%m-%Y "
        "(for example 05-03-2026) or %d-%m-%Y %H:%M (for example 05-03-2026 14:30).",
    ]  # once, though first_contact_date feeds both created_at and mql_at
    assert str(problem).startswith("Nothing was imported: ")


@needs_olist
def test_a_missing_required_column_is_named_with_the_columns_there_are(engine, olist):
    frame = pd.read_csv(olist / MQL, dtype=str, keep_default_na=False)
    frame.drop(columns=["mql_id"]).to_csv(olist / MQL, index=False)
    problem = failed_import(engine, olist, preset="olist")
    assert problem.problems == [
        f"{MQL} has no column 'mql_id' (needed for leads.lead_id); the columns are: "
        "first_contact_date, landing_page_id, origin."
    ]


@needs_olist
def test_a_duplicate_id_names_both_rows(engine, olist):
    lines = mql_text(olist)
    write_mql(olist, lines + [lines[1]])
    mql_id = lines[1].split(",")[0]
    problem = failed_import(engine, olist, preset="olist")
    assert problem.problems == [
        f"{MQL}, row 8002, column mql_id: '{mql_id}' appears more than once (first at row 2); "
        "each lead_id must be unique."
    ]


@needs_olist
def test_a_semicolon_export_is_detected(engine, olist):
    write_mql(olist, [line.replace(",", ";") for line in mql_text(olist)])
    report = mapping.import_mapped(engine, olist, preset="olist")
    assert report["counts"]["leads"]["inserted"] == 8000


@needs_olist
def test_rows_with_another_delimiter_than_the_header_are_explained(engine, olist):
    lines = mql_text(olist)
    write_mql(olist, [lines[0]] + [line.replace(",", ";") for line in lines[1:]])
    problem = failed_import(engine, olist, preset="olist")
    first = lines[1].rstrip("\n").replace(",", ";")[:80]
    assert problem.problems == [
        f"{MQL}, row 2: '{first}' is one field, but the header has 4 columns separated by ','; "
        "the rows look separated by ';'."
    ]


@needs_olist
def test_a_declared_delimiter_that_is_wrong_is_explained(engine, olist, tmp_path):
    write_mql(olist, [line.replace(",", ";") for line in mql_text(olist)])
    declared = tmp_path / "olist-comma.toml"
    declared.write_text(
        mapping.preset_text("olist").replace(
            'file = ["olist_marketing_qualified_leads_dataset*.csv", "olist_marketing_qualified_leads_dataset*.xlsx"]',
            'file = ["olist_marketing_qualified_leads_dataset*.csv"]\ndelimiter = ","',
        ),
        encoding="utf-8",
    )
    problem = failed_import(engine, olist, mapping_file=declared)
    assert problem.problems == [
        f"{MQL}: the header is one column 'mql_id;first_contact_date;landing_page_id;origin' when split at ','; "
        "the file looks separated by ';' (set delimiter = \";\" in the mapping, or remove delimiter to detect it)."
    ]


@needs_olist
def test_a_bom_is_not_part_of_the_first_column(engine, olist):
    write_mql(olist, mql_text(olist), bom=True)
    report = mapping.import_mapped(engine, olist, preset="olist")
    assert report["counts"]["leads"]["inserted"] == 8000
    assert storage.data_counts(engine)["leads"] == 8000


@needs_olist
def test_a_bom_file_with_a_missing_column_shows_clean_column_names(engine, olist):
    lines = mql_text(olist)
    write_mql(olist, [lines[0].replace("mql_id", "lead", 1)] + lines[1:], bom=True)
    problem = failed_import(engine, olist, preset="olist")
    assert problem.problems == [
        f"{MQL} has no column 'mql_id' (needed for leads.lead_id); the columns are: "
        "lead, first_contact_date, landing_page_id, origin."
    ]


def test_latin1_names_are_read_as_written(engine, tmp_path):
    folder = tmp_path / "sf"
    shutil.copytree(SALESFORCE, folder)
    users = (folder / "User.csv").read_text(encoding="utf-8").replace("Ben,Carter,Ben Carter", "José,Núñez,José Núñez")
    (folder / "User.csv").write_bytes(users.encode("latin-1"))
    mapping.import_mapped(engine, folder, preset="salesforce")
    names = storage.load_data(engine).owners["name"].tolist()
    assert names == ["Ana Souza", "José Núñez", "Chloé Martin"]


def test_a_latin1_value_in_a_problem_is_shown_as_written(engine, tmp_path):
    folder = tmp_path / "sf"
    shutil.copytree(SALESFORCE, folder)
    leads = (
        (folder / "Lead.csv")
        .read_text(encoding="utf-8")
        .replace("2024-04-02T12:00:00.000Z,2024-04-02", "2 março 2024,2024-04-02")
    )
    (folder / "Lead.csv").write_bytes(leads.encode("latin-1"))
    problem = failed_import(engine, folder, preset="salesforce")
    assert problem.problems[0].startswith(
        "Lead.csv, row 8, column CreatedDate: '2 março 2024' is not a date in the format ISO 8601"
    )


@needs_olist
def test_a_failed_import_leaves_earlier_data_as_it_was(engine, olist):
    mapping.import_mapped(engine, olist, preset="olist")
    before = storage.data_counts(engine)
    lines = mql_text(olist)
    write_mql(olist, lines + ["ffff0000ffff0000ffff0000ffff0000,01-13-2018,x,social\n"])
    with pytest.raises(ImportFailed, match="row 8002, column first_contact_date: '01-13-2018'"):
        mapping.import_mapped(engine, olist, preset="olist")
    assert storage.data_counts(engine) == before
    assert storage.load_data(engine).leads["lead_id"].str.startswith("ffff0000").sum() == 0


@needs_olist
def test_the_command_line_prints_the_summary_and_one_sentence_errors(tmp_path, olist, capsys):
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["--db", url, "import", str(olist), "--preset", "olist"]) == 0
    out = capsys.readouterr().out
    assert "owners 41 new, 0 updated, 0 unchanged; leads 8000 new" in out and "deals 842 new" in out
    assert "Terms from terms.toml are in force from 2017-06" in out or "2017-06" in out
    assert main(["--db", url, "import", str(olist), "--preset", "olist"]) == 0
    assert "leads 0 new, 0 updated, 8000 unchanged" in capsys.readouterr().out
    assert main(["--db", url, "import", str(olist), "--preset", "hubspot"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no preset 'hubspot'") and "Traceback" not in err
    (olist / MQL).unlink()
    assert main(["--db", url, "import", str(olist), "--preset", "olist"]) == 2
    err = capsys.readouterr().err
    assert "No file matches olist_marketing_qualified_leads_dataset*.csv" in err and err.count("\n") == 1


def test_a_mapping_file_with_a_mistake_is_refused_before_reading_files(engine, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[leads]]\nfile = "x.csv"\n[leads.columns]\nlead_id = "Id"\nmql_at = { column = "C", fromat = "%d" }\n'
    )
    with pytest.raises(UserError, match=r"mapping file bad.toml has problems: .*'fromat' is not known"):
        mapping.import_mapped(engine, tmp_path, mapping_file=bad)
    assert storage.data_counts(engine) == EMPTY
