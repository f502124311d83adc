"""Sales side (DESIGN section 5): the per-lead ledger, commitment status, owners, worklist.

Unless a test says otherwise the agreement is the DESIGN example: America/New_York,
Mon-Fri 09:00-17:00, US holidays, first touch within 4 business hours, 5 attempts within
10 business days (= 80 business hours). All times in comments are New York local.
May 2026 is EDT (UTC-4); 2026-05-01 is a Friday; 2026-05-25 (Memorial Day) is the only
May holiday, so it never falls inside a May window used here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from smarketing.core.sales import (
    commitment_status,
    lead_ledger,
    mqls_as_of,
    mqls_by_month,
    overdue_worklist,
    owner_summary,
    texts_of,
)

pytestmark = pytest.mark.unit

ONE_NS = pd.Timedelta(1, "ns")
ONE_S = pd.Timedelta(1, "s")


def rows(data, terms, as_of, month=None):
    """The ledger indexed by lead_id."""
    return lead_ledger(data, terms, as_of, month).set_index("lead_id")


# -- first-touch deadlines -----------------------------------------------------------------

DEADLINES = [
    # Fri 16:00: 1 h on Fri (16-17), 3 h on Mon (9-12).
    ("friday 16:00", "2026-05-01 16:00", "2026-05-04 12:00"),
    # Fri 19:30: after closing, the clock starts Mon 09:00; +4 h.
    ("friday evening", "2026-05-01 19:30", "2026-05-04 13:00"),
    # Sat: clock starts Mon 09:00; +4 h.
    ("saturday", "2026-05-02 11:00", "2026-05-04 13:00"),
    # Tue 07:30: clock starts at the 09:00 opening; +4 h.
    ("before opening", "2026-05-05 07:30", "2026-05-05 13:00"),
    # Exactly at opening: 09:00 + 4 h.
    ("at opening", "2026-05-04 09:00", "2026-05-04 13:00"),
    # Exactly at closing (the window is [09:00, 17:00)): nothing left Mon, Tue 09:00 + 4 h.
    ("at closing", "2026-05-04 17:00", "2026-05-05 13:00"),
    # Mon 14:30: 2.5 h on Mon, 1.5 h on Tue.
    ("mid-afternoon", "2026-05-04 14:30", "2026-05-05 10:30"),
    # Thu 2026-07-02 15:00: 2 h Thu; Fri 07-03 is Independence Day (observed); weekend;
    # 2 h on Mon 07-06.
    ("before observed holiday", "2026-07-02 15:00", "2026-07-06 11:00"),
    # On the observed holiday itself: clock starts Mon 07-06 09:00; +4 h.
    ("on observed holiday", "2026-07-03 10:00", "2026-07-06 13:00"),
    # Wed 2026-11-25 16:00 (EST): 1 h Wed; Thu 11-26 Thanksgiving; Fri 11-27 is a workday
    # (not a US federal holiday): 3 h → 12:00.
    ("before thanksgiving", "2026-11-25 16:00", "2026-11-27 12:00"),
    ("on thanksgiving", "2026-11-26 10:00", "2026-11-27 13:00"),
    # Spring DST: Fri 2026-03-06 15:00 EST: 2 h Fri; the clocks jump on Sun 03-08;
    # Mon 03-09 09:00 EDT + 2 h = 11:00 EDT (15:00 UTC; 67 real hours after 20:00 UTC Fri).
    ("across spring DST", "2026-03-06 15:00", "2026-03-09 11:00"),
]


@pytest.mark.parametrize("mql, deadline", [d[1:] for d in DEADLINES], ids=[d[0] for d in DEADLINES])
def test_first_touch_deadline(make_data, ny_terms, at, mql, deadline):
    data = make_data(leads=[{"lead_id": "a", "mql_at": mql}])
    row = rows(data, ny_terms(), at("2026-12-31 12:00")).loc["a"]
    assert row["clock_start"] == at(mql)
    assert row["first_touch_deadline"] == at(deadline)
    assert row["first_touch_hours_allowed"] == 4.0


def test_dst_deadline_in_utc(make_data, ny_terms, at):
    # 2026-03-06 15:00 EST = 20:00Z; 2026-03-09 11:00 EDT = 15:00Z.
    data = make_data(leads=[{"lead_id": "a", "mql_at": "2026-03-06 15:00"}])
    row = rows(data, ny_terms(), at("2026-03-31 12:00")).loc["a"]
    assert row["mql_at"] == pd.Timestamp("2026-03-06 20:00", tz="UTC")
    assert row["first_touch_deadline"] == pd.Timestamp("2026-03-09 15:00", tz="UTC")


def test_dst_response_hours_count_business_time_not_utc(make_data, ny_terms, at):
    # MQL Fri 03-06 15:00 EST, touch Mon 03-09 10:00 EDT: 2 h Fri + 1 h Mon = 3.0 h (met).
    # A second lead touched Mon 11:00 EDT (exactly the deadline): 4.0 h, met.
    # A third touched Mon 11:00:01 EDT: 4 h + 1 s, breached.
    leads = [{"lead_id": x, "mql_at": "2026-03-06 15:00"} for x in "abc"]
    touches = [
        {"lead_id": "a", "occurred_at": "2026-03-09 10:00"},
        {"lead_id": "b", "occurred_at": "2026-03-09 11:00"},
        {"lead_id": "c", "occurred_at": "2026-03-09 11:00:01"},
    ]
    led = rows(make_data(leads=leads, touches=touches), ny_terms(), at("2026-03-10 12:00"))
    assert led.loc["a", "response_hours"] == pytest.approx(3.0, abs=1e-12)
    assert led.loc["b", "response_hours"] == pytest.approx(4.0, abs=1e-12)
    assert led.loc["c", "response_hours"] == pytest.approx(4 + 1 / 3600, abs=1e-12)
    assert list(led["first_touch_status"]) == ["met", "met", "breached"]


# -- first-touch status at the deadline's edge ----------------------------------------------


@pytest.mark.parametrize(
    "as_of, status",
    [
        ("2026-05-02 12:00", "pending"),  # Saturday: only 1 business hour used
        ("2026-05-04 11:59:59", "pending"),
        ("2026-05-04 12:00:00", "pending"),  # exactly the deadline: not passed
        ("2026-05-04 12:00:01", "breached"),  # one second after
        ("2026-05-04 12:00:00.000000001", "breached"),  # one nanosecond after
        ("2026-05-04 19:00", "breached"),
    ],
)
def test_untouched_lead_pending_until_deadline_passes(make_data, ny_terms, at, as_of, status):
    # MQL Fri 05-01 16:00 → deadline Mon 05-04 12:00 (1 h Fri + 3 h Mon).
    data = make_data(leads=[{"lead_id": "a", "mql_at": "2026-05-01 16:00"}])
    row = rows(data, ny_terms(), at(as_of)).loc["a"]
    assert row["first_touch_status"] == status
    assert pd.isna(row["first_touch_at"]) and math.isnan(row["response_hours"])


@pytest.mark.parametrize(
    "touch, status, hours",
    [
        ("2026-05-01 16:00", "met", 0.0),  # at the MQL instant itself
        ("2026-05-02 10:00", "met", 1.0),  # Saturday: only Fri 16-17 counts
        ("2026-05-04 12:00:00", "met", 4.0),  # exactly at the deadline
        ("2026-05-04 12:00:01", "breached", 4 + 1 / 3600),  # one second late
        ("2026-05-04 12:00:00.000000001", "breached", 4.0),  # one ns late (hours ≈ 4.0 as float)
        ("2026-05-05 09:30", "breached", 9.5),  # 1 Fri + 8 Mon + 0.5 Tue
    ],
)
def test_touch_against_deadline(make_data, ny_terms, at, touch, status, hours):
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-01 16:00"}],
        touches=[{"lead_id": "a", "occurred_at": touch}],
    )
    row = rows(data, ny_terms(), at("2026-05-06 12:00")).loc["a"]
    assert row["first_touch_at"] == at(touch)
    assert row["first_touch_status"] == status
    assert row["response_hours"] == pytest.approx(hours, abs=1e-9)


def test_early_touch_met_while_deadline_still_running(make_data, ny_terms, at):
    # Touched Mon 09:30 (response 1.5 h); as_of Mon 10:00 is before the 12:00 deadline → met.
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-01 16:00"}],
        touches=[{"lead_id": "a", "occurred_at": "2026-05-04 09:30"}],
    )
    row = rows(data, ny_terms(), at("2026-05-04 10:00")).loc["a"]
    assert row["first_touch_status"] == "met"
    assert row["response_hours"] == pytest.approx(1.5)


# -- which touches qualify ---------------------------------------------------------------------


def test_only_qualifying_touches_count(make_data, ny_terms, at):
    # Lead a: MQL Mon 05-04 09:00 (deadline 13:00). Ignored: a call before the MQL, an inbound
    # call, an automated email, a note, a task, an "other". The email at 10:30 with no direction
    # counts as outbound → first touch 10:30, response 1.5 h, met; the meeting at 11:00 is the
    # second attempt. Lead b has only non-qualifying touches → at 13:00:01 it is breached.
    leads = [{"lead_id": "a", "mql_at": "2026-05-04 09:00"}, {"lead_id": "b", "mql_at": "2026-05-04 09:00"}]
    touches = [
        {"lead_id": "a", "occurred_at": "2026-05-04 08:59", "direction": "outbound"},
        {"lead_id": "a", "occurred_at": "2026-05-04 09:10", "direction": "inbound"},
        {"lead_id": "a", "occurred_at": "2026-05-04 09:20", "kind": "email", "automated": True},
        {"lead_id": "a", "occurred_at": "2026-05-04 09:30", "kind": "note"},
        {"lead_id": "a", "occurred_at": "2026-05-04 09:40", "kind": "task"},
        {"lead_id": "a", "occurred_at": "2026-05-04 09:50", "kind": "other"},
        {"lead_id": "a", "occurred_at": "2026-05-04 10:30", "kind": "email", "direction": None},
        {"lead_id": "a", "occurred_at": "2026-05-04 11:00", "kind": "meeting", "direction": "outbound"},
        {"lead_id": "b", "occurred_at": "2026-05-04 08:00"},
        {"lead_id": "b", "occurred_at": "2026-05-04 10:00", "kind": "email", "direction": "inbound"},
        {"lead_id": "b", "occurred_at": "2026-05-04 10:00", "kind": "call", "automated": True},
        {"lead_id": "b", "occurred_at": "2026-05-04 10:00", "kind": "note"},
    ]
    led = rows(make_data(leads=leads, touches=touches), ny_terms(), at("2026-05-04 13:00:01"))
    assert led.loc["a", "first_touch_at"] == at("2026-05-04 10:30")
    assert led.loc["a", "response_hours"] == pytest.approx(1.5)
    assert led.loc["a", "first_touch_status"] == "met"
    assert led.loc["a", "attempts"] == 2
    assert pd.isna(led.loc["b", "first_touch_at"])
    assert led.loc["b", "first_touch_status"] == "breached"
    assert led.loc["b", "attempts"] == 0


def test_touch_after_as_of_is_ignored(make_data, ny_terms, at):
    # MQL Mon 09:00 (deadline 13:00); touch Mon 14:00.
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-04 09:00"}],
        touches=[{"lead_id": "a", "occurred_at": "2026-05-04 14:00"}],
    )
    early = rows(data, ny_terms(), at("2026-05-04 10:00")).loc["a"]
    assert pd.isna(early["first_touch_at"]) and early["first_touch_status"] == "pending"
    assert early["attempts"] == 0
    # 13:30: deadline passed, the 14:00 touch is not yet known → breached, no response hours.
    late = rows(data, ny_terms(), at("2026-05-04 13:30")).loc["a"]
    assert pd.isna(late["first_touch_at"]) and late["first_touch_status"] == "breached"
    # 14:00 exactly: the touch is known (≤ as_of): 5 h → breached, with 5.0 response hours.
    seen = rows(data, ny_terms(), at("2026-05-04 14:00")).loc["a"]
    assert seen["first_touch_at"] == at("2026-05-04 14:00")
    assert seen["response_hours"] == pytest.approx(5.0)
    assert seen["attempts"] == 1


def test_lead_whose_mql_is_after_as_of_is_not_in_the_ledger(make_data, ny_terms, at):
    data = make_data(
        leads=[
            {"lead_id": "a", "mql_at": "2026-05-04 09:00"},
            {"lead_id": "later", "mql_at": "2026-05-04 12:00:01"},
            {"lead_id": "never", "created_at": "2026-05-04 08:00"},  # not an MQL
        ]
    )
    led = rows(data, ny_terms(), at("2026-05-04 12:00"))
    assert list(led.index) == ["a"]


def test_month_whose_leads_have_no_touches_while_other_leads_do(make_data, ny_terms, at):
    # May has one untouched MQL; the only touch belongs to an April lead. The May ledger still
    # has its one row: MQL Mon 05-04 09:00, as_of 10:00 → pending, 0 attempts.
    data = make_data(
        leads=[{"lead_id": "may", "mql_at": "2026-05-04 09:00"}, {"lead_id": "apr", "mql_at": "2026-04-06 09:00"}],
        touches=[{"lead_id": "apr", "occurred_at": "2026-04-06 10:00"}],
    )
    led = rows(data, ny_terms(), at("2026-05-04 10:00"), "2026-05")
    assert list(led.index) == ["may"]
    assert led.loc["may", "first_touch_status"] == "pending" and led.loc["may", "attempts"] == 0
    # A month with no MQL at all yields an empty ledger, not an error.
    assert len(rows(data, ny_terms(), at("2026-05-04 10:00"), "2026-06")) == 0


# -- local months ------------------------------------------------------------------------------


def test_mql_late_on_last_day_of_month_belongs_to_that_local_month(make_data, ny_terms, at):
    # 2026-03-31 23:30 EDT = 2026-04-01 03:30Z: local month March, UTC month April.
    # 2026-04-01 00:30 EDT belongs to April; 2026-03-01 00:00 EST to March;
    # 2026-02-28 23:59 EST to February.
    data = make_data(
        leads=[
            {"lead_id": "mar_end", "mql_at": "2026-03-31 23:30"},
            {"lead_id": "apr_start", "mql_at": "2026-04-01 00:30"},
            {"lead_id": "mar_start", "mql_at": "2026-03-01 00:00"},
            {"lead_id": "feb_end", "mql_at": "2026-02-28 23:59"},
        ]
    )
    as_of = at("2026-04-15 12:00")
    assert data.leads.set_index("lead_id").loc["mar_end", "mql_at"] == pd.Timestamp("2026-04-01 03:30", tz="UTC")
    assert sorted(rows(data, ny_terms(), as_of, "2026-03").index) == ["mar_end", "mar_start"]
    assert sorted(rows(data, ny_terms(), as_of, "2026-04").index) == ["apr_start"]
    assert sorted(rows(data, ny_terms(), as_of, "2026-02").index) == ["feb_end"]
    led = rows(data, ny_terms(), as_of)
    assert led["month"].to_dict() == {
        "mar_end": "2026-03",
        "apr_start": "2026-04",
        "mar_start": "2026-03",
        "feb_end": "2026-02",
    }
    # The clock of the 23:30 lead starts Wed 04-01 09:00 → deadline 13:00.
    assert led.loc["mar_end", "first_touch_deadline"] == at("2026-04-01 13:00")


# -- attempts -------------------------------------------------------------------------------------

# MQL Mon 05-04 09:00. Window = 10 business days = 80 h: Mon 05-04 .. Fri 05-08 (40 h) and
# Mon 05-11 .. Fri 05-15 (40 h) → window_end Fri 05-15 17:00 EDT.
WINDOW_END = "2026-05-15 17:00"
FOUR_TOUCHES = ["2026-05-04 10:00", "2026-05-05 10:00", "2026-05-06 10:00", "2026-05-07 10:00"]


def _attempt_data(make_data, touch_times, **lead):
    return make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-04 09:00", **lead}],
        touches=[{"lead_id": "a", "occurred_at": t} for t in touch_times],
    )


def test_attempt_window_end(make_data, ny_terms, at):
    data = _attempt_data(make_data, [])
    row = rows(data, ny_terms(), at("2026-06-01 12:00")).loc["a"]
    assert row["attempts_deadline"] == at(WINDOW_END)


def test_attempt_window_end_spans_holiday_and_dst(make_data, ny_terms, at):
    # MQL Fri 2026-03-06 15:00 EST: 2 h Fri; 78 h left = 9 full days (Mar 9-13, 16-19: 72 h)
    # + 6 h on Fri 03-20 → 15:00 EDT.
    # MQL Thu 2026-07-02 15:00: 2 h Thu; Fri 07-03 holiday; 78 h = 9 days (Jul 6-10, 13-16)
    # + 6 h on Fri 07-17 → 15:00.
    data = make_data(
        leads=[{"lead_id": "dst", "mql_at": "2026-03-06 15:00"}, {"lead_id": "jul", "mql_at": "2026-07-02 15:00"}]
    )
    led = rows(data, ny_terms(), at("2026-12-01 12:00"))
    assert led.loc["dst", "attempts_deadline"] == at("2026-03-20 15:00")
    assert led.loc["jul", "attempts_deadline"] == at("2026-07-17 15:00")


def test_attempts_met_with_fifth_touch_exactly_at_window_end(make_data, ny_terms, at):
    row = rows(_attempt_data(make_data, FOUR_TOUCHES + [WINDOW_END]), ny_terms(), at("2026-06-01 12:00")).loc["a"]
    assert row["attempts"] == 5 and row["attempts_status"] == "met"


def test_attempts_touch_after_window_end_not_counted(make_data, ny_terms, at):
    # Fri 17:00:01 is the same business instant as 17:00 but a later real instant → outside.
    row = rows(
        _attempt_data(make_data, FOUR_TOUCHES + ["2026-05-15 17:00:01"]), ny_terms(), at("2026-06-01 12:00")
    ).loc["a"]
    assert row["attempts"] == 4 and row["attempts_status"] == "breached"


def test_attempts_at_window_end_with_millisecond_timestamps(make_data, ny_terms, at):
    # CRM timestamps often carry milliseconds. MQL Mon 05-04 10:00:00.001: Mon gives
    # 7 h − 1 ms, Tue 05-05 .. Fri 05-15 give 9 × 8 = 72 h → 79 h − 1 ms; the last 1 h + 1 ms
    # falls on Mon 05-18 → window end 10:00:00.001. A fifth touch exactly then is inside.
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-04 10:00:00.001"}],
        touches=[
            {"lead_id": "a", "occurred_at": t}
            for t in FOUR_TOUCHES[1:] + ["2026-05-08 10:00", "2026-05-18 10:00:00.001"]
        ],
    )
    row = rows(data, ny_terms(), at("2026-06-01 12:00")).loc["a"]
    assert row["attempts_deadline"] == at("2026-05-18 10:00:00.001")
    assert row["attempts"] == 5 and row["attempts_status"] == "met"


def test_attempts_touch_exactly_at_as_of_with_milliseconds(make_data, ny_terms, at):
    # attempts counts touches ≤ min(window_end, as_of): a touch at exactly as_of counts.
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-04 09:00"}],
        touches=[{"lead_id": "a", "occurred_at": "2026-05-04 10:00:00.001"}],
    )
    row = rows(data, ny_terms(), at("2026-05-04 10:00:00.001")).loc["a"]
    assert row["first_touch_at"] == at("2026-05-04 10:00:00.001")
    assert row["attempts"] == 1


@pytest.mark.parametrize(
    "as_of, status",
    [
        ("2026-05-15 16:59:59", "pending"),
        (WINDOW_END, "pending"),
        ("2026-05-15 17:00:01", "breached"),
        ("2026-05-18 09:00", "breached"),
    ],
)
def test_attempts_pending_until_window_end_passes(make_data, ny_terms, at, as_of, status):
    row = rows(_attempt_data(make_data, FOUR_TOUCHES), ny_terms(), at(as_of)).loc["a"]
    assert row["attempts"] == 4 and row["attempts_status"] == status


def test_attempts_counted_only_up_to_as_of(make_data, ny_terms, at):
    # Five touches in the window; as_of Wed 05-06 12:00 sees the first three → 3, pending.
    data = _attempt_data(make_data, FOUR_TOUCHES + ["2026-05-08 10:00"])
    row = rows(data, ny_terms(), at("2026-05-06 12:00")).loc["a"]
    assert row["attempts"] == 3 and row["attempts_status"] == "pending"
    # Thu 10:00 exactly sees four; Fri 05-08 10:00 sees five → met before the window ends.
    assert rows(data, ny_terms(), at("2026-05-07 10:00")).loc["a", "attempts"] == 4
    row = rows(data, ny_terms(), at("2026-05-08 10:00")).loc["a"]
    assert row["attempts"] == 5 and row["attempts_status"] == "met"


@pytest.mark.parametrize(
    "lead, deals, status",
    [
        ({"sql_at": "2026-05-10 12:00"}, [], "met"),  # Sunday, inside the window
        ({"sql_at": WINDOW_END}, [], "met"),  # exactly at window end
        ({"sql_at": "2026-05-15 17:00:01"}, [], "breached"),  # just after
        ({"customer_at": "2026-05-08 12:00"}, [], "met"),  # later stage converts too
        ({}, [{"created_at": "2026-05-12 12:00"}], "met"),  # a deal for the lead
        ({}, [{"created_at": "2026-05-18 12:00"}], "breached"),
        # earliest of the three decides: sql after the window but the deal inside
        ({"sql_at": "2026-05-20 12:00"}, [{"created_at": "2026-05-14 12:00"}], "met"),
    ],
)
def test_conversion_makes_attempts_met(make_data, ny_terms, at, lead, deals, status):
    # Only two attempts, as_of 2026-06-01 (window over).
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-04 09:00", **lead}],
        touches=[{"lead_id": "a", "occurred_at": t} for t in FOUR_TOUCHES[:2]],
        deals=[{"lead_id": "a", "status": "open", **d} for d in deals],
    )
    row = rows(data, ny_terms(), at("2026-06-01 12:00")).loc["a"]
    assert row["attempts"] == 2
    assert row["attempts_status"] == status


def test_conversion_after_as_of_not_yet_known(make_data, ny_terms, at):
    # sql_at Tue 05-12 is inside the window but after as_of Mon 05-11 12:00 → still pending.
    data = _attempt_data(make_data, [], sql_at="2026-05-12 12:00")
    assert rows(data, ny_terms(), at("2026-05-11 12:00")).loc["a", "attempts_status"] == "pending"
    assert rows(data, ny_terms(), at("2026-05-12 12:00")).loc["a", "attempts_status"] == "met"


def test_min_attempts_is_configurable(make_data, ny_terms, at):
    data = _attempt_data(make_data, FOUR_TOUCHES[:3])
    assert rows(data, ny_terms(min_attempts=3), at("2026-06-01 12:00")).loc["a", "attempts_status"] == "met"
    assert rows(data, ny_terms(min_attempts=4), at("2026-06-01 12:00")).loc["a", "attempts_status"] == "breached"


# -- clock_starts = "assignment" --------------------------------------------------------------


def test_clock_starts_at_assignment(make_data, ny_terms, at):
    # All MQL Mon 05-04 09:00.
    # a: assigned 11:00 → clock 11:00, deadline 15:00; touch 14:30 → 3.5 h, met.
    #    window end: 80 h from Mon 11:00 → Mon 05-18 11:00.
    # b: assigned Fri 05-01 15:00 (before the MQL) → clock = MQL 09:00, deadline 13:00.
    # c: assigned 11:00, touched 10:00 (between MQL and assignment) → counts, 0 h, met.
    # d: never assigned → clock = MQL.
    leads = [
        {"lead_id": "a", "mql_at": "2026-05-04 09:00", "assigned_at": "2026-05-04 11:00"},
        {"lead_id": "b", "mql_at": "2026-05-04 09:00", "assigned_at": "2026-05-01 15:00"},
        {"lead_id": "c", "mql_at": "2026-05-04 09:00", "assigned_at": "2026-05-04 11:00"},
        {"lead_id": "d", "mql_at": "2026-05-04 09:00"},
    ]
    touches = [{"lead_id": "a", "occurred_at": "2026-05-04 14:30"}, {"lead_id": "c", "occurred_at": "2026-05-04 10:00"}]
    data = make_data(leads=leads, touches=touches)
    led = rows(data, ny_terms(clock_starts="assignment"), at("2026-05-04 16:00"))
    assert led.loc["a", "clock_start"] == at("2026-05-04 11:00")
    assert led.loc["a", "first_touch_deadline"] == at("2026-05-04 15:00")
    assert led.loc["a", "attempts_deadline"] == at("2026-05-18 11:00")
    assert led.loc["a", "response_hours"] == pytest.approx(3.5)
    assert led.loc["a", "first_touch_status"] == "met"
    assert led.loc["b", "clock_start"] == at("2026-05-04 09:00")
    assert led.loc["b", "first_touch_deadline"] == at("2026-05-04 13:00")
    assert led.loc["b", "first_touch_status"] == "breached"
    assert led.loc["c", "first_touch_at"] == at("2026-05-04 10:00")
    assert led.loc["c", "response_hours"] == 0.0
    assert led.loc["c", "first_touch_status"] == "met"
    assert led.loc["c", "attempts"] == 1
    assert led.loc["d", "clock_start"] == at("2026-05-04 09:00")
    assert led.loc["d", "first_touch_status"] == "breached"
    # The same data with the clock at the MQL: a's touch at 14:30 is 5.5 h → breached.
    by_mql = rows(data, ny_terms(), at("2026-05-04 16:00"))
    assert by_mql.loc["a", "clock_start"] == at("2026-05-04 09:00")
    assert by_mql.loc["a", "response_hours"] == pytest.approx(5.5)
    assert by_mql.loc["a", "first_touch_status"] == "breached"


def test_assignment_after_as_of_is_ignored(make_data, ny_terms, at):
    # MQL 09:00, assigned 11:00; as_of 10:30 does not know the assignment yet → clock 09:00.
    data = make_data(leads=[{"lead_id": "a", "mql_at": "2026-05-04 09:00", "assigned_at": "2026-05-04 11:00"}])
    row = rows(data, ny_terms(clock_starts="assignment"), at("2026-05-04 10:30")).loc["a"]
    assert row["clock_start"] == at("2026-05-04 09:00")
    assert row["first_touch_deadline"] == at("2026-05-04 13:00")
    assert pd.isna(row["assigned_at"])
    assert row["first_touch_status"] == "pending"


# -- per-segment first-touch hours ---------------------------------------------------------


def test_per_segment_first_touch_hours(make_data, ny_terms, at):
    # Table {A: 1, B: 8, default: 2}; all MQL Mon 05-04 09:00.
    # A → 10:00; B → 17:00; C (not named) → default 2 h → 11:00; no segment ("all") → 11:00.
    # A touched 10:30 → 1.5 > 1 → breached; B touched 16:00 → 7 ≤ 8 → met.
    leads = [{"lead_id": s, "mql_at": "2026-05-04 09:00", "segment": s} for s in ("A", "B", "C")]
    leads.append({"lead_id": "none", "mql_at": "2026-05-04 09:00"})
    touches = [{"lead_id": "A", "occurred_at": "2026-05-04 10:30"}, {"lead_id": "B", "occurred_at": "2026-05-04 16:00"}]
    data = make_data(leads=leads, touches=touches)
    led = rows(data, ny_terms(first_touch_hours={"A": 1, "B": 8, "default": 2}), at("2026-05-04 16:30"))
    assert led["first_touch_hours_allowed"].to_dict() == {"A": 1.0, "B": 8.0, "C": 2.0, "none": 2.0}
    assert led.loc["A", "first_touch_deadline"] == at("2026-05-04 10:00")
    assert led.loc["B", "first_touch_deadline"] == at("2026-05-04 17:00")
    assert led.loc["C", "first_touch_deadline"] == at("2026-05-04 11:00")
    assert led.loc["none", "segment"] == "all"
    assert led["first_touch_status"].to_dict() == {"A": "breached", "B": "met", "C": "breached", "none": "breached"}
    # Without a default key an unnamed segment gets the largest value (8 h → 17:00, pending at 16:30).
    led = rows(data, ny_terms(first_touch_hours={"A": 1, "B": 8}), at("2026-05-04 16:30"))
    assert led.loc["C", "first_touch_deadline"] == at("2026-05-04 17:00")
    assert led.loc["C", "first_touch_status"] == "pending"


# -- routing delay vs rep delay ------------------------------------------------------------


def test_routing_and_rep_delay(make_data, ny_terms, at):
    # All MQL Mon 05-04 09:00; clock at the MQL.
    # a: assigned 11:00, touch 12:30 → routing 2.0, rep 1.5, response 3.5.
    # b: assigned Fri 05-01 10:00 (before the MQL) → routing 0.0; touch 10:00 → rep 1.0.
    # c: assigned Mon 16:00, touch Tue 10:00 → routing 7.0; rep 1 (Mon 16-17) + 1 (Tue 9-10) = 2.0;
    #    response 8 + 1 = 9.0.
    # d: never assigned, touch 11:00 → routing none, rep 2.0.
    # e: assigned 11:00 but touched 10:00 → routing 2.0, rep 0.0.
    # f: assigned 11:00, never touched → routing 2.0, rep none.
    leads = [
        {"lead_id": "a", "assigned_at": "2026-05-04 11:00"},
        {"lead_id": "b", "assigned_at": "2026-05-01 10:00"},
        {"lead_id": "c", "assigned_at": "2026-05-04 16:00"},
        {"lead_id": "d"},
        {"lead_id": "e", "assigned_at": "2026-05-04 11:00"},
        {"lead_id": "f", "assigned_at": "2026-05-04 11:00"},
    ]
    leads = [{"mql_at": "2026-05-04 09:00", **lead} for lead in leads]
    touches = [
        {"lead_id": "a", "occurred_at": "2026-05-04 12:30"},
        {"lead_id": "b", "occurred_at": "2026-05-04 10:00"},
        {"lead_id": "c", "occurred_at": "2026-05-05 10:00"},
        {"lead_id": "d", "occurred_at": "2026-05-04 11:00"},
        {"lead_id": "e", "occurred_at": "2026-05-04 10:00"},
    ]
    led = rows(make_data(leads=leads, touches=touches), ny_terms(), at("2026-05-06 12:00"))
    routing = led["routing_delay_hours"].to_dict()
    rep = led["rep_delay_hours"].to_dict()
    assert {k: v for k, v in routing.items() if not math.isnan(v)} == pytest.approx(
        {"a": 2.0, "b": 0.0, "c": 7.0, "e": 2.0, "f": 2.0}
    )
    assert math.isnan(routing["d"])
    assert {k: v for k, v in rep.items() if not math.isnan(v)} == pytest.approx(
        {"a": 1.5, "b": 1.0, "c": 2.0, "d": 2.0, "e": 0.0}
    )
    assert math.isnan(rep["f"])
    assert led.loc["c", "response_hours"] == pytest.approx(9.0)


# -- commitment status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "met, breached, pending, target, over, allowed, budget, status",
    [
        # n = 0 → no_data (month over or not).
        (0, 0, 0, 0.9, False, 0, 0, "no_data"),
        (0, 0, 0, 0.9, True, 0, 0, "no_data"),
        # Month over, nothing pending: compliance 9/10 = 0.9 ≥ 0.9 → met; allowed floor(0.1×10)=1.
        (9, 1, 0, 0.9, True, 1, 0, "met"),
        # 8/10 = 0.8 < 0.9 → missed; budget 1 − 2 = −1.
        (8, 2, 0, 0.9, True, 1, -1, "missed"),
        # 4/5 = 0.8 ≥ 0.8 → met (allowed floor(0.2×5) = 1).
        (4, 1, 0, 0.8, True, 1, 0, "met"),
        # Month over but a lead still pending: the in-month rules apply.
        # n = 10, allowed 1, breached 1 → budget 0, 1 ≥ 0.75 → at_risk.
        (8, 1, 1, 0.9, True, 1, 0, "at_risk"),
        # Floor tolerance: (1 − 0.9) × 10 = 0.9999999999999998 in floats, but allowed is 1.
        (9, 0, 1, 0.9, False, 1, 1, "on_track"),  # breached 0 → on_track
        (8, 1, 1, 0.9, False, 1, 0, "at_risk"),  # 1 ≥ 0.75 × 1
        (7, 2, 1, 0.9, False, 1, -1, "behind"),  # budget −1
        # (1 − 0.8) × 20 = 3.999999999999999 → allowed 4; 0.75 × 4 = 3.
        (10, 2, 8, 0.8, False, 4, 2, "on_track"),  # 2 < 3
        (10, 3, 7, 0.8, False, 4, 1, "at_risk"),  # 3 ≥ 3
        (10, 4, 6, 0.8, False, 4, 0, "at_risk"),
        (10, 5, 5, 0.8, False, 4, -1, "behind"),
        # (1 − 0.9) × 5 = 0.5 → allowed 0: no breach → on_track; one breach → behind.
        (0, 0, 5, 0.9, False, 0, 0, "on_track"),
        (0, 1, 4, 0.9, False, 0, -1, "behind"),
        # Month not over and nothing pending, all met → still on_track (met only once M is over).
        (10, 0, 0, 0.9, False, 1, 1, "on_track"),
        # Month over, nothing pending, target 1.0: one breach → missed.
        (9, 1, 0, 1.0, True, 0, -1, "missed"),
    ],
)
def test_commitment_status(met, breached, pending, target, over, allowed, budget, status):
    out = commitment_status(met, breached, pending, target, over)
    assert out["status"] == status
    assert out["allowed_breaches"] == allowed
    assert out["budget_left"] == budget
    assert (out["met"], out["breached"], out["pending"]) == (met, breached, pending)
    assert out["leads"] == met + breached + pending


def test_commitment_compliance():
    assert commitment_status(3, 1, 5, 0.9, False)["compliance"] == pytest.approx(0.75)
    assert commitment_status(0, 0, 5, 0.9, False)["compliance"] is None
    assert commitment_status(0, 2, 0, 0.9, True)["compliance"] == 0.0


# -- per owner -------------------------------------------------------------------------------


def _owner_data(make_data):
    # MQL Mon 05-04 09:00 unless noted; as_of Wed 05-06 12:00.
    # o1 "Ann"/East: touches at 10:00, 11:00, 12:00 (1, 2, 3 h, met) and Tue 11:00 (8 + 2 = 10 h,
    #   breached) → met 3, breached 1, compliance 0.75; median of [1, 2, 3, 10] = 2.5;
    #   p90 (linear): position 0.9 × 3 = 2.7 → 3 + 0.7 × (10 − 3) = 7.9.
    # o2 (not in the owners table): b1 untouched (deadline Mon 13:00 passed → breached),
    #   b2 MQL Wed 11:00 untouched (deadline Wed 15:00 → pending), b3 touched 09:30 (0.5 h, met).
    # unassigned: u1 touched Mon 13:00 (4.0 h, met), u2 MQL Mon 11:00 untouched (breached).
    # o3 has no leads → no row.
    mql = "2026-05-04 09:00"
    leads = [
        *({"lead_id": f"a{i}", "owner_id": "o1", "mql_at": mql} for i in range(1, 5)),
        {"lead_id": "b1", "owner_id": "o2", "mql_at": mql},
        {"lead_id": "b2", "owner_id": "o2", "mql_at": "2026-05-06 11:00"},
        {"lead_id": "b3", "owner_id": "o2", "mql_at": mql},
        {"lead_id": "u1", "mql_at": mql},
        {"lead_id": "u2", "mql_at": "2026-05-04 11:00"},
    ]
    touches = [
        {"lead_id": "a1", "occurred_at": "2026-05-04 10:00"},
        {"lead_id": "a2", "occurred_at": "2026-05-04 11:00"},
        {"lead_id": "a3", "occurred_at": "2026-05-04 12:00"},
        {"lead_id": "a4", "occurred_at": "2026-05-05 11:00"},
        {"lead_id": "b3", "occurred_at": "2026-05-04 09:30"},
        {"lead_id": "u1", "occurred_at": "2026-05-04 13:00"},
    ]
    owners = [
        {"owner_id": "o1", "name": "Ann", "team": "East", "active": True},
        {"owner_id": "o3", "name": "Olga", "team": "West", "active": True},
    ]
    return make_data(leads=leads, touches=touches, owners=owners)


def test_owner_summary(make_data, ny_terms, at):
    data = _owner_data(make_data)
    ledger = lead_ledger(data, ny_terms(), at("2026-05-06 12:00"))
    by_owner = {r["owner_id"]: r for r in owner_summary(ledger, data.owners)}
    assert [r["owner_id"] for r in owner_summary(ledger, data.owners)] == ["o1", "o2", None]

    o1 = by_owner["o1"]
    assert (o1["name"], o1["team"], o1["leads"]) == ("Ann", "East", 4)
    assert (o1["first_touch_met"], o1["first_touch_breached"], o1["first_touch_pending"]) == (3, 1, 0)
    assert o1["first_touch_compliance"] == pytest.approx(0.75)
    assert o1["median_hours"] == pytest.approx(2.5)
    assert o1["p90_hours"] == pytest.approx(7.9)
    assert o1["p90_hours"] == pytest.approx(float(np.percentile([1, 2, 3, 10], 90)))
    # Attempts: windows end Fri 05-15 → all four pending on Wed.
    assert (o1["attempts_met"], o1["attempts_breached"], o1["attempts_pending"]) == (0, 0, 4)
    assert o1["attempts_compliance"] is None

    o2 = by_owner["o2"]
    assert (o2["name"], o2["team"], o2["leads"]) == ("o2", None, 3)
    assert (o2["first_touch_met"], o2["first_touch_breached"], o2["first_touch_pending"]) == (1, 1, 1)
    assert o2["first_touch_compliance"] == pytest.approx(0.5)
    assert o2["median_hours"] == pytest.approx(0.5) and o2["p90_hours"] == pytest.approx(0.5)
    assert o2["untouched"] == 2

    un = by_owner[None]
    assert (un["name"], un["leads"]) == ("Unassigned", 2)
    assert (un["first_touch_met"], un["first_touch_breached"], un["first_touch_pending"]) == (1, 1, 0)
    assert un["median_hours"] == pytest.approx(4.0)
    assert "o3" not in by_owner


def test_owner_without_name_in_owners_table(make_data, ny_terms, at):
    # owners.name is optional (only owner_id is required); a nameless owner must not break
    # the summary.
    data = make_data(
        leads=[{"lead_id": "a", "owner_id": "o9", "mql_at": "2026-05-04 09:00"}], owners=[{"owner_id": "o9"}]
    )
    ledger = lead_ledger(data, ny_terms(), at("2026-05-04 12:00"))
    (row,) = owner_summary(ledger, data.owners)
    assert row["owner_id"] == "o9" and row["leads"] == 1
    assert row["name"] in ("o9", None)


def test_overdue_worklist(make_data, ny_terms, at):
    # As of Wed 05-06 12:00, untouched: b1 (deadline Mon 13:00 → overdue 4 Mon + 8 Tue + 3 Wed
    # = 15 h), u2 (deadline Mon 15:00 → 2 + 8 + 3 = 13 h), b2 (pending, deadline Wed 15:00,
    # 0 h). Touched leads are not on the list. Most overdue first, pending last.
    data = _owner_data(make_data)
    work = overdue_worklist(lead_ledger(data, ny_terms(), at("2026-05-06 12:00")))
    assert list(work["lead_id"]) == ["b1", "u2", "b2"]
    assert list(work["overdue_hours"]) == pytest.approx([15.0, 13.0, 0.0])
    assert list(work["first_touch_status"]) == ["breached", "breached", "pending"]


# -- needed_of_pending and no activity data (v2) ------------------------------------------------


@pytest.mark.parametrize(
    "met, breached, pending, target, needed, status",
    [
        # n = 10, target 0.8 → allowed 2; breached 1 → budget 1; 4 pending − 1 = 3 must be met.
        (5, 1, 4, 0.8, 3, "on_track"),
        # Nothing pending and the budget used up exactly (allowed 2, breached 2) → 0 needed;
        # 2 ≥ 0.75 × 2 → at_risk.
        (8, 2, 0, 0.8, 0, "at_risk"),
        # Nothing pending, one breach too many: 0 − (−1) = 1 > 0 pending → out of reach.
        (7, 3, 0, 0.8, 1, "behind"),
        # Budget larger than pending: 2 pending, allowed floor(0.2 × 20) = 4, breached 0 → 0 needed.
        (18, 0, 2, 0.8, 0, "on_track"),
        # Out of reach: n = 10, allowed 2, breached 3 → budget −1; 5 − (−1) = 6 > 5 pending.
        (2, 3, 5, 0.8, 6, "behind"),
    ],
)
def test_needed_of_pending(met, breached, pending, target, needed, status):
    out = commitment_status(met, breached, pending, target, False)
    assert (out["needed_of_pending"], out["status"]) == (needed, status)


def test_finished_month_with_pending_leads_says_how_many_must_be_met():
    # The month is over but 171 leads are inside their window: n = 729 + 100 + 171 = 1000,
    # allowed floor(0.2 × 1000) = 200, 100 breached → budget 100, so 171 − 100 = 71 of the
    # pending leads must still be met to keep 80 %.
    out = commitment_status(729, 100, 171, 0.8, True)
    assert (out["status"], out["budget_left"], out["needed_of_pending"]) == ("on_track", 100, 71)


def test_unmeasurable_commitment_is_no_activity_data():
    # The source has no touches at all: nothing is judged, nothing reads 0 %.
    out = commitment_status(0, 7, 3, 0.9, True, measurable=False)
    assert out["status"] == "no_activity_data"
    assert (out["met"], out["breached"], out["pending"], out["leads"]) == (0, 7, 3, 10)
    assert out["compliance"] is None and out["budget_left"] is None and out["needed_of_pending"] is None
    # Even a month with no MQL says why nothing can be judged.
    assert commitment_status(0, 0, 0, 0.9, False, measurable=False)["status"] == "no_activity_data"


@pytest.mark.parametrize("values", [["default", "uk", "default", "ny", "uk"], ["default"], []])
def test_texts_of_codes_is_the_str_column_astype_gives(values: list[str]) -> None:
    objects = np.array(values, dtype=object)
    expected = pd.Series(objects, dtype=object).astype(str)
    pd.testing.assert_series_equal(texts_of(*pd.factorize(objects)), expected, check_exact=True)


@pytest.mark.parametrize("order", ["stored", "shuffled"])
def test_mqls_by_month_gives_each_months_mqls_in_their_order(order: str) -> None:
    starts = pd.Timestamp("2026-01-31T23:00:00Z") + pd.to_timedelta(np.arange(40) * 7, unit="h")
    leads = pd.DataFrame({"lead_id": [f"l{i}" for i in range(40)], "mql_at": starts})
    leads.loc[[3, 17], "mql_at"] = pd.NaT  # not MQLs: the months' rows are not all consecutive
    if order == "shuffled":
        leads = leads.sample(frac=1, random_state=4).reset_index(drop=True)
    as_of = pd.Timestamp("2026-02-10T00:00:00Z")
    months = ["2026-02", "2026-01", "2026-03"]
    split = mqls_by_month(leads, as_of, months, "UTC")
    assert list(split) == months
    for month in months:
        pd.testing.assert_frame_equal(split[month], mqls_as_of(leads, as_of, month, "UTC"), check_exact=True)
