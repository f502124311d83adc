"""build_scorecards (one grouped pass over many months) gives, month by month, build_scorecard's card."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from smarketing.core.frames import normalize
from smarketing.core.months import add_months, month_of, month_range
from smarketing.core.sales import lead_ledger
from smarketing.core.scorecard import build_scorecard, build_scorecards
from smarketing.core.terms import CalendarTerms, TermsVersion, terms_for_month
from smarketing.sources.demo import demo_terms, generate_demo

NOW = pd.Timestamp("2026-06-20T15:00:00Z")
TZ = "America/New_York"


@pytest.fixture(scope="module")
def data():
    return demo_data()


def demo_data():
    """Small demo data with approved exclusions and MQLs at local month edges."""
    demo = generate_demo(seed=11, months=6, now=NOW, n_leads=900)
    # A few approved exclusions, so the quota and the commitments leave some leads out.
    ids = demo.leads.dropna(subset=["mql_at"])["lead_id"].iloc[::97].tolist()
    commitments = ["mql_quota", "first_touch", "attempts", "acceptance"]
    exclusions = pd.DataFrame(
        {
            "exclusion_id": [f"x{i}" for i in range(len(ids))],
            "lead_id": ids,
            "commitment": [commitments[i % 4] for i in range(len(ids))],
            "reason": "duplicate",
            "requested_by": "ops",
            "requested_at": pd.Timestamp("2026-01-01T00:00:00Z"),
            "decision": "approved",
            "decided_by": "lead",
            "decided_at": pd.Timestamp("2026-01-02T00:00:00Z"),
        }
    )
    return dataclasses.replace(demo, leads=at_month_edges(demo.leads), exclusions=normalize("exclusions", exclusions))


def at_month_edges(leads: pd.DataFrame) -> pd.DataFrame:
    """The same leads with some MQLs moved to around local midnight of each month's first day
    (where a UTC month and the local one differ)."""
    leads = leads.copy()
    mqls = leads.index[leads["mql_at"].notna()]
    nudges = [pd.Timedelta(n) for n in ("-1ns", "0ns", "1ns", "-30min", "30min", "-3h", "3h")]
    edges = [pd.Timestamp(m).tz_localize(TZ).tz_convert("UTC") for m in month_range("2026-01", "2026-06")]
    instants = [edge + nudge for edge in edges for nudge in nudges]
    leads.loc[mqls[5 : 5 + 3 * len(instants) : 3], "mql_at"] = instants
    return leads


def versions(first: str) -> list[TermsVersion]:
    """Three versions in force over the months: the demo terms, stricter terms with acceptance,
    lead quality and several calendars, and a version in another timezone."""
    base = demo_terms()
    strict = dataclasses.replace(
        base,
        min_attempts=3,
        first_touch_hours={"Enterprise": 1.0, "Mid-Market": 3.0, "SMB": 6.0},
        acceptance_hours=24.0,
        max_rejection_rate=0.15,
        quota_counts="not_rejected",
        clock_starts="assignment",
        calendars={"paris": CalendarTerms(timezone="Europe/Paris", hours=("08:00", "18:00"))},
        calendar_by_team={"West": "paris"},
        calendar_by_segment={"SMB": "24/7"},
    )
    london = dataclasses.replace(base, timezone="Europe/London", min_attempts=4, max_rejection_rate=0.3)
    return [
        TermsVersion(first, base, 1),
        TermsVersion(add_months(first, 2), strict, 2),
        TermsVersion(add_months(first, 4), london, 3),
    ]


def instants(data) -> list[pd.Timestamp]:
    """Mid-month, the start of a local month (and just before it), and just after a deadline."""
    ledger = lead_ledger(data, demo_terms(), NOW)
    deadline = ledger["first_touch_deadline"].dropna().sort_values().iloc[len(ledger) // 2]
    june = pd.Timestamp("2026-06-01").tz_localize(TZ).tz_convert("UTC")
    return [
        pd.Timestamp("2026-04-14T16:30:00Z"),
        june,
        june - pd.Timedelta(1, "ns"),
        deadline + pd.Timedelta(1, "ns"),
        NOW,
    ]


@pytest.mark.parametrize("commitments_only", [False, True])
def test_many_months_at_once_equal_each_month_alone(data, commitments_only):
    first = month_of(data.leads["mql_at"].min(), TZ)
    # One month before any MQL and one after the last: empty months are cards too.
    months = month_range(add_months(first, -1), add_months(month_of(NOW, TZ), 1))
    terms = versions(first)
    for as_of in instants(data):
        cards = build_scorecards(data, terms, months, as_of, commitments_only=commitments_only)
        assert list(cards) == months
        for month in months:
            alone = build_scorecard(
                data, terms_for_month(terms, month), month, as_of, commitments_only=commitments_only
            )
            assert json.dumps(cards[month], sort_keys=True) == json.dumps(alone, sort_keys=True), (month, as_of)


def test_the_comparison_sees_every_part_of_the_card(data):
    """The cards compared above hold the numbers that can differ: priors, exclusions, quality, funnel."""
    first = month_of(data.leads["mql_at"].min(), TZ)
    terms = versions(first)
    month = add_months(first, 3)
    card = build_scorecards(data, terms, [month], NOW)[month]
    assert card["marketing"]["prior_source"] == "recent_months"
    assert card["marketing"]["mqls"] < card["marketing"]["mqls_total"]
    assert card["marketing"]["rejections_by_source"]
    assert card["sales"]["first_touch"]["excluded"] > 0
    assert card["sales"]["acceptance"]["leads"] > 0
    assert card["funnel"]["mqls"] == card["marketing"]["mqls_total"]


def test_months_in_any_order_and_repeated_get_their_own_cards(data):
    first = month_of(data.leads["mql_at"].min(), TZ)
    terms = versions(first)
    months = [add_months(first, 3), add_months(first, 1), add_months(first, 3), add_months(first, 5)]
    cards = build_scorecards(data, terms, months, NOW)
    for month in months:
        alone = build_scorecard(data, terms_for_month(terms, month), month, NOW)
        assert json.dumps(cards[month], sort_keys=True) == json.dumps(alone, sort_keys=True), month
