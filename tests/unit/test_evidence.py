"""A verdict's evidence in words (DESIGN v2 section 8), on hand-made scorecard parts."""

from __future__ import annotations

import pytest

from smarketing.core.evidence import evidence_notes, pending_note, plural, prior_part, projection_note

pytestmark = pytest.mark.unit


def test_plural():
    assert (plural(1, "MQL"), plural(2, "MQL"), plural(1204, "lead"), plural(0, "deal")) == (
        "1 MQL",
        "2 MQLs",
        "1,204 leads",
        "0 deals",
    )


def test_day_one_projection_is_mostly_the_prior():
    # f = 1/31, prior 420, 1 MQL: prior part (30/31) × 105 / (35/124) = 105 × 24/7 = 360;
    # projected 1 + 24/7 × (1 + 105) = 2551/7 = 364.43 → 360 / 364.43 = 99%.
    m = {"elapsed_fraction": 1 / 31, "prior": 420, "prior_source": "recent_months", "projected": 2551 / 7}
    assert prior_part(m) == pytest.approx(360)
    assert projection_note(m) == (
        "99% of the projection of 364 comes from the last three months' average of 420 MQLs a month; "
        "3% of the month has gone, and the month's own pace counts more each day."
    )


def test_projection_note_names_the_quota_when_there_is_no_history_and_is_silent_once_over():
    m = {"elapsed_fraction": 0.0, "prior": 400, "prior_source": "quota", "projected": 400, "status": "not_started"}
    assert projection_note(m) == (
        "The month has not started: the projection of 400 is the quota of 400 MQLs (no MQLs in the last three months)."
    )
    assert projection_note({**m, "elapsed_fraction": 1.0, "status": "met"}) is None


@pytest.mark.parametrize(
    "part, note",
    [
        # 171 pending, budget 59 → 112 must be met.
        (
            {"pending": 171, "budget_left": 59, "needed_of_pending": 112, "target": 0.8},
            "171 leads still inside their window; 112 of them must be met to keep 80%.",
        ),
        (
            {"pending": 6, "budget_left": 13, "needed_of_pending": 0, "target": 0.9},
            "6 leads still inside their window; 90% holds even if none of them is met.",
        ),
        # budget −2 → 5 − (−2) = 7 > 5 pending: out of reach.
        (
            {"pending": 5, "budget_left": -2, "needed_of_pending": 7, "target": 0.9},
            "5 leads still inside their window; 90% is out of reach even if every one of them is met.",
        ),
        # A v1 snapshot without the key: computed from the budget, 1 pending − 0 = 1.
        (
            {"pending": 1, "budget_left": 0, "target": 0.8},
            "1 lead still inside their window; 1 of them must be met to keep 80%.",
        ),
        ({"pending": 0, "budget_left": 3, "needed_of_pending": 0, "target": 0.8}, None),
        ({"pending": 4, "budget_left": None, "needed_of_pending": None, "status": "no_activity_data"}, None),
    ],
)
def test_pending_note(part, note):
    assert pending_note(part) == note


def test_evidence_notes_of_an_export_without_activities_or_amounts():
    card = {
        "marketing": {"elapsed_fraction": 1.0, "prior": 10, "projected": 12},
        "sales": {"first_touch": {"status": "no_activity_data"}, "attempts": {"status": "no_activity_data"}},
        "funnel": {"won_deals": 3, "won_revenue": None, "won_deals_without_amount": 3},
    }
    assert evidence_notes(card) == [
        "Sales: This data has no activities; follow-up cannot be measured.",
        "Revenue: unknown; no won deal of the month has an amount.",
    ]
    card["funnel"] = {"won_deals": 3, "won_revenue": 500.0, "won_deals_without_amount": 1}
    assert evidence_notes(card)[-1] == "Revenue: from known amounts only; 1 won deal without an amount."
