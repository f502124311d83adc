"""An import's progress callback: fractions that only go forward, by bytes read, then by table saved, ending at 1.0."""

from __future__ import annotations

from pathlib import Path

import pytest

from smarketing import api
from smarketing.sources import mapping
from smarketing.store import storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MAVEN = next(
    (
        d
        for d in (
            ROOT.parent / "shared" / "datasets" / "maven-crm",
            ROOT.parents[1] / "shared" / "datasets" / "maven-crm",
        )
        if d.is_dir()
    ),
    ROOT.parent / "shared" / "datasets" / "maven-crm",
)


@pytest.fixture
def maven_files() -> dict[str, bytes]:
    if not MAVEN.is_dir():
        pytest.skip(f"the Maven CRM dataset is not at {MAVEN}")
    return {p.name: p.read_bytes() for p in sorted(MAVEN.glob("*.csv"))}


def test_progress_moves_forward_through_every_file_and_table_to_one(tmp_path: Path, maven_files) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    calls: list[tuple[float, str]] = []
    chunked = "chunk_rows = 1000\n" + mapping.preset_text("maven-crm")  # sales_pipeline.csv: several chunks
    report = api.import_uploaded(
        engine, maven_files, mapping=chunked, progress=lambda f, label: calls.append((f, label))
    )
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and calls[-1][1] == "Imported"
    assert all(0.0 <= f <= 1.0 for f in fractions)
    reading = [(f, label) for f, label in calls if label.startswith("Reading sales_pipeline.csv")]
    assert len(reading) >= 5 and len({f for f, _ in reading}) >= 2  # real progress inside one big file
    assert {label.split(":")[0] for f, label in calls if label.startswith("Saving ")} >= {
        "Saving owners",
        "Saving leads",
        "Saving deals",
    }
    assert max(f for f, label in calls if label.startswith("Reading")) <= mapping.READ_SHARE
    assert report["counts"]["leads"]["inserted"] > 0


def test_a_failed_import_stops_short_of_one(tmp_path: Path) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    calls: list[float] = []
    with pytest.raises(Exception, match="lead_id"):
        api.import_uploaded(
            engine, {"leads.csv": b"lead_id,mql_at\n,2026-03-02\n"}, progress=lambda f, _label: calls.append(f)
        )
    assert calls and max(calls) < 1.0


def test_without_a_callback_nothing_changes(tmp_path: Path) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    report = api.import_uploaded(engine, {"leads.csv": b"lead_id,mql_at\nL1,2026-03-02T10:00:00Z\n"})
    assert report["counts"]["leads"]["inserted"] == 1
