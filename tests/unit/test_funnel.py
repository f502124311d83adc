"""Funnel and revenue (DESIGN section 5): cohort conversion, won revenue, Wilson intervals."""

from __future__ import annotations

import math

import pytest

from smarketing.core.funnel import cohort_funnel, funnel_summary, rate, revenue_summary, wilson_interval

pytestmark = pytest.mark.unit

NY = "America/New_York"


# -- Wilson interval -------------------------------------------------------------------------


def test_wilson_two_of_three():
    # p = 2/3, n = 3, z = 1.96, z² = 3.8416:
    # denom  = 1 + 3.8416/3 = 2.280533
    # centre = (0.666667 + 3.8416/6) / denom = 1.306933 / 2.280533 = 0.573082
    # half   = 1.96 × sqrt(0.222222/3 + 3.8416/36) / denom
    #        = 1.96 × sqrt(0.074074 + 0.106711) / 2.280533 = 1.96 × 0.425188 / 2.280533 = 0.365425
    # → (0.207657, 0.938507); statsmodels proportion_confint(2, 3, method="wilson") gives the same.
    low, high = wilson_interval(2, 3)
    assert low == pytest.approx(0.2077, abs=1e-4)
    assert high == pytest.approx(0.9385, abs=1e-4)


def test_wilson_edges():
    # 0 of 10: centre = (3.8416/20)/(1 + 3.8416/10) = 0.19208/1.38416 = 0.138770 and
    # half = 1.96 × sqrt(3.8416/400)/1.38416 = 0.19208/1.38416 → (0, 0.277540).
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.27754, abs=1e-5)
    # 10 of 10 mirrors it: (0.722460, 1).
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.72246, abs=1e-5) and high == pytest.approx(1.0, abs=1e-12)
    assert wilson_interval(0, 0) is None


def test_rate_flags_small_samples():
    r = rate(2, 3)
    assert r["value"] == pytest.approx(2 / 3)
    assert (r["low"], r["high"]) == pytest.approx((0.2077, 0.9385), abs=1e-4)
    assert r["few"] is True and (r["successes"], r["trials"]) == (2, 3)
    assert rate(0, 0)["value"] is None and rate(0, 0)["low"] is None
    assert rate(10, 40)["few"] is False


# -- cohort funnel -----------------------------------------------------------------------------


def _funnel_data(make_data):
    leads = [
        # March cohort (local months):
        {"lead_id": "m1", "mql_at": "2026-03-02 10:00"},
        {"lead_id": "m2", "mql_at": "2026-03-03 10:00", "sql_at": "2026-03-10 10:00"},
        # customer without an sql_at: a later stage implies the earlier
        {"lead_id": "m3", "mql_at": "2026-03-04 10:00", "customer_at": "2026-03-20 10:00"},
        {
            "lead_id": "m4",
            "mql_at": "2026-03-05 10:00",
            "sql_at": "2026-03-06 10:00",
            "customer_at": "2026-04-10 10:00",
        },
        {"lead_id": "m5", "mql_at": "2026-03-06 10:00", "sql_at": "2026-04-20 10:00"},
        {
            "lead_id": "m6",
            "mql_at": "2026-03-07 10:00",
            "sql_at": "2026-03-08 10:00",
            "customer_at": "2026-04-30 10:00",
        },
        {"lead_id": "m7", "mql_at": "2026-03-31 23:30", "sql_at": "2026-04-01 10:00"},
        # other cohorts / not MQLs:
        {"lead_id": "x1", "mql_at": "2026-02-28 23:30", "customer_at": "2026-03-05 10:00"},
        {"lead_id": "x2", "mql_at": "2026-04-01 00:30", "sql_at": "2026-04-02 10:00"},
        {"lead_id": "x3", "sql_at": "2026-03-05 10:00"},
        {"lead_id": "late", "mql_at": "2026-04-20 10:00"},
    ]
    deals = [
        {"deal_id": "d1", "lead_id": "m2", "amount": 1000, "closed_at": "2026-03-10 12:00"},
        {"deal_id": "d2", "lead_id": "x3", "amount": 500, "closed_at": "2026-03-31 23:30"},
        {"deal_id": "d3", "lead_id": "m3", "amount": 700, "closed_at": "2026-04-01 00:30"},
        {"deal_id": "d4", "lead_id": "m4", "amount": 900, "closed_at": "2026-03-12 12:00", "status": "lost"},
        {"deal_id": "d5", "lead_id": "m1", "amount": 300, "status": "open"},
        {"deal_id": "d6", "lead_id": None, "amount": 2500, "closed_at": "2026-03-20 12:00"},
        {"deal_id": "d7", "lead_id": "m5", "amount": 1500, "closed_at": "2026-03-01 00:00"},
        {"deal_id": "d8", "lead_id": "x1", "amount": 4000, "closed_at": "2026-03-15 12:00"},
        {"deal_id": "d9", "lead_id": "late", "amount": 800, "closed_at": "2026-03-25 12:00"},
        {"deal_id": "d10", "lead_id": "m6", "amount": 600, "closed_at": "2026-04-16 12:00"},
    ]
    return make_data(leads=leads, deals=deals)


def test_cohort_funnel(make_data, at):
    # As of 04-15 12:00. March cohort: m1..m7 = 7 MQLs (m7 at 23:30 local on 03-31).
    # SQLs (sql_at or customer_at ≤ as_of): m2, m3 (customer only), m4, m6, m7 = 5
    #   (m5's sql_at 04-20 is after as_of).
    # Customers (customer_at ≤ as_of): m3, m4 = 2 (m6 becomes one on 04-30).
    f = cohort_funnel(_funnel_data(make_data).leads, "2026-03", at("2026-04-15 12:00"), NY)
    assert (f["mqls"], f["sqls"], f["customers"]) == (7, 5, 2)
    assert f["mql_to_sql"]["value"] == pytest.approx(5 / 7)
    assert f["mql_to_customer"]["value"] == pytest.approx(2 / 7)
    low, high = f["mql_to_customer"]["low"], f["mql_to_customer"]["high"]
    assert (low, high) == pytest.approx(wilson_interval(2, 7))
    assert f["mql_to_customer"]["few"] is True


def test_cohort_funnel_as_of(make_data, at):
    # As of 03-15 12:00: m1..m6 are MQLs (m7 not yet) = 6.
    # SQLs: m2 (03-10), m4 (03-06), m6 (03-08) = 3; m3 is a customer only on 03-20.
    # Customers: 0.
    f = cohort_funnel(_funnel_data(make_data).leads, "2026-03", at("2026-03-15 12:00"), NY)
    assert (f["mqls"], f["sqls"], f["customers"]) == (6, 3, 0)
    assert f["mql_to_customer"]["value"] == 0.0


def test_cohort_funnel_later_cohort(make_data, at):
    # April cohort as of 04-25: x2 (04-01 00:30 local), late (04-20) = 2 MQLs; x2 is an SQL.
    f = cohort_funnel(_funnel_data(make_data).leads, "2026-04", at("2026-04-25 12:00"), NY)
    assert (f["mqls"], f["sqls"], f["customers"]) == (2, 1, 0)


# -- revenue ------------------------------------------------------------------------------------


def test_revenue_by_close_month(make_data, at):
    # March (local) as of 04-15 12:00, won deals closed in March:
    # d1 1000 (m2), d2 500 (x3, 03-31 23:30 local = 04-01 UTC), d6 2500 (no lead),
    # d7 1500 (m5, 03-01 00:00 local), d8 4000 (x1, a February MQL), d9 800 ("late": its
    # MQL is 04-20, after as_of). Not: d3 (April), d4 (lost), d5 (open), d10 (April).
    # won_deals 6, revenue 1000+500+2500+1500+4000+800 = 10300, average 10300/6 = 1716.67.
    # From MQL leads (MQL by as_of): d1, d7, d8 → 3 deals, 6500.
    r = revenue_summary(_funnel_data(make_data), "2026-03", at("2026-04-15 12:00"), NY)
    assert r["won_deals"] == 6
    assert r["won_revenue"] == pytest.approx(10300)
    assert r["avg_won_deal_size"] == pytest.approx(10300 / 6)
    assert r["mql_won_deals"] == 3
    assert r["mql_won_revenue"] == pytest.approx(6500)


def test_revenue_as_of(make_data, at):
    # As of 03-20 00:00 only d7 (03-01), d1 (03-10), d8 (03-15) have closed: 3 deals, 6500,
    # all from MQL leads.
    r = revenue_summary(_funnel_data(make_data), "2026-03", at("2026-03-20 00:00"), NY)
    assert (r["won_deals"], r["won_revenue"]) == (3, pytest.approx(6500))
    assert (r["mql_won_deals"], r["mql_won_revenue"]) == (3, pytest.approx(6500))
    # As of 04-25 "late" is an MQL (04-20), so d9 now counts as MQL revenue: 6500 + 800 = 7300.
    r = revenue_summary(_funnel_data(make_data), "2026-03", at("2026-04-25 12:00"), NY)
    assert (r["mql_won_deals"], r["mql_won_revenue"]) == (4, pytest.approx(7300))


def test_revenue_april_and_empty_month(make_data, at):
    # April as of 04-20: d3 700 (04-01 00:30 local, lead m3 MQL); d10 closes 04-16 → 600 (m6).
    r = revenue_summary(_funnel_data(make_data), "2026-04", at("2026-04-20 12:00"), NY)
    assert (r["won_deals"], r["won_revenue"]) == (2, pytest.approx(1300))
    assert r["avg_won_deal_size"] == pytest.approx(650)
    assert r["mql_won_revenue"] == pytest.approx(1300)
    empty = revenue_summary(_funnel_data(make_data), "2026-06", at("2026-06-20 12:00"), NY)
    assert (empty["won_deals"], empty["won_revenue"], empty["avg_won_deal_size"]) == (0, 0.0, None)


def test_funnel_summary_combines_both(make_data, at):
    s = funnel_summary(_funnel_data(make_data), "2026-03", at("2026-04-15 12:00"), NY)
    assert (s["mqls"], s["sqls"], s["customers"], s["won_deals"]) == (7, 5, 2, 6)
    assert s["won_revenue"] == pytest.approx(10300)
    assert not math.isnan(s["mql_to_sql"]["low"])


# -- unknown amounts (v2) -----------------------------------------------------------------------


def _deals_without_amounts(make_data, amounts):
    leads = [{"lead_id": "m", "mql_at": "2026-03-02 10:00"}]
    deals = [
        {"deal_id": f"d{i}", "lead_id": "m", "amount": a, "closed_at": "2026-03-10 12:00"}
        for i, a in enumerate(amounts)
    ]
    return make_data(leads=leads, deals=deals)


def test_revenue_from_known_amounts_only(make_data, at):
    # Won: 1000, unknown, 500 → revenue 1500 from 2 known amounts, average 1500/2 = 750 (not
    # 1500/3 = 500: an unknown amount is not 0); 1 won deal without an amount.
    r = revenue_summary(_deals_without_amounts(make_data, [1000, None, 500]), "2026-03", at("2026-04-01 12:00"), NY)
    assert (r["won_deals"], r["won_deals_without_amount"]) == (3, 1)
    assert r["won_revenue"] == pytest.approx(1500)
    assert r["avg_won_deal_size"] == pytest.approx(750)
    assert r["mql_won_revenue"] == pytest.approx(1500)


def test_revenue_is_unknown_when_no_won_deal_has_an_amount(make_data, at):
    r = revenue_summary(_deals_without_amounts(make_data, [None, None]), "2026-03", at("2026-04-01 12:00"), NY)
    assert (r["won_deals"], r["won_deals_without_amount"]) == (2, 2)
    assert r["won_revenue"] is None and r["avg_won_deal_size"] is None and r["mql_won_revenue"] is None


def test_no_won_deal_is_zero_revenue_not_unknown(make_data, at):
    r = revenue_summary(_deals_without_amounts(make_data, []), "2026-03", at("2026-04-01 12:00"), NY)
    assert (r["won_deals"], r["won_revenue"], r["won_deals_without_amount"]) == (0, 0.0, 0)
