"""HubSpot mapping, settings, pacing and error sentences: the pure parts of smarketing.sources.hubspot."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from smarketing.core.errors import UserError
from smarketing.sources.hubspot import RateLimit, settings_from_env
from smarketing.sources.hubspot.client import HubSpotClient, Record, Stage
from smarketing.sources.hubspot.mapping import (
    deals_frame,
    leads_frame,
    owners_frame,
    parse_instants,
    to_ms,
    touches_frame,
)
from smarketing.sources.hubspot.ratelimit import RateLimiter, busiest_window
from smarketing.sources.hubspot.settings import HubSpotSettings, scrub

pytestmark = pytest.mark.integration

TOKEN = "pat-na1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def test_instants_in_iso_and_epoch_milliseconds():
    warnings: list[str] = []
    got = parse_instants(
        ["2026-03-02T14:05:00.123Z", "1772460300123", "2026-03-02", "", None, "soon", "2026-03-02T09:05:00.123-05:00"],
        warnings,
        "test values",
    )
    assert got.iloc[0] == pd.Timestamp("2026-03-02T14:05:00.123Z")
    assert got.iloc[1] == pd.Timestamp("2026-03-02T14:05:00.123Z")
    assert got.iloc[2] == pd.Timestamp("2026-03-02T00:00:00Z")
    assert got.iloc[3:6].isna().all()
    assert got.iloc[6] == pd.Timestamp("2026-03-02T14:05:00.123Z")
    assert str(got.dtype) == "datetime64[ns, UTC]"
    assert warnings == ["1 test values were not instants (for example 'soon') and were left empty"]
    assert to_ms("2026-03-02T14:05:00.123Z") == to_ms("1772460300123") == 1772460300123


def test_contacts_become_leads_with_lifecycle_dates_segment_and_source():
    record = Record(
        "101",
        {
            "createdate": "2026-01-05T10:00:00Z",
            "lastmodifieddate": "1772460300123",
            "hs_lifecyclestage_marketingqualifiedlead_date": "2026-01-06T10:00:00.000Z",
            "hs_lifecyclestage_salesqualifiedlead_date": None,
            "hs_lifecyclestage_customer_date": "",
            "hubspot_owner_id": "7",
            "hubspot_owner_assigneddate": "1767693600000",
            "hs_analytics_source": "ORGANIC_SEARCH",
            "lead_tier": "Enterprise",
            "dq": "2026-02-01T00:00:00Z",
        },
    )
    bare = Record("102", {"createdate": "2026-01-05T10:00:00Z", "hs_analytics_source": "SOMETHING_NEW"})
    frame = leads_frame([record, bare], "lead_tier", "dq")
    first, second = frame.iloc[0], frame.iloc[1]
    assert first.lead_id == "101" and first.owner_id == "7" and first.segment == "Enterprise"
    assert first.source == "Organic Search" and second.source == "SOMETHING_NEW"
    assert first.mql_at == pd.Timestamp("2026-01-06T10:00:00Z")
    assert first.assigned_at == pd.Timestamp(1767693600000, unit="ms", tz="UTC")
    assert pd.isna(first.sql_at) and pd.isna(first.customer_at)
    assert first.disqualified_at == pd.Timestamp("2026-02-01T00:00:00Z")
    assert second.segment == "all"  # no segment: segment `all`
    assert leads_frame([record], None, None).iloc[0].segment == "all"


def test_touches_one_row_per_contact_with_directions_and_automation():
    calls = [
        Record(
            "1",
            {"hs_timestamp": "2026-01-06T11:00:00Z", "hubspot_owner_id": "7", "hs_call_direction": "INBOUND"},
            {"contacts": ["101", "102"]},
        ),
        Record("2", {"hs_timestamp": "1767697200000", "hs_call_direction": "OUTBOUND"}, {"contacts": ["101"]}),
        Record("3", {"hs_timestamp": "2026-01-06T11:00:00Z"}, {}),  # no contact: no touch
    ]
    frame = touches_frame("calls", calls)
    assert frame["touch_id"].tolist() == ["1:101", "1:102", "2:101"]
    assert frame["direction"].tolist() == ["inbound", "inbound", "outbound"]
    assert (frame["kind"] == "call").all()
    emails = [
        Record(
            str(i),
            {"hs_timestamp": "2026-01-06T11:00:00Z", "hs_email_direction": d, "hs_engagement_source": src},
            {"contacts": ["101"]},
        )
        for i, (d, src) in enumerate(
            [
                ("EMAIL", "CRM_UI"),
                ("INCOMING_EMAIL", "EMAIL_INTEGRATION"),
                ("FORWARDED_EMAIL", "AUTOMATION_PLATFORM"),
                (None, "SEQUENCES"),
            ]
        )
    ]
    frame = touches_frame("emails", emails, ["AUTOMATION_PLATFORM", "SEQUENCES"])
    assert frame["direction"].tolist() == ["outbound", "inbound", "outbound", "outbound"]
    assert frame["automated"].tolist() == [False, False, True, True]
    other = touches_frame("communications", emails[:1])
    assert other["kind"].tolist() == ["other"]
    warnings: list[str] = []
    missing = touches_frame("notes", [Record("9", {"hs_timestamp": None}, {"contacts": ["1"]})], warnings=warnings)
    assert missing.empty and warnings == ["1 notes without hs_timestamp were skipped"]


def test_deal_status_from_flags_else_stage_metadata_and_first_contact():
    stages = [
        Stage("default", "won", "Won", True, 1.0),
        Stage("default", "lost", "Lost", True, 0.0),
        Stage("default", "demo", "Demo", False, 0.4),
    ]
    base = {
        "amount": "1200.5",
        "createdate": "2026-01-01T00:00:00Z",
        "closedate": "2026-02-01T00:00:00Z",
        "pipeline": "default",
        "hubspot_owner_id": "7",
    }
    deals = [
        Record("1", {**base, "hs_is_closed_won": "true", "hs_is_closed": "true"}, {"contacts": ["30", "4", "200"]}),
        Record("2", {**base, "hs_is_closed_won": "false", "hs_is_closed": "true", "dealstage": "lost"}),
        Record("3", {**base, "hs_is_closed_won": "false", "hs_is_closed": "false", "dealstage": "demo"}),
        Record("4", {**base, "dealstage": "won"}),  # flags not computed: from the stage
        Record("5", {**base, "dealstage": "lost"}),
        Record("6", {**base, "dealstage": "demo", "amount": ""}),
    ]
    frame = deals_frame(deals, stages)
    assert frame["status"].tolist() == ["won", "lost", "open", "won", "lost", "open"]
    assert frame["lead_id"].iloc[0] == "4"  # the lowest contact id
    assert pd.isna(frame["lead_id"].iloc[1])
    assert frame["amount"].iloc[0] == 1200.5 and pd.isna(frame["amount"].iloc[5])
    assert frame["closed_at"].iloc[0] == pd.Timestamp("2026-02-01T00:00:00Z")
    assert pd.isna(frame["closed_at"].iloc[2])  # an open deal's closedate is only expected


def test_owners_with_primary_team_and_archived_inactive():
    frame = owners_frame(
        [
            {
                "id": "1",
                "first_name": "Maya",
                "last_name": "Patel",
                "email": "m@x",
                "archived": False,
                "teams": [{"name": "West", "primary": False}, {"name": "East", "primary": True}],
            },
            {"id": "2", "first_name": None, "last_name": None, "email": "q@x", "archived": True, "teams": []},
        ]
    )
    assert frame.to_dict("records") == [
        {"owner_id": "1", "name": "Maya Patel", "email": "m@x", "team": "East", "active": True},
        {"owner_id": "2", "name": "q@x", "email": "q@x", "team": None, "active": False},
    ]


def test_settings_from_environment_and_secrets():
    env = {
        "HUBSPOT_ACCESS_TOKEN": TOKEN,
        "HUBSPOT_API_BASE": "http://127.0.0.1:9/",
        "HUBSPOT_RATE_LIMIT": "150/10",
        "HUBSPOT_ACTIVITY_TYPES": "calls, emails",
        "HUBSPOT_TIMEOUT": "5,30",
    }
    settings = settings_from_env(env)
    assert settings.api_base == "http://127.0.0.1:9" and settings.rate_limit == RateLimit(150, 10.0)
    assert settings.activity_types == ("calls", "emails") and (settings.connect_timeout, settings.read_timeout) == (
        5,
        30,
    )
    assert TOKEN not in repr(settings)
    from_secrets = settings_from_env({}, secrets={"access_token": TOKEN, "segment_property": "lead_tier"})
    assert from_secrets.access_token == TOKEN and from_secrets.segment_property == "lead_tier"
    with pytest.raises(UserError, match="Set HUBSPOT_ACCESS_TOKEN"):
        settings_from_env({})
    for bad, name in (
        ({"HUBSPOT_RATE_LIMIT": "fast"}, "HUBSPOT_RATE_LIMIT"),
        ({"HUBSPOT_ACTIVITY_TYPES": "calls,faxes"}, "faxes"),
        ({"HUBSPOT_API_BASE": "api.hubapi.com"}, "HUBSPOT_API_BASE"),
    ):
        with pytest.raises(UserError, match=name):
            settings_from_env({"HUBSPOT_ACCESS_TOKEN": TOKEN, **bad})


def test_scrub_hides_tokens():
    HubSpotSettings(access_token="my-very-secret-token")
    assert scrub("oops my-very-secret-token leaked") == "oops *** leaked"
    assert scrub("Authorization: Bearer abc.def-123") == "Authorization: Bearer ***"
    assert scrub("token pat-na1-1234abcd-aa11-bb22 here") == "token *** here"


def test_limiter_never_lets_more_than_the_limit_into_any_window():
    limiter = RateLimiter(RateLimit(5, 0.2), RateLimit(2, 0.1))
    sent: list[float] = []
    searched: list[float] = []
    lock = threading.Lock()

    def worker(search: bool) -> None:
        for _ in range(8):
            ticket = limiter.acquire(search=search)
            with lock:
                (searched if search else sent).append(time.monotonic())
            time.sleep(0.003)  # the "request"
            limiter.release(ticket)

    threads = [threading.Thread(target=worker, args=(k % 2 == 0,)) for k in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert busiest_window(sent + searched, 0.2) <= 5
    assert busiest_window(searched, 0.1) <= 2
    assert limiter.stats.requests == 32 and limiter.stats.search_requests == 16
    assert time.monotonic() - started >= 0.2 * (32 // 5) * 0.9  # it really paced


def test_error_sentences_name_scope_policy_and_token_problems():
    client = HubSpotClient(HubSpotSettings(access_token=TOKEN, api_base="http://127.0.0.1:9"))

    class Failure(Exception):
        def __init__(self, status: int, body: str):
            self.status, self.body, self.reason = status, body, "Reason"

    scope = client.explain(
        Failure(
            403,
            '{"category": "MISSING_SCOPES", "errors": [{"context": {"requiredGranularScopes": ["sales-email-read"]}}]}',
        ),
        "list emails",
        "x",
    )
    assert "sales-email-read" in str(scope) and scope.kind == "scope"
    assert "crm.objects.deals.read" in str(client.explain(Failure(403, "{}"), "list deals", "crm.objects.deals.read"))
    daily = client.explain(Failure(429, '{"policyName": "DAILY", "errorType": "RATE_LIMIT"}'), "search contacts", "x")
    assert daily.kind == "daily" and "daily" in str(daily)
    auth = client.explain(Failure(401, '{"category": "INVALID_AUTHENTICATION"}'), "read owners", "x")
    assert auth.kind == "auth" and "HUBSPOT_ACCESS_TOKEN" in str(auth)
    for error in (scope, daily, auth):
        text = str(error)
        assert text.count(". ") == 0 and text.endswith(".") and "\n" not in text and TOKEN not in text
