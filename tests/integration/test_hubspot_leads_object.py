"""accepted_at / rejected_at / rejection_reason from HubSpot's Leads object, over HTTP to the fake.

With `build_portal(..., leads_object=True)` every contact has a Lead object whose
`hs_pipeline_stage` history holds the canonical decisions (and every seventh decided contact a
later, lower-numbered lead rejected for another reason, which must not decide), while the
contacts' own lead status stays NEW: only a sync that reads the Leads object reproduces
`portal.truth()`.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from smarketing.core.errors import UserError
from smarketing.sources.demo import generate_demo
from smarketing.sources.hubspot import HubSpotSettings, run_sync
from smarketing.sources.hubspot.client import HubSpotScopeError
from smarketing.sources.hubspot.settings import settings_from_env
from smarketing.store import storage, sync_writes
from tests.fake_hubspot import build_portal
from tests.fake_hubspot.portal import LEAD_IDS, now_ms
from tests.fake_hubspot.testing import (
    assert_db_matches,
    assert_same_data,
    fast_fake,
    kill_after_requests,
    run_cli,
    settings_for,
    sync_env,
)

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-05-20T15:00:00Z")
CONTACT_HISTORY = "/crm/v3/objects/contacts/batch/read"
LEAD_LIST = "/crm/v3/objects/leads"
LEAD_HISTORY = "/crm/v3/objects/leads/batch/read"
LEADS_MODE = {"acceptance_source": "leads_object"}


@pytest.fixture(scope="module")
def one_month():
    return generate_demo(seed=11, months=1, now=NOW)


def lists(fake) -> int:
    """Requests to the leads list endpoint itself (count(path=) also matches /search and /batch)."""
    return sum(1 for _, _, path, _ in list(fake.log) if path == LEAD_LIST)


def stored_leads(engine) -> pd.DataFrame:
    return storage.load_data(engine).leads.set_index("lead_id")


def lead_of(portal, contact_id: str) -> str:
    return portal.leads_of(contact_id)[-1]  # the contact's own lead (re-engagements have lower ids)


def stamp(at_ms: int) -> pd.Timestamp:
    return pd.Timestamp(at_ms, unit="ms", tz="UTC")


def test_a_leads_object_sync_reproduces_the_decisions_exactly_and_incrementally(one_month, db_url):
    portal = build_portal(one_month, leads_object=True)
    truth = portal.truth()
    assert truth.leads["accepted_at"].notna().sum() > 10 and truth.leads["rejected_at"].notna().sum() > 3
    relisted = [i for i in portal.objects["leads"] if int(i) < LEAD_IDS]
    assert relisted  # contacts with a later lead that is listed first
    with fast_fake(portal) as fake:
        engine = storage.make_engine(db_url)
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        assert report.status == "ok" and report.warnings == []
        assert_db_matches(db_url, truth)
        assert fake.count(path=CONTACT_HISTORY) == 0  # the contacts' lead status is not read
        leads = len(portal.objects["leads"])
        assert report.fetched["leads"] == leads
        assert lists(fake) == -(-leads // 50)  # listed with history: 50 a page
        assert fake.count(path=LEAD_HISTORY) == 0
        stored = stored_leads(engine)
        assert stored["rejection_reason"].notna().sum() == truth.leads["rejected_at"].notna().sum()
        assert "re-engaged, no budget" not in set(stored["rejection_reason"].dropna())

        # a rep accepts one undecided lead: the next run reads only that lead
        undecided = truth.leads.loc[truth.leads["accepted_at"].isna() & truth.leads["rejected_at"].isna(), "lead_id"]
        accepted_id, rejected_id = str(undecided.iloc[0]), str(undecided.iloc[1])
        at = now_ms()
        portal.set_lead_stage(lead_of(portal, accepted_id), "attempting-stage-id", at)
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        assert report.fetched["leads"] == 1 and report.saved["leads"]["updated"] == 1
        assert fake.count(path=LEAD_HISTORY) == 1  # the search found it; its history is one batch read
        assert_db_matches(db_url, portal.truth())
        row = stored_leads(engine).loc[accepted_id]
        assert row["accepted_at"] == stamp(at) and pd.isna(row["rejected_at"]) and pd.isna(row["rejection_reason"])

        # another is rejected with a reason, and an accepted one is moved to unqualified: both stamps
        accepted_only = truth.leads.loc[truth.leads["accepted_at"].notna() & truth.leads["rejected_at"].isna()]
        moved_id = str(accepted_only["lead_id"].iloc[0])
        first_accept = accepted_only["accepted_at"].iloc[0]
        portal.set_lead_stage(lead_of(portal, rejected_id), "unqualified-stage-id", at + 1, reason="student")
        portal.set_lead_stage(lead_of(portal, moved_id), "unqualified-stage-id", at + 2, reason="competitor")
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        # read: the two changed and, again, the one changed before (within the overlap before the cursor)
        assert report.fetched["leads"] == 3 and report.saved["leads"]["updated"] == 2
        assert_db_matches(db_url, portal.truth())
        stored = stored_leads(engine)
        rejected, moved = stored.loc[rejected_id], stored.loc[moved_id]
        assert pd.isna(rejected["accepted_at"]) and rejected["rejected_at"] == stamp(at + 1)
        assert rejected["rejection_reason"] == "student"
        assert moved["accepted_at"] == first_accept and moved["rejected_at"] == stamp(at + 2)
        assert moved["rejection_reason"] == "competitor"

        # a later lead on an accepted contact, rejected at once, changes nothing (the first decision stands)
        portal.add_lead([accepted_id], [("new-stage-id", at + 3), ("unqualified-stage-id", at + 4)], "duplicate")
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        assert report.fetched["leads"] == 4 and report.saved.get("leads", {}).get("updated", 0) == 0
        assert stored_leads(engine).loc[accepted_id, "accepted_at"] == stamp(at)
        assert_db_matches(db_url, portal.truth())


def test_a_contact_sync_in_leads_mode_does_not_clobber_the_decisions(one_month, sqlite_url):
    """The contacts' own lead status says nothing (NEW) and their reason property is empty: a
    contact sync writing the three columns would empty them."""
    portal = build_portal(one_month, leads_object=True)
    with fast_fake(portal) as fake:
        engine = storage.make_engine(sqlite_url)
        assert run_sync(engine, settings_for(fake, portal, **LEADS_MODE)).status == "ok"
        before = stored_leads(engine)
        assert before["accepted_at"].notna().sum() > 10
        portal.modify_contacts(segment="Enterprise")  # every contact changes; no lead does
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        assert report.fetched["contacts"] == len(portal.objects["contacts"]) and report.fetched.get("leads", 0) == 0
        assert report.saved["leads"]["updated"] == len(portal.objects["contacts"])
        after = stored_leads(engine)
        assert (after["segment"] == "Enterprise").all()
        for column in ("accepted_at", "rejected_at", "rejection_reason"):
            pd.testing.assert_series_equal(after[column], before[column])
        assert_db_matches(sqlite_url, portal.truth())

        # the contact property route, for comparison, reads the NEW-only history and empties them
        assert run_sync(engine, settings_for(fake, portal), full=True).status == "ok"
        assert stored_leads(engine)["accepted_at"].isna().all()
        # and switching back to the Leads object (its cursor is kept) re-reads every lead with --full
        assert run_sync(engine, settings_for(fake, portal, **LEADS_MODE), full=True).status == "ok"
        assert_db_matches(sqlite_url, portal.truth())


def test_a_lead_without_a_synced_contact_is_skipped_counted_and_retried_later(one_month, sqlite_url):
    portal = build_portal(one_month, leads_object=True)
    with fast_fake(portal) as fake:
        engine = storage.make_engine(sqlite_url)
        assert run_sync(engine, settings_for(fake, portal, **LEADS_MODE)).status == "ok"
        contacts = sorted(portal.objects["contacts"], key=int)
        gone, kept = contacts[0], contacts[1]
        sync_writes.delete_archived(engine, "contacts", [gone])  # in HubSpot, but not a stored lead
        at = now_ms()
        skipped = lead_of(portal, gone)
        portal.set_lead_stage(skipped, "unqualified-stage-id", at, reason="spam")
        lonely = portal.add_lead([], [("new-stage-id", at), ("connected-stage-id", at + 1)])  # no contact at all
        portal.set_lead_stage(lead_of(portal, kept), "unqualified-stage-id", at + 2, reason="student")
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        assert report.status == "ok" and report.fetched["leads"] == 3
        assert report.warnings == [
            "2 HubSpot leads have no associated contact among the synced leads and were skipped "
            "(retried at the next syncs)"
        ]
        stored = stored_leads(engine)
        assert gone not in stored.index and len(stored) == len(contacts) - 1  # no partial row was inserted
        assert stored.loc[kept, "rejection_reason"] == "student"
        cursor = json.loads(storage.all_cursors(engine)["hubspot:leads"])
        assert set(cursor["retry"]) == {skipped, lonely}

        # the contact is synced again (it changed in HubSpot); its lead, unchanged since, is retried
        portal.modify_contacts([gone])
        report = run_sync(engine, settings_for(fake, portal, **LEADS_MODE))
        assert report.status == "ok"
        assert report.warnings == [
            "1 HubSpot lead has no associated contact among the synced leads and was skipped "
            "(retried at the next syncs)"
        ]
        row = stored_leads(engine).loc[gone]
        assert row["rejected_at"] == stamp(at) and row["rejection_reason"] == "spam"
        assert set(json.loads(storage.all_cursors(engine)["hubspot:leads"])["retry"]) == {lonely}
        # every lead's decision as in HubSpot (the deleted contact's touches are not re-read: not compared)
        columns = ["accepted_at", "rejected_at", "rejection_reason"]
        truth = portal.truth().leads.set_index("lead_id").sort_index()[columns]
        pd.testing.assert_frame_equal(stored_leads(engine).sort_index()[columns], truth)


def test_a_missing_leads_scope_is_named(one_month, sqlite_url):
    portal = build_portal(one_month, leads_object=True)
    with fast_fake(portal) as fake:
        fake.revoke_scope("crm.objects.leads.read")
        with pytest.raises(HubSpotScopeError) as caught:
            run_sync(storage.make_engine(sqlite_url), settings_for(fake, portal, **LEADS_MODE))
        assert str(caught.value).startswith(
            "The HubSpot private app is missing the scope crm.objects.leads.read needed to list leads"
        )


def test_acceptance_settings_come_from_the_environment_and_an_impossible_source_is_one_sentence():
    env = {"HUBSPOT_ACCESS_TOKEN": "pat-na1-secret-token"}
    s = settings_from_env(env)
    assert (s.acceptance_source, s.leads_object) == ("contact_property", False)
    assert s.lead_accepted_stages == ("attempting-stage-id", "connected-stage-id", "qualified-stage-id")
    assert (s.lead_rejected_stages, s.lead_reason_property) == (
        ("unqualified-stage-id",),
        "hs_lead_disqualification_reason",
    )
    s = settings_from_env(
        env
        | {
            "HUBSPOT_ACCEPTANCE_SOURCE": " Leads_Object ",
            "HUBSPOT_LEAD_ACCEPTED_STAGES": "1234, 1235",
            "HUBSPOT_LEAD_REJECTED_STAGES": "1236",
            "HUBSPOT_LEAD_REASON_PROPERTY": "why_not",
        }
    )
    assert (s.acceptance_source, s.leads_object, s.lead_accepted_stages) == ("leads_object", True, ("1234", "1235"))
    assert (s.lead_rejected_stages, s.lead_reason_property) == (("1236",), "why_not")
    assert settings_from_env(env | {"HUBSPOT_LEAD_REASON_PROPERTY": "none"}).lead_reason_property is None

    expected = (
        "HUBSPOT_ACCEPTANCE_SOURCE 'lead_objects' is neither contact_property (the contacts' lead-status "
        "history) nor leads_object (HubSpot's Leads object)."
    )
    with pytest.raises(UserError) as caught:
        settings_from_env(env | {"HUBSPOT_ACCEPTANCE_SOURCE": "lead_objects"})
    assert str(caught.value) == expected
    with pytest.raises(UserError) as caught:
        HubSpotSettings(access_token="pat-na1-secret-token", acceptance_source="lead_objects")
    assert str(caught.value) == expected


def test_the_cli_names_an_impossible_acceptance_source_in_one_sentence(one_month, sqlite_url):
    portal = build_portal(one_month, leads_object=True)
    with fast_fake(portal) as fake:
        done = run_cli(sqlite_url, sync_env(fake, portal, HUBSPOT_ACCEPTANCE_SOURCE="leads"), timeout=120)
        assert fake.count() == 0
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "HUBSPOT_ACCEPTANCE_SOURCE 'leads' is neither contact_property" in done.stderr


def test_a_leads_sync_killed_halfway_resumes_to_the_same_decisions(one_month, tmp_path):
    portal = build_portal(one_month, leads_object=True)
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    killed_url = f"sqlite:///{tmp_path / 'killed.db'}"
    with fast_fake(portal, latency=0.02) as fake:  # slow enough to be killed between two lead batches
        env = sync_env(fake, portal, HUBSPOT_BATCH_ROWS="50", HUBSPOT_ACCEPTANCE_SOURCE="leads_object")
        done = run_cli(clean_url, env)
        assert done.returncode == 0, done.stderr
        assert lists(fake) == 6  # 300 leads, 50 a page: six batches
        # killed as soon as the first batch of leads is committed
        killed, _ = kill_after_requests(killed_url, env, fake, cursor="hubspot:leads")
        assert killed
        engine = storage.make_engine(killed_url)
        cursor = json.loads(storage.all_cursors(engine)["hubspot:leads"])
        assert cursor["mode"] == "list" and cursor["after"]  # halfway through the list
        partial = storage.load_data(engine).leads
        assert 0 < partial["accepted_at"].notna().sum() < portal.truth().leads["accepted_at"].notna().sum()
        done = run_cli(killed_url, env)
        assert done.returncode == 0, done.stderr
    clean = storage.load_data(storage.make_engine(clean_url))
    resumed = storage.load_data(storage.make_engine(killed_url))
    assert_same_data(clean, portal.truth())
    assert_same_data(resumed, clean)
