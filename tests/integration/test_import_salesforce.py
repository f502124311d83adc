"""The `salesforce` preset on a small export written from Salesforce's documented API field
names (tests/data/salesforce, described in its README), on SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from smarketing import api
from smarketing.sources import mapping
from smarketing.store import storage

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "salesforce"
NY = "America/New_York"
AS_OF = pd.Timestamp("2024-06-01", tz="UTC")


def lead(n: int) -> str:
    return f"00Q5e00000LEAD0{n}AAA"


@pytest.fixture
def engine(tmp_path: Path):
    engine = storage.make_engine(f"sqlite:///{tmp_path}/x.db")
    yield engine
    engine.dispose()


def test_the_export_imports_with_the_documented_decisions(engine):
    report = mapping.import_mapped(engine, SAMPLE, preset="salesforce")
    assert {t: (c["inserted"], c["skipped"]) for t, c in report["counts"].items()} == {
        "owners": (3, 0),
        "leads": (8, 0),
        "touches": (9, 2),
        "deals": (3, 0),
    }
    assert report["warnings"] == [
        "Lead.csv, column LeadSource: 1 row has a value the mapping does not know ('TikTok' (1 row, first at row 7)); "
        "they were kept as they are."
    ]
    assert report["terms_effective_from"] == "2024-03"
    data = storage.load_data(engine)
    leads = data.leads.set_index("lead_id")
    assert leads["mql_at"].notna().all() and (leads["mql_at"] == leads["created_at"]).all()
    assert leads.at[lead(1), "mql_at"] == pd.Timestamp("2024-03-04T14:05:00Z")
    assert leads["sql_at"].dropna().to_dict() == {
        lead(3): pd.Timestamp("2024-03-12", tz=NY),
        lead(5): pd.Timestamp("2024-03-15", tz=NY),
    }
    assert leads["customer_at"].dropna().to_dict() == {lead(3): pd.Timestamp("2024-04-10", tz=NY)}
    assert leads["disqualified_at"].dropna().to_dict() == {lead(4): pd.Timestamp("2024-03-20T09:00:00Z")}
    assert leads.at[lead(6), "source"] == "TikTok" and pd.isna(leads.at[lead(7), "source"])
    # Lead Status: Working - Contacted / Closed - Converted accepted (ConvertedDate when converted),
    # Closed - Not Converted rejected at LastModifiedDate with the Unqualified_Reason__c.
    assert leads["accepted_at"].dropna().to_dict() == {
        lead(2): pd.Timestamp("2024-03-06T10:00:00Z"),
        lead(3): pd.Timestamp("2024-03-12", tz=NY),
        lead(5): pd.Timestamp("2024-03-15", tz=NY),
        lead(6): pd.Timestamp("2024-03-15T09:00:00Z"),
        lead(8): pd.Timestamp("2024-04-04T17:30:00Z"),
    }
    assert leads["rejected_at"].dropna().to_dict() == {lead(4): pd.Timestamp("2024-03-20T09:00:00Z")}
    assert leads["rejection_reason"].dropna().to_dict() == {lead(4): "No budget"}
    touches = data.touches.set_index("touch_id")
    assert "00T5e00000TASK06AAA" not in touches.index and "00T5e00000TASK07AAA" not in touches.index
    assert touches.at["00T5e00000TASK03AAA", "lead_id"] == lead(3)  # logged on the contact L3 became
    assert touches.at["00U5e00000EVNT02AAA", "lead_id"] == lead(5)
    assert touches["kind"].to_dict() == {
        "00T5e00000TASK01AAA": "call",
        "00T5e00000TASK02AAA": "email",
        "00T5e00000TASK03AAA": "call",
        "00T5e00000TASK04AAA": "email",
        "00T5e00000TASK05AAA": "call",
        "00T5e00000TASK08AAA": "task",
        "00T5e00000TASK09AAA": "other",
        "00U5e00000EVNT01AAA": "meeting",
        "00U5e00000EVNT02AAA": "meeting",
    }
    assert touches["automated"].sum() == 1 and touches.at["00T5e00000TASK04AAA", "automated"]
    assert touches.at["00T5e00000TASK05AAA", "direction"] == "inbound"
    deals = data.deals.set_index("deal_id")
    assert deals["status"].to_dict() == {
        "0065e000000OPP3AAA": "won",
        "0065e000000OPP5AAA": "open",
        "0065e000000OPP9AAA": "lost",
    }
    assert deals["lead_id"].fillna("-").to_dict() == {
        "0065e000000OPP3AAA": lead(3),
        "0065e000000OPP5AAA": lead(5),
        "0065e000000OPP9AAA": "-",
    }
    assert pd.isna(deals.at["0065e000000OPP5AAA", "closed_at"])
    assert deals.at["0065e000000OPP3AAA", "amount"] == 12000.0
    owners = data.owners.set_index("owner_id")
    assert owners["name"].tolist() == ["Ana Souza", "Ben Carter", "Chloé Martin"]
    assert owners["active"].tolist() == [True, True, False]


def test_the_scorecard_of_the_sample_computes(engine):
    mapping.import_mapped(engine, SAMPLE, preset="salesforce")
    march = api.scorecard(engine, "2024-03", AS_OF)
    assert march["marketing"]["mqls"] == 6 and march["marketing"]["quota"] == 10
    assert march["funnel"]["customers"] == 1 and march["funnel"]["sqls"] == 2
    first = march["sales"]["first_touch"]
    # L1 called 55 min after (met); L2 emailed 30 min after (met); L3's first call is days later;
    # L4 had only a list email (automated); L5 a LinkedIn task and, a week later, a meeting;
    # L6 only a "task".
    assert (first["met"], first["breached"], first["pending"]) == (2, 4, 0)
    april = api.scorecard(engine, "2024-04", AS_OF)
    assert april["marketing"]["mqls"] == 2
    assert april["funnel"]["won_deals"] == 1 and april["funnel"]["won_revenue"] == 12000.0


def test_importing_again_changes_nothing_and_an_edit_is_an_update(engine, tmp_path: Path):
    folder = tmp_path / "export"
    shutil.copytree(SAMPLE, folder)
    mapping.import_mapped(engine, folder, preset="salesforce")
    again = mapping.import_mapped(engine, folder, preset="salesforce")
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in again["counts"].values())
    assert again["counts"]["touches"] == {"inserted": 0, "updated": 0, "unchanged": 9, "skipped": 2}
    users = folder / "User.csv"
    users.write_text(users.read_text(encoding="utf-8").replace("Field Sales", "Enterprise"), encoding="utf-8")
    edited = mapping.import_mapped(engine, folder, preset="salesforce")
    assert edited["counts"]["owners"] == {"inserted": 0, "updated": 1, "unchanged": 2, "skipped": 0}


def test_a_trimmed_export_without_optional_files_and_columns_still_imports(engine, tmp_path: Path):
    folder = tmp_path / "export"
    folder.mkdir()
    leads = pd.read_csv(SAMPLE / "Lead.csv", dtype=str, keep_default_na=False)
    leads.drop(columns=["LastModifiedDate"]).to_csv(folder / "Lead.csv", index=False)
    report = mapping.import_mapped(engine, folder, preset="salesforce")
    assert storage.data_counts(engine) == {"owners": 0, "leads": 8, "touches": 0, "deals": 0}
    assert (
        "Lead.csv has no column LastModifiedDate; the values made from it keep what is stored (empty for new rows)."
        in report["warnings"]
    )
