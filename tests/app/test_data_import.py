"""Imports from the browser: layout choice, a preview before anything is written, the import, an
uploaded agreement applied only on confirmation, and removing the demo data."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import ROOT, metrics, no_exception, open_page

from smarketing import api
from smarketing.sources.demo import DEMO_TERMS_TOML
from smarketing.store import storage

MAVEN = next(
    (
        p
        for p in (
            ROOT.parent / "shared" / "datasets" / "maven-crm",
            ROOT.parents[1] / "shared" / "datasets" / "maven-crm",
        )
        if p.is_dir()
    ),
    None,
)
NEW_TERMS = DEMO_TERMS_TOML.replace("mql_quota = 420", "mql_quota = 6")


def _maven_files() -> list[tuple[str, bytes, str]]:
    """The Maven CRM export files as an upload."""
    if MAVEN is None:
        pytest.skip("the Maven CRM dataset is not in shared/datasets")
    return [(p.name, p.read_bytes(), "text/csv") for p in sorted(Path(MAVEN).glob("*.csv"))]


def _upload(at, files: list[tuple[str, bytes, str]]):
    """Put files in the import's file uploader and rerun."""
    uploader = next(u for u in at.get("file_uploader") if u.proto.id and "import_files" in u.proto.id)
    uploader.set_value(files)
    return at.run()


def test_maven_preset_previews_without_writing_then_imports(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    before = storage.data_counts(engine)
    at = open_page("data")
    at.selectbox(key="import_layout").select("maven-crm").run()
    _upload(at, _maven_files())
    no_exception(at)
    shown = metrics(at)
    assert int(shown["Leads to import"].replace(",", "")) > 1000
    assert any("leads:" in e.label for e in at.expander)
    assert storage.data_counts(engine) == before
    assert at.button(key="import_go").disabled  # demo data in the database: asks first
    at.checkbox(key="import_over_demo").check().run()
    at.button(key="import_go").click().run()
    no_exception(at)
    assert any("Imported" in s.value for s in at.success), [e.value for e in at.error]
    after = storage.data_counts(engine)
    assert after["leads"] > before["leads"]
    assert metrics(at)["Leads"] == f"{after['leads']:,}"  # the counts at the top are fresh
    detail = storage.data_loads(engine)["detail"].iloc[0]
    assert detail.startswith("maven-crm: ") and "sales_pipeline.csv" in detail


def test_preview_names_the_first_problems(write_env: str) -> None:
    at = open_page("data")
    at.selectbox(key="import_layout").select("maven-crm").run()
    _upload(at, [("sales_pipeline.csv", b"opportunity_id,sales_agent\nX1,Ana\n", "text/csv")])
    no_exception(at)
    assert any("cannot be imported" in e.value for e in at.error)
    assert any("sales_pipeline.csv" in t.value for t in at.text)


def test_uploaded_terms_show_the_change_and_cancel_keeps_the_agreement(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    versions = len(api.terms_versions(engine))
    at = open_page("data")
    _upload(at, [("terms.toml", NEW_TERMS.encode(), "application/toml")])
    no_exception(at)
    assert any("mql_quota: 420 → 6" in t.value for t in at.text)
    at.button(key="terms_cancel").click().run()
    no_exception(at)
    assert len(api.terms_versions(engine)) == versions
    assert any("unchanged" in s.value for s in at.success)
    _upload(at, [("terms.toml", NEW_TERMS.encode(), "application/toml")])
    at.button(key="terms_apply").click().run()
    no_exception(at)
    assert len(api.terms_versions(engine)) == versions + 1
    assert api.month_terms(engine, "2026-03").mql_quota == 6


def test_remove_demo_data_asks_first_then_empties_the_demo_company(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    at = open_page("data")
    assert at.button(key="remove_demo").disabled
    at.checkbox(key="remove_demo_sure").check().run()
    at.button(key="remove_demo").click().run()
    no_exception(at)
    assert storage.data_counts(engine)["leads"] == 0
    assert not any("Demo data." in i.value for i in at.info)
    assert not api.ensure_seeded(engine)  # removed stays removed


GHOST_FILES = [
    ("leads.csv", b"lead_id,mql_at,segment,source\nup-1,2026-03-02T15:00:00Z,SMB,Webinar\n", "text/csv"),
    (
        "touches.csv",
        b"touch_id,lead_id,kind,occurred_at\nt-up-1,up-1,call,2026-03-02T16:00:00Z\n"
        b"t-ghost,ghost-lead,call,2026-03-02T16:00:00Z\n",
        "text/csv",
    ),
]


def _upload_ghost(refuse: bool):
    at = open_page("data")
    if refuse:
        at.checkbox(key="import_refuse_unknown").check().run()
    _upload(at, GHOST_FILES)
    no_exception(at)
    return at


def test_unknown_leads_are_a_note_by_default_and_the_import_goes_through(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    at = _upload_ghost(refuse=False)
    notes = " ".join(t.value for t in at.text)
    assert "ghost-lead" in notes and "that no lead has" in notes, "the preview lists the unknown reference"
    at.checkbox(key="import_over_demo").check().run()
    at.button(key="import_go").click().run()
    no_exception(at)
    assert any("Imported" in s.value for s in at.success), [e.value for e in at.error]
    assert any("ghost-lead" in t.value for t in at.text), "the outcome keeps the note"
    assert "t-ghost" in storage.existing_ids(engine, "touches", ["t-ghost"])


def test_refuse_unknown_blocks_the_preview_and_the_import_writes_nothing(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    before = storage.data_counts(engine)
    at = _upload_ghost(refuse=True)
    assert any("cannot be imported" in e.value for e in at.error)
    problems = " ".join(t.value for t in at.text)
    assert "ghost-lead" in problems and "nothing would be imported" in problems
    assert not [b for b in at.button if b.key == "import_go"], "no import button for a refused preview"
    assert storage.data_counts(engine) == before


def test_refuse_unknown_reaches_the_import_itself(write_env: str) -> None:
    """The checkbox's value goes to api.import_uploaded, which refuses and writes nothing."""
    from smarketing.ui import actions

    class Upload:
        def __init__(self, name: str, data: bytes) -> None:
            self.name, self._data = name, data

        def getvalue(self) -> bytes:
            return self._data

    engine = storage.make_engine(write_env)
    before = storage.data_counts(engine)
    files = [Upload(name, data) for name, data, _ in GHOST_FILES]
    refused = actions.import_uploads(engine, files, refuse_unknown=True)
    assert not refused.ok and any("ghost-lead" in p and "nothing was imported" in p for p in refused.problems)
    assert storage.data_counts(engine) == before
    assert actions.import_uploads(engine, files).ok


def test_import_moves_a_progress_bar_forward_to_one(write_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from smarketing.ui import actions

    heard: list[float] = []
    real = actions.import_uploads

    def listening(*args, progress=None, **kwargs):
        assert progress is not None, "the Data page passes no progress callback"

        def both(fraction: float, label: str) -> None:
            heard.append(fraction)
            progress(fraction, label)  # the page's own bar still moves

        return real(*args, progress=both, **kwargs)

    monkeypatch.setattr(actions, "import_uploads", listening)
    at = open_page("data")
    at.selectbox(key="import_layout").select("maven-crm").run()
    _upload(at, _maven_files())
    at.checkbox(key="import_over_demo").check().run()
    at.button(key="import_go").click().run()
    no_exception(at)
    assert any("Imported" in s.value for s in at.success), [e.value for e in at.error]
    assert len(heard) >= 5 and heard == sorted(heard)
    assert heard[0] == 0.0 and heard[-1] == 1.0
