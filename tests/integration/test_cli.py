"""The command line on a real SQLite file: import → scorecard / leads, with hand-checked numbers.

The sample in data/sample is small enough to check by hand (America/New_York, Mon-Fri
09:00-17:00, US holidays, 4 business hours to first touch, 3 attempts in 5 business days):

- L1 MQL Fri 2026-03-06 16:00 EST: deadline Mon 03-09 12:00 EDT (1 h Fri + 3 h Mon, across the
  DST change); call Mon 12:00 → 4.0 h, met (the automated email is ignored). Attempts: 1, but
  SQL on 03-12 inside the window (ends Fri 03-13 16:00) → met.
- L2 MQL Sat 03-07 12:00: clock starts Mon 09:00, deadline 13:00; inbound email and a note are
  ignored; first call Tue 09:00 → 8.0 h, breached. 1 attempt by Fri 17:00 → breached.
- L3 MQL Mon 03-09 07:30: deadline 13:00; call 13:30 → 4.5 h, breached; 3 attempts → met.
- L4 MQL Tue 03-31 23:30 local (April in UTC): a March MQL; clock starts Wed 04-01 09:00;
  call at 09:00 → 0.0 h, met; 1 attempt by Tue 04-07 17:00 → breached.
- L5 never became an MQL.
Median of [0, 4, 4.5, 8] = 4.25; p90 (linear) = 4.5 + 0.7 × 3.5 = 6.95.
"""

from __future__ import annotations

import json
import subprocess
import sys
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


def run_json(capsys: pytest.CaptureFixture, *argv: str):
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_scorecard_json_has_the_hand_checked_numbers(db: str, capsys) -> None:
    card = run_json(capsys, "--db", db, "scorecard", "--month", "2026-03", "--as-of", AS_OF, "--format", "json")
    assert card["month"] == "2026-03"
    assert card["as_of"] == "2026-04-30T12:00:00-04:00"
    mkt = card["marketing"]
    assert (mkt["quota"], mkt["mqls"], mkt["status"]) == (6, 4, "missed")
    assert mkt["elapsed_fraction"] == 1.0 and mkt["projected"] == 4.0
    assert mkt["required_daily_rate"] is None
    assert {s["segment"]: (s["quota"], s["mqls"]) for s in mkt["by_segment"]} == {
        "Enterprise": (2, 1),
        "SMB": (4, 3),
    }
    ft = card["sales"]["first_touch"]
    assert (ft["met"], ft["breached"], ft["pending"]) == (2, 2, 0)
    assert ft["compliance"] == 0.5 and ft["status"] == "missed" and ft["budget_left"] == -2
    assert ft["median_hours"] == pytest.approx(4.25) and ft["p90_hours"] == pytest.approx(6.95)
    att = card["sales"]["attempts"]
    assert (att["met"], att["breached"], att["pending"], att["status"]) == (2, 2, 0, "missed")
    owners = {o["owner_id"]: o for o in card["sales"]["by_owner"]}
    assert owners["o1"]["name"] == "Avery Stone" and owners["o1"]["team"] == "East"
    assert (owners["o1"]["first_touch_met"], owners["o1"]["first_touch_breached"]) == (1, 1)
    assert owners["o2"]["median_hours"] == pytest.approx(4.0)
    assert card["funnel"] == {
        **card["funnel"],
        "mqls": 4,
        "sqls": 1,
        "customers": 0,
        "won_deals": 1,
        "won_revenue": 9000.0,
    }


def test_leads_json_is_the_per_lead_ledger(db: str, capsys) -> None:
    rows = run_json(capsys, "--db", db, "leads", "--month", "2026-03", "--as-of", AS_OF, "--format", "json")
    by_id = {r["lead_id"]: r for r in rows}
    assert sorted(by_id) == ["L1", "L2", "L3", "L4"]
    assert by_id["L1"]["first_touch_deadline"] == "2026-03-09T12:00:00-04:00"
    assert by_id["L1"]["attempts_deadline"] == "2026-03-13T16:00:00-04:00"
    assert (by_id["L2"]["response_hours"], by_id["L2"]["first_touch_status"]) == (8.0, "breached")
    assert by_id["L2"]["clock_start"] == "2026-03-07T12:00:00-05:00"
    assert (by_id["L3"]["attempts"], by_id["L3"]["attempts_status"]) == (3, "met")
    assert by_id["L4"]["mql_at"] == "2026-03-31T23:30:00-04:00"
    assert by_id["L4"]["first_touch_deadline"] == "2026-04-01T13:00:00-04:00"
    assert by_id["L4"]["response_hours"] == 0.0


def test_an_earlier_as_of_ignores_later_data(db: str, capsys) -> None:
    """As of Mon 03-09 12:30 EDT: L3's deadline (13:00) has not passed and it has no touch yet."""
    rows = run_json(
        capsys, "--db", db, "leads", "--month", "2026-03", "--as-of", "2026-03-09T12:30:00-04:00", "--format", "json"
    )
    by_id = {r["lead_id"]: r for r in rows}
    assert sorted(by_id) == ["L1", "L2", "L3"]
    assert by_id["L1"]["first_touch_status"] == "met"
    assert by_id["L2"]["first_touch_status"] == "pending"
    assert by_id["L3"]["first_touch_status"] == "pending" and by_id["L3"]["first_touch_at"] is None


def test_reimport_changes_nothing(db: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", db, "import", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "leads 0 new, 0 updated, 5 unchanged" in out
    assert "touches 0 new, 0 updated, 9 unchanged" in out


def test_scorecard_csv_and_table(db: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", db, "scorecard", "--month", "2026-03", "--as-of", AS_OF, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "side,measure,value"
    assert "marketing,status,missed" in lines
    assert main(["--db", db, "scorecard", "--month", "2026-03", "--as-of", AS_OF]) == 0
    assert "SALES FIRST TOUCH" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["scorecard", "--month", "2026-13"], "is not a month"),
        (["scorecard", "--month", "2026-03", "--as-of", "yesterday"], "is not an ISO 8601 instant"),
        (["import", "/nonexistent/folder"], "is not a folder"),
        (["--db", "mysql://nope", "scorecard", "--month", "2026-03"], "sqlite"),
    ],
)
def test_user_mistakes_give_one_sentence_and_no_traceback(tmp_path: Path, argv: list[str], message: str) -> None:
    env_db = ["--db", f"sqlite:///{tmp_path / 'x.db'}"] if argv[0] != "--db" else []
    proc = subprocess.run(
        [sys.executable, "-m", "smarketing", *env_db, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_a_bad_row_imports_nothing_and_names_file_row_column_value(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "leads.csv").write_text(
        "lead_id,mql_at,segment\nA,2026-03-02T10:00:00,SMB\nB,2026-03-40T10:00:00,SMB\n", encoding="utf-8"
    )
    (folder / "touches.csv").write_text(
        "touch_id,lead_id,kind,occurred_at\nT1,A,call,2026-03-02T11:00:00\nT2,A,smoke signal,2026-03-02T12:00:00\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    assert main(["--db", url, "import", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "leads.csv, row 3, column mql_at: '2026-03-40T10:00:00'" in err
    assert "touches.csv, row 3, column kind: 'smoke signal'" in err
    from smarketing.store import storage

    assert storage.data_counts(storage.make_engine(url))["leads"] == 0


def test_terms_export_and_import(db: str, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", db, "terms", "export", "--month", "2026-03"]) == 0
    exported = capsys.readouterr().out
    assert 'timezone = "America/New_York"' in exported and "effective_from" in exported
    changed = exported.replace("first_touch_hours = 4.0", "first_touch_hours = 8.0")
    path = tmp_path / "new.toml"
    path.write_text(changed)
    assert main(["--db", db, "terms", "import", str(path), "--from", "2026-03"]) == 0
    rows = run_json(capsys, "--db", db, "leads", "--month", "2026-03", "--as-of", AS_OF, "--format", "json")
    assert {r["lead_id"]: r["first_touch_status"] for r in rows}["L2"] == "met"


def test_leads_json_runs_each_lead_on_its_routed_calendar(db: str, tmp_path: Path, capsys) -> None:
    """Enterprise → 24/7: L1 Fri 16:00 EST + 4 h = Fri 20:00 EST. Team West (o2) → Los Angeles
    09-17: L2 Sat 12:00 EST, clock Mon 03-09 09:00 PDT, + 4 h = 13:00 PDT = 16:00 EDT. L3 (East)
    stays on [calendar]: 13:00 EDT as before."""
    capsys.readouterr()
    assert main(["--db", db, "terms", "export", "--month", "2026-03"]) == 0
    routed = capsys.readouterr().out + (
        '\n[calendars.West]\ntimezone = "America/Los_Angeles"\nhours = ["09:00", "17:00"]\n'
        '\n[sales.calendar_by_team]\nWest = "West"\n\n[sales.calendar_by_segment]\nEnterprise = "24/7"\n'
    )
    path = tmp_path / "routed.toml"
    path.write_text(routed)
    assert main(["--db", db, "terms", "import", str(path), "--from", "2026-03"]) == 0
    rows = run_json(capsys, "--db", db, "leads", "--month", "2026-03", "--as-of", AS_OF, "--format", "json")
    by_id = {r["lead_id"]: r for r in rows}
    assert {k: r["calendar"] for k, r in by_id.items()} == {"L1": "24/7", "L2": "West", "L3": "default", "L4": "West"}
    assert by_id["L1"]["first_touch_deadline"] == "2026-03-06T20:00:00-05:00"
    assert by_id["L2"]["first_touch_deadline"] == "2026-03-09T16:00:00-04:00"
    assert by_id["L3"]["first_touch_deadline"] == "2026-03-09T13:00:00-04:00"
