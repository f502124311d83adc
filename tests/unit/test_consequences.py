"""Consequences (DESIGN section 10) on hand-built scorecard dicts: scores, weights, strikes, credits."""

from __future__ import annotations

import pytest

from smarketing.core.consequences import consequences, history_text
from smarketing.core.terms import Terms, TermsError, parse_terms_toml, terms_to_toml

pytestmark = pytest.mark.unit

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def sales_part(status: str, compliance: float | None = None, target: float = 0.9) -> dict:
    """A sales commitment's part of a card (only the keys consequences read)."""
    return {
        "status": status,
        "compliance": 1.0 if compliance is None and status == "met" else compliance,
        "target": target,
    }


def card(
    month: str,
    *,
    over: bool = True,
    quota_status: str = "met",
    mqls: int = 100,
    quota: int = 100,
    first_touch: str | dict = "met",
    attempts: str | dict = "met",
    **extra_sales: dict,
) -> dict:
    """A finished month where everything is met unless told otherwise."""
    parts = {
        "first_touch": sales_part(first_touch) if isinstance(first_touch, str) else first_touch,
        "attempts": sales_part(attempts) if isinstance(attempts, str) else attempts,
        **extra_sales,
    }
    return {
        "month": month,
        "month_over": over,
        "marketing": {"status": quota_status, "mqls": mqls, "quota": quota},
        "sales": parts,
    }


def row(result: dict, commitment: str) -> dict:
    return next(c for c in result["by_commitment"] if c["commitment"] == commitment)


def test_a_miss_adds_credits_and_a_run_of_met_months_earns_one_back():
    # credit_per_miss 2, earn_back 2: Feb missed +2 → 2; Mar, Apr met → one run → 1; May met → run of 1, still 1.
    terms = Terms(credit_per_miss=2, earn_back_months=2)
    cards = {m: card(m) for m in MONTHS[:5]}
    cards["2026-02"] = card("2026-02", first_touch=sales_part("missed", 0.72))
    result = consequences(cards, "2026-05", terms)
    ft = row(result, "first_touch")
    assert ft["credits"] == 1
    assert ft["credit_history_text"] == "missed in February: +2; met March and April: −1"
    assert [e["balance"] for e in ft["credit_history"]] == [2, 1]
    assert row(result, "attempts")["credits"] == 0


def test_credits_never_go_below_zero_and_met_months_before_a_miss_bank_nothing():
    # earn_back 2: Jan..Apr met (two runs at balance 0: stay 0); May missed → 1; Jun met → run of 1 → still 1.
    terms = Terms(earn_back_months=2)
    cards = {m: card(m) for m in MONTHS}
    cards["2026-05"] = card("2026-05", attempts=sales_part("missed", 0.5, 0.8))
    result = consequences(cards, "2026-06", terms)
    assert row(result, "attempts")["credits"] == 1
    assert row(result, "attempts")["credit_history_text"] == "missed in May: +1"
    assert row(result, "first_touch")["credits"] == 0
    assert row(result, "first_touch")["credit_history_text"] == "no credits owed"


def test_two_misses_inside_the_window_are_critical_and_one_outside_does_not_count():
    # window 3 finished months (Apr, May, Jun), critical at 2 misses.
    terms = Terms(critical_window_months=3, critical_misses=2)
    cards = {m: card(m) for m in MONTHS}
    missed = {"quota_status": "missed", "mqls": 80}
    cards["2026-01"] = card("2026-01", **missed)  # outside the window
    cards["2026-05"] = card("2026-05", **missed)
    quota = row(consequences(cards, "2026-06", terms), "mql_quota")
    assert (quota["strikes"], quota["critical"]) == (1, False)
    cards["2026-06"] = card("2026-06", **missed)
    quota = row(consequences(cards, "2026-06", terms), "mql_quota")
    assert (quota["strikes"], quota["critical"]) == (2, True)
    assert quota["score"] == pytest.approx(0.8)  # 80 / 100


def test_default_rule_is_three_misses_in_six_finished_months():
    cards = {m: card(m, first_touch=sales_part("missed", 0.45)) if m in MONTHS[3:] else card(m) for m in MONTHS}
    ft = row(consequences(cards, "2026-06", Terms()), "first_touch")
    assert (ft["strikes"], ft["critical"], ft["score"]) == (3, True, pytest.approx(0.5))  # 0.45 / 0.9


def test_weights_leave_out_a_commitment_not_in_force():
    # acceptance and lead quality are absent from the card, so their weights (0.1 each) drop out:
    # mql_quota 80/100 = 0.8; first_touch met = 1; attempts 0.6/0.8 = 0.75
    # marketing = 0.4×0.8 / 0.4 = 0.8; sales = (0.3×1 + 0.1×0.75) / 0.4 = 0.9375
    # overall = (0.32 + 0.3 + 0.075) / 0.8 = 0.86875
    weights = {"mql_quota": 0.4, "lead_quality": 0.1, "first_touch": 0.3, "attempts": 0.1, "acceptance": 0.1}
    terms = Terms(weights=weights)
    cards = {"2026-01": card("2026-01", quota_status="missed", mqls=80, attempts=sales_part("missed", 0.6, 0.8))}
    result = consequences(cards, "2026-01", terms)
    assert result["score"] == pytest.approx({"marketing": 0.8, "sales": 0.9375, "overall": 0.86875})
    assert [c["commitment"] for c in result["by_commitment"]] == ["mql_quota", "first_touch", "attempts"]
    assert [c["weight"] for c in result["by_commitment"]] == [0.4, 0.3, 0.1]


def test_a_commitment_the_weights_do_not_name_weighs_nothing():
    # attempts unnamed → weight 0: sales = first_touch 0.5 alone; overall = (1×1 + 1×0.5) / 2 = 0.75.
    terms = Terms(weights={"mql_quota": 1, "first_touch": 1})
    cards = {"2026-01": card("2026-01", first_touch=sales_part("missed", 0.45), attempts=sales_part("missed", 0.0))}
    result = consequences(cards, "2026-01", terms)
    assert result["score"] == pytest.approx({"marketing": 1.0, "sales": 0.5, "overall": 0.75})
    assert row(result, "attempts")["weight"] == 0.0


def test_acceptance_and_lead_quality_count_when_their_parts_are_in_the_card():
    # lead quality: 0.15 / 0.2 = 0.75; acceptance 0.57/0.95 = 0.6; without weights each weighs 1:
    # marketing = (1 + 0.75) / 2 = 0.875; sales = (1 + 1 + 0.6) / 3 = 0.8666…; overall = 4.35 / 5 = 0.87
    month = card("2026-01", acceptance=sales_part("missed", 0.57, 0.95))
    month["marketing"] |= {"quality_status": "missed", "rejection_rate": 0.2, "max_rejection_rate": 0.15}
    result = consequences({"2026-01": month}, "2026-01", Terms())
    assert row(result, "lead_quality")["score"] == pytest.approx(0.75)
    assert row(result, "acceptance")["score"] == pytest.approx(0.6)
    assert result["score"] == pytest.approx({"marketing": 0.875, "sales": 2.6 / 3, "overall": 0.87})
    assert [c["side"] for c in result["by_commitment"]] == ["marketing", "marketing", "sales", "sales", "sales"]


def test_a_month_not_yet_finished_has_null_scores_and_keeps_earlier_strikes():
    cards = {m: card(m, first_touch=sales_part("missed", 0.8)) for m in MONTHS[:2]}
    cards["2026-03"] = card("2026-03", over=False, quota_status="on_track", first_touch="on_track", attempts="at_risk")
    result = consequences(cards, "2026-03", Terms())
    assert result["score"] == {"marketing": None, "sales": None, "overall": None}
    ft = row(result, "first_touch")
    assert (ft["status"], ft["score"], ft["strikes"], ft["credits"]) == ("on_track", None, 2, 2)


def test_statuses_that_are_not_final_leave_the_month_out():
    # Feb is over but first touch still has pending leads (on_track) and attempts have no activity data:
    # neither is a miss nor breaks or extends a run; earn_back 2: Jan missed +1, Mar and Apr met −1 → 0.
    terms = Terms(earn_back_months=2)
    cards = {m: card(m) for m in MONTHS[:4]}
    cards["2026-01"] = card("2026-01", first_touch=sales_part("missed", 0.5), attempts=sales_part("missed", 0.5))
    cards["2026-02"] = card("2026-02", first_touch="on_track", attempts="no_activity_data", quota_status="no_data")
    feb = consequences(cards, "2026-02", terms)
    assert feb["score"] == {"marketing": None, "sales": None, "overall": None}
    apr = consequences(cards, "2026-04", terms)
    assert row(apr, "first_touch")["credit_history_text"] == "missed in January: +1; met March and April: −1"
    assert row(apr, "attempts")["credits"] == 0


def test_the_trend_has_each_months_side_scores():
    cards = {m: card(m) for m in MONTHS[:3]}
    cards["2026-02"] = card("2026-02", quota_status="missed", mqls=50)
    trend = consequences(cards, "2026-03", Terms())["trend"]
    assert [(t["month"], t["marketing"], t["sales"]) for t in trend] == [
        ("2026-01", 1.0, 1.0),
        ("2026-02", 0.5, 1.0),
        ("2026-03", 1.0, 1.0),
    ]
    assert trend[1]["overall"] == pytest.approx(2.5 / 3)


def test_history_names_the_year_of_months_outside_the_reviewed_year():
    history = [
        {"event": "missed", "months": ["2025-12"], "change": 1, "balance": 1},
        {"event": "met", "months": ["2026-01", "2026-02", "2026-03"], "change": -1, "balance": 0},
    ]
    assert history_text(history, "2026-03") == "missed in December 2025: +1; met January, February and March: −1"


def test_consequences_settings_round_trip_through_toml():
    text = """
[consequences]
weights = { mql_quota = 0.4, first_touch = 0.6 }
critical_misses = 2
critical_window_months = 4
credit_per_miss = 2
earn_back_months = 2
"""
    terms, _ = parse_terms_toml(text)
    assert (terms.critical_misses, terms.critical_window_months, terms.credit_per_miss, terms.earn_back_months) == (
        2,
        4,
        2,
        2,
    )
    assert parse_terms_toml(terms_to_toml(terms))[0] == terms


def test_terms_without_a_consequences_table_write_none():
    assert "consequences" not in terms_to_toml(Terms())


@pytest.mark.parametrize(
    ("table", "sentence"),
    [
        ("weights = { first_touch = -0.5 }", "consequences.weights.first_touch must be a number of 0 or more"),
        ("weights = { speed = 1 }", "consequences.weights.speed is not a commitment"),
        ("weights = { acceptance = 1 }", "consequences.weights must give at least one commitment in force"),
        ("weights = { mql_quota = 0, first_touch = 0 }", "at least one commitment in force"),
        ("critical_misses = 0", "consequences.critical_misses must be a whole number of 1 or more"),
        ("earn_back_months = 1.5", "consequences.earn_back_months must be a whole number of 1 or more"),
        ("critical_window_months = true", "consequences.critical_window_months must be a whole number"),
        ("credit_per_miss = -1", "consequences.credit_per_miss must be a whole number of 1 or more"),
    ],
)
def test_bad_consequences_settings_are_refused_in_one_sentence_naming_the_key(table: str, sentence: str):
    with pytest.raises(TermsError) as refused:
        parse_terms_toml(f"[consequences]\n{table}\n")
    assert sentence in str(refused.value)
    assert len(refused.value.problems) == 1


def test_misses_in_a_row_read_as_one_entry_of_the_history():
    # Jan, Feb missed: +1 +1 → "missed in January and February: +2"; Mar, Apr, May met → −1; balance 1.
    cards = {m: card(m, attempts=sales_part("missed", 0.4)) if m in MONTHS[:2] else card(m) for m in MONTHS[:5]}
    attempts = row(consequences(cards, "2026-05", Terms()), "attempts")
    assert attempts["credit_history_text"] == "missed in January and February: +2; met March, April and May: −1"
    assert attempts["credits"] == 1


def test_each_run_of_met_months_cancels_one_credit_and_starts_a_new_run():
    # earn_back 2: Jan, Feb missed → 2; Mar+Apr → 1; May+Jun → 0.
    terms = Terms(earn_back_months=2)
    cards = {m: card(m, quota_status="missed", mqls=90) if m in MONTHS[:2] else card(m) for m in MONTHS}
    quota = row(consequences(cards, "2026-06", terms), "mql_quota")
    assert [e["balance"] for e in quota["credit_history"]] == [1, 2, 1, 0]
    assert quota["credit_history_text"] == (
        "missed in January and February: +2; met March and April: −1; met May and June: −1"
    )
    assert quota["credits"] == 0
