"""Marketing side (DESIGN section 5): MQLs against the month's quota, pacing and status.

Month boundaries are local (America/New_York). March 2026 starts 03-01 00:00 EST (05:00Z)
and ends 04-01 00:00 EDT (04:00Z): the clocks jump on 03-08, so it lasts 31 × 24 − 1 = 743 h.
As of 2026-03-16 00:00 EDT (04:00Z) 15 × 24 − 1 = 359 h have passed: fraction f = 359/743.
"""

from __future__ import annotations

import pytest

from smarketing.core.marketing import daily_mqls, elapsed_fraction, marketing_summary, pacing, quota_status

pytestmark = pytest.mark.unit

NY = "America/New_York"
F = 359 / 743  # elapsed fraction of March 2026 at 03-16 00:00 local


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
    # 3715/3590 = 1.03482; projected 5/f = 3715/359 = 10.348 ≥ 10 → on_track;
    # days left (16th..31st counting today) = 16 → required (10 − 5)/16 = 0.3125.
    p = pacing(5, 10, "2026-03", at("2026-03-16 00:00"), ny_terms(mql_quota=10))
    assert p["elapsed_fraction"] == pytest.approx(F)
    assert p["expected_to_date"] == pytest.approx(3590 / 743)
    assert p["pace"] == pytest.approx(3715 / 3590)
    assert p["projected"] == pytest.approx(3715 / 359)
    assert p["required_daily_rate"] == pytest.approx(0.3125)
    assert p["attainment"] == pytest.approx(0.5)
    assert p["status"] == "on_track"


def test_pacing_behind(ny_terms, at):
    # 4 MQLs: projected 4/f = 2972/359 = 8.2785 < 0.9 × 10 = 9 → behind; required 6/16 = 0.375.
    p = pacing(4, 10, "2026-03", at("2026-03-16 00:00"), ny_terms(mql_quota=10))
    assert p["projected"] == pytest.approx(2972 / 359)
    assert p["required_daily_rate"] == pytest.approx(0.375)
    assert p["status"] == "behind"


def test_pacing_at_risk(ny_terms, at):
    # quota 9, 4 MQLs: projected 8.2785 < 9 but ≥ 0.9 × 9 = 8.1 → at_risk.
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
    # As of 02-15: fraction 0 → expected 0, pace and projected null, on_track; all 31 days
    # left → required 10/31.
    p = pacing(0, 10, "2026-03", at("2026-02-15 12:00"), ny_terms(mql_quota=10))
    assert p["elapsed_fraction"] == 0.0
    assert p["expected_to_date"] == 0.0
    assert p["pace"] is None and p["projected"] is None
    assert p["status"] == "on_track"
    assert p["required_daily_rate"] == pytest.approx(10 / 31)


@pytest.mark.parametrize(
    "mqls, quota, projected, over, status",
    [
        (10, 10, None, False, "met"),
        (10, 10, 5.0, True, "met"),
        (9, 10, 9.0, True, "missed"),
        (0, 10, None, False, "on_track"),  # not started
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
    # projected 7/f = 5201/359 = 14.487 < 15 but ≥ 13.5 → at_risk; required (15 − 7)/16 = 0.5;
    # attainment 7/15.
    terms = ny_terms(segment_quotas={"A": 3, "B": 10, "D": 2})
    s = marketing_summary(_march_leads(make_data).leads, terms, "2026-03", at("2026-03-16 00:00"))
    assert s["quota"] == 15 and s["mqls"] == 7
    assert s["expected_to_date"] == pytest.approx(5385 / 743)
    assert s["pace"] == pytest.approx(5201 / 5385)
    assert s["projected"] == pytest.approx(5201 / 359)
    assert s["required_daily_rate"] == pytest.approx(0.5)
    assert s["attainment"] == pytest.approx(7 / 15)
    assert s["status"] == "at_risk"
    seg = {r["segment"]: r for r in s["by_segment"]}
    assert [r["segment"] for r in s["by_segment"]] == ["A", "B", "C", "D"]
    # A: 2 of 3, projected 2/f = 1486/359 = 4.139 ≥ 3 → on_track.
    assert (seg["A"]["quota"], seg["A"]["mqls"], seg["A"]["status"]) == (3, 2, "on_track")
    assert seg["A"]["projected"] == pytest.approx(1486 / 359)
    # B: 4 of 10, projected 2972/359 = 8.2785 < 9 → behind; required (10 − 4)/16 = 0.375.
    assert (seg["B"]["quota"], seg["B"]["mqls"], seg["B"]["status"]) == (10, 4, "behind")
    assert seg["B"]["required_daily_rate"] == pytest.approx(0.375)
    # C has no quota of its own; D has a quota and no MQLs (projected 0 < 1.8 → behind).
    assert (seg["C"]["quota"], seg["C"]["mqls"]) == (None, 1)
    assert (seg["D"]["quota"], seg["D"]["mqls"], seg["D"]["status"]) == (2, 0, "behind")
    assert sum(r["mqls"] for r in s["by_segment"]) == 7


def test_marketing_summary_by_source(make_data, ny_terms, at):
    # web: a1, a2, b3, b4 = 4; event 1; ads 1; no source 1.
    s = marketing_summary(_march_leads(make_data).leads, ny_terms(), "2026-03", at("2026-03-16 00:00"))
    by_source = {r["source"]: r["mqls"] for r in s["by_source"]}
    assert by_source == {"web": 4, "event": 1, "ads": 1, "(none)": 1}
    assert s["by_source"][0] == {"source": "web", "mqls": 4}


def test_marketing_summary_plain_quota(make_data, ny_terms, at):
    # mql_quota 400, 7 MQLs: expected 400f = 143600/743 = 193.27; projected 14.49 < 360 → behind;
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
    # April as of 03-16: nothing delivered, nothing expected; on_track; 30 days left → 10/30.
    s = marketing_summary(_march_leads(make_data).leads, ny_terms(mql_quota=10), "2026-04", at("2026-03-16 00:00"))
    assert (s["mqls"], s["elapsed_fraction"], s["expected_to_date"]) == (0, 0.0, 0.0)
    assert s["pace"] is None and s["projected"] is None
    assert s["status"] == "on_track"
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
