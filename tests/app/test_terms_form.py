"""The Terms page's monthly settings form: checked as you type, saved as a new version from a month."""

from __future__ import annotations

from app_helpers import no_exception, open_page

from smarketing import api
from smarketing.store import storage


def test_form_shows_the_change_and_saves_a_new_version(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    versions = len(api.terms_versions(engine))
    at = open_page("terms")
    no_exception(at)
    assert at.button(key="form_save").disabled  # nothing changed yet
    at.number_input(key="form_quota").set_value(500).run()
    assert any("mql_quota: 420 → 500" in t.value for t in at.text)
    start = at.selectbox(key="form_from").value
    at.button(key="form_save").click().run()
    no_exception(at)
    assert len(api.terms_versions(engine)) == versions + 1
    assert api.month_terms(engine, start).mql_quota == 500


def test_form_refuses_bad_values_as_you_type(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    versions = len(api.terms_versions(engine))
    at = open_page("terms")
    at.number_input(key="form_ft_target").set_value(1.5).run()
    no_exception(at)
    assert any("cannot be saved" in e.value for e in at.error)
    assert at.button(key="form_save").disabled
    at.number_input(key="form_ft_target").set_value(0.9).run()
    at.text_input(key="form_opens").set_value("25:00").run()
    assert at.button(key="form_save").disabled
    assert len(api.terms_versions(engine)) == versions
