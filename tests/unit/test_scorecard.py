"""Scorecard assembly (DESIGN section 7): JSON shapes, ISO offsets, as-of reproducibility."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from smarketing.core.frames import CrmData
from smarketing.core.sales import lead_ledger
from smarketing.core.scorecard import LEDGER_COLUMNS, build_scorecard, build_scorecards, ledger_records
from smarketing.core.terms import TermsVersion, terms_for_month

pytestmark = pytest.mark.unit

NY = "America/New_York"
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")

SCORECARD_KEYS = {"month", "as_of", "marketing", "sales", "funnel"}
MARKETING_KEYS = {
    "quota",
    "mqls",
    "attainment",
    "elapsed_fraction",
    "expected_to_date",
    "pace",
    "projected",
    "required_daily_rate",
    "status",
    "by_segment",
}
SEGMENT_KEYS = {"segment", "quota", "mqls"}
FIRST_TOUCH_KEYS = {"met", "breached", "pending", "compliance", "median_hours", "p90_hours", "status", "budget_left"}
ATTEMPTS_KEYS = {"met", "breached", "pending", "compliance", "status", "budget_left"}
OWNER_KEYS = {
    "owner_id",
    "name",
    "team",
    "leads",
    "first_touch_met",
    "first_touch_breached",
    "first_touch_pending",
    "first_touch_compliance",
    "median_hours",
}
FUNNEL_KEYS = {"mqls", "sqls", "customers", "won_deals", "won_revenue"}
LEDGER_KEYS = {
    "lead_id",
    "owner_id",
    "segment",
    "mql_at",
    "clock_start",
    "first_touch_deadline",
    "first_touch_at",
    "response_hours",
    "first_touch_status",
    "attempts",
    "attempts_deadline",
    "attempts_status",
}


def _base(make_data):
    """A small March-May 2026 book: owners, leads in three months, touches, deals."""
    return make_data(
        owners=[
            {"owner_id": "o1", "name": "Ann", "team": "East", "active": True},
            {"owner_id": "o2", "name": "Bob", "team": "West", "active": True},
        ],
        leads=[
            # Fri before the spring DST jump: deadline Mon 03-09 11:00 EDT; window end Fri 03-20 15:00.
            {
                "lead_id": "dst",
                "owner_id": "o1",
                "segment": "A",
                "source": "web",
                "mql_at": "2026-03-06 15:00",
                "assigned_at": "2026-03-06 15:30",
            },
            {
                "lead_id": "m2",
                "owner_id": "o2",
                "segment": "B",
                "source": "event",
                "mql_at": "2026-03-10 10:00",
                "sql_at": "2026-03-12 10:00",
            },
            {
                "lead_id": "m3",
                "owner_id": "o1",
                "segment": "B",
                "mql_at": "2026-03-31 23:30",
                "assigned_at": "2026-04-01 10:00",
            },
            {
                "lead_id": "a1",
                "owner_id": "o2",
                "segment": "A",
                "mql_at": "2026-04-06 09:00",
                "customer_at": "2026-04-20 10:00",
            },
            {"lead_id": "a2", "segment": "A", "mql_at": "2026-04-07 16:00"},
            {"lead_id": "y1", "owner_id": "o1", "mql_at": "2026-05-04 09:00"},
        ],
        touches=[
            {"lead_id": "dst", "occurred_at": "2026-03-09 10:00"},
            {"lead_id": "dst", "occurred_at": "2026-03-10 10:00", "kind": "email"},
            {"lead_id": "m2", "occurred_at": "2026-03-10 15:00"},
            {"lead_id": "m2", "occurred_at": "2026-03-10 16:00", "direction": "inbound"},
            {"lead_id": "m3", "occurred_at": "2026-04-01 11:00"},
            {"lead_id": "a1", "occurred_at": "2026-04-06 10:00"},
            {"lead_id": "a1", "occurred_at": "2026-04-07 10:00"},
            {"lead_id": "y1", "occurred_at": "2026-05-04 16:00"},
        ],
        deals=[
            {"lead_id": "m2", "amount": 1200, "created_at": "2026-03-12 10:00", "closed_at": "2026-03-25 10:00"},
            {"lead_id": "a1", "amount": 3000, "created_at": "2026-04-10 10:00", "closed_at": "2026-04-20 10:00"},
            {"lead_id": "m3", "amount": 500, "created_at": "2026-04-02 10:00", "status": "open"},
        ],
    )


# -- shapes --------------------------------------------------------------------------------------


def test_scorecard_json_has_every_documented_key(make_data, ny_terms, at):
    card = build_scorecard(_base(make_data), ny_terms(), "2026-03", at("2026-04-15 12:00"))
    json.dumps(card, allow_nan=False)  # plain JSON, no NaN
    assert card.keys() >= SCORECARD_KEYS
    assert card["month"] == "2026-03"
    assert card["marketing"].keys() >= MARKETING_KEYS
    assert card["marketing"]["by_segment"] and all(r.keys() >= SEGMENT_KEYS for r in card["marketing"]["by_segment"])
    assert card["sales"]["first_touch"].keys() >= FIRST_TOUCH_KEYS
    assert card["sales"]["attempts"].keys() >= ATTEMPTS_KEYS
    assert card["sales"]["by_owner"] and all(r.keys() >= OWNER_KEYS for r in card["sales"]["by_owner"])
    assert card["funnel"].keys() >= FUNNEL_KEYS


def test_scorecard_numbers(make_data, ny_terms, at):
    # March as of 04-15 12:00 EDT: MQLs dst, m2, m3 (03-31 23:30 local) = 3.
    # dst: touch Mon 03-09 10:00 EDT → 2 h Fri + 1 h = 3.0 h, met.
    # m2: MQL Tue 10:00, touch 15:00 → 5.0 h, breached.
    # m3: clock Wed 04-01 09:00, touch 11:00 → 2.0 h, met.
    # first touch: met 2, breached 1, compliance 2/3; median of [2, 3, 5] = 3; p90 = 3 + 0.8 × 2 = 4.6.
    # Month over, nothing pending: 2/3 < 0.9 → missed; allowed floor(0.1 × 3) = 0 → budget −1.
    # attempts: dst 2 attempts by 03-20 15:00, no conversion → breached; m2 converted (sql 03-12)
    # → met; m3 window (80 h from 04-01 09:00 → Tue 04-14 17:00) ended before as_of, 1 attempt, the
    # open deal created 04-02 converts it → met. met 2, breached 1; allowed floor(0.2 × 3) = 0 →
    # missed, budget −1.
    # funnel: 3 MQLs, SQLs: m2 = 1, customers 0; won in March: m2's 1200.
    card = build_scorecard(_base(make_data), ny_terms(), "2026-03", at("2026-04-15 12:00"))
    ft, att, fun = card["sales"]["first_touch"], card["sales"]["attempts"], card["funnel"]
    assert (ft["met"], ft["breached"], ft["pending"]) == (2, 1, 0)
    assert ft["compliance"] == pytest.approx(2 / 3)
    assert ft["median_hours"] == pytest.approx(3.0)
    assert ft["p90_hours"] == pytest.approx(4.6)
    assert (ft["status"], ft["budget_left"]) == ("missed", -1)
    assert (att["met"], att["breached"], att["pending"], att["status"], att["budget_left"]) == (2, 1, 0, "missed", -1)
    assert (fun["mqls"], fun["sqls"], fun["customers"], fun["won_deals"]) == (3, 1, 0, 1)
    assert fun["won_revenue"] == pytest.approx(1200)
    assert card["marketing"]["mqls"] == 3
    assert {r["owner_id"]: r["leads"] for r in card["sales"]["by_owner"]} == {"o1": 2, "o2": 1}
    o1 = next(r for r in card["sales"]["by_owner"] if r["owner_id"] == "o1")
    assert (o1["name"], o1["team"], o1["first_touch_met"], o1["median_hours"]) == ("Ann", "East", 2, 2.5)


def test_scorecard_as_of_in_local_offset(make_data, ny_terms, at):
    card = build_scorecard(_base(make_data), ny_terms(), "2026-03", at("2026-04-15 12:00"))
    assert card["as_of"] == "2026-04-15T12:00:00-04:00"
    card = build_scorecard(_base(make_data), ny_terms(), "2026-03", at("2026-03-02 12:00"))
    assert card["as_of"] == "2026-03-02T12:00:00-05:00"


def test_empty_month_scorecard(make_data, ny_terms, at):
    card = build_scorecard(_base(make_data), ny_terms(), "2026-08", at("2026-08-10 12:00"))
    json.dumps(card, allow_nan=False)
    assert card["sales"]["first_touch"]["status"] == "no_data"
    assert card["sales"]["attempts"]["status"] == "no_data"
    assert card["sales"]["first_touch"]["median_hours"] is None
    assert card["sales"]["by_owner"] == []
    assert card["marketing"]["mqls"] == 0


def test_ledger_records(make_data, ny_terms, at):
    # dst: MQL 03-06 15:00 EST; clock at the MQL; deadline Mon 03-09 11:00 EDT; first touch Mon
    # 10:00 EDT = 3.0 h (met); two attempts; window end Fri 03-20 15:00 EDT (2 h Fri + 9 full days
    # + 6 h); as of 04-15 the window is over with 2 < 5 → breached.
    ledger = lead_ledger(_base(make_data), ny_terms(), at("2026-04-15 12:00"), "2026-03")
    records = ledger_records(ledger, NY)
    json.dumps(records, allow_nan=False)
    assert [r["lead_id"] for r in records] == ["dst", "m2", "m3"]
    assert all(set(r) >= LEDGER_KEYS for r in records)
    dst = records[0]
    # Without acceptance_hours and exclusions, the version 2 keys are null / empty.
    assert {k: dst[k] for k in ("accepted_at", "acceptance_status", "excluded_from")} == {
        "accepted_at": None,
        "acceptance_status": None,
        "excluded_from": [],
    }
    assert {k: dst[k] for k in LEDGER_COLUMNS[:12]} == {
        "lead_id": "dst",
        "owner_id": "o1",
        "segment": "A",
        "mql_at": "2026-03-06T15:00:00-05:00",
        "clock_start": "2026-03-06T15:00:00-05:00",
        "first_touch_deadline": "2026-03-09T11:00:00-04:00",
        "first_touch_at": "2026-03-09T10:00:00-04:00",
        "response_hours": 3.0,
        "first_touch_status": "met",
        "attempts": 2,
        "attempts_deadline": "2026-03-20T15:00:00-04:00",
        "attempts_status": "breached",
    }
    assert isinstance(dst["attempts"], int) and isinstance(dst["response_hours"], float)
    for r in records:
        for key in ("mql_at", "clock_start", "first_touch_deadline", "first_touch_at", "attempts_deadline"):
            assert r[key] is None or ISO_WITH_OFFSET.match(r[key]), (key, r[key])
    # m3 (03-31 23:30 EDT) is shown in local time, not as the UTC 04-01 03:30.
    assert records[2]["mql_at"] == "2026-03-31T23:30:00-04:00"


def test_ledger_records_nulls(make_data, ny_terms, at):
    # An untouched lead: first_touch_at and response_hours are null, not NaN.
    data = make_data(leads=[{"lead_id": "z", "mql_at": "2026-05-04 09:00"}])
    (rec,) = ledger_records(lead_ledger(data, ny_terms(), at("2026-05-04 10:00")), NY)
    assert rec["first_touch_at"] is None and rec["response_hours"] is None and rec["owner_id"] is None
    assert rec["first_touch_status"] == "pending" and rec["attempts"] == 0
    assert set(LEDGER_COLUMNS) >= LEDGER_KEYS


# -- build_scorecards == build_scorecard per month ------------------------------------------------


def test_build_scorecards_matches_build_scorecard(make_data, ny_terms, at):
    versions = [
        TermsVersion("2026-01", ny_terms(mql_quota=3), 1),
        TermsVersion(
            "2026-04", ny_terms(mql_quota=5, first_touch_hours={"A": 1, "default": 8}, clock_starts="assignment"), 2
        ),
    ]
    data = _base(make_data)
    months = ["2026-02", "2026-03", "2026-04", "2026-05"]
    for as_of in ("2026-04-01 10:30", "2026-04-15 12:00", "2026-06-01 00:00"):
        cards = build_scorecards(data, versions, months, at(as_of))
        assert list(cards) == months
        for month in months:
            single = build_scorecard(data, terms_for_month(versions, month), month, at(as_of))
            assert cards[month] == single, (as_of, month)
    # April uses the second version: quota 5.
    assert build_scorecards(data, versions, ["2026-04"], at("2026-04-15 12:00"))["2026-04"]["marketing"]["quota"] == 5


def test_commitments_only_cards_hold_the_full_cards_commitments_on_generated_data():
    """History cards (issue 17) skip the funnel and the by-owner table; everything else, and so
    the consequences, are those of the full cards."""
    from smarketing.core.consequences import consequences
    from smarketing.sources.demo import demo_terms, generate_demo

    now = pd.Timestamp("2026-11-22T15:00:00Z")
    data = generate_demo(seed=5, months=8, now=now, n_leads=4000)
    versions = [TermsVersion("2026-01", demo_terms(), 1)]
    months = [f"2026-{m:02d}" for m in range(4, 12)]
    for as_of in (now, pd.Timestamp("2026-09-03T13:30:00Z")):
        full = build_scorecards(data, versions, months, as_of)
        lean = build_scorecards(data, versions, months, as_of, commitments_only=True)
        for month in months:
            expected = {k: v for k, v in full[month].items() if k != "funnel"}
            expected["sales"] = {k: v for k, v in expected["sales"].items() if k != "by_owner"}
            assert lean[month] == expected, (as_of, month)
            assert consequences(lean, month, demo_terms()) == consequences(full, month, demo_terms())


# -- data after as_of changes nothing ---------------------------------------------------------------


def _with_future(make_data, base: CrmData, as_of: str) -> CrmData:
    """The base data plus things that only happen after as_of (all in the future of every as_of
    used below, i.e. after 2026-05-05 12:00): late touches, new leads, late stage changes,
    late assignments, late deals."""
    future = make_data(
        leads=[
            {"lead_id": "f1", "owner_id": "o1", "segment": "A", "mql_at": "2026-05-06 09:00"},
            {
                "lead_id": "f2",
                "owner_id": "o2",
                "segment": "B",
                "mql_at": "2026-05-20 09:00",
                "sql_at": "2026-05-21 09:00",
                "customer_at": "2026-05-22 09:00",
            },
        ],
        touches=[
            {"touch_id": "ft1", "lead_id": "y1", "occurred_at": "2026-05-06 10:00"},
            {"touch_id": "ft2", "lead_id": "a2", "occurred_at": "2026-05-06 11:00"},
            {"touch_id": "ft3", "lead_id": "dst", "occurred_at": "2026-05-07 10:00"},
            {"touch_id": "ft4", "lead_id": "f1", "occurred_at": "2026-05-06 09:30"},
        ],
        deals=[
            {
                "deal_id": "fd1",
                "lead_id": "y1",
                "amount": 900,
                "created_at": "2026-05-06 10:00",
                "closed_at": "2026-05-08 10:00",
            },
            {
                "deal_id": "fd2",
                "lead_id": "a2",
                "amount": 700,
                "created_at": "2026-05-07 10:00",
                "closed_at": "2026-05-15 10:00",
            },
        ],
    )
    leads = base.leads.set_index("lead_id").copy()
    # Later stage changes and assignment of leads that had none.
    leads.loc["y1", "sql_at"] = pd.Timestamp("2026-05-06 15:00", tz=NY).tz_convert("UTC")
    leads.loc["a2", "customer_at"] = pd.Timestamp("2026-05-08 15:00", tz=NY).tz_convert("UTC")
    leads.loc["a2", "assigned_at"] = pd.Timestamp("2026-05-06 15:00", tz=NY).tz_convert("UTC")
    leads.loc["y1", "assigned_at"] = pd.Timestamp("2026-05-05 12:00:01", tz=NY).tz_convert("UTC")
    leads = leads.reset_index()
    return CrmData(
        owners=base.owners,
        leads=pd.concat([leads, future.leads], ignore_index=True),
        touches=pd.concat([base.touches, future.touches], ignore_index=True),
        deals=pd.concat([base.deals, future.deals], ignore_index=True),
    )


AS_OFS = ["2026-03-09 10:30", "2026-04-01 10:00", "2026-04-15 12:00", "2026-05-04 12:00", "2026-05-05 12:00"]


@pytest.mark.parametrize("clock", ["mql", "assignment"])
@pytest.mark.parametrize("as_of", AS_OFS)
def test_future_data_changes_no_scorecard(make_data, ny_terms, at, as_of, clock):
    base = _base(make_data)
    more = _with_future(make_data, base, as_of)
    terms = ny_terms(clock_starts=clock)
    for month in ("2026-03", "2026-04", "2026-05"):
        assert build_scorecard(more, terms, month, at(as_of)) == build_scorecard(base, terms, month, at(as_of)), month


@pytest.mark.parametrize("clock", ["mql", "assignment"])
@pytest.mark.parametrize("as_of", AS_OFS)
def test_future_data_changes_no_ledger_row(make_data, ny_terms, at, as_of, clock):
    base = _base(make_data)
    more = _with_future(make_data, base, as_of)
    terms = ny_terms(clock_starts=clock)
    before = lead_ledger(base, terms, at(as_of))
    after = lead_ledger(more, terms, at(as_of))
    pd.testing.assert_frame_equal(after, before)


# -- evidence (v2) ----------------------------------------------------------------------------------


def test_source_without_touches_is_no_activity_data(make_data, ny_terms, at):
    data = _base(make_data)
    no_touches = CrmData.of(leads=data.leads, deals=data.deals, owners=data.owners)
    card = build_scorecard(no_touches, ny_terms(), "2026-03", at("2026-04-15 12:00"))
    json.dumps(card, allow_nan=False)
    assert card["sales"]["has_activities"] is False
    for side in ("first_touch", "attempts"):
        assert card["sales"][side]["status"] == "no_activity_data"
        assert card["sales"][side]["compliance"] is None


def test_month_slice_without_touches_is_judged_when_the_source_has_some(make_data, ny_terms, at):
    # A partial load: this month's leads have no touches, but the source does → breached, not
    # no_activity_data. m2 (converted by sql_at) still meets attempts.
    data = _base(make_data)
    sliced = CrmData.of(leads=data.leads, deals=data.deals, owners=data.owners)
    sliced.source_has_touches = True
    card = build_scorecard(sliced, ny_terms(), "2026-03", at("2026-04-15 12:00"))
    assert card["sales"]["has_activities"] is True
    assert (card["sales"]["first_touch"]["breached"], card["sales"]["first_touch"]["status"]) == (3, "missed")


def test_earlier_mqls_of_a_partial_load_make_the_prior(make_data, ny_terms, at):
    # The loaded month has no February leads; earlier_mqls holds 6 of them → prior 6.
    data = _base(make_data)
    data.earlier_mqls = pd.DataFrame(
        {
            "lead_id": [f"f{i}" for i in range(6)],
            "mql_at": pd.to_datetime(["2026-02-10 15:00"] * 6, utc=True),
            "segment": ["all"] * 6,
        }
    )
    card = build_scorecard(data, ny_terms(), "2026-03", at("2026-03-10 12:00"))
    assert card["marketing"]["prior"] == 6


def test_scorecard_has_the_v2_evidence_keys(make_data, ny_terms, at):
    card = build_scorecard(_base(make_data), ny_terms(), "2026-03", at("2026-04-15 12:00"))
    assert "prior" in card["marketing"]
    assert "needed_of_pending" in card["sales"]["first_touch"] and "needed_of_pending" in card["sales"]["attempts"]
    assert card["funnel"]["won_deals_without_amount"] == 0


def test_scoped_scorecard_counts_only_the_teams_leads() -> None:
    from smarketing.core.frames import CrmData
    from smarketing.core.lead_filter import LeadFilter
    from smarketing.core.scorecard import scoped_scorecard
    from smarketing.core.terms import Terms

    mql = pd.Timestamp("2026-03-02T15:00Z")  # a Monday, 10:00 in New York
    data = CrmData.of(
        owners=pd.DataFrame({"owner_id": ["o1", "o2", "o3"], "team": ["East", "East", "West"]}),
        leads=pd.DataFrame(
            {
                "lead_id": ["L1", "L2", "L3"],
                "mql_at": [mql] * 3,
                "assigned_at": [mql] * 3,
                "owner_id": ["o1", "o2", "o3"],
                "source": ["Ads", "Ads", "Web"],
            }
        ),
        touches=pd.DataFrame(
            {
                "touch_id": ["t1", "t3"],
                "lead_id": ["L1", "L3"],
                "owner_id": ["o1", "o3"],
                "kind": ["call", "call"],
                "occurred_at": [mql + pd.Timedelta(minutes=30)] * 2,
            }
        ),
    )
    as_of = pd.Timestamp("2026-03-20T15:00Z")
    card = scoped_scorecard(data, Terms(), "2026-03", as_of, LeadFilter(team="East"))
    ft = card["sales"]["first_touch"]
    assert card["marketing"]["mqls"] == 2 and card["marketing"]["quota"] is None  # L1, L2; a team has no quota
    assert (ft["met"], ft["breached"], ft["compliance"]) == (1, 1, 0.5)  # L1 touched in 30 min, L2 never
    assert ft["median_hours"] == 0.5
    assert card["scope"] == {"team": "East"}
    assert card["marketing"]["by_source"] == [{"source": "Ads", "mqls": 2}]
