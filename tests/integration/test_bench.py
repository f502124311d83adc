"""The benchmark command runs end to end on a small N and reports every measure (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smarketing.cli import main

pytestmark = pytest.mark.integration


def test_bench_reports_every_measure_and_identical_business_hours(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "--leads", "1500", "--months", "6", "--no-app", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["leads"] == 1500 and report["months"] == 6
    for key in (
        "generate_s",
        "save_s",
        "canonical_import_s",
        "incremental_import_s",
        "load_month_s",
        "scorecard_month_s",
        "ledger_month_s",
        "load_all_s",
        "scorecard_all_months_s",
        "alerts_dry_run_s",
        "cli_scorecard_month_s",
        "close_earlier_months_s",
        "cli_scorecard_closed_history_s",
    ):
        assert report["timings"][key] >= 0
    assert report["business_hours"]["pairs"] == 10_000
    assert report["business_hours"]["differing_pairs"] == 0
    assert report["peak_memory_mb"] > 0
    assert report["pages"] == {"nothing_closed": {}, "history_closed": {}}  # --no-app: no page drawn
    assert report["served_pages"] == {"nothing_closed": {}, "history_closed": {}}
    assert "| scorecard_month_s |" in capsys.readouterr().err


def test_bench_refuses_a_database_with_real_data(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    assert main(["--db", url, "import", str(Path(__file__).resolve().parents[2] / "data" / "sample")]) == 0
    assert main(["--db", url, "bench", "--leads", "100", "--no-app"]) == 2
    assert "did not come from a benchmark" in capsys.readouterr().err
