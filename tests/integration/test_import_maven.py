"""The `maven-crm` preset on Maven Analytics' CRM + Sales Opportunities files, on SQLite.

Expected numbers come from reading the raw CSVs with pandas here."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from smarketing import api
from smarketing.sources import mapping
from smarketing.store import storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MAVEN = ROOT.parent / "shared" / "datasets" / "maven-crm"
NY = "America/New_York"
AS_OF = pd.Timestamp("2018-06-01", tz="UTC")

if not MAVEN.is_dir():
    if os.environ.get("CI") == "true":  # CI has shared/ beside the clone: never skip there
        raise RuntimeError(f"the dataset is not at {MAVEN}")
    pytest.skip(f"the Maven CRM dataset is not at {MAVEN}", allow_module_level=True)


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    read = lambda name: pd.read_csv(MAVEN / name, dtype=str, keep_default_na=False)  # noqa: E731
    return {"pipeline": read("sales_pipeline.csv"), "teams": read("sales_teams.csv"), "accounts": read("accounts.csv")}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("maven")
    engine = storage.make_engine(f"sqlite:///{folder}/x.db")
    report = mapping.import_mapped(engine, MAVEN, preset="maven-crm")
    yield engine, report
    engine.dispose()


def months_of(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text[text != ""], format="%d-%m-%Y").dt.strftime("%Y-%m")


def test_every_owner_deal_and_lead_is_imported(imported, raw):
    engine, report = imported
    assert (len(raw["teams"]), len(raw["pipeline"])) == (35, 8800)
    assert storage.data_counts(engine) == {"owners": 35, "leads": 8800, "touches": 0, "deals": 8800}
    assert {t: c["inserted"] for t, c in report["counts"].items()} == {
        "owners": 35,
        "leads": 8800,
        "touches": 0,
        "deals": 8800,
    }
    assert report["warnings"] == []
    assert report["terms_effective_from"] == "2016-10"


def test_the_data_follows_the_presets_decisions(imported, raw):
    engine, _ = imported
    data = storage.load_data(engine)
    owners = data.owners.set_index("owner_id")
    teams = raw["teams"].set_index("sales_agent")
    assert (owners.loc[teams.index, "team"] == teams["regional_office"]).all()
    pipeline = raw["pipeline"].set_index("opportunity_id")
    deals = data.deals.set_index("deal_id").loc[pipeline.index]
    stages = {"Won": "won", "Lost": "lost", "Engaging": "open", "Prospecting": "open"}
    assert (deals["status"] == pipeline["deal_stage"].map(stages)).all()
    assert deals["status"].value_counts().to_dict() == {"won": 4238, "lost": 2473, "open": 2089}
    won = pipeline["deal_stage"] == "Won"
    assert (deals.loc[won, "amount"] == pd.to_numeric(pipeline.loc[won, "close_value"])).all()
    assert deals.loc[~won, "amount"].isna().all()
    assert (deals["owner_id"] == pipeline["sales_agent"]).all() and (deals["lead_id"] == deals.index).all()
    leads = data.leads.set_index("lead_id").loc[pipeline.index]
    assert int(leads["mql_at"].notna().sum()) == int((pipeline["engage_date"] != "").sum()) == 8300
    assert int(leads["customer_at"].notna().sum()) == 4238
    assert int(leads["disqualified_at"].notna().sum()) == 2473
    sector = pipeline["account"].map(raw["accounts"].set_index("account")["sector"]).fillna("all")
    assert (leads["segment"] == sector.replace("technolgy", "technology")).all()
    assert int((leads["segment"] == "all").sum()) == int((pipeline["account"] == "null").sum()) == 1425


def test_mqls_per_month_equal_a_direct_count_and_scorecards_compute(imported, raw):
    engine, _ = imported
    expected = months_of(raw["pipeline"]["engage_date"]).value_counts().sort_index()
    assert api.data_months(engine) == list(expected.index)
    pipeline = raw["pipeline"]
    won = pipeline[pipeline["deal_stage"] == "Won"]
    revenue = pd.to_numeric(won["close_value"]).groupby(months_of(won["close_date"])).sum()
    customers = 0
    for month, count in expected.items():
        card = api.scorecard(engine, month, AS_OF)
        assert card["marketing"]["mqls"] == count, month
        customers += card["funnel"]["customers"]
        assert card["funnel"]["won_revenue"] == pytest.approx(float(revenue.get(month, 0.0))), month
        assert card["funnel"]["won_deals"] == int((months_of(won["close_date"]) == month).sum())
        assert sum(row["mqls"] for row in card["marketing"]["by_segment"]) == count
        assert {row["owner_id"] for row in card["sales"]["by_owner"]} <= set(raw["teams"]["sales_agent"])
    assert customers == len(won) == 4238


def test_importing_the_same_files_again_changes_nothing(imported):
    engine, _ = imported
    again = mapping.import_mapped(engine, MAVEN, preset="maven-crm")
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in again["counts"].values())
    assert again["counts"]["deals"]["unchanged"] == 8800
    assert len(storage.load_terms_versions(engine)) == 1
