"""HubSpot's limits and failures, served by the fake over HTTP: pacing, 429s, 5xx, dropped
connections, 401, 403, the DAILY limit, and the token never leaking anywhere."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from smarketing.core.frames import CrmData
from smarketing.sources.demo import generate_demo
from smarketing.sources.hubspot import RateLimit, last_sync, run_sync
from smarketing.sources.hubspot.client import HubSpotAuthError, HubSpotDailyLimit, HubSpotScopeError
from smarketing.sources.hubspot.ratelimit import busiest_window
from smarketing.store import storage
from tests.fake_hubspot import FakeHubSpot, build_portal
from tests.fake_hubspot.testing import (
    assert_db_matches,
    database_text,
    fast_fake,
    run_cli,
    settings_for,
    sqlite_bytes,
    sync_env,
)

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-05-20T15:00:00Z")


@pytest.fixture(scope="module")
def data() -> CrmData:
    return generate_demo(seed=11, months=1, now=NOW)


def test_pacing_keeps_under_the_fakes_own_limits(data, sqlite_url):
    """The fake answers 429 past 12 requests a second or 2 searches in half a second; the
    sync's limiter, set to the same limits, never makes it."""
    portal = build_portal(data)
    with FakeHubSpot(portal, rate_limit=(12, 1.0), search_rate_limit=(2, 0.5)) as fake:
        settings = settings_for(fake, portal, rate_limit=RateLimit(12, 1.0), search_rate_limit=RateLimit(2, 0.5))
        engine = storage.make_engine(sqlite_url)
        first = run_sync(engine, settings)
        portal.modify_contacts(list(portal.objects["contacts"])[:450])  # a few search pages next time
        second = run_sync(engine, settings)
        arrivals = [t for t, *_ in fake.log]
        searches = [t for t, _, path, _ in fake.log if path.endswith("/search")]
        assert fake.count(status=429) == 0 and first.throttled == second.throttled == 0
        assert first.waited_seconds > 0 and second.waited_seconds > 0  # the limits were binding
        assert busiest_window(arrivals, 1.0) <= 12 and busiest_window(searches, 0.5) <= 2
        assert second.search_requests >= 3
    assert_db_matches(sqlite_url, portal.truth())


def test_retries_429s_from_a_shared_limit_5xx_and_dropped_connections(data, sqlite_url):
    portal = build_portal(data)
    with fast_fake(portal) as fake:
        fake.fail(status=429, times=2, path="/crm/v3/objects/contacts")  # another app used the budget
        fake.fail(status=502, times=2, path="/crm/v3/objects/calls", method="GET")
        fake.fail(status=503, times=1, path="/crm/v3/pipelines")
        fake.fail(disconnect=True, times=2, path="/crm/v3/objects/emails")
        report = run_sync(storage.make_engine(sqlite_url), settings_for(fake, portal))
        assert report.status == "ok" and report.retries == 7 and report.throttled == 2
        # POST retries: search and batch association reads
        portal.modify_contacts(list(portal.objects["contacts"])[:10])
        portal.touch("calls", list(portal.objects["calls"])[:10])
        fake.fail(status=502, times=2, path="/search")
        fake.fail(status=500, times=1, path="/batch/read")
        again = run_sync(storage.make_engine(sqlite_url), settings_for(fake, portal))
        assert again.status == "ok" and again.retries == 3
    assert_db_matches(sqlite_url, portal.truth())


def test_a_server_that_keeps_failing_stops_with_one_sentence(data, sqlite_url):
    portal = build_portal(data)
    with fast_fake(portal) as fake:
        fake.fail(status=502, times=None, path="/crm/v3/objects/contacts")
        with pytest.raises(Exception) as caught:
            run_sync(storage.make_engine(sqlite_url), settings_for(fake, portal, max_retries=2))
        message = str(caught.value)
        assert "502" in message and "run the sync again later" in message and "\n" not in message
        assert fake.count(path="/crm/v3/objects/contacts") == 3  # the call and 2 retries
        assert last_sync(storage.make_engine(sqlite_url))["status"] == "failed"


def test_the_daily_limit_stops_the_sync_and_the_next_run_resumes(data, sqlite_url):
    portal = build_portal(data)
    engine = storage.make_engine(sqlite_url)
    budget = 18 + -(-len(portal.objects["contacts"]) // 50)  # and the contacts' lead-status history reads
    with fast_fake(portal, daily_limit=budget) as fake:
        # one type at a time: the contacts (3 list pages, 6 history reads) are surely committed before
        # the limit hits the activities, however the threads of parallel types would be scheduled
        settings = settings_for(fake, portal, parallel_types=1)
        with pytest.raises(HubSpotDailyLimit, match="daily API limit") as caught:
            run_sync(engine, settings)
        # a DAILY 429 is not retried; the other object types in flight stop at their next request
        assert 1 <= fake.count(status=429) <= settings.parallel_types
        assert caught.value.report.requests == fake.count() <= budget + settings.parallel_types
        saved = storage.data_counts(engine)
        assert saved["leads"] == len(portal.truth().leads)  # what was read before is kept
        fake.daily_limit = None  # midnight
        resumed = run_sync(engine, settings)
        assert resumed.fetched.get("contacts", 0) < len(portal.truth().leads)  # not read again
    assert_db_matches(sqlite_url, portal.truth())


def test_missing_scope_is_named_and_a_wrong_token_explained(data, sqlite_url, tmp_path):
    portal = build_portal(data)
    engine = storage.make_engine(sqlite_url)
    with fast_fake(portal) as fake:
        fake.revoke_scope("sales-email-read")
        with pytest.raises(HubSpotScopeError) as caught:
            run_sync(engine, settings_for(fake, portal))
        assert str(caught.value).startswith(
            "The HubSpot private app is missing the scope sales-email-read needed to list emails"
        )
        fake.scopes.add("sales-email-read")
        assert run_sync(engine, settings_for(fake, portal)).status == "ok"

        with pytest.raises(HubSpotAuthError, match="HUBSPOT_ACCESS_TOKEN") as caught:
            run_sync(engine, settings_for(fake, portal, access_token="pat-na1-revoked-token-0000"))
        assert "pat-na1-revoked-token-0000" not in str(caught.value)

        # the command line: exit code 2, one line on stderr, no traceback, no token
        done = run_cli(
            f"sqlite:///{tmp_path / 'cli.db'}", sync_env(fake, portal, HUBSPOT_ACCESS_TOKEN="pat-na1-wrong-0000")
        )
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith("error: HubSpot refused the access token") and done.stderr.count("\n") == 1
        assert "pat-na1-wrong-0000" not in done.stderr and "Traceback" not in done.stderr
    assert_db_matches(sqlite_url, portal.truth())


def test_the_token_never_reaches_the_database_logs_or_messages(data, sqlite_url, tmp_path, caplog):
    portal = build_portal(data)
    caplog.set_level(logging.DEBUG)  # every logger, urllib3 and hubspot included
    with fast_fake(portal) as fake:
        token = fake.token
        engine = storage.make_engine(sqlite_url)
        fake.fail(status=502, times=1, path="/crm/v3/objects/deals")
        report = run_sync(engine, settings_for(fake, portal))
        fake.fail(status=429, policy="DAILY", times=None)
        with pytest.raises(HubSpotDailyLimit) as caught:
            run_sync(engine, settings_for(fake, portal))
        fake.faults.clear()
        cli_url = f"sqlite:///{tmp_path / 'cli.db'}"
        done = run_cli(cli_url, sync_env(fake, portal))
        assert done.returncode == 0, done.stderr
    assert report.retries == 1
    for text in (
        caplog.text,
        str(caught.value),
        repr(caught.value.report),
        done.stdout,
        done.stderr,
        database_text(sqlite_url),
        database_text(cli_url),
    ):
        assert token not in text
    assert token.encode() not in sqlite_bytes(sqlite_url) + sqlite_bytes(cli_url)
    assert "GET /crm/v3/objects/deals" in caplog.text or "retrying" in caplog.text  # the logs did run
