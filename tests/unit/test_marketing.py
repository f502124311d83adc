"""Marketing side (DESIGN section 5): MQLs against the month's quota, pacing and status.

Month boundaries are local (America/New_York). March 2026 starts 03-01 00:00 EST (05:00Z)
and ends 04-01 00:00 EDT (04:00Z): the clocks jump on 03-08, so it lasts 31 × 24 − 1 = 743 h.
As of 2026-03-16 00:00 EDT (04:00Z) 15 × 24 − 1 = 359 h have passed: fraction f = 359/743.

The blended projection (v2) is mqls + (1 − f) × (mqls + prior × w) / (f + w) with w = 1/4:
at that f, (1 − f) / (f + w) = (384/743) / (544.75/743) = 1536/2179 =: K.
"""

from __future__ import annotations

import pytest

from smarketing.core.marketing import (
    blended_projection,
    daily_mqls,
    elapsed_fraction,
    marketing_summary,
    pacing,
    quota_status,
)

pytestmark = pytest.mark.unit

NY = "America/New_York"
F = 359 / 743  # elapsed fraction of March 2026 at 03-16 00:00 local
K = 1536 / 2179  # (1 − F) / (F + 1/4)


# -- elapsed fraction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "month, as_of, expected",
    [
        ("2026-03", "2026-03-16 00:00", 359 / 743),
        # 03-08 01:30 EST (before the jump) = 06:30Z: 7 d + 1.5 h = 169.5 h.
        ("2026-03", "2026-03-08 01:30", 169.5 / 743),
        # 03-08 12:00 EDT = 16:00Z: 7 d + 11 h = 179 h (not 180: an hour was skipped).
        ("2026-03", "2026-03-08 12:00", 179 / 743),
        # November 2026: 11-01 00:00 EDT (04:00Z) to 12-01 00:00 EST (05:00Z) = 721 h;
        # 11-02 00:00 EST = 05:00Z → 25 h.
        ("2026-11", "2026-11-02 00:00", 25 / 721),
        # January, no DST: 15.5 of 31 days.
        ("2026-01", "2026-01-16 12:00", 0.5),
        ("2026-03", "2026-03-01 00:00", 0.0),  # at the start
        ("2026-03", "2026-02-20 12:00", 0.0),  # not started: clamped
        ("2026-03", "2026-04-01 00:00", 1.0),  # exactly the end
        ("2026-03", "2026-05-01 12:00", 1.0),  # over: clamped
    ],
)
def test_elapsed_fraction(at, month, as_of, expected):
    assert elapsed_fraction(month, at(as_of), NY) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_march_2026_has_743_hours(at):
    # One local hour before the end: 742/743.
    assert elapsed_fraction("2026-03", at("2026-03-31 23:00"), NY) == pytest.approx(742 / 743, rel=1e-12)


# -- pacing ----------------------------------------------------------------------------------


def test_pacing_on_track(ny_terms, at):
    # quota 10, 5 MQLs as of 03-16 00:00: expected 10f = 3590/743 = 4.8318; pace 5/(10f) =
    # 3715/3590 = 1.03482; no prior given → prior = quota 10: projected 5 + K × (5 + 10/4)
    # = 5 + 11520/2179 = 22415/2179 = 10.287 ≥ 10 → on_track;
    # days left (16th..31st counting today) = 16 → required (10 − 5)/16 = 0.3125.
    p = pacing(5, 10, "2026-03", at("2026-03-16 00:00"), ny_terms(mql_quota=10))
    assert p["elapsed_fraction"] == pytest.approx(F)
    assert p["expected_to_date"] == pytest.approx(3590 / 743)
    assert p["pace"] == pytest.approx(3715 / 3590)
    assert p["prior"] == 10
    assert p["projected"] == pytest.approx(22415 / 2179)
    assert p["required_daily_rate"] == pytest.approx(0.3125)
    assert p["attainment"] == pytest.approx(0.5)
    assert p["status"] == "on_track"


def test_pacing_behind(ny_terms, at):
    # 4 MQLs: projected 4 + K × (4 + 10/4) = 18700/2179 = 8.582 < 0.9 × 10 = 9 → behind;
    # required 6/16 = 0.375.
    p = pacing(4, 10, "2026-03", at("2026-03-16 00:00"), ny_terms(mql_quota=10))
    assert p["projected"] == pytest.approx(18700 / 2179)
    assert p["required_daily_rate"] == pytest.approx(0.375)
    assert p["status"] == "behind"


def test_pacing_at_risk(ny_terms, at):
    # quota 9, 4 MQLs: projected 4 + K × (4 + 9/4) = 18316/2179 = 8.406 < 9 but ≥ 0.9 × 9 = 8.1 → at_risk.
    p = pacing(4, 9, "2026-03", at("2026-03-16 00:00"), ny_terms(mql_quota=9))
    assert p["status"] == "at_risk"
    # With at_risk_ratio 0.95: 8.2785 < 8.55 → behind.
    assert pacing(4, 9, "2026-03", at("2026-03-16 00:00"), ny_terms(at_risk_ratio=0.95))["status"] == "behind"


@pytest.mark.parametrize("mqls", [10, 12])
def test_pacing_met_mid_month(ny_terms, at, mqls):
    p = pacing(mqls, 10, "2026-03", at("2026-03-16 00:00"), ny_terms(mql_quota=10))
    assert p["status"] == "met"
    assert p["required_daily_rate"] == 0.0
    assert p["attainment"] == pytest.approx(mqls / 10)


def test_pacing_last_day(ny_terms, at):
    # 03-31 12:00: only today left → required (10 − 5)/1 = 5.
    p = pacing(5, 10, "2026-03", at("2026-03-31 12:00"), ny_terms(mql_quota=10))
    assert p["required_daily_rate"] == pytest.approx(5.0)


def test_pacing_month_over(ny_terms, at):
    # As of 04-02: fraction 1, expected 10, pace 0.9, projected 9, missed, no required rate.
    p = pacing(9, 10, "2026-03", at("2026-04-02 12:00"), ny_terms(mql_quota=10))
    assert p["elapsed_fraction"] == 1.0
    assert p["expected_to_date"] == pytest.approx(10.0)
    assert p["pace"] == pytest.approx(0.9)
    assert p["projected"] == pytest.approx(9.0)
    assert p["required_daily_rate"] is None
    assert p["status"] == "missed"
    # The month is over at exactly 04-01 00:00 local.
    assert pacing(9, 10, "2026-03", at("2026-04-01 00:00"), ny_terms())["status"] == "missed"
    assert pacing(9, 10, "2026-03", at("2026-03-31 23:59:59"), ny_terms())["status"] != "missed"
    assert pacing(10, 10, "2026-03", at("2026-04-02 12:00"), ny_terms())["status"] == "met"


def test_pacing_month_not_started(ny_terms, at):
    # As of 02-15: fraction 0 → expected 0, pace null, projected = prior = quota 10,
    # not_started; all 31 days left → required 10/31.
    p = pacing(0, 10, "2026-03", at("2026-02-15 12:00"), ny_terms(mql_quota=10))
    assert p["elapsed_fraction"] == 0.0
    assert p["expected_to_date"] == 0.0
    assert p["pace"] is None and p["projected"] == 10
    assert p["status"] == "not_started"
    assert p["required_daily_rate"] == pytest.approx(10 / 31)


@pytest.mark.parametrize(
    "mqls, quota, projected, over, status",
    [
        (10, 10, None, False, "met"),
        (10, 10, 5.0, True, "met"),
        (9, 10, 9.0, True, "missed"),
        (0, 10, None, False, "on_track"),  # no projection
        (5, 10, 10.0, False, "on_track"),  # projected == quota
        (5, 10, 9.0, False, "at_risk"),  # projected == 0.9 × quota
        (5, 10, 8.99, False, "behind"),
        (0, 0, None, False, "met"),  # nothing promised
    ],
)
def test_quota_status(mqls, quota, projected, over, status):
    assert quota_status(mqls, quota, projected, over, 0.9) == status


# -- the marketing summary over leads --------------------------------------------------------


def _march_leads(make_data):
    # Counted in March as of 03-16 00:00 (7): A×2, B×4 (incl. one exactly at as_of), C×1.
    # Not counted: B on 03-20 (after as_of), A on 02-28 23:59 (February), a lead that never
    # became an MQL.
    return make_data(
        leads=[
            {"lead_id": "a1", "segment": "A", "source": "web", "mql_at": "2026-03-02 10:00"},
            {"lead_id": "a2", "segment": "A", "source": "web", "mql_at": "2026-03-10 10:00"},
            {"lead_id": "b1", "segment": "B", "source": "event", "mql_at": "2026-03-03 10:00"},
            {"lead_id": "b2", "segment": "B", "source": None, "mql_at": "2026-03-09 10:00"},
            {"lead_id": "b3", "segment": "B", "source": "web", "mql_at": "2026-03-15 23:59"},
            {"lead_id": "b4", "segment": "B", "source": "web", "mql_at": "2026-03-16 00:00"},
            {"lead_id": "c1", "segment": "C", "source": "ads", "mql_at": "2026-03-12 10:00"},
            {"lead_id": "b5", "segment": "B", "source": "web", "mql_at": "2026-03-20 10:00"},
            {"lead_id": "a0", "segment": "A", "source": "web", "mql_at": "2026-02-28 23:59"},
            {"lead_id": "x", "segment": "A", "source": "web", "created_at": "2026-03-05 10:00"},
        ]
    )


def test_marketing_summary_with_segment_quotas(make_data, ny_terms, at):
    # Segment quotas A 3, B 10, D 2 → quota 15. 7 MQLs:
    # expected 15f = 5385/743 = 7.2476; pace 7/(15f) = 5201/5385 = 0.96583;
    # prior: February has 1 MQL (a0), December and January none → prior 1; projected
    # 7 + K × (7 + 1/4) = 26389/2179 = 12.111 < 0.9 × 15 = 13.5 → behind; required (15 − 7)/16 = 0.5;
    # attainment 7/15.
    terms = ny_terms(segment_quotas={"A": 3, "B": 10, "D": 2})
    s = marketing_summary(_march_leads(make_data).leads, terms, "2026-03", at("2026-03-16 00:00"))
    assert s["quota"] == 15 and s["mqls"] == 7
    assert s["expected_to_date"] == pytest.approx(5385 / 743)
    assert s["pace"] == pytest.approx(5201 / 5385)
    assert s["prior"] == 1
    assert s["projected"] == pytest.approx(26389 / 2179)
    assert s["required_daily_rate"] == pytest.approx(0.5)
    assert s["attainment"] == pytest.approx(7 / 15)
    assert s["status"] == "behind"
    seg = {r["segment"]: r for r in s["by_segment"]}
    assert [r["segment"] for r in s["by_segment"]] == ["A", "B", "C", "D"]
    # A: 2 of 3, its own prior 1 (a0 in February): projected 2 + K × (2 + 1/4) = 7814/2179
    # = 3.586 ≥ 3 → on_track.
    assert (seg["A"]["quota"], seg["A"]["mqls"], seg["A"]["status"]) == (3, 2, "on_track")
    assert seg["A"]["prior"] == 1
    assert seg["A"]["projected"] == pytest.approx(7814 / 2179)
    # B: 4 of 10, no history → prior = quota 10: projected 18700/2179 = 8.582 < 9 → behind;
    # required (10 − 4)/16 = 0.375.
    assert (seg["B"]["quota"], seg["B"]["mqls"], seg["B"]["status"]) == (10, 4, "behind")
    assert seg["B"]["required_daily_rate"] == pytest.approx(0.375)
    # C has no quota and no history: nothing assumed, projected 1 + K × 1 = 3715/2179;
    # D has quota 2 and no MQLs: projected 0 + K × 2/4 = 768/2179 < 1.8 → behind.
    assert (seg["C"]["quota"], seg["C"]["mqls"], seg["C"]["prior"]) == (None, 1, None)
    assert seg["C"]["projected"] == pytest.approx(3715 / 2179)
    assert seg["D"]["projected"] == pytest.approx(768 / 2179)
    assert (seg["D"]["quota"], seg["D"]["mqls"], seg["D"]["status"]) == (2, 0, "behind")
    assert sum(r["mqls"] for r in s["by_segment"]) == 7


def test_marketing_summary_by_source(make_data, ny_terms, at):
    # web: a1, a2, b3, b4 = 4; event 1; ads 1; no source 1.
    s = marketing_summary(_march_leads(make_data).leads, ny_terms(), "2026-03", at("2026-03-16 00:00"))
    by_source = {r["source"]: r["mqls"] for r in s["by_source"]}
    assert by_source == {"web": 4, "event": 1, "ads": 1, "(none)": 1}
    assert s["by_source"][0] == {"source": "web", "mqls": 4}


def test_marketing_summary_plain_quota(make_data, ny_terms, at):
    # mql_quota 400, 7 MQLs: expected 400f = 143600/743 = 193.27; prior 1 → projected 12.11 < 360 → behind;
    # required (400 − 7)/16 = 24.5625. Segments listed with their counts and no quota.
    s = marketing_summary(_march_leads(make_data).leads, ny_terms(), "2026-03", at("2026-03-16 00:00"))
    assert (s["quota"], s["mqls"], s["status"]) == (400, 7, "behind")
    assert s["expected_to_date"] == pytest.approx(143600 / 743)
    assert s["required_daily_rate"] == pytest.approx(393 / 16)
    assert {r["segment"]: (r["quota"], r["mqls"]) for r in s["by_segment"]} == {
        "A": (None, 2),
        "B": (None, 4),
        "C": (None, 1),
    }


def test_marketing_summary_month_boundaries(make_data, ny_terms, at):
    # 03-31 23:30 EDT is 04-01 03:30Z but counts for March, not April.
    data = make_data(
        leads=[{"lead_id": "m", "mql_at": "2026-03-31 23:30"}, {"lead_id": "n", "mql_at": "2026-04-01 00:00"}]
    )
    as_of = at("2026-04-10 12:00")
    assert marketing_summary(data.leads, ny_terms(), "2026-03", as_of)["mqls"] == 1
    assert marketing_summary(data.leads, ny_terms(), "2026-04", as_of)["mqls"] == 1


def test_marketing_summary_future_month(make_data, ny_terms, at):
    # April as of 03-16: nothing delivered, nothing expected; not_started; 30 days left → 10/30.
    # Prior: January 0, February 1, March 7 so far (b4 exactly at as_of counts) → mean of the
    # months with an MQL (1 + 7)/2 = 4 = projected at f = 0.
    s = marketing_summary(_march_leads(make_data).leads, ny_terms(mql_quota=10), "2026-04", at("2026-03-16 00:00"))
    assert (s["mqls"], s["elapsed_fraction"], s["expected_to_date"]) == (0, 0.0, 0.0)
    assert s["pace"] is None
    assert (s["prior"], s["projected"]) == (4, 4)
    assert s["status"] == "not_started"
    assert s["required_daily_rate"] == pytest.approx(10 / 30)


def test_marketing_summary_month_over(make_data, ny_terms, at):
    # February as of 03-16: 1 MQL (a0) of 10 → missed, no required rate, fraction 1.
    s = marketing_summary(_march_leads(make_data).leads, ny_terms(mql_quota=10), "2026-02", at("2026-03-16 00:00"))
    assert (s["mqls"], s["elapsed_fraction"], s["status"]) == (1, 1.0, "missed")
    assert s["required_daily_rate"] is None
    assert s["projected"] == pytest.approx(1.0)


def test_daily_mqls(make_data, ny_terms, at):
    # Local days: 03-02 ×1, 03-08 ×1 (03:30 EDT, just after the jump), 03-31 ×1 (23:30 EDT,
    # 04-01 in UTC); 04-01 00:30 is April's. 31 rows, cumulative ends at 3.
    data = make_data(
        leads=[
            {"lead_id": "a", "mql_at": "2026-03-02 10:00"},
            {"lead_id": "b", "mql_at": "2026-03-08 03:30"},
            {"lead_id": "c", "mql_at": "2026-03-31 23:30"},
            {"lead_id": "d", "mql_at": "2026-04-01 00:30"},
        ]
    )
    frame = daily_mqls(data.leads, ny_terms(), "2026-03", at("2026-04-02 12:00"))
    assert len(frame) == 31
    counts = dict(zip(frame["day"].astype(str), frame["mqls"]))
    assert (counts["2026-03-02"], counts["2026-03-08"], counts["2026-03-31"]) == (1, 1, 1)
    assert frame["mqls"].sum() == 3
    assert list(frame["cumulative"])[-1] == 3
    assert list(frame["cumulative"])[6:8] == [1, 2]  # 03-07, 03-08
    # As of 03-20, the 03-31 lead is not known yet.
    assert daily_mqls(data.leads, ny_terms(), "2026-03", at("2026-03-20 00:00"))["mqls"].sum() == 2


# -- the blended projection (v2) ---------------------------------------------------------------
# January 2026 (no DST, 31 days). As of 01-02 00:00 local, f = 1/31: (1 − f) / (f + 1/4) =
# (30/31) / (35/124) = 24/7.


def _january(make_data, history):
    """One MQL on 01-01 10:00 and `history` MQLs per earlier month {month: count}."""
    leads = [{"lead_id": "jan", "mql_at": "2026-01-01 10:00"}]
    for month, count in history.items():
        leads += [{"lead_id": f"{month}-{i}", "mql_at": f"{month}-15 10:00"} for i in range(count)]
    return make_data(leads=leads).leads


def test_first_day_without_history_leans_on_the_quota(make_data, ny_terms, at):
    # No MQL in Oct–Dec → prior = quota 400: projected 1 + 24/7 × (1 + 100) = 2431/7 = 347.29,
    # not the 31 that 1 MQL / (1/31) would say; 347.29 < 360 → behind.
    s = marketing_summary(_january(make_data, {}), ny_terms(mql_quota=400), "2026-01", at("2026-01-02 00:00"))
    assert (s["mqls"], s["prior"]) == (1, 400)
    assert s["projected"] == pytest.approx(2431 / 7)
    assert s["status"] == "behind"


def test_first_day_with_history_leans_on_recent_months(make_data, ny_terms, at):
    # Oct 10, Nov none, Dec 30 → prior over the months with an MQL = (10 + 30)/2 = 20;
    # projected 1 + 24/7 × (1 + 20/4) = 1 + 144/7 = 151/7 = 21.571.
    leads = _january(make_data, {"2025-10": 10, "2025-12": 30, "2025-09": 50})  # September is too early
    s = marketing_summary(leads, ny_terms(mql_quota=400), "2026-01", at("2026-01-02 00:00"))
    assert s["prior"] == 20
    assert s["projected"] == pytest.approx(151 / 7)


def test_prior_ignores_mqls_after_as_of(make_data, ny_terms, at):
    # As of 2025-12-31 12:00 the December MQLs (12-15) are known, as of 12-10 they are not:
    # February 2026's prior months are Nov, Dec, Jan → prior 30, then none → quota 400.
    leads = _january(make_data, {"2025-12": 30})
    terms = ny_terms(mql_quota=400)
    assert marketing_summary(leads, terms, "2026-02", at("2025-12-31 12:00"))["prior"] == 30
    assert marketing_summary(leads, terms, "2026-02", at("2025-12-10 12:00"))["prior"] == 400


def test_history_frame_supplies_the_prior(make_data, ny_terms, at):
    # The month's leads alone have no December; the history frame has 8 December MQLs → prior 8;
    # projected 1 + 24/7 × (1 + 2) = 79/7.
    history = _january(make_data, {"2025-12": 8})
    s = marketing_summary(_january(make_data, {}), ny_terms(), "2026-01", at("2026-01-02 00:00"), history=history)
    assert s["prior"] == 8
    assert s["projected"] == pytest.approx(79 / 7)


def test_projection_at_the_first_instant_is_the_prior(ny_terms, at):
    # f = 0 exactly at 03-01 00:00 local: projected 0 + 1 × (0 + 10/4)/(1/4) = 10 = prior;
    # the month has started, so not not_started: 10 ≥ 10 → on_track.
    p = pacing(0, 10, "2026-03", at("2026-03-01 00:00"), ny_terms(), prior=None)
    assert (p["elapsed_fraction"], p["projected"], p["status"]) == (0.0, 10, "on_track")
    assert pacing(0, 10, "2026-03", at("2026-02-28 23:59:59"), ny_terms())["status"] == "not_started"


def test_projection_at_month_end_is_the_count(ny_terms, at):
    # f = 1: projected = mqls whatever the prior.
    p = pacing(7, 10, "2026-03", at("2026-04-01 00:00"), ny_terms(), prior=1000)
    assert p["projected"] == 7


def test_blended_projection_formula():
    # 6 MQLs at f = 1/2 with prior 20: 6 + (1/2) × (6 + 5)/(3/4) = 6 + 22/3 = 40/3.
    assert blended_projection(6, 0.5, 20) == pytest.approx(40 / 3)
    assert blended_projection(0, 0.0, 20) == pytest.approx(20)
    assert blended_projection(9, 1.0, 20) == pytest.approx(9)


def test_future_month_is_not_started(make_data, ny_terms, at):
    # A month in 2031 as of 2026-01-02: no MQL, nothing expected, not_started (never on_track).
    s = marketing_summary(_january(make_data, {}), ny_terms(mql_quota=400), "2031-05", at("2026-01-02 00:00"))
    assert (s["mqls"], s["status"], s["prior"], s["projected"]) == (0, "not_started", 400, 400)
