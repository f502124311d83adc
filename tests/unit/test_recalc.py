"""Monthly recalculation on a hand-made history (DESIGN section 6)."""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.frames import CrmData
from smarketing.core.recalc import cohort_months, lookback_months, proposed_terms, recalculate, reverse_funnel
from smarketing.core.terms import Terms

pytestmark = pytest.mark.unit

AS_OF = pd.Timestamp("2026-06-15T12:00:00Z")
TERMS = Terms(
    timezone="UTC", mql_quota=100, revenue_goal=100_000, marketing_share=0.5, lookback_months=3, cohort_lag_months=1
)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def history(segmented: bool = False, may_mqls: int = 90) -> CrmData:
    """Cohorts Feb (10 MQLs), Mar (10), Apr (5): 5 customers by as_of (+1 after as_of);
    won deals closed Mar 10 (10,000) and May 20 (30,000) inside the lookback, and
    deals outside it (Feb 28 won, Apr lost, Jun 1 won) that must not count."""
    leads = []
    for month, count in (("2026-02", 10), ("2026-03", 10), ("2026-04", 5), ("2026-05", may_mqls)):
        for i in range(count):
            leads.append(
                {
                    "lead_id": f"{month}-{i}",
                    "mql_at": utc(f"{month}-10T10:00"),
                    "segment": ("A" if i % 2 == 0 else "B") if segmented else None,
                }
            )
    for lead_id in ("2026-02-0", "2026-02-1", "2026-03-0", "2026-03-2", "2026-04-4"):
        next(lead for lead in leads if lead["lead_id"] == lead_id)["customer_at"] = utc("2026-05-01T10:00")
    leads[2]["customer_at"] = utc("2026-06-20T10:00")  # after as_of: not yet a customer
    deals = [
        {
            "deal_id": "d1",
            "lead_id": "2026-02-0",
            "status": "won",
            "amount": 10_000,
            "closed_at": utc("2026-03-10T10:00"),
        },
        {
            "deal_id": "d2",
            "lead_id": "2026-02-1",
            "status": "won",
            "amount": 30_000,
            "closed_at": utc("2026-05-20T10:00"),
        },
        {"deal_id": "d3", "lead_id": None, "status": "won", "amount": 99_999, "closed_at": utc("2026-02-28T10:00")},
        {"deal_id": "d4", "lead_id": None, "status": "lost", "amount": 5_000, "closed_at": utc("2026-04-10T10:00")},
        {"deal_id": "d5", "lead_id": None, "status": "won", "amount": 77_777, "closed_at": utc("2026-06-01T10:00")},
    ]
    return CrmData.of(leads=pd.DataFrame(leads), deals=pd.DataFrame(deals))


def test_windows_of_months() -> None:
    assert lookback_months("2026-06", TERMS) == ["2026-03", "2026-04", "2026-05"]
    assert cohort_months("2026-06", TERMS) == ["2026-02", "2026-03", "2026-04"]


def test_exact_quota_from_known_rates_and_sizes() -> None:
    """avg size 20,000; 100,000 × 0.5 / 20,000 = 2.5 customers; rate 5 / 25 = 0.2;
    ceil(2.5 / 0.2) = ceil(12.5) = 13."""
    result = recalculate(history(), TERMS, "2026-06", AS_OF)
    inputs = result["inputs"]
    assert inputs["avg_deal_size"] == 20_000 and inputs["won_deals"] == 2
    assert (inputs["cohort_mqls"], inputs["cohort_customers"]) == (25, 5)
    assert inputs["lead_to_customer_rate"] == pytest.approx(0.2)
    assert inputs["customers_needed"] == pytest.approx(2.5)
    assert inputs["cohort_months"] == ["2026-02", "2026-03", "2026-04"]
    assert (result["current_quota"], result["proposed_quota"], result["reason"]) == (100, 13, None)


def test_carry_forward_adds_last_months_shortfall() -> None:
    """May delivered 90 of 100: 13 + 10 = 23."""
    terms = Terms(**{**TERMS.__dict__, "carry_forward_shortfall": True})
    result = recalculate(history(may_mqls=90), terms, "2026-06", AS_OF)
    assert result["inputs"]["carried_shortfall"] == 10
    assert result["proposed_quota"] == 23
    assert recalculate(history(may_mqls=120), terms, "2026-06", AS_OF)["proposed_quota"] == 13


def test_thin_history_keeps_the_current_target_with_a_reason() -> None:
    no_deals = CrmData.of(leads=history().leads)
    result = recalculate(no_deals, TERMS, "2026-06", AS_OF)
    assert result["proposed_quota"] == 100
    assert "no won deal" in result["reason"]
    early = recalculate(history(), TERMS, "2026-06", pd.Timestamp("2026-04-30T00:00Z"))
    assert early["proposed_quota"] == 100 and "customer" in early["reason"]


def test_per_segment_quotas_use_each_segments_rate_and_size() -> None:
    """Even rows are A, odd rows B. Customers: A = 02-0, 03-0, 03-2, 04-4 (4 of 13 cohort MQLs:
    Feb 5 + Mar 5 + Apr 3); B = 02-1 (1 of 12). Won: d1 (A, 10,000), d2 (B, 30,000).
    Revenue shares A 0.25, B 0.75 of 50,000 → A 12,500 / 10,000 = 1.25 customers / (4/13)
    = 4.0625 → 5; B 37,500 / 30,000 = 1.25 / (1/12) = 15 → 15. Total 20."""
    terms = Terms(**{**TERMS.__dict__, "segment_quotas": {"A": 60, "B": 40}})
    result = recalculate(history(segmented=True), terms, "2026-06", AS_OF)
    seg = {s["segment"]: s for s in result["by_segment"]}
    assert seg["A"]["lead_to_customer_rate"] == pytest.approx(4 / 13)
    assert seg["B"]["avg_deal_size"] == 30_000
    assert (seg["A"]["proposed_quota"], seg["B"]["proposed_quota"]) == (5, 15)
    assert result["proposed_quota"] == 20 and result["current_quota"] == 100
    applied = proposed_terms(terms, result)
    assert applied.segment_quotas == {"A": 5, "B": 15} and applied.quota == 20


def test_whole_results_are_not_rounded_up_by_float_noise() -> None:
    """100,000 × 0.6 / 20,000 = 3.0000000000000004 in floats; / 0.2 must give 15, not 16."""
    terms = Terms(**{**TERMS.__dict__, "marketing_share": 0.6})
    assert recalculate(history(), terms, "2026-06", AS_OF)["proposed_quota"] == 15


def test_unknown_amounts_are_left_out_of_the_average_deal(make_data, ny_terms, at):
    # Won in the lookback: 30000, unknown, 10000 → average (30000 + 10000)/2 = 20000, not 40000/3.
    deals = [
        {"deal_id": f"d{i}", "lead_id": None, "amount": a, "closed_at": "2026-02-10 12:00"}
        for i, a in enumerate([30000, None, 10000])
    ]
    data = make_data(leads=[], deals=deals)
    proposal = recalculate(data, ny_terms(), "2026-03", at("2026-03-01 12:00"))
    assert proposal["inputs"]["avg_deal_size"] == pytest.approx(20000)
    assert (proposal["inputs"]["won_deals"], proposal["inputs"]["won_deals_without_amount"]) == (3, 1)


def test_reverse_funnel_rounds_up_once_at_the_end():
    # 500000 × 0.6 = 300000 ÷ 7000 = 42.857… customers (not rounded) ÷ 0.065 = 659.34 → 660 MQLs.
    result = reverse_funnel(500000, 0.6, 7000, 0.065)
    assert result["customers_needed"] == pytest.approx(300000 / 7000)
    assert result["mqls_needed"] == 660
    assert reverse_funnel(500000, 0.6, None, 0.065)["mqls_needed"] is None
