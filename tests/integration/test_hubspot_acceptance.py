"""accepted_at / rejected_at from the history of HubSpot's lead-status property, over HTTP to the fake.

The fake contacts carry an `hs_lead_status` history (NEW at creation, sometimes
ATTEMPTED_TO_CONTACT, OPEN at the canonical accepted_at, sometimes IN_PROGRESS an hour later,
UNQUALIFIED at rejected_at) and the reason in `smk_rejection_reason`; `portal.truth()` holds the
first change to each set, which is what a correct sync stores.
"""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.sources.demo import generate_demo
from smarketing.sources.hubspot import run_sync
from smarketing.sources.hubspot.mapping import first_change_to
from smarketing.sources.hubspot.settings import settings_from_env
from smarketing.store import storage
from tests.fake_hubspot import build_portal
from tests.fake_hubspot.portal import now_ms
from tests.fake_hubspot.testing import assert_db_matches, fast_fake, settings_for

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-05-20T15:00:00Z")
HISTORY_PATH = "/crm/v3/objects/contacts/batch/read"


@pytest.fixture(scope="module")
def one_month():
    return generate_demo(seed=11, months=1, now=NOW)


def test_a_sync_reproduces_accepted_and_rejected_exactly_and_incrementally(one_month, db_url):
    portal = build_portal(one_month)
    truth = portal.truth()
    assert truth.leads["accepted_at"].notna().sum() > 10 and truth.leads["rejected_at"].notna().sum() > 3
    with fast_fake(portal) as fake:
        engine = storage.make_engine(db_url)
        assert run_sync(engine, settings_for(fake, portal)).status == "ok"
        assert_db_matches(db_url, truth)
        contacts = len(portal.objects["contacts"])
        assert fake.count(path=HISTORY_PATH) == -(-contacts // 50)  # 50 contacts a history read
        stored = storage.load_data(engine).leads.set_index("lead_id")
        assert stored["rejection_reason"].notna().sum() == truth.leads["rejected_at"].notna().sum()

        # a rep rejects one undecided lead: the next (incremental) run reads only that contact's history
        undecided = truth.leads.loc[truth.leads["accepted_at"].isna() & truth.leads["rejected_at"].isna(), "lead_id"]
        lead_id = str(undecided.iloc[0])
        at = now_ms()  # after the first run: the search phase finds it
        portal.set_lead_status(lead_id, "UNQUALIFIED", at, reason="duplicate")
        before = fake.count(path=HISTORY_PATH)
        assert run_sync(engine, settings_for(fake, portal)).status == "ok"
        assert fake.count(path=HISTORY_PATH) == before + 1
        assert_db_matches(db_url, portal.truth())
        row = storage.load_data(engine).leads.set_index("lead_id").loc[lead_id]
        assert row["rejected_at"] == pd.Timestamp(at, unit="ms", tz="UTC") and row["rejection_reason"] == "duplicate"


def test_without_a_lead_status_property_no_history_is_read(one_month, db_url):
    portal = build_portal(one_month)
    with fast_fake(portal) as fake:
        engine = storage.make_engine(db_url)
        assert run_sync(engine, settings_for(fake, portal, lead_status_property=None)).status == "ok"
        assert fake.count(path=HISTORY_PATH) == 0
        leads = storage.load_data(engine).leads
        assert leads["accepted_at"].isna().all() and leads["rejected_at"].isna().all()


def test_the_first_change_to_a_value_of_the_set_decides():
    history = [  # HubSpot lists the newest first
        {"value": "IN_PROGRESS", "timestamp": "2026-05-04T15:00:00.000Z"},
        {"value": "OPEN", "timestamp": "2026-05-04T14:00:00.000Z"},
        {"value": "ATTEMPTED_TO_CONTACT", "timestamp": "2026-05-04T13:00:00.000Z"},
        {"value": "NEW", "timestamp": "bad"},
    ]
    accepted = frozenset({"OPEN", "IN_PROGRESS", "CONNECTED"})
    assert first_change_to(history, accepted) == pd.Timestamp("2026-05-04T14:00:00Z").value // 1_000_000
    assert first_change_to(history, frozenset({"UNQUALIFIED"})) is None


def test_lead_status_settings_come_from_the_environment():
    env = {"HUBSPOT_ACCESS_TOKEN": "pat-na1-secret-token"}
    s = settings_from_env(env)
    assert (s.lead_status_property, s.accepted_statuses, s.rejected_statuses, s.rejection_reason_property) == (
        "hs_lead_status",
        ("OPEN", "IN_PROGRESS", "CONNECTED", "OPEN_DEAL"),
        ("UNQUALIFIED",),
        None,
    )
    s = settings_from_env(
        env
        | {
            "HUBSPOT_LEAD_STATUS_PROPERTY": "sales_verdict",
            "HUBSPOT_ACCEPTED_STATUSES": "Accepted, Working",
            "HUBSPOT_REJECTED_STATUSES": "Junk",
            "HUBSPOT_REJECTION_REASON_PROPERTY": "junk_reason",
        }
    )
    assert (s.lead_status_property, s.accepted_statuses, s.rejected_statuses, s.rejection_reason_property) == (
        "sales_verdict",
        ("Accepted", "Working"),
        ("Junk",),
        "junk_reason",
    )
    assert settings_from_env(env | {"HUBSPOT_LEAD_STATUS_PROPERTY": "none"}).lead_status_property is None
