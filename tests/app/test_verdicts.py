"""DESIGN v2 verdicts on the pages (AppTest): early projections, months not started, where the
dashboard opens, data without activities and deals without amounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import AS_OF, DASHBOARD, MONTH, NOW, ROOT, TIMEOUT, metrics, no_exception, open_page
from streamlit.testing.v1 import AppTest

from smarketing import api
from smarketing.core.evidence import NO_ACTIVITIES, pending_note, projection_note
from smarketing.core.frames import CrmData
from smarketing.core.recalc import reverse_funnel
from smarketing.sources.demo import DEMO_TERMS_TOML
from smarketing.store import storage
from smarketing.ui import loaders

pytestmark = pytest.mark.app

REVIEW = str(ROOT / "pages/7_Executive_review.py")
DAY_ONE = "2026-03-01T12:00:00-05:00"


def texts(at: AppTest) -> str:
    """Every markdown, caption and alert on the page in one string."""
    parts = [m.value for m in (*at.markdown, *at.caption, *at.error, *at.warning, *at.success, *at.info)]
    return "\n".join(parts).replace("\\", "")


def open_without_month(path: str, as_of: str) -> AppTest:
    """A page opened with only ?as_of= in the URL, as a bookmark of the bare address would."""
    at = AppTest.from_file(path, default_timeout=TIMEOUT)
    at.query_params = {"as_of": as_of}
    at.run()
    return at


@pytest.fixture
def export_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A CRM export with leads and deals but no activities, and won deals without amounts."""
    url = f"sqlite:///{tmp_path / 'export.db'}"
    engine = storage.make_engine(url)
    storage.save_terms_version(engine, DEMO_TERMS_TOML, "2026-01", note="test")
    mql = [NOW - pd.Timedelta(days=d) for d in (30, 29, 28, 3, 2)]  # February and March MQLs
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(5)], "mql_at": mql, "owner_id": ["o1"] * 5})
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "lead_id": ["L0", "L1"],
            "amount": [None, None],
            "status": ["won", "won"],
            "created_at": [NOW - pd.Timedelta(days=10)] * 2,
            "closed_at": [NOW - pd.Timedelta(days=5)] * 2,
        }
    )
    owners = pd.DataFrame({"owner_id": ["o1"], "name": ["Ann"]})
    storage.save_data(engine, CrmData.of(owners=owners, leads=leads, deals=deals), source="import", detail="export")
    monkeypatch.setenv("SMARKETING_DB", url)
    loaders.refresh()
    yield url
    loaders.refresh()


def test_day_one_says_how_much_of_the_projection_is_recent_months(app_env: str) -> None:
    card = api.scorecard(storage.make_engine(app_env), MONTH, api.parse_as_of(DAY_ONE))
    note = projection_note(card["marketing"])
    assert note and "comes from the last three months' average" in note
    for page in ("home", "marketing"):
        at = open_page(page, as_of=DAY_ONE)
        no_exception(at)
        assert note in texts(at), page
        assert metrics(at)["Projected at month end"] == f"{round(card['marketing']['projected']):,}"


def test_a_future_month_has_not_started(app_env: str) -> None:
    for page in ("home", "marketing", "sales"):
        at = open_page(page, month="2031-05")
        no_exception(at)
        shown = texts(at)
        assert "May 2031 has not started yet" in shown, page
        assert "On track" not in shown and "Behind" not in shown
        assert "MQLs delivered" not in metrics(at)


def test_without_a_month_the_dashboard_opens_on_the_current_month_with_data(app_env: str) -> None:
    at = open_without_month(DASHBOARD, AS_OF)
    no_exception(at)
    assert at.sidebar.selectbox[0].value == MONTH


def test_without_a_month_the_dashboard_opens_on_the_latest_month_with_data(app_env: str) -> None:
    # The demo data ends 2026-03-18; as of July, July has no MQL → March, where the data is.
    at = open_without_month(DASHBOARD, "2026-07-15T12:00:00-04:00")
    no_exception(at)
    assert at.sidebar.selectbox[0].value == MONTH
    assert metrics(at)["MQLs delivered"] != "0"


def test_the_review_opens_on_the_latest_finished_month_with_data(app_env: str) -> None:
    # As of July: the latest finished month with an MQL is March (not June, which is empty).
    at = open_without_month(REVIEW, "2026-07-15T12:00:00-04:00")
    no_exception(at)
    assert at.sidebar.selectbox[0].value == MONTH


def test_pending_leads_of_a_finished_month_are_explained(app_env: str) -> None:
    # February as of Tue 03-03: the attempt windows of late-February MQLs are still open.
    as_of = "2026-03-03T12:00:00-05:00"
    card = api.scorecard(storage.make_engine(app_env), "2026-02", api.parse_as_of(as_of))
    notes = [pending_note(card["sales"][k]) for k in ("first_touch", "attempts")]
    assert card["month_over"] and any(notes)
    for page in ("home", "sales"):
        shown = texts(open_page(page, month="2026-02", as_of=as_of))
        assert all(n in shown for n in notes if n), page


def test_an_export_without_activities_says_follow_up_cannot_be_measured(export_env: str) -> None:
    for page in ("home", "sales"):
        at = open_page(page)
        no_exception(at)
        shown = texts(at)
        assert NO_ACTIVITIES in shown, page
        assert not {"First-touch compliance", "Attempt compliance", "Breach budget left"} & set(metrics(at))
        assert "No activity data" in " ".join(m.value for m in at.markdown if "-badge[" in m.value)
    sales = open_page("sales")
    assert not [f for f in sales.dataframe], "no worklist or rep table of zeros"


def test_won_deals_without_amounts_read_unknown(export_env: str) -> None:
    at = open_page("home")
    no_exception(at)
    assert metrics(at)["Won revenue"] == "unknown"
    assert "2 deals won (2 deals without an amount)" in texts(at)


def test_trends_and_review_of_an_export_without_activities_show_no_banners(export_env: str) -> None:
    at = open_page("trends")
    no_exception(at)
    assert f"Sales · first touch: {NO_ACTIVITIES}" in texts(at)
    assert not [m for m in at.metric if m.label.startswith("Sales")], "no 'misses in a row' for sales"
    review = open_without_month(REVIEW, AS_OF)
    no_exception(review)
    assert review.sidebar.selectbox[0].value == "2026-02"
    shown = texts(review)
    assert NO_ACTIVITIES in shown and "enegotiat" not in shown


def test_the_calculator_starts_from_the_proposals_inputs_and_says_why_they_differ(app_env: str) -> None:
    proposal = api.recalc(storage.make_engine(app_env), "2026-04", NOW)
    inputs = proposal["inputs"]
    at = open_page("terms")
    no_exception(at)
    numbers = {n.label: n.value for n in at.number_input}
    assert numbers["Average won deal"] == pytest.approx(inputs["avg_deal_size"])
    assert numbers["MQL → customer rate"] == pytest.approx(inputs["lead_to_customer_rate"])
    # The whole-company line: ceil(customers needed ÷ rate), the same formula as the proposal.
    expected = reverse_funnel(
        numbers["Revenue goal per month"],
        numbers["Marketing share"],
        inputs["avg_deal_size"],
        inputs["lead_to_customer_rate"],
    )
    assert metrics(at)["MQLs needed per month"] == f"{expected['mqls_needed']:,}"
    shown = texts(at)
    assert "inputs of the proposal for April 2026" in shown
    assert f"The proposal for April 2026 is {proposal['proposed_quota']:,}" in shown and "each segment" in shown
