"""Each lead's clock on its own calendar (DESIGN section 4, v2): routed by segment, then by the
owner's team, else [calendar].

The agreement is New York (Mon-Fri 09:00-17:00, US holidays) with a named calendar EMEA
(Europe/Berlin, 09:00-17:00, DE-BE holidays), calendar_by_team = { EMEA = "EMEA" } and
calendar_by_segment = { Hot = "24/7" }. Comments give New York local times (May 2026:
EDT = UTC-4) and Berlin's (CEST = UTC+2, so Berlin = New York + 6 h). Berlin holidays in
May 2026: Fri 05-01, Ascension Thu 05-14, Whit Monday 05-25.
"""

from __future__ import annotations

import numpy as np
import pytest

from smarketing.core.sales import lead_calendars, lead_ledger
from smarketing.core.scorecard import LEDGER_COLUMNS, LEDGER_V2_COLUMNS, ledger_records
from smarketing.core.terms import parse_terms_toml

pytestmark = pytest.mark.unit

ROUTED = """\
timezone = "America/New_York"
[calendar]
holidays = "US"
[calendars.EMEA]
timezone = "Europe/Berlin"
holidays = "DE-BE"
hours = ["09:00", "17:00"]
[sales]
calendar_by_team = { EMEA = "EMEA" }
calendar_by_segment = { Hot = "24/7" }
"""
OWNERS = [
    {"owner_id": "berlin-rep", "name": "Berta", "team": "EMEA"},
    {"owner_id": "ny-rep", "name": "Nate", "team": "Sales"},
]


@pytest.fixture(name="routed")
def routed_fixture():
    return parse_terms_toml(ROUTED)[0]


def ledger_of(make_data, terms, as_of, leads, touches=()):
    data = make_data(leads=leads, touches=touches, owners=OWNERS)
    return lead_ledger(data, terms, as_of).set_index("lead_id")


def test_lead_routed_by_owners_team_runs_on_that_teams_calendar(make_data, routed, at):
    lead = {"lead_id": "team", "mql_at": "2026-05-04 09:00", "owner_id": "berlin-rep", "segment": "A"}
    touch = {"lead_id": "team", "occurred_at": "2026-05-04 12:00"}
    row = ledger_of(make_data, routed, at("2026-06-30 12:00"), [lead], [touch]).loc["team"]
    assert row["calendar"] == "EMEA" and row["calendar_timezone"] == "Europe/Berlin"
    # MQL Mon 09:00 EDT = 15:00 CEST: Mon 15-17 = 2 h, Tue 09-11 CEST -> Tue 11:00 CEST = 05:00 EDT.
    assert row["first_touch_deadline"] == at("2026-05-05 05:00")
    # Touch Mon 12:00 EDT = 18:00 CEST: only 15:00-17:00 CEST counted -> 2 h.
    assert row["response_hours"] == 2.0 and row["first_touch_status"] == "met"
    # 10 business days = 80 h: Mon 2 h; Tue 05-05 .. Mon 05-18 has 9 Berlin workdays (Ascension
    # Thu 05-14 off) = 72 h -> 74 h; 6 h on Tue 05-19 09-15 CEST -> 15:00 CEST = 09:00 EDT.
    assert row["attempts_deadline"] == at("2026-05-19 09:00")


def test_segment_calendar_wins_over_the_team_calendar(make_data, routed, at):
    lead = {"lead_id": "hot", "mql_at": "2026-05-02 22:00", "owner_id": "berlin-rep", "segment": "Hot"}
    touch = {"lead_id": "hot", "occurred_at": "2026-05-03 01:30"}
    row = ledger_of(make_data, routed, at("2026-06-30 12:00"), [lead], [touch]).loc["hot"]
    assert row["calendar"] == "24/7"
    # Sat 22:00 EDT + 4 h around the clock -> Sun 02:00 EDT; the touch at Sun 01:30 is 3.5 h later.
    assert row["first_touch_deadline"] == at("2026-05-03 02:00")
    assert row["response_hours"] == 3.5 and row["first_touch_status"] == "met"
    # 10 business days of 24 h = 240 h -> Tue 05-12 22:00 EDT.
    assert row["attempts_deadline"] == at("2026-05-12 22:00")


def test_lead_of_an_unrouted_team_or_no_owner_runs_on_the_default_calendar(make_data, routed, at):
    leads = [
        {"lead_id": "ny", "mql_at": "2026-05-04 09:00", "owner_id": "ny-rep", "segment": "A"},
        {"lead_id": "nobody", "mql_at": "2026-05-04 09:00", "owner_id": None, "segment": None},
        {"lead_id": "stranger", "mql_at": "2026-05-04 09:00", "owner_id": "not-in-owners", "segment": "B"},
    ]
    ledger = ledger_of(make_data, routed, at("2026-06-30 12:00"), leads)
    assert ledger["calendar"].tolist() == ["default"] * 3
    assert ledger["calendar_timezone"].tolist() == ["America/New_York"] * 3
    # Mon 09:00 EDT + 4 h on New York hours -> 13:00 EDT.
    assert (ledger["first_touch_deadline"] == at("2026-05-04 13:00")).all()


def test_months_stay_in_the_agreements_timezone_whatever_the_calendar(make_data, routed, at):
    # Sun 2026-05-31 20:00 EDT is already Mon 06-01 02:00 in Berlin: the lead still belongs to May.
    lead = {"lead_id": "late", "mql_at": "2026-05-31 20:00", "owner_id": "berlin-rep", "segment": "A"}
    data = make_data(leads=[lead], owners=OWNERS)
    ledger = lead_ledger(data, routed, at("2026-06-30 12:00"), "2026-05")
    assert ledger["lead_id"].tolist() == ["late"] and ledger["month"].tolist() == ["2026-05"]
    assert ledger["calendar"].tolist() == ["EMEA"]
    # Clock from Mon 06-01 09:00 CEST (03:00 EDT), + 4 h -> 13:00 CEST = 07:00 EDT.
    assert ledger["first_touch_deadline"].tolist() == [at("2026-06-01 07:00")]


def test_three_calendars_in_one_ledger_equal_each_calendar_alone(make_data, routed, at):
    # One ledger over a mix of leads equals, lead by lead, the ledger of the lead alone.
    leads = [
        {
            "lead_id": f"l{i}",
            "mql_at": f"2026-05-{4 + i % 9:02d} {8 + i % 11:02d}:17",
            "owner_id": owner,
            "segment": seg,
        }
        for i, (owner, seg) in enumerate(
            [("berlin-rep", "A"), ("ny-rep", "Hot"), ("ny-rep", "A"), ("berlin-rep", "Hot"), (None, "B")] * 4
        )
    ]
    touches = [{"lead_id": f"l{i}", "occurred_at": f"2026-05-{6 + i % 7:02d} {9 + i % 8:02d}:05"} for i in range(20)]
    as_of = at("2026-05-14 12:00")
    together = ledger_of(make_data, routed, as_of, leads, touches)
    assert set(together["calendar"]) == {"EMEA", "24/7", "default"}
    for lead, touch in zip(leads, touches):
        alone = ledger_of(make_data, routed, as_of, [lead], [touch]).loc[lead["lead_id"]]
        assert together.loc[lead["lead_id"]].equals(alone), lead["lead_id"]


def test_version_1_terms_put_every_lead_on_the_default_calendar(make_data, ny_terms, at):
    data = make_data(
        leads=[{"lead_id": "a", "mql_at": "2026-05-04 09:00", "owner_id": "berlin-rep", "segment": "Hot"}],
        owners=OWNERS,
    )
    assert lead_calendars(data.leads, data.owners, ny_terms()).tolist() == ["default"]
    assert lead_ledger(data, ny_terms(), at("2026-05-05 12:00"))["calendar"].tolist() == ["default"]


def test_leads_json_names_the_calendar(make_data, routed, at):
    lead = {"lead_id": "team", "mql_at": "2026-05-04 09:00", "owner_id": "berlin-rep", "segment": "A"}
    data = make_data(leads=[lead], owners=OWNERS)
    ledger = lead_ledger(data, routed, at("2026-05-04 10:00"))
    (record,) = ledger_records(ledger, routed.timezone, [*LEDGER_COLUMNS, *LEDGER_V2_COLUMNS])
    assert record["calendar"] == "EMEA"
    # Instants stay in the agreement's timezone: Tue 11:00 CEST = 05:00 EDT.
    assert record["first_touch_deadline"] == "2026-05-05T05:00:00-04:00"
    assert np.isnan(ledger["response_hours"].iloc[0])
