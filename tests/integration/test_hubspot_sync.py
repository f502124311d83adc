"""`sync hubspot` against the local fake HubSpot, through the real hubspot-api-client over HTTP.

The fake portal is generated from smarketing.sources.demo; `portal.truth()` is what a correct sync
stores. Nothing here patches the client: every call goes over a socket to the fake.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.frames import CrmData
from smarketing.sources.demo import DEMO_TERMS_TOML, demo_terms, generate_demo
from smarketing.sources.hubspot import last_sync, run_sync
from smarketing.store import storage
from smarketing.store.sync_writes import sync_lock
from tests.fake_hubspot import build_portal
from tests.fake_hubspot.portal import now_ms
from tests.fake_hubspot.testing import assert_db_matches, fast_fake, settings_for

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-05-20T15:00:00Z")


@pytest.fixture(scope="module")
def one_month() -> CrmData:
    return generate_demo(seed=11, months=1, now=NOW)


@pytest.fixture(scope="module")
def three_months() -> CrmData:
    return generate_demo(seed=7, months=3, now=NOW)


def test_sync_stores_the_portal_exactly_and_a_second_run_changes_nothing(one_month, db_url):
    portal = build_portal(one_month, multi_contact_share=0.05)
    with fast_fake(portal, inline_limit=1) as fake:  # inline associations paged past 1
        engine = storage.make_engine(db_url)
        events: list[dict] = []
        report = run_sync(engine, settings_for(fake, portal), progress=events.append)
        assert report.status == "ok" and not report.warnings
        assert_db_matches(db_url, portal.truth())
        # several contacts on one activity: one touch per contact
        touches = storage.load_data(engine).touches
        assert touches["touch_id"].str.split(":").str[0].duplicated().any()
        assert {e["object_type"] for e in events} >= {
            "owners",
            "contacts",
            "calls",
            "emails",
            "meetings",
            "notes",
            "tasks",
            "deals",
        }
        assert report.saved["touches"]["inserted"] == len(touches)

        # activities modified since: the search path, with multi-contact associations paged by v4
        multi = [i for i, cs in portal.contacts_of["emails"].items() if len(cs) > 1][:5]
        portal.touch("emails", multi)
        again = run_sync(engine, settings_for(fake, portal))
        assert again.status == "ok"
        assert not any(c["inserted"] or c["updated"] for c in again.saved.values())
        assert again.fetched.get("emails", 0) >= len(multi)
        assert_db_matches(db_url, portal.truth())
        assert fake.count(status=429) == 0 and fake.count(status=400) == 0

        info = last_sync(engine)
        assert info["status"] == "ok" and info["finished_at"]
        assert {c["mode"] for t, c in info["cursors"].items() if t != "owners"} == {"search"}


def test_more_than_10000_recently_modified_contacts(tmp_path):
    """A day's outage while a bulk workflow touched 10,500 contacts: one incremental run,
    5 dozen search pages, never a query near HubSpot's 10,000-result cap, 450 of them
    sharing one instant (paged by id)."""
    source = generate_demo(seed=3, months=6, n_leads=10_500, now=NOW)
    portal = build_portal(CrmData.of(owners=source.owners, leads=source.leads))
    ids = list(portal.objects["contacts"])
    base = now_ms() - 20_000
    stamps = [base + k for k in range(len(ids))]
    for k in range(3000, 3450):  # a bulk edit: 450 contacts modified in the same millisecond
        stamps[k] = base + 3000
    portal.modify_contacts(ids, at_ms=stamps, segment="Tier 2")
    db_url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = storage.make_engine(db_url)
    yesterday = {"v": 1, "mode": "search", "since": base - 86_400_000}
    storage.save_data(
        engine,
        CrmData(),
        source="hubspot",
        sync_cursors={f"hubspot:{t}": json.dumps(yesterday) for t in ("contacts", "deals")},
    )
    with fast_fake(portal) as fake:
        report = run_sync(engine, settings_for(fake, portal, activity_types=(), batch_rows=2500))
        assert report.status == "ok"
        assert report.fetched["contacts"] >= 10_500
        assert fake.count(path="/contacts/search") >= 10_500 // 200
        assert fake.count(status=400) == 0  # never paged past 10,000
    truth = portal.truth(activity_types=())
    assert len(truth.leads) == 10_500 and (truth.leads["segment"] == "Tier 2").all()
    assert_db_matches(db_url, truth)


def test_deletions_reach_the_tables_on_a_full_sync(one_month, sqlite_url):
    portal = build_portal(one_month)
    with fast_fake(portal) as fake:
        engine = storage.make_engine(sqlite_url)
        run_sync(engine, settings_for(fake, portal))
        contacts_with_deal = [cs[0] for cs in portal.contacts_of["deals"].values() if cs][:1]
        gone_contacts = contacts_with_deal + list(portal.objects["contacts"])[5:7]
        portal.archive("contacts", gone_contacts)
        portal.archive("calls", list(portal.objects["calls"])[:2])
        portal.archive("deals", list(portal.objects["deals"])[-1:])
        portal.archive_owner(next(iter(portal.owners)))
        # an email moved to another contact (HubSpot bumps its modified date) and a new owner
        email = next(iter(portal.objects["emails"]))
        new_contact = list(portal.objects["contacts"])[9]
        portal.set_activity_contacts("emails", email, [gone_contacts[-1], new_contact])
        portal.set_contact_owner(list(portal.objects["contacts"])[10], next(iter(portal.owners)))

        incremental = run_sync(engine, settings_for(fake, portal))
        stored = storage.load_data(engine)
        assert set(gone_contacts) <= set(stored.leads["lead_id"])  # search cannot see archived records
        # the email's rows follow its contacts: the archived contact is hidden, the old row went
        assert stored.touches.loc[stored.touches["touch_id"].str.startswith(f"{email}:"), "touch_id"].tolist() == [
            f"{email}:{new_contact}"
        ]
        assert incremental.deleted.get("touches", 0) >= 1

        full = run_sync(engine, settings_for(fake, portal), full=True)
        assert full.deleted.get("leads") == len(gone_contacts) and full.deleted.get("deals") == 1
    assert_db_matches(sqlite_url, portal.truth())


def test_two_syncs_never_run_at_once(one_month, db_url):
    portal = build_portal(one_month)
    with fast_fake(portal) as fake:
        engine = storage.make_engine(db_url)
        with sync_lock(engine):
            with pytest.raises(UserError, match="Another HubSpot sync is already running on this database"):
                run_sync(engine, settings_for(fake, portal))
        assert fake.count() == 0
        assert run_sync(engine, settings_for(fake, portal)).status == "ok"  # the lock was freed


def test_scorecards_after_a_sync_equal_scorecards_from_the_same_data_as_csv(three_months, tmp_path):
    portal = build_portal(three_months)
    synced_url = f"sqlite:///{tmp_path / 'synced.db'}"
    imported_url = f"sqlite:///{tmp_path / 'imported.db'}"
    synced = storage.make_engine(synced_url)
    with fast_fake(portal) as fake:
        run_sync(synced, settings_for(fake, portal))
    truth = portal.truth()
    tz = demo_terms().timezone
    storage.save_terms_version(synced, DEMO_TERMS_TOML, api.data_first_month(truth, tz), note="demo")
    imported = storage.make_engine(imported_url)
    report = api.import_directory(imported, portal.write_canonical_csvs(tmp_path / "csv", DEMO_TERMS_TOML))
    assert not report["warnings"]
    months = api.data_months(imported)
    assert months == api.data_months(synced) and len(months) >= 3
    for as_of in (NOW, NOW - pd.Timedelta(days=20)):
        for month in months:
            assert api.scorecard(synced, month, as_of) == api.scorecard(imported, month, as_of), month
    assert_db_matches(synced_url, storage.load_data(imported))
