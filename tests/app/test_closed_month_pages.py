"""A closed month on every page that shows its numbers: the snapshot, even after the data changed, with
a "Show live numbers instead" toggle; and reopening it from the Executive review (AppTest)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from app_helpers import NOW, PAGES, ROOT, TIMEOUT, metrics, no_exception, open_page
from streamlit.testing.v1 import AppTest
from test_auth import AUTH

from smarketing import api
from smarketing.core.frames import CrmData
from smarketing.store import storage
from smarketing.ui.closed_month import LIVE_KEY

pytestmark = pytest.mark.app

DONE = "2026-02"  # over and closable as of NOW


@pytest.fixture(autouse=True)
def review_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PAGES, "review", "pages/7_Executive_review.py")


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def texts(at: AppTest) -> str:
    parts = [m.value for m in (*at.markdown, *at.caption, *at.error, *at.warning, *at.success, *at.info)]
    return "\n".join(parts).replace("\\", "")


def close_then_change(url: str) -> tuple[dict, dict]:
    """Close DONE, then import three late MQLs of February that nobody touched (three more MQLs and
    three more first-touch breaches): (the snapshot, the live card now)."""
    engine = storage.make_engine(url)
    api.close_month(engine, DONE, closed_by="cfo@example.com", as_of=NOW)
    snapshot = storage.load_snapshot(engine, DONE)
    owner = str(storage.load_data(engine, months=[DONE]).leads["owner_id"].dropna().iloc[0])
    late = pd.DataFrame(
        {
            "lead_id": ["late-1", "late-2", "late-3"],
            "mql_at": [pd.Timestamp("2026-02-10T15:00Z")] * 3,
            "segment": ["SMB"] * 3,
            "source": ["Webinar"] * 3,
            "owner_id": [owner] * 3,
        }
    )
    storage.save_data(engine, CrmData.of(leads=late), source="import", detail="late CRM edits")
    live = api.scorecard(engine, DONE, NOW)
    assert live["marketing"]["mqls"] == snapshot["marketing"]["mqls"] + 3
    assert live["sales"]["first_touch"]["breached"] == snapshot["sales"]["first_touch"]["breached"] + 3
    return snapshot, live


def live_on(at: AppTest) -> AppTest:
    at.toggle(key=LIVE_KEY).set_value(True).run()
    no_exception(at)
    return at


def mqls(card: dict) -> str:
    return f"{card['marketing']['mqls']:,}"


def ft_counts(card: dict) -> str:
    ft = card["sales"]["first_touch"]
    return f"{ft['met']:,} / {ft['breached']:,} / {ft['pending']:,}"


def test_home_marketing_sales_and_review_show_the_snapshot_until_live_is_asked_for(write_env: str) -> None:
    snapshot, live = close_then_change(write_env)
    compliance = ("First-touch compliance", lambda card: pct(card["sales"]["first_touch"]["compliance"]))
    delivered = ("MQLs delivered", mqls)
    for page, (label, shown) in {
        "home": delivered,
        "marketing": delivered,
        "sales": compliance,
        "review": delivered,
    }.items():
        at = open_page(page, month=DONE)
        no_exception(at)
        assert "February 2026 is closed." in texts(at), page
        assert shown(snapshot) != shown(live), page
        assert metrics(at)[label] == shown(snapshot), page
        live_on(at)
        assert metrics(at)[label] == shown(live), page
        assert "Live numbers as of" in texts(at), page
        if page == "home":
            assert "closed · showing live numbers" in texts(at)


def test_pages_with_live_parts_say_which_part_is_live(write_env: str) -> None:
    close_then_change(write_env)
    for page, said in {
        "marketing": "drill-down's per-source bars and daily chart are drawn from the data as it is stored now",
        "sales": "worklist, due-soon list, team table and response-time distribution below",
        "ledger": "The ledger below is live",
    }.items():
        at = open_page(page, month=DONE)
        assert said in texts(at), page


def test_the_ledger_shows_the_closed_counts_above_the_live_rows(write_env: str) -> None:
    snapshot, live = close_then_change(write_env)
    label = "First touch · met / breached / pending"
    at = open_page("ledger", month=DONE)
    no_exception(at)
    assert metrics(at)[label] == ft_counts(snapshot)
    assert metrics(at)["MQLs"] == f"{snapshot['marketing']['mqls_total']:,}"
    assert any("late-1" in list(frame.value.astype(str).to_numpy().ravel()) for frame in at.dataframe)
    live_on(at)
    assert metrics(at)[label] == ft_counts(live)


def test_an_open_month_has_no_banner_and_no_toggle(app_env: str) -> None:
    for page in ("home", "marketing", "sales", "ledger", "trends", "review"):
        at = open_page(page, month=DONE)
        no_exception(at)
        assert not at.toggle, page
        assert "February 2026 is closed." not in texts(at), page
        if page == "ledger":
            assert "First touch · met / breached / pending" not in metrics(at)


def mql_trend(at: AppTest) -> dict[str, float]:
    """The MQLs-against-quota bars (one trace per status): month → MQLs."""
    bars: dict[str, float] = {}
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("hovertemplate") == "%{x|%b %Y}: %{y:,} MQLs<extra></extra>":
                bars |= dict(zip(map(str, trace["x"]), trace["y"]))
    assert bars, "no MQL bars on the page"
    return bars


def test_trends_draws_the_closed_month_from_its_snapshot_and_live_on_request(write_env: str) -> None:
    snapshot, live = close_then_change(write_env)
    at = open_page("trends", month=DONE)
    no_exception(at)
    assert "February 2026 is closed." in texts(at)
    history = next(d.value for d in at.dataframe if "Month" in d.value.columns)
    assert any("frozen" in m and "Feb" in m for m in history["Month"])
    bars = mql_trend(at)
    assert snapshot["marketing"]["mqls"] in bars.values() and live["marketing"]["mqls"] not in bars.values()
    live_on(at)
    history = next(d.value for d in at.dataframe if "Month" in d.value.columns)
    assert not any("frozen" in m and "Feb" in m for m in history["Month"])
    assert live["marketing"]["mqls"] in mql_trend(at).values()


def test_reopen_needs_a_reason_and_the_tick_then_is_recorded_and_the_month_can_close_again(
    write_env: str,
) -> None:
    engine = storage.make_engine(write_env)
    api.close_month(engine, DONE, closed_by="cfo@example.com", as_of=NOW)
    at = open_page("review", month=DONE)
    assert at.button(key="reopen_month").disabled
    at.text_input(key="reopen_reason").input("late CRM import").run()
    assert at.button(key="reopen_month").disabled, "the reason alone is not the confirmation"
    at.checkbox(key="reopen_sure").check().run()
    at.button(key="reopen_month").click().run()
    no_exception(at)
    assert storage.load_snapshot(engine, DONE) is None
    (old,) = storage.snapshot_history(engine, DONE)
    assert old["superseded"] and "by dashboard: late CRM import" in old["notes"]
    assert "February 2026 is open again" in texts(at)
    assert "Live — not closed yet" in texts(at)
    at.button(key="close_month").click().run()
    no_exception(at)
    assert storage.load_snapshot(engine, DONE) is not None
    assert "Closed on" in texts(at)


def test_a_reason_of_spaces_reopens_nothing(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    api.close_month(engine, DONE, closed_by="cfo@example.com", as_of=NOW)
    at = open_page("review", month=DONE)
    at.text_input(key="reopen_reason").input("   ").run()
    at.checkbox(key="reopen_sure").check().run()
    assert at.button(key="reopen_month").disabled
    assert storage.load_snapshot(engine, DONE) is not None


def signed_in_review(user: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / PAGES["review"]), default_timeout=TIMEOUT)
    at.secrets = {"auth": AUTH}
    at.user = user
    at.query_params = {"month": DONE, "as_of": NOW.isoformat()}
    return at.run()


def test_with_login_the_signed_in_user_reopens_and_is_recorded(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    api.close_month(engine, DONE, closed_by="cfo@example.com", as_of=NOW)
    at = signed_in_review({"is_logged_in": True, "email": "director@example.com"})
    no_exception(at)
    at.text_input(key="reopen_reason").input("quota disputed").run()
    at.checkbox(key="reopen_sure").check().run()
    at.button(key="reopen_month").click().run()
    no_exception(at)
    (old,) = storage.snapshot_history(engine, DONE)
    assert "by director@example.com: quota disputed" in old["notes"]


def test_with_login_a_session_without_a_name_cannot_reopen(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    api.close_month(engine, DONE, closed_by="cfo@example.com", as_of=NOW)
    at = signed_in_review({"is_logged_in": True})
    no_exception(at)
    at.text_input(key="reopen_reason").input("quota disputed").run()
    at.checkbox(key="reopen_sure").check().run()
    assert at.button(key="reopen_month").disabled
    assert "Only a signed-in user" in texts(at)
    assert storage.load_snapshot(engine, DONE) is not None
