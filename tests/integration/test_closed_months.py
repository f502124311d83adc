"""Issue 18: a closed month is frozen. Its terms and targets cannot change unless it is reopened
(recorded), and its scorecard in the CLI is its snapshot with closed_at set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smarketing import api
from smarketing.cli import main
from smarketing.core.errors import UserError
from smarketing.store import storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-04-30T12:00:00-04:00"
LATER = "2026-05-30T12:00:00-04:00"


@pytest.fixture
def db(tmp_path: Path) -> str:
    """The hand-checked sample with March closed as of the end of April."""
    url = f"sqlite:///{tmp_path / 'closed.db'}"
    assert main(["--db", url, "import", str(SAMPLE)]) == 0
    assert main(["--db", url, "close", "--month", "2026-03", "--force"]) == 0
    return url


def terms_text(engine, month: str) -> str:
    version = api.version_for(engine, month)
    return storage.load_terms_toml(engine, version.version_id)


def test_new_terms_for_a_closed_month_are_refused(db: str) -> None:
    engine = storage.make_engine(db)
    versions = len(api.terms_versions(engine))
    text = terms_text(engine, "2026-03")
    with pytest.raises(UserError, match="2026-03 is closed and keeps the terms it was measured with"):
        storage.save_terms_version(engine, text, "2026-03")
    assert storage.save_terms_version(engine, text, "2026-01")  # governs Jan and Feb, before the March version
    assert storage.save_terms_version(engine, text, "2026-04")  # after the closed month: fine
    assert len(api.terms_versions(engine)) == versions + 2


def test_a_version_before_the_first_governs_the_closed_months_before_it(db: str) -> None:
    engine = storage.make_engine(db)
    assert main(["--db", db, "close", "--month", "2026-02", "--force"]) == 0  # measured with the first version
    with pytest.raises(UserError, match="reopen --month 2026-02"):
        storage.save_terms_version(engine, terms_text(engine, "2026-03"), "2026-01")


def test_applying_targets_for_a_closed_month_is_refused_until_it_is_reopened(db: str) -> None:
    engine = storage.make_engine(db)
    proposal = api.recalc(engine, "2026-03")
    with pytest.raises(UserError, match="2026-03 is closed"):
        api.apply_recalc(engine, proposal)
    api.reopen_month(engine, "2026-03", by="dana", reason="quota was wrong")
    assert api.apply_recalc(engine, proposal)
    history = storage.snapshot_history(engine, "2026-03")
    assert history[0]["superseded"] and "Reopened" in history[0]["notes"] and "quota was wrong" in history[0]["notes"]
    assert storage.closed_months(engine) == []


def test_an_import_with_terms_for_a_closed_month_writes_nothing(db: str, tmp_path: Path) -> None:
    engine = storage.make_engine(db)
    folder = tmp_path / "again"
    folder.mkdir()
    (folder / "leads.csv").write_text("lead_id,segment\nL1,SMB\nNEW,SMB\n", encoding="utf-8")
    (folder / "terms.toml").write_text(
        terms_text(engine, "2026-03").replace("first_touch_hours = 4", "first_touch_hours = 8"), encoding="utf-8"
    )
    before = storage.data_counts(engine)
    with pytest.raises(UserError, match="2026-03 is closed"):
        api.import_directory(engine, folder)
    assert storage.data_counts(engine) == before


def test_reopen_needs_a_reason_and_a_closed_month(db: str, capsys) -> None:
    assert main(["--db", db, "reopen", "--month", "2026-04", "--reason", "x"]) == 2
    assert "2026-04 is not closed" in capsys.readouterr().err
    assert main(["--db", db, "reopen", "--month", "2026-03", "--reason", " "]) == 2
    assert main(["--db", db, "reopen", "--month", "2026-03", "--reason", "recount", "--by", "dana"]) == 0
    assert "open again" in capsys.readouterr().out


def test_the_cli_scorecard_of_a_closed_month_is_its_snapshot_with_closed_at(db: str, capsys) -> None:
    capsys.readouterr()
    engine = storage.make_engine(db)
    frozen = storage.load_snapshot(engine, "2026-03")
    # The data changes after the close: a live scorecard would differ, the snapshot does not.
    storage.save_terms_version(engine, terms_text(engine, "2026-03"), "2026-04")
    assert main(["--db", db, "scorecard", "--month", "2026-03", "--as-of", LATER, "--format", "json"]) == 0
    out = capsys.readouterr()
    card = json.loads(out.out)
    assert card["closed_at"] == frozen["closed_at"] and card["as_of"] == frozen["as_of"]
    assert card["marketing"] == frozen["marketing"] and card["sales"] == frozen["sales"]
    assert "2026-03 is closed" in out.err


def test_the_cli_scorecard_of_an_open_month_has_closed_at_null(db: str, capsys) -> None:
    capsys.readouterr()
    assert main(["--db", db, "scorecard", "--month", "2026-04", "--as-of", AS_OF, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["closed_at"] is None
