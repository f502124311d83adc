"""Every page renders on demo data, and the numbers it shows are the core's (api.scorecard)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from app_helpers import AS_OF, MONTH, NOW, PAGES, metrics, no_exception, open_page, table_with

from smarketing import api
from smarketing.core.sales import overdue_worklist
from smarketing.store import storage
from smarketing.ui import loaders
from smarketing.ui.history import consecutive_misses

pytestmark = pytest.mark.app


def pct(x: float, digits: int = 1) -> str:
    return f"{x * 100:.{digits}f}%"


def budget(part: dict) -> str:
    """Breaches still allowed, or how far over."""
    left = part["budget_left"]
    return f"{left} of {part['allowed_breaches']}" if left >= 0 else f"{-left} over"


def parse_money(text: str) -> float:
    """'$685.5k' → 685500."""
    number = text.lstrip("$").replace(",", "")
    scale = {"k": 1e3, "M": 1e6}.get(number[-1], 1)
    return float(number.rstrip("kM")) * scale


@pytest.fixture
def card(app_env: str) -> dict:
    return api.scorecard(storage.make_engine(app_env), MONTH, NOW)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(app_env: str, page: str) -> None:
    at = open_page(page)
    no_exception(at)
    assert at.title, "every page has a title"
    assert any("Demo data" in i.value for i in at.info), "the demo banner is shown"
    assert at.query_params["month"] == [MONTH] or at.query_params["month"] == MONTH


def test_home_shows_the_core_scorecard(card: dict) -> None:
    at = open_page("home")
    no_exception(at)
    shown = metrics(at)
    m, ft, att, f = card["marketing"], card["sales"]["first_touch"], card["sales"]["attempts"], card["funnel"]
    assert shown["MQLs delivered"] == f"{m['mqls']:,}"
    assert shown["Pace"] == pct(m["pace"], 0)
    assert shown["Projected at month end"] == f"{round(m['projected']):,}"
    assert shown["Needed per day"] == f"{m['required_daily_rate']:,.1f}"
    assert shown["First-touch compliance"] == pct(ft["compliance"])
    assert shown["Median response"] == f"{ft['median_hours']:.1f} h"
    assert shown["p90 response"] == f"{ft['p90_hours']:.1f} h"
    assert shown["Breach budget left"] == budget(ft)
    assert shown["Attempt compliance"] == pct(att["compliance"])
    assert shown["Attempt budget left"] == budget(att)
    assert shown["MQLs"] == f"{f['mqls']:,}"
    assert shown["→ SQLs"] == f"{f['sqls']:,}"
    assert shown["→ Customers"] == f"{f['customers']:,}"
    assert math.isclose(parse_money(shown["Won revenue"]), f["won_revenue"], rel_tol=0.001)


def test_home_statuses_read_in_words(card: dict) -> None:
    at = open_page("home")
    words = {"met": "Met", "on_track": "On track", "at_risk": "At risk", "behind": "Behind", "missed": "Missed"}
    badges = " ".join(m.value for m in at.markdown if "-badge[" in m.value)
    for status in (
        card["marketing"]["status"],
        card["sales"]["first_touch"]["status"],
        card["sales"]["attempts"]["status"],
    ):
        assert words[status] in badges


def test_home_leaderboard_is_every_rep(card: dict) -> None:
    at = open_page("home")
    board = table_with(at, "Rep", "First touch 95% CI", "Sample")
    assert sorted(board["Rep"]) == sorted(o["name"] for o in card["sales"]["by_owner"])
    assert set(board["Leads"]) <= {o["leads"] for o in card["sales"]["by_owner"]}


def test_month_picker_changes_the_url_and_the_numbers(app_env: str) -> None:
    at = open_page("home")
    at.sidebar.selectbox(key="smk_month_picker").select("2026-02").run()
    no_exception(at)
    feb = api.scorecard(storage.make_engine(app_env), "2026-02", NOW)
    assert at.query_params["month"] in ("2026-02", ["2026-02"])
    shown = metrics(at)
    assert shown["MQLs delivered"] == f"{feb['marketing']['mqls']:,}"
    assert shown["First-touch compliance"] == pct(feb["sales"]["first_touch"]["compliance"])


def test_marketing_page_numbers(card: dict) -> None:
    at = open_page("marketing")
    no_exception(at)
    shown, m = metrics(at), card["marketing"]
    assert shown["MQLs delivered"] == f"{m['mqls']:,}"
    assert shown["Quota"] == f"{m['quota']:,}"
    assert shown["Attainment"] == pct(m["attainment"], 0)
    assert len(at.get("plotly_chart")) >= 4


def test_sales_page_numbers_and_worklist(app_env: str, card: dict) -> None:
    at = open_page("sales")
    no_exception(at)
    shown, ft = metrics(at), card["sales"]["first_touch"]
    assert shown["First-touch compliance"] == pct(ft["compliance"])
    assert shown["Median response"] == f"{ft['median_hours']:.1f} h"
    ledger, _ = api.ledger(storage.make_engine(app_env), MONTH, NOW)
    expected = overdue_worklist(ledger)
    worklist = table_with(at, "Lead", "How late")
    assert list(worklist["Lead"]) == list(expected["lead_id"])
    reps = table_with(at, "Rep", "Breached", "Untouched")
    assert len(reps) == len(card["sales"]["by_owner"])
    assert table_with(at, "Team", "First touch", "Untouched")["Leads"].sum() == card["sales"]["first_touch"]["leads"]


def test_ledger_page_lists_every_mql_and_explains_a_lead(app_env: str) -> None:
    ledger, _ = api.ledger(storage.make_engine(app_env), MONTH, NOW)
    lead = ledger.iloc[0]
    at = open_page("ledger", lead=str(lead["lead_id"]))
    no_exception(at)
    assert len(table_with(at, "Lead", "Attempts made")) == len(ledger)
    verdicts = table_with(at, "Why", "Counts")
    assert len(verdicts) > 0
    assert {"When", "Kind", "Counts", "Why"} <= set(verdicts.columns)
    counted = (verdicts["Counts"] == "✔ yes").sum()
    assert counted >= lead["attempts"]
    assert any(str(lead["lead_id"]) in t.value for t in at.text)


def test_ledger_page_shows_every_touch_of_a_lead_also_those_that_do_not_count(app_env: str) -> None:
    # The month's bundle holds only the touches that can count; the lead's others are read for it.
    engine = storage.make_engine(app_env)
    ledger, _ = api.ledger(engine, MONTH, NOW)
    touches = storage.load_data(engine).touches
    touches = touches.loc[touches["lead_id"].isin(ledger["lead_id"]) & (touches["occurred_at"] <= NOW)]
    not_counting = touches.loc[touches["automated"] | (touches["direction"] == "inbound") | (touches["kind"] == "note")]
    lead_id = str(not_counting["lead_id"].iloc[0])
    at = open_page("ledger", lead=lead_id)
    no_exception(at)
    verdicts = table_with(at, "Why", "Counts")
    assert len(verdicts) == (touches["lead_id"] == lead_id).sum()
    assert (verdicts["Counts"] != "✔ yes").sum() >= (not_counting["lead_id"] == lead_id).sum() >= 1


def test_ledger_page_unknown_lead_is_explained(app_env: str) -> None:
    at = open_page("ledger", lead="no-such-lead")
    no_exception(at)
    assert any("No MQL with that id" in w.value for w in at.warning)


def test_trends_page_history_matches_core(app_env: str) -> None:
    at = open_page("trends")
    no_exception(at)
    months = api.trailing_months(MONTH, 12)
    cards = api.scorecards(storage.make_engine(app_env), months, NOW)
    history = table_with(at, "Month", "Sales · attempts")
    assert len(history) == 12
    statuses = [cards[m]["sales"]["attempts"]["status"] for m in months]
    shown = metrics(at)
    assert shown["Sales · attempts · misses in a row"] == f"{consecutive_misses(statuses)}"


def test_terms_page_calculator_uses_the_terms(app_env: str) -> None:
    at = open_page("terms")
    no_exception(at)
    terms = api.month_terms(storage.make_engine(app_env), MONTH)
    shown = metrics(at)
    assert shown["Revenue expected from marketing"].startswith("$")
    # v2: the calculator starts from next month's proposal (one source of truth), not from one
    # month's deal size and one cohort's rate.
    inputs = api.recalc(storage.make_engine(app_env), "2026-04", NOW)["inputs"]
    deal, rate = inputs["avg_deal_size"], inputs["lead_to_customer_rate"]
    needed = math.ceil(terms.revenue_goal * terms.marketing_share / deal / rate - 1e-9)
    assert shown["MQLs needed per month"] == f"{needed:,}"


def test_terms_page_rejects_bad_terms_inline(write_env: str) -> None:
    at = open_page("terms")
    at.text_area(key="terms_text").set_value('timezone = "Mars/Olympus"\n[sales]\nfirst_touch_target = 2\n')
    at.form_submit_button[0].click().run()
    no_exception(at)
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "Mars/Olympus" in errors and "first_touch_target" in errors
    assert len(storage.load_terms_versions(storage.make_engine(write_env))) == 1


def test_terms_page_saves_a_new_version(write_env: str) -> None:
    at = open_page("terms")
    text = at.text_area(key="terms_text").value.replace("mql_quota = 420", "mql_quota = 500")
    at.text_area(key="terms_text").set_value(text)
    at.form_submit_button[0].click().run()
    no_exception(at)
    assert any("Saved as version" in s.value for s in at.success)
    versions = storage.load_terms_versions(storage.make_engine(write_env))
    assert len(versions) == 2 and versions[-1].effective_from == "2026-04"


def test_terms_page_refuses_consequence_weights_that_sum_to_zero(write_env: str) -> None:
    at = open_page("terms")
    at.checkbox(key="csq_equal").uncheck()
    for name in ("mql_quota", "first_touch", "attempts"):
        at.number_input(key=f"csq_weight_{name}").set_value(0.0)
    at.form_submit_button[1].click().run()
    no_exception(at)
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "consequences.weights must give at least one commitment in force" in errors
    assert len(storage.load_terms_versions(storage.make_engine(write_env))) == 1


def test_terms_page_saves_the_consequences_settings_as_a_new_version(write_env: str) -> None:
    at = open_page("terms")
    at.checkbox(key="csq_equal").uncheck()
    at.number_input(key="csq_weight_mql_quota").set_value(0.5)
    at.number_input(key="csq_weight_first_touch").set_value(0.3)
    at.number_input(key="csq_weight_attempts").set_value(0.2)
    at.number_input(key="csq_critical_misses").set_value(2)
    at.form_submit_button[1].click().run()
    no_exception(at)
    assert any("Saved as version" in s.value for s in at.success)
    versions = storage.load_terms_versions(storage.make_engine(write_env))
    saved = versions[-1].terms
    assert len(versions) == 2 and versions[-1].effective_from == "2026-04"
    assert dict(saved.weights) == {"mql_quota": 0.5, "first_touch": 0.3, "attempts": 0.2}
    assert (saved.critical_misses, saved.critical_window_months) == (2, 6)
    assert saved.segment_quotas == versions[0].terms.segment_quotas, "the rest of the agreement is kept"


def test_trends_page_draws_the_weighted_scores_of_the_core(app_env: str) -> None:
    at = open_page("trends")
    no_exception(at)
    trend = api.month_scorecard(storage.make_engine(app_env), MONTH, NOW)["consequences"]["trend"]
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"weighted score"' in c.proto.spec)
    drawn = {t["name"]: [None if y is None else round(y, 6) for y in t["y"]] for t in figure["data"]}
    for side, name in (("marketing", "Marketing"), ("sales", "Sales"), ("overall", "Overall")):
        assert drawn[name] == [None if row[side] is None else round(row[side] * 100, 6) for row in trend], side
    assert len(trend) == 12 and trend[-1]["month"] == MONTH and trend[-1]["overall"] is None


def test_data_page_counts_loads_and_access(app_env: str) -> None:
    at = open_page("data")
    no_exception(at)
    counts = storage.data_counts(storage.make_engine(app_env))
    shown = metrics(at)
    for table, n in counts.items():
        assert shown[table.title()] == f"{n:,}"
    loads = table_with(at, "Source", "New rows")
    assert list(loads["Source"]) == ["Demo generator"]
    assert any("Open access" in w.value for w in at.warning)


def test_data_page_imports_uploaded_csv(write_env: str) -> None:
    at = open_page("data")
    leads = (
        "lead_id,created_at,mql_at,segment,source,owner_id\n"
        'X-1,2026-03-16T09:00:00,2026-03-16T10:00:00,SMB,=HYPERLINK("x"),71000100\n'
    )
    at.get("file_uploader")[0].set_value([("leads.csv", leads.encode(), "text/csv")])
    at.run()
    at.checkbox(key="import_over_demo").check().run()
    at.button(key="import_go").click().run()
    no_exception(at)
    assert any("Imported" in s.value for s in at.success), [e.value for e in at.error]
    assert storage.data_counts(storage.make_engine(write_env))["leads"] > 0
    loads = storage.data_loads(storage.make_engine(write_env))
    assert loads["source"].iloc[0] == "import"


def test_data_page_refuses_unknown_files(write_env: str) -> None:
    at = open_page("data")
    at.get("file_uploader")[0].set_value([("contacts.csv", b"a,b\n1,2\n", "text/csv")])
    at.run()
    no_exception(at)
    assert any("cannot be imported" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "import_go"]
    assert "contacts.csv" in " ".join(t.value for t in at.text)


def test_live_mode_without_as_of(app_env: str) -> None:
    at = open_page("home", as_of=None)
    no_exception(at)
    assert any("Live" in c.value for c in at.sidebar.caption)


def test_bad_query_params_fall_back(app_env: str) -> None:
    at = open_page("home", month="2026-13", as_of="yesterday-ish")
    no_exception(at)
    warnings = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "2026-13" in warnings and "yesterday-ish" in warnings


def test_empty_month_is_explained(app_env: str) -> None:
    # DESIGN v2 section 8: a month with nothing yet says so with the next step, never a row of zeros.
    at = open_page("home", month="2023-01", as_of=AS_OF)
    no_exception(at)
    assert "MQLs delivered" not in metrics(at)
    info = " ".join(i.value for i in at.info)
    assert "No MQLs in January 2023 yet" in info and "pick a month with data" in info
    at.button(key="empty_to_latest").click().run()
    no_exception(at)
    assert at.query_params["month"] in ([MONTH], MONTH)
    assert metrics(at)["MQLs delivered"] != "0"


def test_empty_database_explains_itself(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARKETING_DB", f"sqlite:///{tmp_path / 'empty.db'}")
    loaders.refresh()
    for page in PAGES:
        at = open_page(page)
        no_exception(at)
    loaders.refresh()
    assert not any("Demo data" in i.value for i in at.info)
    assert pd.Timestamp(AS_OF) == NOW


def test_closed_month_shows_its_frozen_scorecard(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    frozen = api.scorecard(engine, "2026-02", NOW)
    frozen["marketing"]["mqls"] = 999  # so the frozen numbers are recognisable
    storage.save_snapshot(engine, "2026-02", frozen, as_of=NOW, closed_by="cfo@example.com", terms_version_id=1)
    at = open_page("home", month="2026-02")
    no_exception(at)
    assert metrics(at)["MQLs delivered"] == "999"
    assert any("is closed" in m.value for m in at.markdown)
    at.toggle(key="live_numbers").set_value(True).run()
    assert metrics(at)["MQLs delivered"] == f"{api.scorecard(engine, '2026-02', NOW)['marketing']['mqls']:,}"
    at = open_page("trends")
    assert any("frozen" in str(m) for m in table_with(at, "Month")["Month"])


def test_crm_text_is_never_markdown_or_html(write_env: str) -> None:
    evil = "[click](https://evil.example) **bold** <b>x</b> :material/lock:"
    engine = storage.make_engine(write_env)
    owners = pd.DataFrame({"owner_id": ["evil-owner"], "name": [evil], "team": [evil]})
    leads = pd.DataFrame(
        {
            "lead_id": ["evil-lead"],
            "mql_at": [NOW - pd.Timedelta(hours=30)],
            "segment": [evil],
            "source": [evil],
            "owner_id": ["evil-owner"],
        }
    )
    from smarketing.core.frames import CrmData

    storage.save_data(engine, CrmData.of(owners=owners, leads=leads), source="import", detail=evil)
    for page, params in (
        ("home", {}),
        ("sales", {}),
        ("ledger", {"lead": "evil-lead"}),
        ("marketing", {}),
        ("data", {}),
    ):
        at = open_page(page, **params)
        no_exception(at)
        rendered = [
            m.value
            for m in (
                *at.markdown,
                *at.caption,
                *at.subheader,
                *at.title,
                *at.warning,
                *at.info,
                *at.error,
                *at.success,
            )
        ]
        assert not any("[click]" in text or "<b>" in text for text in rendered), page
    ledger_at = open_page("ledger", lead="evil-lead")
    assert any(evil in t.value for t in ledger_at.text), "CRM text is shown, as plain text"
