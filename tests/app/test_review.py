"""The Executive review page and the "Next month's targets" panel, in AppTest on demo data."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import AS_OF, NOW, PAGES, ROOT, TIMEOUT, metrics, no_exception, open_page, table_with
from streamlit.testing.v1 import AppTest

from smarketing import api
from smarketing.core.consequences import consequences
from smarketing.core.frames import CrmData
from smarketing.core.terms import Terms
from smarketing.sources.demo import DEMO_TERMS_TOML
from smarketing.store import storage
from smarketing.ui import consequences_view, review_view
from smarketing.ui.targets_panel import segment_frame

pytestmark = pytest.mark.app

REVIEW = "pages/7_Executive_review.py"
DONE = "2026-02"  # over, nothing pending as of NOW: closable
NEXT = "2026-04"  # the month targets are proposed for on the home page (the month after March)


@pytest.fixture(autouse=True)
def review_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """open_page("review") opens the review page (app_helpers.PAGES is shared, so patched here)."""
    monkeypatch.setitem(PAGES, "review", REVIEW)


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def texts(at: AppTest) -> str:
    """Everything written as markdown, captions, alerts on the page, in one string."""
    parts = [m.value for m in (*at.markdown, *at.caption, *at.error, *at.warning, *at.success, *at.info)]
    return "\n".join(parts).replace("\\", "")


def assert_shows(at: AppTest, card: dict) -> None:
    """The page's two columns show this scorecard's numbers."""
    shown = metrics(at)
    m, ft, att = card["marketing"], card["sales"]["first_touch"], card["sales"]["attempts"]
    assert shown["MQLs delivered"] == f"{m['mqls']:,}"
    assert shown["First-touch compliance"] == pct(ft["compliance"])
    assert shown["Attempt compliance"] == pct(att["compliance"])
    assert shown["Median response"] == f"{ft['median_hours']:.1f} h"
    assert shown["→ Customers"] == f"{card['funnel']['customers']:,}"


def test_open_month_renders_live_numbers(app_env: str) -> None:
    at = open_page("review", month=DONE)
    no_exception(at)
    assert_shows(at, api.month_scorecard(storage.make_engine(app_env), DONE, NOW))
    assert "Live — not closed yet" in texts(at)
    assert at.button(key="close_month")
    assert at.text_area(key=f"notes_{DONE}").value == ""
    assert len(at.get("download_button")) == 3


def test_running_month_offers_the_last_full_month(app_env: str) -> None:
    at = open_page("review", month="2026-03")
    no_exception(at)
    assert "still in progress" in texts(at)
    at.button(key="review_last_full").click().run()
    no_exception(at)
    assert at.sidebar.selectbox[0].value == DONE
    assert_shows(at, api.month_scorecard(storage.make_engine(app_env), DONE, NOW))


def test_direct_open_reviews_the_last_full_month(app_env: str) -> None:
    at = AppTest.from_file(str(ROOT / REVIEW), default_timeout=TIMEOUT)
    at.query_params = {"as_of": AS_OF}
    at.run()
    no_exception(at)
    assert at.sidebar.selectbox[0].value == DONE
    assert "Live — not closed yet" in texts(at)


def test_closing_freezes_the_month_against_later_data(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    at = open_page("review", month=DONE)
    at.button(key="close_month").click().run()
    no_exception(at)
    snapshot = storage.load_snapshot(engine, DONE)
    assert snapshot is not None and snapshot["closed_by"] == "dashboard"
    assert "Closed on" in texts(at) and "by dashboard" in texts(at)
    assert_shows(at, snapshot)
    assert_shows(at, api.month_scorecard(engine, DONE, NOW))

    late = pd.DataFrame(
        {
            "lead_id": ["late-1", "late-2"],
            "mql_at": [pd.Timestamp("2026-02-10T15:00Z")] * 2,
            "segment": ["SMB"] * 2,
            "source": ["Webinar"] * 2,
            "owner_id": [None] * 2,
        }
    )
    storage.save_data(engine, CrmData.of(leads=late), source="import", detail="late CRM edits")
    assert api.scorecard(engine, DONE, NOW)["marketing"]["mqls"] == snapshot["marketing"]["mqls"] + 2
    at = open_page("review", month=DONE)
    no_exception(at)
    assert_shows(at, snapshot)
    assert "Closed on" in texts(at)


def test_close_is_refused_with_the_reason_and_forced_on_request(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    at = open_page("review", month="2026-03")
    at.button(key="close_month").click().run()
    no_exception(at)
    errors = " ".join(e.value for e in at.error)
    assert "not over yet" in errors and "--force" not in errors
    assert storage.load_snapshot(engine, "2026-03") is None
    at.checkbox(key="close_force").check().run()
    assert "keeps this one in the history" in texts(at)
    at.button(key="close_month").click().run()
    no_exception(at)
    assert storage.load_snapshot(engine, "2026-03") is not None
    assert "Closed on" in texts(at)


def test_forced_reclose_keeps_the_old_snapshot_listed(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    at = open_page("review", month=DONE)
    at.button(key="close_month").click().run()
    assert at.button(key="reclose_month").disabled, "a re-close needs its confirmation first"
    assert len(storage.snapshot_history(engine, DONE)) == 1
    at.checkbox(key="reclose_sure").check().run()
    at.button(key="reclose_month").click().run()
    no_exception(at)
    history = storage.snapshot_history(engine, DONE)
    assert [h["superseded"] for h in history] == [False, True]
    listed = next(d.value for d in at.dataframe if "Snapshot" in d.value.columns)
    assert list(listed["Snapshot"]) == [h["snapshot_id"] for h in history]
    assert list(listed["State"]) == ["shown", "superseded"]


def test_three_misses_in_six_months_flag_renegotiation(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    for month in ("2025-09", "2025-11", "2026-01"):
        card = api.scorecard(engine, month, NOW)
        card["sales"]["first_touch"]["status"] = "missed"
        storage.save_snapshot(
            engine, month, card, as_of=NOW, closed_by="[cfo](https://evil.example)", terms_version_id=1
        )
    at = open_page("review", month=DONE)
    no_exception(at)
    flags = " ".join(e.value for e in at.error)
    assert "Sales · first touch" in flags and "time to renegotiate" in flags
    assert "Marketing · MQL quota**" not in flags
    at = open_page("review", month="2026-01")
    assert "[cfo](" not in " ".join(m.value for m in at.markdown), "closed_by is shown as plain text"


def test_standing_frame_reads_strikes_critical_and_credits_from_the_consequences() -> None:
    def card(month: str, status: str, over: bool = True) -> dict:
        sales = {"first_touch": {"status": "met", "compliance": 1.0, "target": 0.9}}
        return {
            "month": month,
            "month_over": over,
            "marketing": {"status": status, "mqls": 50, "quota": 100},
            "sales": sales,
        }

    months = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    cards = {m: card(m, "missed" if m in ("2025-10", "2026-01") else "met") for m in months}
    cards["2026-03"] = card("2026-03", "behind", over=False)
    # window 3 finished months (Dec, Jan, Feb): 1 strike of 3; critical at 1. Credits: Oct +1, Nov..Jan? Jan is
    # missed, so Nov, Dec met (a run of 2 of 3) earn nothing: Oct +1, Jan +1 → 2.
    terms = Terms(critical_misses=1, critical_window_months=3)
    csq = consequences(cards, "2026-03", terms)
    frame = consequences_view.standing_frame(csq)
    quota = frame.iloc[0]
    assert (quota["Commitment"], quota["Strikes"], quota["Critical"], quota["Credits"]) == (
        "Marketing · MQL quota",
        "1 of 3",
        "⚑ Critical",
        2,
    )
    assert quota["Credit history"] == "missed in October 2025 and January: +2"
    assert pd.isna(quota["Score"])  # March is still running
    assert consequences_view.critical_lines(csq) == [
        "**Marketing · MQL quota** missed 1 of the last 3 finished months: **time to renegotiate the agreement** "
        "(change the target, or what it takes to keep it)."
    ]


def test_review_shows_the_weighted_scores_and_each_credit_history(app_env: str) -> None:
    at = open_page("review", month=DONE)
    no_exception(at)
    csq = api.month_scorecard(storage.make_engine(app_env), DONE, NOW)["consequences"]
    shown = metrics(at)
    assert shown["Marketing score"] == pct(csq["score"]["marketing"])
    assert shown["Sales score"] == pct(csq["score"]["sales"])
    assert shown["Overall score"] == pct(csq["score"]["overall"])
    listed = table_with(at, "Commitment", "Strikes", "Critical", "Credits", "Credit history")
    assert list(listed["Credit history"]) == [c["credit_history_text"] for c in csq["by_commitment"]]
    assert list(listed["Credits"]) == [c["credits"] for c in csq["by_commitment"]]
    assert len(csq["trend"]) == 12 and csq["trend"][-1]["month"] == DONE


def test_the_critical_flag_follows_the_consequences_terms(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    strict = DEMO_TERMS_TOML + "\n[consequences]\ncritical_misses = 1\ncritical_window_months = 2\n"
    storage.save_terms_version(engine, strict, api.data_months(engine)[0], note="strict")
    csq = api.month_scorecard(engine, DONE, NOW)["consequences"]
    critical = [c["commitment"] for c in csq["by_commitment"] if c["critical"]]
    assert critical, "the demo misses something in December or January"
    at = open_page("review", month=DONE)
    no_exception(at)
    flags = " ".join(e.value for e in at.error)
    for c in csq["by_commitment"]:
        assert (f"**{consequences_view.label(c['commitment'])}** missed" in flags) == c["critical"]
    assert "of the last 2 finished months" in flags


def test_targets_panel_shows_the_proposal(app_env: str) -> None:
    proposal = api.recalc(storage.make_engine(app_env), NEXT, NOW)
    at = open_page("home")
    no_exception(at)
    shown = metrics(at)
    assert shown["Proposed quota"] == f"{proposal['proposed_quota']:,}"
    assert shown["Current quota"] == f"{proposal['current_quota']:,}"
    assert shown["Customers needed"] == f"{proposal['inputs']['customers_needed']:,.1f}"
    assert "Next month's targets · April 2026" in " ".join(s.value for s in at.subheader)
    segments = next(d.value for d in at.dataframe if "Proposed" in d.value.columns)
    assert list(segments["Proposed"]) == [s["proposed_quota"] for s in proposal["by_segment"]]
    # Reviewing February proposes March, from the months up to February (not April from the wall clock).
    review = open_page("review", month=DONE)
    march = api.recalc(storage.make_engine(app_env), "2026-03", NOW)
    assert metrics(review)["Proposed quota"] == f"{march['proposed_quota']:,}"
    assert "Next month's targets · March 2026" in " ".join(s.value for s in review.subheader)


def test_apply_needs_the_review_tick(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    proposal = api.recalc(engine, NEXT, NOW)
    at = open_page("home")
    assert at.button(key="targets_apply").disabled, "Apply needs the tick first"
    assert len(storage.load_terms_versions(engine)) == 1, "nothing applied by opening the page"
    at.checkbox(key="targets_reviewed").check().run()
    assert not at.button(key="targets_apply").disabled
    at.button(key="targets_apply").click().run()
    no_exception(at)
    versions = storage.load_terms_versions(engine)
    assert len(versions) == 2 and versions[-1].effective_from == NEXT
    assert versions[-1].terms.quota == proposal["proposed_quota"]
    assert any("Applied: terms version" in s.value for s in at.success)
    assert metrics(at)["Current quota"] == f"{proposal['proposed_quota']:,}", "the new version is in force"
    assert at.button(key="targets_apply").disabled, "nothing left to apply"


def test_notes_persist_with_who_and_when(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    note = "Keep the SMB quota; **routing** fix for East by the 10th."
    at = open_page("review", month=DONE)
    at.text_area(key=f"notes_{DONE}").input(note)
    at.button(key="save_notes").click().run()
    no_exception(at)
    assert storage.load_month_notes(engine, DONE) == note
    at = open_page("review", month=DONE)
    assert at.text_area(key=f"notes_{DONE}").value == note
    assert "Last saved by dashboard" in texts(at)
    assert storage.load_month_notes(engine, "2026-01") == ""


def test_report_downloads_are_the_month_report(app_env: str) -> None:
    from smarketing.ui import loaders

    data, name, mime = loaders.report_file(app_env, DONE, AS_OF, "t", "csv")
    assert name == review_view.report_name(DONE, False, "csv") and mime == "text/csv"
    assert data.startswith(b"section") or b"marketing" in data.lower()


def test_segment_frame_marks_few_leads() -> None:
    rows = [
        {
            "segment": "Tiny",
            "current_quota": 10,
            "proposed_quota": 10,
            "cohort_mqls": 3,
            "cohort_customers": 0,
            "won_deals": 0,
            "avg_deal_size": None,
            "revenue_share": 0.0,
            "customers_needed": None,
            "carried_shortfall": 0,
            "reason": "Kept the current quota: no won deal.",
        }
    ]
    frame = segment_frame(rows)
    assert frame.loc[0, "95% CI"].endswith("few") and frame.loc[0, "Note"].startswith("Kept")
    assert "Carried" not in frame.columns
