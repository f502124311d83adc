"""Hostile inputs, generated (hypothesis): malformed CSV, Excel and TOML through the canonical
importer and every preset, and hostile command-line arguments. For every generated case the
command either imports correctly (and a second run changes nothing) or exits 2 with one line
naming the file, no traceback, and the database byte-for-byte unchanged (checksum of every
table but the load history).

Bounded for CI: a fixed number of examples per test, derandomized, no deadline."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import sqlite3
import string
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from smarketing.cli import main
from smarketing.core.frames import SCHEMAS
from smarketing.sources import mapping

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells that broke imports before, or sit on an edge: years outside pandas' range, numbers
# outside float's, injections, odd whitespace and encodings.
HOSTILE_CELLS = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00",
    "2262-04-11T23:47:16.854775807",
    "1677-09-21T00:12:43",
    "2199-12-31T23:00:00",
    "1900-01-01T00:00:00Z",
    "2026-02-30T10:00:00",
    "2026-03-05T25:00:00",
    "inf",
    "-inf",
    "1e400",
    "-1e400",
    "NaN",
    "-5",
    "1,5",
    "1.000.000,50",
    "99999999999999999999999",
    "=cmd|' /C calc'!A0",
    "![x](http://tracker.example/p.png)",
    "<script>alert(1)</script>",
    "$\\LaTeX$",
    "\u202etxt.exe",
    "\x00",
    "true",
    "yes",
    "",
    " ",
    '"',
    "a;b,c|d\te",
]
TEXT = st.text(alphabet=string.printable + "éüß€\u00a0", max_size=30)
CELL = st.one_of(st.sampled_from(HOSTILE_CELLS), TEXT, st.integers(-(10**20), 10**20).map(str))
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]
DELIMITERS = [",", ";", "\t", "|"]


# -- the harness --------------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    """The CLI in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse refusing an argument
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def checksum(db: Path) -> str:
    """A digest of every table's rows but the load history (a refused import may log itself)."""
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for name in names:
            if name in ("data_loads", "alembic_version"):
                continue
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY 1'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A database holding the hand-checked sample."""
    path = tmp_path / "hostile.db"
    code, _, err = run("--db", f"sqlite:///{path}", "import", str(SAMPLE))
    assert code == 0, err
    yield path


def assert_imports_or_refuses(db: Path, folder: Path, *extra: str) -> None:
    """The one contract: a correct, repeatable import, or exit 2 with one line and nothing changed."""
    url = f"sqlite:///{db}"
    before = checksum(db)
    code, out, err = run("--db", url, "import", str(folder), *extra)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 0:
        again, out2, err2 = run("--db", url, "import", str(folder), *extra)
        assert again == 0, err2
        assert " 0 new, 0 updated" in out2 and "updated, 0 unchanged" not in out2.replace("0 updated, 0 unchanged", "")
        return
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    names = [p.name for p in folder.iterdir()]
    assert any(name in err for name in names) or "No file matches" in err, err
    assert checksum(db) == before, "a refused import changed the database"


def fresh(tmp_path: Path, name: str = "in") -> Path:
    folder = tmp_path / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


@st.composite
def table_text(draw: st.DrawFn, columns: list[str], max_rows: int = 6) -> str:
    """A delimited file: some of the columns (shuffled), rows of hostile cells, maybe mixed delimiters."""
    chosen = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=len(columns), unique=True))
    head_sep = draw(st.sampled_from(DELIMITERS))
    row_sep = draw(st.sampled_from([head_sep, head_sep, *DELIMITERS]))
    rows = draw(st.lists(st.lists(CELL, min_size=len(chosen), max_size=len(chosen)), max_size=max_rows))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [head_sep.join(chosen)] + [row_sep.join(r) for r in rows]
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


def encoded(draw: st.DrawFn, text: str) -> bytes:
    """The text in a drawn encoding (characters it cannot hold replaced), or random bytes instead."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


# -- canonical files ----------------------------------------------------------------------------


@BOUNDED
@given(data=st.data())
def test_canonical_csv_files_import_or_refuse_in_one_sentence(db: Path, tmp_path: Path, data: st.DataObject) -> None:
    folder = fresh(tmp_path)
    tables = data.draw(st.lists(st.sampled_from(list(SCHEMAS)), min_size=1, max_size=4, unique=True))
    for table in {"leads", *tables}:
        text = data.draw(table_text(list(SCHEMAS[table])))
        (folder / f"{table}.csv").write_bytes(encoded(data.draw, text))
    assert_imports_or_refuses(db, folder)


@BOUNDED
@given(data=st.data())
def test_canonical_excel_files_import_or_refuse_in_one_sentence(db: Path, tmp_path: Path, data: st.DataObject) -> None:
    folder = fresh(tmp_path)
    kind = data.draw(st.sampled_from(["cells", "cells", "far cell", "not a workbook", "truncated"]))
    book = openpyxl.Workbook()
    sheet = book.active
    columns = data.draw(st.lists(st.sampled_from(list(SCHEMAS["leads"])), min_size=1, max_size=6, unique=True))
    sheet.append(columns)
    for row in data.draw(st.lists(st.lists(CELL, min_size=len(columns), max_size=len(columns)), max_size=5)):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in row])  # what Excel itself cannot store
    if kind == "far cell":
        sheet[data.draw(st.sampled_from(["XFD1", "XFD2", "AMK3"]))] = "x"
    target = folder / "leads.xlsx"
    book.save(target)
    if kind == "not a workbook":
        target.write_bytes(data.draw(st.binary(max_size=200)))
    if kind == "truncated":
        target.write_bytes(target.read_bytes()[: data.draw(st.integers(0, 2000))])
    assert_imports_or_refuses(db, folder)


@BOUNDED
@given(data=st.data())
def test_terms_files_import_or_refuse_in_one_sentence(db: Path, tmp_path: Path, data: st.DataObject) -> None:
    folder = fresh(tmp_path)
    shutil.copy(SAMPLE / "leads.csv", folder / "leads.csv")
    sample = (SAMPLE / "terms.toml").read_text(encoding="utf-8")
    kind = data.draw(st.sampled_from(["edited", "random text", "random bytes", "latin-1", "folder"]))
    if kind == "edited":
        lines = sample.splitlines()
        at = data.draw(st.integers(0, len(lines) - 1))
        lines[at] = data.draw(st.sampled_from([lines[at].split("=")[0] + "= " + v for v in HOSTILE_CELLS] + ["[x"]))
        (folder / "terms.toml").write_text("\n".join(lines), encoding="utf-8")
    elif kind == "random text":
        (folder / "terms.toml").write_text(data.draw(TEXT), encoding="utf-8")
    elif kind == "random bytes":
        (folder / "terms.toml").write_bytes(data.draw(st.binary(max_size=200)))
    elif kind == "latin-1":
        (folder / "terms.toml").write_bytes(("# Zürich é\n" + sample).encode("latin-1"))
    else:
        (folder / "terms.toml").mkdir()
    assert_imports_or_refuses(db, folder)


def test_a_folder_where_leads_csv_should_be_is_refused(db: Path, tmp_path: Path) -> None:
    folder = fresh(tmp_path)
    (folder / "leads.csv").mkdir()
    assert_imports_or_refuses(db, folder)


def test_a_canonical_header_with_commas_and_rows_with_semicolons_is_refused(db: Path, tmp_path: Path) -> None:
    folder = fresh(tmp_path)
    (folder / "leads.csv").write_text("lead_id,mql_at,segment\nX1;2026-03-02T10:00:00Z;A\n", encoding="utf-8")
    before = checksum(db)
    code, _, err = run("--db", f"sqlite:///{db}", "import", str(folder))
    assert code == 2 and "leads.csv, row 2" in err and "separated by ';'" in err
    assert checksum(db) == before


@pytest.mark.parametrize("amount", ["inf", "1e400", "-5", "-inf", "Infinity"])
def test_amounts_outside_the_range_are_refused_so_revenue_is_never_infinity(db: Path, tmp_path: Path, amount) -> None:
    folder = fresh(tmp_path)
    shutil.copy(SAMPLE / "leads.csv", folder / "leads.csv")
    (folder / "deals.csv").write_text(f"deal_id,lead_id,status,amount\nD9,L1,won,{amount}\n", encoding="utf-8")
    before = checksum(db)
    code, _, err = run("--db", f"sqlite:///{db}", "import", str(folder))
    assert code == 2 and f"deals.csv, row 2, column amount: '{amount}' is not a number from 0" in err
    assert checksum(db) == before


@pytest.mark.parametrize("stamp", ["9999-01-01T00:00:00Z", "0001-01-01T00:00:00", "2262-04-11T23:59:00"])
def test_years_outside_the_range_are_refused_naming_the_cell(db: Path, tmp_path: Path, stamp: str) -> None:
    folder = fresh(tmp_path)
    (folder / "leads.csv").write_text(f"lead_id,mql_at\nX1,{stamp}\n", encoding="utf-8")
    code, _, err = run("--db", f"sqlite:///{db}", "import", str(folder))
    assert code == 2 and f"leads.csv, row 2, column mql_at: '{stamp}' is outside the years 1900 to 2199" in err


# -- presets ------------------------------------------------------------------------------------


def preset_files(name: str) -> dict[str, list[str]]:
    """File name -> the columns the preset reads from it."""
    files: dict[str, list[str]] = {}
    for source in mapping.load_mapping(preset=name).sources:
        file = source.patterns[0].replace("*", "")
        columns = set().union(*(spec.columns() for spec in source.columns.values()))
        for rule in source.skip:
            columns |= rule.columns()
        files.setdefault(file, [])
        files[file] = sorted(set(files[file]) | columns)
    return files


@pytest.mark.parametrize("preset", mapping.preset_names())
@settings(BOUNDED, max_examples=20)
@given(data=st.data())
def test_every_preset_imports_or_refuses_in_one_sentence(
    db: Path, tmp_path: Path, preset: str, data: st.DataObject
) -> None:
    folder = fresh(tmp_path, preset)
    for file, columns in preset_files(preset).items():
        text = data.draw(table_text(columns))
        (folder / file).write_bytes(encoded(data.draw, text))
    assert_imports_or_refuses(db, folder, "--preset", preset)


# -- command-line arguments ----------------------------------------------------------------------

MONTHS = st.one_of(
    st.sampled_from(
        ["9999-01", "0001-12", "2026-13", "2026-00", "1899-12", "2200-01", "2026-3", " 2026-03", "-2026-03"]
    ),
    TEXT,
)
AS_OFS = st.one_of(
    st.sampled_from(
        [
            "9999-12-31T00:00:00Z",
            "0001-01-01",
            "2262-04-12",
            "1677-09-21",
            "1e400",
            "now",
            "2026-02-30",
            "2026-03-31T17:00:00+25:00",
            "2026-03-31T17:00:00-04:00",
        ]
    ),
    TEXT,
)


@BOUNDED
@given(month=MONTHS, as_of=AS_OFS, command=st.sampled_from(["scorecard", "leads"]))
def test_hostile_months_and_instants_on_the_command_line(db: Path, month: str, as_of: str, command: str) -> None:
    before = checksum(db)
    code, _, err = run("--db", f"sqlite:///{db}", command, "--month", month, "--as-of", as_of, "--format", "json")
    assert "Traceback" not in err
    assert code == 0 or (code == 2 and len(err.strip().splitlines()) == 1), err
    assert checksum(db) == before


@BOUNDED
@given(month=MONTHS)
def test_hostile_months_for_recalc_and_close(db: Path, month: str) -> None:
    for argv in (["recalc", "--month", month, "--format", "json"], ["close", "--month", month]):
        code, _, err = run("--db", f"sqlite:///{db}", *argv)
        assert "Traceback" not in err
        assert code in (0, 2), err


def test_a_row_with_more_fields_than_the_header_is_refused_not_cut(db: Path, tmp_path: Path) -> None:
    folder = fresh(tmp_path)
    (folder / "leads.csv").write_text("lead_id,segment\nX1,A,2026-03-02\nX2,B\n", encoding="utf-8")
    before = checksum(db)
    code, _, err = run("--db", f"sqlite:///{db}", "import", str(folder))
    assert code == 2 and "leads.csv, row 2: has 3 fields but the header has 2; '2026-03-02' would be lost" in err
    assert checksum(db) == before
    (folder / "leads.csv").write_text("lead_id,segment\nX1,A,\nX2,B\n", encoding="utf-8")  # an empty trailing field
    assert run("--db", f"sqlite:///{db}", "import", str(folder))[0] == 0
