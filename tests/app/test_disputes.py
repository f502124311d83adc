"""Disputes and acceptance in the dashboard (AppTest on demo data): request an exclusion on a lead's
page, decide it in the review queue, the requester never approving their own request with login
on; the acceptance commitment and lead quality once the terms set them."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from app_helpers import AS_OF, MONTH, NOW, PAGES, ROOT, TIMEOUT, metrics, no_exception, open_page, table_with
from streamlit.testing.v1 import AppTest

from smarketing import api
from smarketing.core.terms import terms_to_toml
from smarketing.store import storage

pytestmark = pytest.mark.app

REVIEW = "pages/7_Executive_review.py"
REASON = "<b>routing</b> outage *3 May*"  # CRM-style text: must show literally
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "smarketing-test",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
}


@pytest.fixture(autouse=True)
def review_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PAGES, "review", REVIEW)


def a_lead(url: str) -> str:
    ledger, _ = api.ledger(storage.make_engine(url), MONTH, NOW)
    return str(ledger["lead_id"].iloc[0])


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in (*at.markdown, *at.caption, *at.success, *at.info))


def test_a_lead_page_request_is_stored_and_shown_as_plain_text(write_env: str) -> None:
    lead_id = a_lead(write_env)
    at = open_page("ledger", lead=lead_id)
    no_exception(at)
    at.selectbox(key="exclusion_commitment").set_value("first_touch")
    at.text_area(key="exclusion_reason").input(REASON)
    next(b for b in at.button if b.label == "Request exclusion").click().run()
    no_exception(at)
    (row,) = api.exclusion_records(api.exclusion_requests(storage.make_engine(write_env)))
    assert (row["lead_id"], row["commitment"], row["reason"], row["decision"]) == (
        lead_id,
        "first_touch",
        REASON,
        "pending",
    )
    assert row["requested_by"] == "dashboard"
    assert any("recorded" in s.value for s in at.success)
    shown = table_with(at, "Request", "Reason", "Decision")
    assert shown["Reason"].tolist() == [REASON] and shown["Decision"].tolist() == ["pending"]
    assert "routing" not in markdown_text(at)  # never rendered as Markdown


def test_an_empty_reason_is_refused_in_one_sentence(write_env: str) -> None:
    at = open_page("ledger", lead=a_lead(write_env))
    next(b for b in at.button if b.label == "Request exclusion").click().run()
    assert at.error and "needs a reason" in at.error[0].value
    assert api.exclusion_requests(storage.make_engine(write_env)).empty


def test_the_review_queue_approves_with_a_note_and_the_lead_is_excluded(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    lead_id = a_lead(write_env)
    api.request_exclusion(engine, lead_id, "all", REASON, by="sam")
    at = open_page("review", month=MONTH)
    no_exception(at)
    assert any(REASON in t.value for t in at.text)
    at.text_input(key="note_1").input("confirmed with IT")
    at.button(key="approve_1").click().run()
    no_exception(at)
    (row,) = api.exclusion_records(api.exclusion_requests(engine))
    assert (row["decision"], row["decided_by"], row["decision_note"]) == ("approved", "dashboard", "confirmed with IT")
    # decided now (after the pinned as_of): a view as of the decision excludes the lead, the pinned one
    # does not yet (not "now": the live as_of is whole seconds, and the decision may be in this one)
    decided = pd.Timestamp(row["decided_at"])
    assert decided > pd.Timestamp(AS_OF)
    ledger, _ = api.ledger(engine, MONTH, decided)
    assert ledger.set_index("lead_id").at[lead_id, "first_touch_status"] == "excluded"
    pinned, _ = api.ledger(engine, MONTH, NOW)
    assert pinned.set_index("lead_id").at[lead_id, "first_touch_status"] != "excluded"


def test_with_login_on_the_requester_cannot_approve_their_own_request(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    api.request_exclusion(engine, a_lead(write_env), "first_touch", "duplicate", by="dana@example.com")
    at = AppTest.from_file(str(ROOT / REVIEW), default_timeout=TIMEOUT)
    at.secrets = {"auth": AUTH}
    at.user = {"is_logged_in": True, "email": "dana@example.com", "name": "Dana"}
    at.query_params = {"month": MONTH, "as_of": AS_OF}
    at.run()
    no_exception(at)
    assert at.button(key="approve_1").disabled and at.button(key="deny_1").disabled
    at.user = {"is_logged_in": True, "email": "lee@example.com", "name": "Lee"}
    at.run()
    assert not at.button(key="approve_1").disabled
    at.button(key="deny_1").click().run()
    no_exception(at)
    (row,) = api.exclusion_records(api.exclusion_requests(engine))
    assert (row["decision"], row["decided_by"]) == ("denied", "lee@example.com")


def test_acceptance_and_lead_quality_show_once_the_terms_set_them(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    terms = replace(api.month_terms(engine, MONTH), acceptance_hours=8.0, max_rejection_rate=0.05)
    storage.save_terms_version(engine, terms_to_toml(terms, MONTH), MONTH, note="acceptance")
    card = api.scorecard(engine, MONTH, NOW)
    at = open_page("home")
    no_exception(at)
    shown = metrics(at)
    acc = card["sales"]["acceptance"]
    assert shown["Acceptance compliance"] == f"{acc['compliance'] * 100:.1f}%"
    assert shown["Rejection rate"] == f"{card['marketing']['rejection_rate'] * 100:.1f}%"
    at = open_page("marketing")
    no_exception(at)
    assert any(s.value == "Rejected by sales" for s in at.subheader)
    by_source = table_with(at, "Source", "Reason", "Count")
    assert by_source["Count"].sum() == card["marketing"]["rejected"]
    at = open_page("sales")
    no_exception(at)
    assert "Acceptance" in table_with(at, "Rep", "Acceptance").columns


def test_a_decision_after_the_close_offers_a_reclose_that_includes_it(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    done = "2026-02"
    api.close_month(engine, done, closed_by="dana", as_of=NOW, force=True)
    ledger, _ = api.ledger(engine, done, NOW)
    lead_id = str(ledger["lead_id"].iloc[0])
    request = api.request_exclusion(engine, lead_id, "first_touch", "test entry", by="sam")
    api.decide_exclusion(engine, request["exclusion_id"], approve=True, by="lee")
    at = open_page("review", month=done)
    no_exception(at)
    assert any("after the close" in w.value for w in at.warning)
    at.button(key="reclose_include").click().run()
    no_exception(at)
    history = storage.snapshot_history(engine, done)
    assert len(history) == 2 and history[1]["superseded"]
    assert history[0]["payload"]["sales"]["first_touch"]["excluded"] == 1
