"""Filters in the URL (team, rep, segment, source, statuses) and the links from counts to the ledger."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
from app_helpers import MONTH, NOW, metrics, no_exception, open_page, table_with

from smarketing import api
from smarketing.core.lead_filter import LeadFilter, filter_leads, from_params
from smarketing.core.sales import overdue_worklist
from smarketing.store import storage


@pytest.fixture
def month_data(app_env: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month's ledger and owners, straight from the API."""
    engine = storage.make_engine(app_env)
    ledger, _ = api.ledger(engine, MONTH, NOW)
    return ledger, api.load_month(engine, MONTH, NOW).data.owners


def _leads(month_data: tuple[pd.DataFrame, pd.DataFrame], lead_filter: LeadFilter) -> pd.DataFrame:
    """The month's leads the filter keeps, by the core."""
    ledger, owners = month_data
    return filter_leads(ledger, owners, lead_filter)


def _links(at) -> dict[str, dict[str, str]]:
    """Every page link on the page: label → its query parameters."""
    return {p.proto.label: dict(parse_qsl(p.proto.query_string)) for p in at.get("page_link")}


def _ledger_rows(at) -> pd.DataFrame:
    """The lead ledger's table."""
    return table_with(at, "Lead", "Attempts made")


def test_sales_filtered_to_a_team_shows_only_its_reps_and_leads(app_env: str, month_data) -> None:
    at = open_page("sales", team="East")
    no_exception(at)
    assert any("Filtered to** team East" in i.value for i in at.info)
    reps = table_with(at, "Rep", "Leads in ledger")
    assert set(reps["Team"]) == {"East"}
    expected = overdue_worklist(_leads(month_data, LeadFilter(team="East")))
    assert list(table_with(at, "Lead", "How late")["Lead"]) == list(expected["lead_id"])
    assert reps["Leads"].sum() == len(_leads(month_data, LeadFilter(team="East")))


def test_sales_filtered_to_a_rep_shows_one_row(app_env: str, month_data) -> None:
    owner = str(month_data[0]["owner_id"].dropna().iloc[0])
    at = open_page("sales", owner=owner)
    no_exception(at)
    reps = table_with(at, "Rep", "Leads in ledger")
    assert len(reps) == 1
    assert reps["Leads"].iloc[0] == len(_leads(month_data, LeadFilter(owner=owner)))


def test_every_sales_count_opens_exactly_its_leads_in_the_ledger(app_env: str, month_data) -> None:
    at = open_page("sales", segment="SMB")
    no_exception(at)
    drills = {label: q for label, q in _links(at).items() if q.get("first_touch") or q.get("attempts")}
    assert len(drills) == 5
    for label, params in drills.items():
        assert params["segment"] == "SMB" and params["month"] == MONTH
        n = int(label.split()[0].replace(",", ""))
        assert len(_leads(month_data, from_params(params))) == n, label
    label, params = next((lab, q) for lab, q in drills.items() if "breached" in lab and q.get("first_touch"))
    ledger_page = open_page("ledger", **{k: v for k, v in params.items() if k not in {"month", "as_of"}})
    no_exception(ledger_page)
    assert len(_ledger_rows(ledger_page)) == int(label.split()[0].replace(",", ""))


def test_each_rep_row_links_to_the_reps_leads(app_env: str, month_data) -> None:
    at = open_page("sales")
    reps = table_with(at, "Rep", "Leads in ledger")
    for _, row in reps.iterrows():
        if row["Leads in ledger"] is None:
            continue
        url = urlsplit(row["Leads in ledger"])
        assert url.path == "/Lead_ledger"
        assert len(_leads(month_data, from_params(dict(parse_qsl(url.query))))) == row["Leads"]


def test_team_rows_link_to_the_teams_leads(app_env: str, month_data) -> None:
    at = open_page("sales")
    teams = next(f.value for f in at.dataframe if "Leads in ledger" in f.value and "Rep" not in f.value)
    east = teams.loc[teams["Team"] == "East"].iloc[0]
    params = dict(parse_qsl(urlsplit(east["Leads in ledger"]).query))
    assert params["team"] == "East"
    assert len(_leads(month_data, from_params(params))) == east["Leads"]


@pytest.mark.parametrize(
    "params",
    [
        {"team": "West"},
        {"segment": "SMB"},
        {"first_touch": "breached"},
        {"attempts": "pending,met"},
        {"first_touch": "breached", "untouched": "1"},
    ],
)
def test_ledger_takes_each_filter_from_the_url(app_env: str, month_data, params: dict[str, str]) -> None:
    at = open_page("ledger", **params)
    no_exception(at)
    assert len(_ledger_rows(at)) == len(_leads(month_data, from_params(params)))


def test_ledger_takes_owner_and_source_from_the_url(app_env: str, month_data) -> None:
    ledger = month_data[0]
    owner, source = str(ledger["owner_id"].dropna().iloc[0]), str(ledger["source"].dropna().iloc[0])
    at = open_page("ledger", owner=owner, source=source)
    no_exception(at)
    wanted = _leads(month_data, LeadFilter(owner=owner, source=source))
    assert 0 < len(_ledger_rows(at)) == len(wanted)
    assert list(_ledger_rows(at)["Lead"]) == list(wanted["lead_id"])


def test_ledger_status_picker_writes_the_url(app_env: str, month_data) -> None:
    at = open_page("ledger")
    at.multiselect(key="ft_pick").select("breached").run()
    no_exception(at)
    assert at.query_params["first_touch"] == "breached"
    assert len(_ledger_rows(at)) == len(_leads(month_data, LeadFilter(first_touch=("breached",))))
    at.checkbox(key="untouched_pick").check().run()
    assert at.query_params["untouched"] == "1"
    assert len(_ledger_rows(at)) == len(_leads(month_data, LeadFilter(first_touch=("breached",), untouched=True)))


def test_sidebar_pickers_put_each_filter_in_the_url(app_env: str) -> None:
    at = open_page("sales")
    at.selectbox(key="smk_filter_team").select("East").run()
    no_exception(at)
    assert at.query_params["team"] == "East"
    at.selectbox(key="smk_filter_segment").select("SMB").run()
    assert at.query_params["segment"] == "SMB"
    assert set(table_with(at, "Rep", "Leads in ledger")["Team"]) == {"East"}
    at.selectbox(key="smk_filter_team").select("").run()
    assert "team" not in at.query_params


def test_navigation_links_carry_the_filters(app_env: str) -> None:
    at = open_page("sales", team="East", segment="SMB")
    links = _links(at)
    for page in ("Marketing", "Lead ledger", "Trends", "Scorecard"):
        assert links[page]["team"] == "East" and links[page]["segment"] == "SMB", page
        assert links[page]["month"] == MONTH


def test_clear_filters_drops_them(app_env: str) -> None:
    at = open_page("sales", team="East")
    at.button(key="clear_filters").click().run()
    no_exception(at)
    assert "team" not in at.query_params
    assert len(table_with(at, "Rep", "Leads in ledger")["Team"].unique()) > 1


def test_marketing_segment_picker_is_the_url_segment(app_env: str, month_data) -> None:
    at = open_page("marketing", segment="SMB")
    no_exception(at)
    assert at.selectbox(key="mkt_segment").value == "SMB"
    at.selectbox(key="mkt_segment").select("Enterprise").run()
    assert at.query_params["segment"] == "Enterprise"
    segments = table_with(at, "Segment", "Leads in ledger")
    for _, row in segments.iterrows():
        params = dict(parse_qsl(urlsplit(row["Leads in ledger"]).query))
        assert params["segment"] == row["Segment"]
        assert len(_leads(month_data, from_params(params))) >= row["Delivered"]


def test_a_page_without_filters_says_it_shows_everything(app_env: str) -> None:
    at = open_page("terms", team="East")
    no_exception(at)
    assert any("whole company" in c.value and "team East" in c.value for c in at.caption)


def _compliance(leads: pd.DataFrame, column: str) -> float:
    """Met ÷ judged of the leads, in percent (hand rule: DESIGN section 5)."""
    met, breached = (leads[column] == "met").sum(), (leads[column] == "breached").sum()
    return 100 * met / (met + breached)


def _month_leads(app_env: str, month: str, lead_filter: LeadFilter) -> pd.DataFrame:
    """A month's ledger rows inside the filter, straight from the API."""
    engine = storage.make_engine(app_env)
    ledger, _ = api.ledger(engine, month, NOW)
    return filter_leads(ledger, api.load_month(engine, month, NOW).data.owners, lead_filter)


@pytest.mark.parametrize("params", [{"team": "East"}, {"segment": "SMB"}, {"source": "Referrals"}])
def test_trends_count_only_the_filtered_leads(app_env: str, params: dict[str, str]) -> None:
    at = open_page("trends", **params)
    no_exception(at)
    assert any("Filtered to**" in i.value for i in at.info)
    rows = table_with(at, "Month", "MQLs", "First touch judged").set_index("Month")
    whole = api.scorecards(storage.make_engine(app_env), ["2026-02", "2026-03"], NOW)
    for month, label in (("2026-02", "Feb 2026"), ("2026-03", "Mar 2026")):
        leads = _month_leads(app_env, month, from_params(params))
        row = rows.loc[label]
        assert row["MQLs"] == len(leads) < whole[month]["marketing"]["mqls"]
        judged = leads["first_touch_status"].isin(["met", "breached"]).sum()
        assert row["First touch judged"] == judged
        assert row["First touch"] == pytest.approx(_compliance(leads, "first_touch_status"))
        assert row["Attempts"] == pytest.approx(_compliance(leads, "attempts_status"))
        assert row["Median response"] == pytest.approx(leads["response_hours"].dropna().median())
    if "segment" in params:
        assert set(rows["Quota"]) == {240}
    else:
        assert rows["Quota"].isna().all()  # a team or a source has no quota (the grid shows "—")


def test_trends_by_team_match_the_sales_page(app_env: str) -> None:
    trends = table_with(open_page("trends", team="East"), "Month", "First touch judged").set_index("Month")
    reps = table_with(open_page("sales", team="East"), "Rep", "Leads in ledger")
    assert trends.loc["Mar 2026", "MQLs"] == reps["Leads"].sum()


def test_trends_without_a_filter_show_no_filtered_table(app_env: str) -> None:
    at = open_page("trends")
    no_exception(at)
    assert not any({"First touch judged"} <= set(f.value.columns) for f in at.dataframe)


@pytest.mark.parametrize(
    "params", [{"source": "Referrals"}, {"team": "East"}, {"segment": "SMB", "source": "Referrals"}]
)
def test_marketing_sections_count_only_the_filtered_leads(app_env: str, month_data, params: dict[str, str]) -> None:
    at = open_page("marketing", **params)
    no_exception(at)
    leads = _leads(month_data, from_params(params))
    assert any(f"{len(leads):,} MQLs in this selection." in c.value for c in at.caption)
    segments = table_with(at, "Segment", "Leads in ledger")
    assert segments["Delivered"].sum() == len(leads)
    assert set(segments["Segment"]) == set(leads["segment"])
    for _, row in segments.iterrows():
        params_of_row = dict(parse_qsl(urlsplit(row["Leads in ledger"]).query))
        assert {k: params_of_row[k] for k in params if k != "segment"} == {
            k: v for k, v in params.items() if k != "segment"
        }
        assert len(_leads(month_data, from_params(params_of_row))) == row["Delivered"]
    assert segments["Quota"].isna().all()  # no quota of their own (the grid shows "—")
    whole = open_page("marketing")
    assert metrics(at)["MQLs delivered"] == metrics(whole)["MQLs delivered"]  # the commitment stays the month's


def test_marketing_one_segment_keeps_its_own_quota(app_env: str, month_data) -> None:
    at = open_page("marketing", segment="SMB")
    no_exception(at)
    segments = table_with(at, "Segment", "Leads in ledger")
    assert list(segments["Segment"]) == ["SMB"]
    assert segments["Quota"].iloc[0] == 240
