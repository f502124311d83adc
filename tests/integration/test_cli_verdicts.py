"""DESIGN v2 verdicts through the command line, on the hand-checked sample (see test_cli.py).

The sample's March MQLs are L1 (Enterprise), L2, L3, L4 (SMB; L4 at 03-31 23:30 local); no
MQL before March. Quota: Enterprise 2 + SMB 4 = 6; at_risk_ratio 0.9.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from smarketing.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-04-30T12:00:00-04:00"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--db", url, "import", str(SAMPLE)]) == 0
    return url


@pytest.fixture
def no_activities_db(tmp_path: Path) -> str:
    """The sample without touches.csv and with D2's amount removed (a CRM export of leads and deals)."""
    folder = tmp_path / "export"
    shutil.copytree(SAMPLE, folder)
    (folder / "touches.csv").unlink()
    deals = (folder / "deals.csv").read_text(encoding="utf-8").replace("D2,,o2,9000,", "D2,,o2,,")
    (folder / "deals.csv").write_text(deals, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'export.db'}"
    assert main(["--db", url, "import", str(folder)]) == 0
    return url


def scorecard(capsys: pytest.CaptureFixture, db: str, month: str, as_of: str) -> dict:
    capsys.readouterr()
    assert main(["--db", db, "scorecard", "--month", month, "--as-of", as_of, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_first_of_the_month_without_history_projects_the_quota(db: str, capsys) -> None:
    # 03-01 00:00 local: f = 0, no MQL in Dec–Feb → prior = quota 6 = projected; 6 ≥ 6 → on_track.
    mkt = scorecard(capsys, db, "2026-03", "2026-03-01T00:00:00-05:00")["marketing"]
    assert (mkt["mqls"], mkt["elapsed_fraction"], mkt["prior"], mkt["projected"]) == (0, 0.0, 6, 6)
    assert mkt["status"] == "on_track"


def test_first_of_the_month_with_history_projects_the_recent_average(db: str, capsys) -> None:
    # 04-01 00:00 local: f = 0; Jan–Mar: only March has MQLs (4) → prior 4 = projected;
    # 4 < 0.9 × 6 = 5.4 → behind. Per segment: Enterprise prior 1, SMB prior 3.
    mkt = scorecard(capsys, db, "2026-04", "2026-04-01T00:00:00-04:00")["marketing"]
    assert (mkt["prior"], mkt["projected"], mkt["status"]) == (4, 4, "behind")
    assert {s["segment"]: s["prior"] for s in mkt["by_segment"]} == {"Enterprise": 1, "SMB": 3}


def test_finished_month_projects_its_count(db: str, capsys) -> None:
    # f = 1: projected = mqls = 4, whatever the prior.
    mkt = scorecard(capsys, db, "2026-03", AS_OF)["marketing"]
    assert (mkt["elapsed_fraction"], mkt["projected"], mkt["status"]) == (1.0, 4, "missed")


def test_future_month_is_not_started(db: str, capsys) -> None:
    card = scorecard(capsys, db, "2031-05", AS_OF)
    assert (card["marketing"]["mqls"], card["marketing"]["status"]) == (0, "not_started")
    assert card["sales"]["first_touch"]["status"] == "no_data"


def test_needed_of_pending_while_leads_are_inside_their_window(db: str, capsys) -> None:
    # As of Mon 03-09 12:30: L1 met, L2 and L3 pending. First touch: n = 3, allowed
    # floor(0.1 × 3) = 0, budget 0 → both pending leads must be met. Attempts: all 3 pending,
    # allowed floor(0.2 × 3) = 0 → 3 needed.
    sales = scorecard(capsys, db, "2026-03", "2026-03-09T12:30:00-04:00")["sales"]
    ft, att = sales["first_touch"], sales["attempts"]
    assert (ft["met"], ft["pending"], ft["budget_left"], ft["needed_of_pending"]) == (1, 2, 0, 2)
    assert (att["pending"], att["needed_of_pending"], att["status"]) == (3, 3, "on_track")


def test_needed_of_pending_beyond_pending_means_out_of_reach(db: str, capsys) -> None:
    # As of Tue 03-10 12:00: L1 met, L2 (8.0 h) and L3 (4.5 h) breached, nothing pending;
    # budget 0 − 2 = −2 → needed 0 − (−2) = 2 > 0 pending: behind.
    ft = scorecard(capsys, db, "2026-03", "2026-03-10T12:00:00-04:00")["sales"]["first_touch"]
    assert (ft["breached"], ft["pending"], ft["needed_of_pending"], ft["status"]) == (2, 0, 2, "behind")


def test_an_export_without_activities_is_not_judged(no_activities_db: str, capsys) -> None:
    card = scorecard(capsys, no_activities_db, "2026-03", AS_OF)
    for side in ("first_touch", "attempts"):
        part = card["sales"][side]
        assert (part["status"], part["compliance"], part["needed_of_pending"]) == ("no_activity_data", None, None)
    # The month's one won deal (D2, closed 03-18) has no amount: revenue unknown, not 0.
    funnel = card["funnel"]
    assert (funnel["won_deals"], funnel["won_deals_without_amount"], funnel["won_revenue"]) == (1, 1, None)


def test_the_table_says_why_instead_of_zeros(no_activities_db: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", no_activities_db, "scorecard", "--month", "2026-03", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "no_activity_data" in out
    assert "This data has no activities; follow-up cannot be measured." in out
    assert "won_revenue" in out and "unknown" in out


def test_the_table_explains_an_early_projection(db: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", db, "scorecard", "--month", "2026-04", "--as-of", "2026-04-01T00:00:00-04:00"]) == 0
    out = capsys.readouterr().out
    assert "The month has not started" not in out
    assert "of the projection of 4 comes from the last three months' average of 4 MQLs a month" in out


def test_the_digest_says_follow_up_cannot_be_measured(no_activities_db: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", no_activities_db, "digest", "--month", "2026-03", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "Sales: This data has no activities; follow-up cannot be measured." in out
    assert "0.0%" not in out and "Lowest first-touch" not in out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".pdf"])
def test_reports_of_an_export_without_activities_say_unknown_not_zero(
    no_activities_db: str, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"report{suffix}"
    assert main(["--db", no_activities_db, "report", "--month", "2026-03", "--out", str(out)]) == 0
    if suffix == ".csv":
        text = out.read_text(encoding="utf-8")
        assert "evidence,,note,Sales: This data has no activities; follow-up cannot be measured." in text
        assert "Revenue: unknown; no won deal of the month has an amount." in text
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(out)["Scorecard"]
        cells = {(r[1].value, r[2].value): r[2] for r in sheet.iter_rows() if len(r) > 2}
        assert cells[("won revenue", "unknown")].value == "unknown"
        assert cells[("MQLs", 4)].number_format == "#,##0"
        values = [c.value for row in sheet.iter_rows() for c in row]
        assert "None" not in values and "nan" not in values
    else:
        import subprocess

        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "This data has no activities" in text and "unknown" in text
        assert "None" not in text and "nan" not in text.split()
