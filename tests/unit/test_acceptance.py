"""Lead acceptance, in-time rejection, exclusions and lead quality (DESIGN section 5, version 2).

The agreement is the DESIGN example (New York, Mon-Fri 09:00-17:00, first touch in 4 business
hours, 5 attempts in 10 business days) plus acceptance_hours = 8 where a test says so. Every
MQL here is Mon 2026-05-04 09:00 EDT: first-touch deadline Mon 13:00, acceptance deadline
Mon 17:00 (8 business hours), attempt window end Mon 05-18 09:00 (80 business hours).
"""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.frames import normalize
from smarketing.core.marketing import marketing_summary
from smarketing.core.quality import quality_status
from smarketing.core.sales import lead_ledger, owner_summary
from smarketing.core.scorecard import build_scorecard, ledger_records
from smarketing.core.terms import TermsError, parse_terms_toml, terms_from_dict, terms_to_toml
from tests.unit.conftest import NY

pytestmark = pytest.mark.unit

MQL = "2026-05-04 09:00"


def lead(lead_id: str, **extra) -> dict:
    return {"lead_id": lead_id, "mql_at": MQL, "owner_id": "o1", "segment": "A", "source": "web", **extra}


def with_exclusions(data, *rows: dict, at):
    """The data with exclusion requests (instants as New York wall clock)."""
    frame = pd.DataFrame([{k: at(v) if k.endswith("_at") and v else v for k, v in r.items()} for r in rows])
    data.exclusions = normalize("exclusions", frame)
    return data


def row(data, terms, as_of):
    (only,) = lead_ledger(data, terms, as_of).to_dict("records")
    return only


# -- acceptance per lead -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "as_of", "status"),
    [
        # accepted Mon 12:00 ≤ deadline Mon 17:00
        ({"accepted_at": "2026-05-04 12:00"}, "2026-05-06 12:00", "met"),
        # accepted exactly at the deadline: 8.0 business hours, met
        ({"accepted_at": "2026-05-04 17:00"}, "2026-05-06 12:00", "met"),
        # accepted Tue 10:00: 9 business hours > 8
        ({"accepted_at": "2026-05-05 10:00"}, "2026-05-06 12:00", "breached"),
        # no decision yet, Mon 16:00 is before the deadline
        ({}, "2026-05-04 16:00", "pending"),
        # no decision, Tue 09:00 is after the Mon 17:00 deadline
        ({}, "2026-05-05 09:00", "breached"),
        # a rejection also decides: Mon 15:00 is in time
        ({"rejected_at": "2026-05-04 15:00", "rejection_reason": "student"}, "2026-05-06 12:00", "met"),
        # an acceptance after as_of is not known yet: pending at Mon 16:00
        ({"accepted_at": "2026-05-04 16:30"}, "2026-05-04 16:00", "pending"),
    ],
)
def test_acceptance_status_against_the_deadline(make_data, ny_terms, at, fields, as_of, status):
    data = make_data(leads=[lead("a", **fields)])
    r = row(data, ny_terms(acceptance_hours=8), at(as_of))
    assert r["acceptance_deadline"] == at("2026-05-04 17:00")
    assert r["acceptance_status"] == status


def test_a_qualifying_touch_counts_as_acceptance_unless_touch_accepts_is_false(make_data, ny_terms, at):
    # call Mon 11:00, no accepted_at: decided at 11:00 ≤ 17:00 → met; without touch_accepts nothing
    # decided, and at Tue 10:00 the deadline has passed → breached.
    data = make_data(leads=[lead("a")], touches=[{"lead_id": "a", "occurred_at": "2026-05-04 11:00"}])
    r = row(data, ny_terms(acceptance_hours=8), at("2026-05-05 10:00"))
    assert r["acceptance_status"] == "met" and r["acceptance_decided_at"] == at("2026-05-04 11:00")
    r = row(data, ny_terms(acceptance_hours=8, touch_accepts=False), at("2026-05-05 10:00"))
    assert r["acceptance_status"] == "breached" and pd.isna(r["acceptance_decided_at"])


def test_without_acceptance_hours_nothing_is_judged_and_a_rejection_removes_nothing(make_data, ny_terms, at):
    # rejected Mon 10:00, untouched: first touch breached at Tue 10:00 (deadline Mon 13:00).
    data = make_data(leads=[lead("a", rejected_at="2026-05-04 10:00", rejection_reason="student")])
    r = row(data, ny_terms(), at("2026-05-05 10:00"))
    assert r["acceptance_status"] is None and pd.isna(r["acceptance_deadline"])
    assert r["first_touch_status"] == "breached" and r["attempts_status"] == "pending"
    assert r["excluded_from"] == ""


# -- in-time and late rejection --------------------------------------------------------------------


def test_a_rejection_in_time_leaves_first_touch_and_attempts(make_data, ny_terms, at):
    # rejected Mon 15:00 ≤ acceptance deadline 17:00, although the first-touch deadline (13:00)
    # had passed untouched: sales said no in time, so neither follow-up commitment judges it.
    data = make_data(leads=[lead("a", rejected_at="2026-05-04 15:00", rejection_reason="competitor")])
    r = row(data, ny_terms(acceptance_hours=8), at("2026-05-20 10:00"))
    assert (r["first_touch_status"], r["attempts_status"], r["acceptance_status"]) == ("excluded", "excluded", "met")
    assert r["excluded_from"] == "first_touch,attempts"
    assert r["exclusion_reason"] == "competitor"
    assert r["first_touch_deadline"] == at("2026-05-04 13:00")  # the clock is still shown


def test_a_late_rejection_removes_nothing(make_data, ny_terms, at):
    # rejected Tue 10:00 > 17:00 Mon: the first-touch breach stands, acceptance is breached.
    data = make_data(leads=[lead("a", rejected_at="2026-05-05 10:00", rejection_reason="no budget")])
    r = row(data, ny_terms(acceptance_hours=8), at("2026-05-06 10:00"))
    assert (r["first_touch_status"], r["acceptance_status"]) == ("breached", "breached")
    assert r["attempts_status"] == "pending" and r["excluded_from"] == ""


def test_a_rejection_after_as_of_is_not_known_yet(make_data, ny_terms, at):
    data = make_data(leads=[lead("a", rejected_at="2026-05-04 15:00", rejection_reason="student")])
    r = row(data, ny_terms(acceptance_hours=8), at("2026-05-04 14:00"))
    assert r["first_touch_status"] == "breached" and r["acceptance_status"] == "pending"
    assert pd.isna(r["rejected_at"]) and pd.isna(r["rejection_reason"])


def test_excluded_leads_count_in_excluded_not_in_the_counts_nor_percentiles(make_data, ny_terms, at):
    # a: touched Mon 10:00 (1 h, met) then rejected Mon 11:00 in time → excluded.
    # b: touched Mon 12:00 (3 h, met). c: untouched → breached at Mon 13:00.
    # first touch: met 1 (b), breached 1 (c), excluded 1; median over b only = 3.0, not 2.0.
    data = make_data(
        leads=[lead("a", rejected_at="2026-05-04 11:00", rejection_reason="duplicate"), lead("b"), lead("c")],
        touches=[
            {"lead_id": "a", "occurred_at": "2026-05-04 10:00"},
            {"lead_id": "b", "occurred_at": "2026-05-04 12:00"},
        ],
    )
    terms = ny_terms(acceptance_hours=8, acceptance_target=0.5)
    card = build_scorecard(data, terms, "2026-05", at("2026-05-04 18:00"))
    ft = card["sales"]["first_touch"]
    assert (ft["met"], ft["breached"], ft["pending"], ft["excluded"]) == (1, 1, 0, 1)
    assert ft["median_hours"] == 3.0 and ft["compliance"] == 0.5
    assert card["sales"]["attempts"]["excluded"] == 1 and card["sales"]["attempts"]["pending"] == 2
    # acceptance: a rejected 11:00, b touched 12:00 → met; c undecided at 18:00 > 17:00 → breached.
    # n = 3, allowed = floor(0.5 × 3) = 1, budget_left = 0.
    acc = card["sales"]["acceptance"]
    assert (acc["met"], acc["breached"], acc["pending"], acc["excluded"]) == (2, 1, 0, 0)
    assert acc["budget_left"] == 0 and acc["status"] == "at_risk"
    assert "median_hours" not in acc
    (owner,) = card["sales"]["by_owner"]
    assert owner["leads"] == 3 and owner["first_touch_excluded"] == 1 and owner["median_hours"] == 3.0


def test_acceptance_is_absent_from_the_scorecard_without_acceptance_hours(make_data, ny_terms, at):
    card = build_scorecard(make_data(leads=[lead("a")]), ny_terms(), "2026-05", at("2026-05-04 18:00"))
    assert "acceptance" not in card["sales"]
    assert card["sales"]["first_touch"]["excluded"] == 0


# -- exclusions ------------------------------------------------------------------------------------


def _request(exclusion_id: str, commitment: str, decision: str, decided_at: str | None) -> dict:
    return {
        "exclusion_id": exclusion_id,
        "lead_id": "a",
        "commitment": commitment,
        "reason": "routing outage",
        "requested_by": "sam",
        "requested_at": "2026-05-05 09:00",
        "decision": decision,
        "decided_by": "dana" if decided_at else None,
        "decided_at": decided_at,
    }


@pytest.mark.parametrize(
    ("decision", "decided_at", "status"),
    [
        ("approved", "2026-05-06 09:00", "excluded"),  # approved before as_of (05-07)
        ("approved", "2026-05-08 09:00", "breached"),  # approved after as_of: not yet
        ("denied", "2026-05-06 09:00", "breached"),
        ("pending", None, "breached"),
    ],
)
def test_only_an_exclusion_approved_by_as_of_excludes(make_data, ny_terms, at, decision, decided_at, status):
    data = with_exclusions(make_data(leads=[lead("a")]), _request("1", "first_touch", decision, decided_at), at=at)
    r = row(data, ny_terms(), at("2026-05-07 09:00"))
    assert r["first_touch_status"] == status
    assert r["attempts_status"] == "pending"  # an exclusion for first_touch leaves attempts alone


def test_an_exclusion_for_all_leaves_every_commitment_and_the_quota(make_data, ny_terms, at):
    data = with_exclusions(
        make_data(leads=[lead("a"), lead("b")]), _request("1", "all", "approved", "2026-05-06 09:00"), at=at
    )
    terms = ny_terms(acceptance_hours=8)
    ledger = lead_ledger(data, terms, at("2026-05-07 09:00")).set_index("lead_id")
    a = ledger.loc["a"]
    assert (a["first_touch_status"], a["attempts_status"], a["acceptance_status"]) == ("excluded",) * 3
    assert a["excluded_from"] == "mql_quota,first_touch,attempts,acceptance"
    assert a["exclusion_reason"] == "routing outage"
    (rec,) = [r for r in ledger_records(ledger.reset_index(), NY) if r["lead_id"] == "a"]
    assert rec["excluded_from"] == ["mql_quota", "first_touch", "attempts", "acceptance"]
    mkt = marketing_summary(data.leads, terms, "2026-05", at("2026-05-07 09:00"), exclusions=data.exclusions)
    assert (mkt["mqls"], mkt["mqls_total"]) == (1, 2)


# -- marketing: quota_counts and lead quality ----------------------------------------------------


def test_quota_counts_mqls_or_not_rejected(make_data, ny_terms, at):
    # 3 MQLs; b rejected Mon 15:00, c rejected after as_of. "mqls": 3; "not_rejected": 3 − 1 = 2.
    data = make_data(
        leads=[
            lead("a"),
            lead("b", rejected_at="2026-05-04 15:00", rejection_reason="student"),
            lead("c", rejected_at="2026-05-10 15:00", rejection_reason="student"),
        ]
    )
    as_of = at("2026-05-06 12:00")
    assert marketing_summary(data.leads, ny_terms(), "2026-05", as_of)["mqls"] == 3
    counted = marketing_summary(data.leads, ny_terms(quota_counts="not_rejected"), "2026-05", as_of)
    assert (counted["mqls"], counted["mqls_total"]) == (2, 3)


def test_lead_quality_rate_reasons_and_status(make_data, ny_terms, at):
    # 4 MQLs, 2 rejected (student ×1 via web, competitor ×1 via ads): rate 2 / 4 = 0.5.
    data = make_data(
        leads=[
            lead("a"),
            lead("b"),
            lead("c", rejected_at="2026-05-04 10:00", rejection_reason="student"),
            lead("d", rejected_at="2026-05-04 11:00", rejection_reason="competitor", source="ads", segment="B"),
        ]
    )
    card = build_scorecard(data, ny_terms(max_rejection_rate=0.6), "2026-05", at("2026-05-06 12:00"))
    mkt = card["marketing"]
    assert (mkt["rejected"], mkt["rejection_rate"], mkt["quality_status"]) == (2, 0.5, "on_track")
    assert mkt["rejections_by_reason"] == [{"reason": "competitor", "count": 1}, {"reason": "student", "count": 1}]
    web = next(s for s in mkt["rejections_by_source"] if s["source"] == "web")
    assert (web["mqls"], web["rejected"], web["rejection_rate"]) == (3, 1, 1 / 3)
    assert [s["segment"] for s in mkt["rejections_by_segment"]] == ["A", "B"]
    # the month is over (June), nothing pending acceptance (no acceptance_hours): final.
    over = build_scorecard(data, ny_terms(max_rejection_rate=0.4), "2026-05", at("2026-06-02 12:00"))
    assert over["marketing"]["quality_status"] == "missed"
    assert "quality_status" not in build_scorecard(data, ny_terms(), "2026-05", at("2026-06-02 12:00"))["marketing"]


def test_quality_status_waits_for_pending_acceptance_and_says_no_data_without_mqls():
    assert quality_status(0, None, 0.15, True, 0) == "no_data"
    assert quality_status(10, 0.1, 0.15, True, 0) == "met"
    assert quality_status(10, 0.2, 0.15, True, 0) == "missed"
    assert quality_status(10, 0.2, 0.15, True, 1) == "behind"  # one MQL still waits for a decision
    assert quality_status(10, 0.1, 0.15, False, 0) == "on_track"


def test_owner_leads_count_excluded_leads(make_data, ny_terms, at):
    data = make_data(leads=[lead("a", rejected_at="2026-05-04 10:00"), lead("b")])
    ledger = lead_ledger(data, ny_terms(acceptance_hours=8), at("2026-05-05 10:00"))
    (owner,) = owner_summary(ledger, data.owners)
    assert owner["leads"] == 2 and owner["first_touch_breached"] == 1 and owner["first_touch_excluded"] == 1


# -- terms -------------------------------------------------------------------------------------------


def test_acceptance_terms_round_trip_through_toml(ny_terms):
    terms = ny_terms(
        acceptance_hours=8,
        acceptance_target=0.9,
        touch_accepts=False,
        quota_counts="not_rejected",
        max_rejection_rate=0.15,
    )
    again, _ = parse_terms_toml(terms_to_toml(terms))
    assert again == terms
    assert "acceptance_hours" not in terms_to_toml(ny_terms())  # version 1 files stay as they were


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("sales", "acceptance_hours", 0, "sales.acceptance_hours must be a number of business hours above 0"),
        ("sales", "acceptance_target", 1.5, "sales.acceptance_target must be a share between 0 and 1"),
        ("sales", "touch_accepts", "yes", "sales.touch_accepts must be true or false"),
        ("marketing", "quota_counts", "all", 'marketing.quota_counts must be "mqls" or "not_rejected"'),
        ("marketing", "max_rejection_rate", -0.1, "marketing.max_rejection_rate must be a share between 0 and 1"),
    ],
)
def test_acceptance_terms_are_validated_in_one_sentence(section, key, value, message):
    with pytest.raises(TermsError, match=message):
        terms_from_dict({section: {key: value}})


def test_owner_rows_have_acceptance_counts_when_the_terms_set_it(make_data, ny_terms, at):
    # a accepted Mon 10:00 (met); b undecided at Tue 10:00 > Mon 17:00 (breached): 1 / 2 = 0.5
    data = make_data(leads=[lead("a", accepted_at="2026-05-04 10:00"), lead("b")])
    (owner,) = owner_summary(lead_ledger(data, ny_terms(acceptance_hours=8), at("2026-05-05 10:00")), data.owners)
    assert (owner["acceptance_met"], owner["acceptance_breached"], owner["acceptance_compliance"]) == (1, 1, 0.5)
    (plain,) = owner_summary(lead_ledger(data, ny_terms(), at("2026-05-05 10:00")), data.owners)
    assert "acceptance_met" not in plain
