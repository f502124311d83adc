"""Follow-up alerts (DESIGN section 9): the due-rules, trigger_at, staleness and recipients.

The agreement is the DESIGN example (see test_sales.py): America/New_York, Mon-Fri
09:00-17:00, US holidays, first touch within 4 business hours, 5 attempts within 10 business
days (80 business hours), and the default [alerts]: warn_at 0.75, escalate after 4 business
hours. So the first-touch warning comes after 3 business hours and the attempts warning after
60. Times in comments are New York local; 2026-05-01 is a Friday, 2026-05-04 a Monday.
"""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.alert_rules import (
    ATTEMPTS_WARNING,
    ESCALATION,
    FIRST_TOUCH_BREACH,
    FIRST_TOUCH_WARNING,
    Route,
    Routing,
    alert_recipients,
    due_alerts,
    due_soon,
    rejected_by,
    scan_start,
    stale,
)
from smarketing.core.frames import normalize
from smarketing.core.sales import lead_ledger
from smarketing.core.terms import AlertSettings

pytestmark = pytest.mark.unit

ONE_NS = pd.Timedelta(1, "ns")
# Mon 10:00 → warning at 13:00 (3 h), deadline 14:00 (4 h), escalation Tue 10:00 (14-17 Mon + 1 h Tue).
MONDAY_LEAD = {"lead_id": "a", "mql_at": "2026-05-04 10:00", "owner_id": "o1"}


def alerts_at(make_data, terms, as_of, leads=(MONDAY_LEAD,), touches=(), ledger_edit=None) -> dict[str, pd.Series]:
    """The due alerts by kind at as_of."""
    ledger = lead_ledger(make_data(leads=list(leads), touches=list(touches)), terms, as_of)
    if ledger_edit is not None:
        ledger = ledger_edit(ledger)
    due = due_alerts(ledger, terms, as_of)
    return {row["kind"]: row for _, row in due.iterrows()}


def test_nothing_is_due_one_nanosecond_before_warn_at(make_data, ny_terms, at):
    assert alerts_at(make_data, ny_terms(), at("2026-05-04 13:00") - ONE_NS) == {}


def test_warning_is_due_exactly_at_warn_at(make_data, ny_terms, at):
    due = alerts_at(make_data, ny_terms(), at("2026-05-04 13:00"))
    assert list(due) == [FIRST_TOUCH_WARNING]
    assert due[FIRST_TOUCH_WARNING]["trigger_at"] == at("2026-05-04 13:00")
    assert due[FIRST_TOUCH_WARNING]["deadline"] == at("2026-05-04 14:00")
    assert due[FIRST_TOUCH_WARNING]["hours_left"] == 1.0  # 13:00 → 14:00


def test_exactly_at_the_deadline_it_is_still_a_warning_not_a_breach(make_data, ny_terms, at):
    due = alerts_at(make_data, ny_terms(), at("2026-05-04 14:00"))
    assert list(due) == [FIRST_TOUCH_WARNING]
    assert due[FIRST_TOUCH_WARNING]["hours_left"] == 0.0


def test_one_nanosecond_after_the_deadline_it_is_a_breach(make_data, ny_terms, at):
    due = alerts_at(make_data, ny_terms(), at("2026-05-04 14:00") + ONE_NS)
    assert list(due) == [FIRST_TOUCH_BREACH]
    assert due[FIRST_TOUCH_BREACH]["trigger_at"] == at("2026-05-04 14:00")


def test_a_touch_before_as_of_stops_every_first_touch_alert(make_data, ny_terms, at):
    touch = {"lead_id": "a", "occurred_at": "2026-05-04 16:00"}
    assert alerts_at(make_data, ny_terms(), at("2026-05-05 12:00"), touches=[touch]) == {}


def test_escalation_counts_business_hours_after_the_deadline(make_data, ny_terms, at):
    # Deadline Mon 14:00; + 4 business h = 3 h Mon (14-17) + 1 h Tue → Tue 10:00.
    assert set(alerts_at(make_data, ny_terms(), at("2026-05-05 10:00") - ONE_NS)) == {FIRST_TOUCH_BREACH}
    due = alerts_at(make_data, ny_terms(), at("2026-05-05 10:00"))
    assert set(due) == {FIRST_TOUCH_BREACH, ESCALATION}
    assert due[ESCALATION]["trigger_at"] == at("2026-05-05 10:00")
    assert due[FIRST_TOUCH_BREACH]["hours_left"] == -4.0  # 4 business h late


def test_escalation_across_a_weekend(make_data, ny_terms, at):
    # Fri 10:00 → deadline Fri 14:00; + 4 business h = 3 h Fri (14-17), weekend, 1 h Mon → Mon 10:00,
    # although 68 wall-clock hours have passed by Monday 10:00.
    friday = {"lead_id": "f", "mql_at": "2026-05-01 10:00", "owner_id": "o1"}
    saturday = alerts_at(make_data, ny_terms(), at("2026-05-02 12:00"), leads=[friday])
    assert set(saturday) == {FIRST_TOUCH_BREACH}
    assert saturday[FIRST_TOUCH_BREACH]["hours_left"] == -3.0  # Fri 14-17
    monday = alerts_at(make_data, ny_terms(), at("2026-05-04 10:00"), leads=[friday])
    assert set(monday) == {FIRST_TOUCH_BREACH, ESCALATION}
    assert monday[ESCALATION]["trigger_at"] == at("2026-05-04 10:00")


def test_a_24_7_lead_counts_the_weekend_while_a_default_lead_waits_for_monday(make_data, ny_terms, at):
    # Segment Hot runs on the built-in 24/7 calendar. Sat 10:00 → warning Sat 13:00 (3 h), deadline
    # Sat 14:00 (4 h), escalation Sat 18:00 (+4 h): no weekend pause. The same MQL in segment Cold
    # (default calendar, Mon-Fri 09-17) starts counting Mon 09:00: warning Mon 12:00.
    terms = ny_terms(calendar_by_segment={"Hot": "24/7"})
    hot = {"lead_id": "h", "mql_at": "2026-05-02 10:00", "owner_id": "o1", "segment": "Hot"}
    cold = {"lead_id": "c", "mql_at": "2026-05-02 10:00", "owner_id": "o1", "segment": "Cold"}
    warning = alerts_at(make_data, terms, at("2026-05-02 13:00"), leads=[hot, cold])
    assert set(warning) == {FIRST_TOUCH_WARNING}
    assert warning[FIRST_TOUCH_WARNING]["lead_id"] == "h"
    assert warning[FIRST_TOUCH_WARNING]["trigger_at"] == at("2026-05-02 13:00")
    assert warning[FIRST_TOUCH_WARNING]["hours_left"] == 1.0  # 13:00 → 14:00 on the 24/7 clock
    ledger = lead_ledger(make_data(leads=[hot, cold]), terms, at("2026-05-02 18:00"))
    due = due_alerts(ledger, terms, at("2026-05-02 18:00"))
    assert set(zip(due["lead_id"], due["kind"])) == {("h", FIRST_TOUCH_BREACH), ("h", ESCALATION)}
    assert due.set_index("kind").loc[ESCALATION, "trigger_at"] == at("2026-05-02 18:00")
    monday_ledger = lead_ledger(make_data(leads=[hot, cold]), terms, at("2026-05-04 12:00"))
    monday = due_alerts(monday_ledger, terms, at("2026-05-04 12:00"))
    cold_rows = monday[monday["lead_id"] == "c"]
    assert list(cold_rows["kind"]) == [FIRST_TOUCH_WARNING]
    assert cold_rows["trigger_at"].iloc[0] == at("2026-05-04 12:00")


def test_escalate_after_hours_comes_from_the_alerts_table(make_data, ny_terms, at):
    # Deadline Mon 14:00 + 1 business h = Mon 15:00.
    terms = ny_terms(alerts=AlertSettings(warn_at=0.5, escalate_after_hours=1, stale_after_hours=24))
    due = alerts_at(make_data, terms, at("2026-05-04 15:00"))
    assert due[ESCALATION]["trigger_at"] == at("2026-05-04 15:00")
    # warn_at 0.5 of 4 h = 2 h after Mon 10:00 = 12:00.
    assert alerts_at(make_data, terms, at("2026-05-04 12:00"))[FIRST_TOUCH_WARNING]["trigger_at"] == at(
        "2026-05-04 12:00"
    )


# -- attempts ----------------------------------------------------------------------------------

# Mon 05-04 09:00, touched at 09:30 (first touch met) and once more: 2 of 5 attempts.
# 60 business h = 7 full days (Mon 05-04 .. Tue 05-12, 56 h) + 4 h Wed 05-13 → Wed 13:00;
# the window (80 h) ends Fri 05-15 17:00, 20 business hours later.
TRYING = {"lead_id": "t", "mql_at": "2026-05-04 09:00", "owner_id": "o1"}
TWO_TOUCHES = [
    {"lead_id": "t", "occurred_at": "2026-05-04 09:30"},
    {"lead_id": "t", "occurred_at": "2026-05-06 11:00"},
]


def test_attempts_warning_after_warn_at_of_the_window(make_data, ny_terms, at):
    assert alerts_at(make_data, ny_terms(), at("2026-05-13 13:00") - ONE_NS, [TRYING], TWO_TOUCHES) == {}
    due = alerts_at(make_data, ny_terms(), at("2026-05-13 13:00"), [TRYING], TWO_TOUCHES)
    assert list(due) == [ATTEMPTS_WARNING]
    assert due[ATTEMPTS_WARNING]["trigger_at"] == at("2026-05-13 13:00")
    assert due[ATTEMPTS_WARNING]["deadline"] == at("2026-05-15 17:00")
    assert due[ATTEMPTS_WARNING]["hours_left"] == 20.0


def test_attempts_warning_stops_once_the_window_has_ended(make_data, ny_terms, at):
    assert alerts_at(make_data, ny_terms(), at("2026-05-15 17:00") + ONE_NS, [TRYING], TWO_TOUCHES) == {}


def test_a_converted_lead_raises_no_attempts_warning(make_data, ny_terms, at):
    converted = {**TRYING, "sql_at": "2026-05-05 12:00"}
    assert alerts_at(make_data, ny_terms(), at("2026-05-13 13:00"), [converted], TWO_TOUCHES) == {}


def test_enough_attempts_raise_no_attempts_warning(make_data, ny_terms, at):
    five = [{"lead_id": "t", "occurred_at": f"2026-05-0{d} 10:00"} for d in range(4, 9)]
    assert alerts_at(make_data, ny_terms(), at("2026-05-13 13:00"), [TRYING], five) == {}


# -- leads that raise none ------------------------------------------------------------------------


def _set(column: str, value):
    return lambda ledger: ledger.assign(**{column: value})


def test_a_lead_excluded_from_first_touch_raises_no_first_touch_alert(make_data, ny_terms, at):
    edit = _set("first_touch_status", "excluded")
    assert alerts_at(make_data, ny_terms(), at("2026-05-05 10:00"), ledger_edit=edit) == {}


def test_a_lead_excluded_from_attempts_raises_no_attempts_warning(make_data, ny_terms, at):
    edit = _set("attempts_status", "excluded")
    assert alerts_at(make_data, ny_terms(), at("2026-05-13 13:00"), [TRYING], TWO_TOUCHES, edit) == {}


def test_a_lead_rejected_by_as_of_raises_none(make_data, ny_terms, at):
    edit = _set("rejected_at", at("2026-05-04 11:00"))
    assert alerts_at(make_data, ny_terms(), at("2026-05-05 10:00"), ledger_edit=edit) == {}
    assert alerts_at(make_data, ny_terms(), at("2026-05-13 13:00"), [TRYING], TWO_TOUCHES, edit) == {}


def test_a_rejection_after_as_of_is_not_known_yet(make_data, ny_terms, at):
    edit = _set("rejected_at", at("2026-05-06 11:00"))
    due = alerts_at(make_data, ny_terms(), at("2026-05-05 10:00"), ledger_edit=edit)
    assert set(due) == {FIRST_TOUCH_BREACH, ESCALATION}


def test_a_lead_sales_never_rejected_raises_its_alerts(make_data, ny_terms, at):
    ledger = lead_ledger(make_data(leads=[MONDAY_LEAD]), ny_terms(), at("2026-05-05 10:00"))
    assert ledger["rejected_at"].isna().all()
    assert rejected_by(ledger, at("2026-05-05 10:00")).tolist() == [False]


# -- staleness, due soon, recipients ------------------------------------------------------------------


def test_an_alert_is_stale_only_when_more_than_stale_after_hours_old(at):
    as_of = at("2026-05-05 12:00")
    alerts = pd.DataFrame({"trigger_at": [as_of - pd.Timedelta(hours=24), as_of - pd.Timedelta(hours=24) - ONE_NS]})
    assert stale(alerts, as_of, 24).tolist() == [False, True]


def test_due_soon_lists_the_warnings_soonest_deadline_first(make_data, ny_terms, at):
    # At Wed 05-13 13:00: lead t's attempt window ends Fri 17:00 (20 h left); lead w (MQL Wed 10:00)
    # has its first-touch deadline at 14:00 (1 h left); lead b (MQL Tue) is breached: not "due soon".
    leads = [TRYING, {"lead_id": "w", "mql_at": "2026-05-13 10:00"}, {"lead_id": "b", "mql_at": "2026-05-12 10:00"}]
    as_of = at("2026-05-13 13:00")
    ledger = lead_ledger(make_data(leads=leads, touches=TWO_TOUCHES), ny_terms(), as_of)
    soon = due_soon(ledger, ny_terms(), as_of)
    assert soon["lead_id"].tolist() == ["w", "t"]
    assert soon["hours_left"].tolist() == [1.0, 20.0]


HOOK = Route("webhook", "https://hooks.example.com/T/B/secret", "hooks.example.com")
EAST = Route("webhook", "https://chat.example.com/east/secret", "chat.example.com (team East)")
ESC = Route("webhook", "https://chat.example.com/esc/secret", "chat.example.com (escalation)")


def test_with_only_the_default_webhook_every_alert_goes_there():
    routing = Routing(default_webhook=HOOK)
    for kind in (FIRST_TOUCH_WARNING, FIRST_TOUCH_BREACH, ESCALATION, ATTEMPTS_WARNING):
        assert alert_recipients({"kind": kind}, "ana@example.com", "East", routing) == [HOOK]


def test_a_breach_goes_to_the_owner_and_the_team_manager_and_escalation_to_its_channel():
    routing = Routing(
        default_webhook=HOOK,
        team_webhooks={"East": EAST},
        escalation_webhook=ESC,
        email=True,
        managers={"East": "mia@example.com"},
    )
    breach = alert_recipients({"kind": FIRST_TOUCH_BREACH}, "ana@example.com", "East", routing)
    assert [r.label for r in breach] == ["ana@example.com", "chat.example.com (team East)", "mia@example.com"]
    warning = alert_recipients({"kind": FIRST_TOUCH_WARNING}, "ana@example.com", "West", routing)
    assert [r.label for r in warning] == ["ana@example.com", "hooks.example.com"]
    assert alert_recipients({"kind": ESCALATION}, "ana@example.com", "East", routing) == [ESC]


def test_scan_start_reaches_back_as_far_as_the_latest_trigger_can_be(ny_terms, at):
    # Latest trigger: max(4 + 4, 0.75 × 80) = 60 business h = 7.5 business days; (7.5 + 1) × 7/5 = 11.9
    # calendar days, + 7 days for public holidays, + 24 h of staleness: 19.9 days before as_of.
    as_of = at("2026-05-20 12:00")
    assert scan_start(ny_terms(), as_of) == as_of - pd.Timedelta(days=19.9)


# -- from real data: exclusions and rejections as the ledger derives them ------------------------------


def test_an_approved_first_touch_exclusion_in_the_data_silences_the_first_touch_alerts(make_data, ny_terms, at):
    # Mon 10:00 MQL; an exclusion for first_touch approved Mon 11:00. By Tue 10:00 the breach and the
    # escalation would be due (see test_escalation_counts_business_hours_after_the_deadline): none is.
    data = make_data(leads=[MONDAY_LEAD])
    request = {
        "exclusion_id": "1",
        "lead_id": "a",
        "commitment": "first_touch",
        "reason": "routing outage",
        "requested_by": "sam",
        "requested_at": at("2026-05-04 10:30"),
        "decision": "approved",
        "decided_by": "dana",
        "decided_at": at("2026-05-04 11:00"),
    }
    data.exclusions = normalize("exclusions", pd.DataFrame([request]))
    as_of = at("2026-05-05 10:00")
    assert due_alerts(lead_ledger(data, ny_terms(), as_of), ny_terms(), as_of).empty
    data.exclusions = normalize("exclusions", pd.DataFrame([{**request, "decision": "denied"}]))
    due = due_alerts(lead_ledger(data, ny_terms(), as_of), ny_terms(), as_of)
    assert set(due["kind"]) == {FIRST_TOUCH_BREACH, ESCALATION}


def test_a_lead_rejected_in_the_data_raises_no_alert(make_data, ny_terms, at):
    # Rejected Mon 11:00 (inside 8 acceptance hours): no first-touch or attempts alert afterwards.
    rejected = {**MONDAY_LEAD, "rejected_at": "2026-05-04 11:00", "rejection_reason": "student"}
    terms = ny_terms(acceptance_hours=8)
    as_of = at("2026-05-05 10:00")
    assert due_alerts(lead_ledger(make_data(leads=[rejected]), terms, as_of), terms, as_of).empty
