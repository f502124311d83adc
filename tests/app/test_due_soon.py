"""The Sales page's "due soon" list: the leads whose warning alert is due, soonest deadline first, per rep."""

from __future__ import annotations

import pytest
from app_helpers import MONTH, NOW, no_exception, open_page, table_with

from smarketing import api
from smarketing.core.alert_rules import due_soon
from smarketing.store import storage

pytestmark = pytest.mark.app


def test_due_soon_lists_the_core_warnings_soonest_first_and_filters_by_rep(app_env: str) -> None:
    engine = storage.make_engine(app_env)
    ledger, terms = api.ledger(engine, MONTH, NOW)
    expected = due_soon(ledger, terms, NOW)
    assert len(expected) > 0, "the demo month has leads close to a deadline"
    at = open_page("sales")
    no_exception(at)
    shown = table_with(at, "Lead", "Business hours left")
    assert list(shown["Lead"]) == list(expected["lead_id"])
    assert list(shown["Deadline"]) == sorted(shown["Deadline"])
    assert (shown["Business hours left"] >= 0).all()

    rep = shown["Owner"].iloc[0]
    at.selectbox(key="due_soon_rep").select(rep).run()
    no_exception(at)
    filtered = table_with(at, "Lead", "Business hours left")
    assert set(filtered["Owner"]) == {rep}
    assert list(filtered["Lead"]) == list(shown.loc[shown["Owner"] == rep, "Lead"])
