"""Report exports (PDF, Excel, CSV) on a real SQLite database filled with demo data.

The PDF is turned into PNG pages with poppler's pdftoppm and checked for ink; its text
layer (pdftotext) must carry the month, the state and the statuses in words. Sample
outputs are copied to artifacts/reports/ (git-ignored) for people to look at.
An owner name and a lead segment carrying spreadsheet formulas must come out inert.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from PIL import Image

from smarketing import api
from smarketing.cli import main
from smarketing.core.errors import UserError
from smarketing.core.frames import CrmData
from smarketing.outputs import reports
from smarketing.store import storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
ARTIFACTS = ROOT / "artifacts" / "reports"
NOW = pd.Timestamp("2026-04-15T15:00:00Z")  # Wed 11:00 EDT: April is running, March is over
HYPERLINK = '=HYPERLINK("http://x","y")'
BAD_SEGMENT = "-2+3+cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with 18 months of demo data up to NOW, one March owner and one March lead
    carrying formula text."""
    path = tmp_path_factory.mktemp("reports") / "demo.db"
    engine = storage.make_engine(f"sqlite:///{path}")
    api.seed_demo(engine, now=NOW)
    card = api.scorecard(engine, "2026-03", NOW)
    owner_id = card["sales"]["by_owner"][0]["owner_id"]
    data = storage.load_data(engine, months=["2026-03"], tz=card["timezone"], as_of=NOW)
    owner = data.owners.loc[data.owners["owner_id"] == owner_id].copy()
    owner["name"] = HYPERLINK
    lead = data.leads.loc[data.leads["mql_at"].notna()].iloc[[0]].copy()
    lead["segment"] = BAD_SEGMENT
    storage.save_data(engine, CrmData.of(owners=owner, leads=lead), source="test", detail="formula text")
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def engine(demo_db: Path):
    return storage.make_engine(f"sqlite:///{demo_db}")


@pytest.fixture
def engine_copy(demo_db: Path, tmp_path: Path):
    """A private copy of the demo database, for tests that change it."""
    target = tmp_path / "copy.db"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    engine = storage.make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def march(engine) -> reports.ReportBundle:
    return api.report_bundle(engine, "2026-03", NOW)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report-files")


# -- helpers ------------------------------------------------------------------------------------------


def pdf_pages(pdf: Path, folder: Path) -> list[Path]:
    """The PDF's pages as PNG files at 60 dpi (poppler's pdftoppm)."""
    folder.mkdir(parents=True, exist_ok=True)
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(folder.glob(f"{pdf.stem}-*.png"))


def ink(png: Path) -> float:
    """Share of pixels that are not (nearly) white."""
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / (image.width * image.height)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def keep_sample(*files: Path) -> None:
    """Copy outputs to artifacts/reports/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copy(file, ARTIFACTS / file.name)


def check_pages(pdf: Path, folder: Path) -> list[Path]:
    pages = pdf_pages(pdf, folder)
    assert 1 <= len(pages) <= 2
    for page in pages:
        with Image.open(page) as image:
            assert image.width > image.height  # A4 landscape
        assert ink(page) > 0.03, f"{page.name} looks blank"
    return pages


# -- PDF ----------------------------------------------------------------------------------------------


def test_pdf_has_two_non_blank_landscape_pages_with_both_columns(engine, out_dir: Path) -> None:
    pdf = api.write_report(engine, "2026-03", out_dir / "report-2026-03.pdf", NOW)
    pages = check_pages(pdf, out_dir / "png")
    assert len(pages) == 2
    keep_sample(pdf, *pages)
    text = pdf_text(pdf)
    assert "SLA scorecard — March 2026" in text
    assert "Live, not closed: as of 2026-04-15 11:00 EDT" in text
    assert "MARKETING" in text and "SALES" in text
    assert "First touch:" in text and "Attempts:" in text
    assert "MET" in text or "MISSED" in text  # statuses in words on the badges
    assert "Reps and trend" in text and "Each commitment month by month" in text
    assert HYPERLINK in text  # CRM text is drawn as text, not interpreted


def test_pdf_of_a_running_month_shows_the_projection(engine, out_dir: Path) -> None:
    pdf = api.write_report(engine, "2026-04", out_dir / "report-2026-04-live.pdf", NOW)
    pages = check_pages(pdf, out_dir / "png-live")
    keep_sample(pdf, *pages)
    text = pdf_text(pdf)
    assert "April 2026" in text and "needed per day from here" in text
    assert any(word in text for word in ("ON TRACK", "AT RISK", "BEHIND", "MET"))


def test_pdf_without_the_dejavu_font_falls_back_to_ascii(march: reports.ReportBundle, tmp_path: Path) -> None:
    pdf = reports.write_pdf_report(march, tmp_path / "fallback.pdf", font_dir=tmp_path / "no-fonts")
    check_pages(pdf, tmp_path / "png")
    text = pdf_text(pdf)
    assert "SLA scorecard - March 2026" in text
    assert "—" not in text


def test_charts_are_png_images(march: reports.ReportBundle) -> None:
    for png in (reports.pace_chart_png(march), reports.trend_chart_png(march)):
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_trend_covers_twelve_months_ending_with_the_month(march: reports.ReportBundle) -> None:
    assert march.trend["month"].tolist() == api.trailing_months("2026-03", 12)
    assert set(march.trend.columns) >= {
        "mqls",
        "quota",
        "marketing_status",
        "first_touch_compliance",
        "first_touch_status",
        "attempts_compliance",
        "attempts_status",
    }
    assert march.trend.iloc[-1]["mqls"] == march.card["marketing"]["mqls"]
    assert march.daily["cumulative"].iloc[-1] == march.card["marketing"]["mqls"]


# -- Excel --------------------------------------------------------------------------------------------


def test_excel_has_the_sheets_and_formulas_are_inert(march: reports.ReportBundle, out_dir: Path) -> None:
    path = reports.write_excel_report(march, out_dir / "report-2026-03.xlsx")
    keep_sample(path)
    wb = load_workbook(path)
    assert wb.sheetnames[:4] == ["Scorecard", "By owner", "Lead ledger", "Terms"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), f"{ws.title}!{cell.coordinate}: {cell.value!r}"
    owners = [c.value for c in wb["By owner"]["A"]]
    assert "'" + HYPERLINK in owners
    ledger = wb["Lead ledger"]
    header = [c.value for c in ledger[1]]
    segments = [row[header.index("segment")] for row in ledger.iter_rows(min_row=2, values_only=True)]
    assert "'" + BAD_SEGMENT in segments
    names = [row[header.index("owner_name")] for row in ledger.iter_rows(min_row=2, values_only=True)]
    assert "'" + HYPERLINK in names
    mql = [row[header.index("mql_at")] for row in ledger.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, dt.datetime) and v.tzinfo is None for v in mql)
    assert len(mql) == march.card["marketing"]["mqls"]
    first = march.ledger.sort_values("mql_at").iloc[0]["mql_at"].tz_convert("America/New_York")
    assert min(mql) == first.tz_localize(None).to_pydatetime()  # local wall clock, as the sheet says
    scorecard = {row[0]: row[1] for row in wb["Scorecard"].iter_rows(values_only=True) if row[0]}
    assert scorecard["Timezone of all times"] == "America/New_York"
    assert scorecard["Month"] == "2026-03"
    terms = {row[0]: row[1] for row in wb["Terms"].iter_rows(values_only=True) if row[0]}
    assert terms["timezone"] == "America/New_York" and "sales.min_attempts" in terms


# -- CSV ----------------------------------------------------------------------------------------------


def test_csv_is_tidy_and_formulas_are_inert(march: reports.ReportBundle, out_dir: Path) -> None:
    path = reports.write_csv_report(march, out_dir / "report-2026-03.csv")
    keep_sample(path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["section", "item", "measure", "value"]
    for row in rows[1:]:
        for cell in row:
            if cell.startswith(FORMULA_START):
                float(cell)  # only numbers (negative ones) may start like a formula
    items = {(r[0], r[1]) for r in rows[1:]}
    assert ("by owner", "'" + HYPERLINK) in items
    assert ("marketing segment", "'" + BAD_SEGMENT) in items
    values = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert values[("report", "", "state")] == "live"
    assert int(values[("marketing", "", "mqls")]) == march.card["marketing"]["mqls"]
    budget = march.card["sales"]["attempts"]["budget_left"]
    assert values[("sales attempts", "", "budget_left")] == str(budget)


def test_every_format_carries_the_consequences(march: reports.ReportBundle, engine, out_dir: Path) -> None:
    csq = march.card["consequences"]
    assert csq == api.month_scorecard(engine, "2026-03", NOW)["consequences"]
    with open(reports.write_csv_report(march, out_dir / "csq.csv"), newline="", encoding="utf-8") as fh:
        values = {(r[0], r[1], r[2]): r[3] for r in list(csv.reader(fh))[1:]}
    for c in csq["by_commitment"]:
        assert values[("consequences", c["commitment"], "strikes")] == str(c["strikes"])
        assert values[("consequences", c["commitment"], "credit_history")] == c["credit_history_text"]
    assert values[("consequences", "", "score overall")] == str(csq["score"]["overall"])
    wb = load_workbook(reports.write_excel_report(march, out_dir / "csq.xlsx"))
    sheet = list(wb["Consequences"].iter_rows(values_only=True))
    assert [row[0] for row in sheet[1:]] == [c["commitment"] for c in csq["by_commitment"]]
    assert [row[sheet[0].index("credits")] for row in sheet[1:]] == [c["credits"] for c in csq["by_commitment"]]
    trend = list(wb["Trend"].iter_rows(values_only=True))
    scores = [row[trend[0].index("sales_score")] for row in trend[1:]]
    assert scores == [t["sales"] for t in csq["trend"]][-len(scores) :]
    text = pdf_text(reports.write_pdf_report(march, out_dir / "csq.pdf"))
    assert "Consequences: strikes, critical failures and credits" in text
    assert "Weighted score this month" in text and "Score · sales" in text


# -- one call and the CLI -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.txt", "report", "report.xls"])
def test_an_unknown_suffix_is_one_sentence(engine, tmp_path: Path, name: str) -> None:
    with pytest.raises(UserError) as err:
        api.write_report(engine, "2026-03", tmp_path / name, NOW)
    message = str(err.value)
    assert ".pdf, .xlsx or .csv" in message and message.count(". ") == 0 and message.endswith(".")
    assert not (tmp_path / name).exists()


def test_a_missing_folder_is_one_sentence(engine, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        api.write_report(engine, "2026-03", tmp_path / "nowhere" / "r.pdf", NOW)


def test_cli_report_writes_the_file(demo_db: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli.csv"
    url = f"sqlite:///{demo_db}"
    assert (
        main(["--db", url, "report", "--month", "2026-03", "--out", str(out), "--as-of", "2026-04-15T11:00:00-04:00"])
        == 0
    )
    assert f"written to {out}" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("section,item,measure,value\n")
    assert [p.name for p in tmp_path.iterdir()] == ["cli.csv"]  # no temporary file left behind
    assert main(["--db", url, "report", "--month", "2026-03", "--out", str(tmp_path / "x.docx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Cannot write x.docx")


# -- closed months ------------------------------------------------------------------------------------


def test_a_closed_month_is_exported_from_its_snapshot(engine_copy, out_dir: Path) -> None:
    close_as_of = pd.Timestamp("2026-03-20T16:00:00Z")
    frozen = api.scorecard(engine_copy, "2026-02", close_as_of)
    version = api.version_for(engine_copy, "2026-02")
    storage.save_snapshot(
        engine_copy, "2026-02", frozen, as_of=close_as_of, closed_by="Dana Exec", terms_version_id=version.version_id
    )
    storage.save_month_notes(engine_copy, "2026-02", "Keep the SMB window at 8 h; hire one SDR for East.", "dana")
    # The data changes after the close: three more February MQLs show up.
    extra = pd.DataFrame(
        {
            "lead_id": ["late-1", "late-2", "late-3"],
            "created_at": pd.Timestamp("2026-02-09T14:00:00Z"),
            "mql_at": pd.Timestamp("2026-02-10T15:00:00Z"),
            "segment": "SMB",
            "source": "Events",
        }
    )
    storage.save_data(engine_copy, CrmData.of(leads=extra), source="test", detail="late leads")
    assert api.scorecard(engine_copy, "2026-02", NOW)["marketing"]["mqls"] == frozen["marketing"]["mqls"] + 3

    bundle = api.report_bundle(engine_copy, "2026-02", NOW)
    assert bundle.closed and bundle.closed_by == "Dana Exec"
    assert bundle.as_of == frozen["as_of"] == "2026-03-20T12:00:00-04:00"
    assert bundle.card["marketing"] == frozen["marketing"]
    assert bundle.card["sales"] == frozen["sales"]
    assert bundle.terms_version_id == version.version_id
    assert any("pace chart" in c for c in bundle.caveats)
    assert any("ledger" in c for c in bundle.caveats)
    assert "Closed month" in bundle.state_line

    folder = out_dir / "closed"
    folder.mkdir()
    rows = reports.csv_rows(bundle)
    assert ("report", "", "state", "closed") in rows
    assert ("marketing", "", "mqls", frozen["marketing"]["mqls"]) in rows
    pdf = reports.write_pdf_report(bundle, folder / "report-2026-02-closed.pdf")
    pages = check_pages(pdf, folder / "png")
    keep_sample(pdf, *pages)
    text = pdf_text(pdf)
    assert "Closed month: frozen snapshot as of 2026-03-20 12:00 EDT (closed by Dana Exec" in text
    assert f"{frozen['marketing']['mqls']} of {frozen['marketing']['quota']} MQLs" in text
    assert "Meeting notes" in text and "hire one SDR" in text

    # A later month's trend shows the closed month from its snapshot too.
    march = api.report_bundle(engine_copy, "2026-03", NOW, trend_months=3)
    feb = march.trend.set_index("month").loc["2026-02"]
    assert bool(feb["closed"]) and feb["mqls"] == frozen["marketing"]["mqls"]


def test_closed_month_snapshot_on_sqlite_and_postgresql(db_engine, tmp_path: Path) -> None:
    """The hand-checked sample's March, closed with a doctored snapshot: the export shows the snapshot."""
    api.import_directory(db_engine, SAMPLE)
    as_of = pd.Timestamp("2026-04-30T16:00:00Z")
    card = api.scorecard(db_engine, "2026-03", as_of)
    card["marketing"] = {**card["marketing"], "mqls": 99}
    storage.save_snapshot(db_engine, "2026-03", card, as_of=as_of, closed_by="tester", terms_version_id=None)
    bundle = api.report_bundle(db_engine, "2026-03", pd.Timestamp("2026-06-01T12:00:00Z"), trend_months=2)
    assert bundle.closed and bundle.card["marketing"]["mqls"] == 99
    assert bundle.as_of == "2026-04-30T12:00:00-04:00"
    assert len(bundle.ledger) == 4 and set(bundle.ledger["owner_name"]) == {"Avery Stone", "Blake Rivera"}
    assert "effective_from" in bundle.terms_toml and bundle.effective_from == "2026-03"
    path = reports.write_excel_report(bundle, tmp_path / "sample.xlsx")
    scorecard = {(r[0], r[1]): r[2] for r in load_workbook(path)["Scorecard"].iter_rows(values_only=True) if r[0]}
    assert scorecard[("Marketing", "MQLs")] == 99


def test_many_reps_and_long_notes_still_fit_two_pages(march: reports.ReportBundle, tmp_path: Path) -> None:
    import dataclasses

    owners = pd.concat([march.owners] * 5, ignore_index=True)
    owners["name"] = [f"Rép {i:02d} Ünïcödé" for i in range(len(owners))]
    owners.loc[1, "name"] = "A very long owner name that cannot fit in its column at all"
    busy = dataclasses.replace(
        march, owners=owners, notes="Decision: keep the quota. " * 120, caveats=["First caveat.", "Second caveat."]
    )
    pdf = reports.write_pdf_report(busy, tmp_path / "busy.pdf")
    assert len(check_pages(pdf, tmp_path / "png")) == 2
    text = pdf_text(pdf)
    assert "more owners with fewer leads" in text and "continued in the dashboard" in text
    assert "Rép 00 Ünïcödé" in text
    assert "A very long owner name" in text and "at all" not in text  # cut to one line with an ellipsis
