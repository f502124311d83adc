"""Real schedules on the pages: the Terms page's week table, the lead page's calendar line."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import MONTH, NOW, no_exception, open_page, table_with

from smarketing import api
from smarketing.core.terms import parse_terms_toml
from smarketing.sources.demo import DEMO_TERMS_TOML
from smarketing.store import storage
from smarketing.ui.tables import routing_text, schedule_table, week_summary

pytestmark = pytest.mark.app

# The demo agreement with a lunch break, a short Friday, a West team in Los Angeles and
# Enterprise leads around the clock.
ROUTED_TOML = (
    DEMO_TERMS_TOML.replace(
        'workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]\nhours = ["09:00", "17:00"]\n',
        'week = { Mon = ["08:00-12:00", "13:00-17:00"], Tue = ["08:00-12:00", "13:00-17:00"], '
        'Wed = ["08:00-12:00", "13:00-17:00"], Thu = ["08:00-12:00", "13:00-17:00"], Fri = ["08:00-15:00"] }\n',
    ).replace(
        "attempts_target = 0.8\n",
        'attempts_target = 0.8\ncalendar_by_team = { West = "West" }\ncalendar_by_segment = { Enterprise = "24/7" }\n',
    )
    + '\n[calendars.West]\ntimezone = "America/Los_Angeles"\nholidays = "US"\nhours = ["08:00", "16:00"]\n'
)


def test_schedule_table_lists_each_calendars_week():
    terms, _ = parse_terms_toml(ROUTED_TOML)
    frame = schedule_table(terms).set_index("Day")
    assert list(frame.columns) == ["Agreement ([calendar])", "24/7", "West"]
    assert frame.loc["Mon", "Agreement ([calendar])"] == "08:00–12:00, 13:00–17:00"
    assert frame.loc["Fri", "Agreement ([calendar])"] == "08:00–15:00"
    assert frame.loc["Sat", "Agreement ([calendar])"] == "—"
    # Mon-Thu 4 x 8 h + Fri 7 h = 39 h over 5 days.
    assert frame.loc["Mean working day", "Agreement ([calendar])"] == "7.8 h"
    assert frame.loc["Mon", "West"] == "08:00–16:00" and frame.loc["Timezone", "West"] == "America/Los_Angeles"
    assert frame.loc["Sun", "24/7"] == "all day" and frame.loc["Mean working day", "24/7"] == "24 h"
    assert week_summary(terms.calendar) == "Mon–Thu 08:00–12:00, 13:00–17:00 · Fri 08:00–15:00"
    assert routing_text(terms).endswith("segment Enterprise → 24/7; team West → West.")


def test_version_1_terms_show_one_calendar_and_no_routing():
    terms, _ = parse_terms_toml(DEMO_TERMS_TOML)
    frame = schedule_table(terms)
    assert list(frame.columns) == ["Day", "Agreement ([calendar])"]
    assert routing_text(terms) == "Every lead's clock runs on the agreement's calendar."


@pytest.fixture
def routed_env(write_env: str) -> str:
    storage.save_terms_version(storage.make_engine(write_env), ROUTED_TOML, MONTH, note="real schedules")
    return write_env


def test_terms_page_shows_the_week_and_the_named_calendars(routed_env: str) -> None:
    at = open_page("terms")
    no_exception(at)
    frame = table_with(at, "Day", "Agreement ([calendar])", "West", "24/7").set_index("Day")
    assert frame.loc["Tue", "Agreement ([calendar])"] == "08:00–12:00, 13:00–17:00"
    assert any("team West → West" in c.value for c in at.caption)


def test_lead_page_names_the_calendar_and_its_local_deadlines(routed_env: str) -> None:
    ledger, _ = api.ledger(storage.make_engine(routed_env), MONTH, NOW)
    assert {"24/7", "West", "default"} <= set(ledger["calendar"])
    lead = ledger.loc[ledger["calendar"] == "West"].iloc[0]
    at = open_page("ledger", lead=str(lead["lead_id"]))
    no_exception(at)
    assert "Calendar" in table_with(at, "Lead", "Attempts made").columns
    deadline = pd.Timestamp(lead["first_touch_deadline"])
    there = deadline.tz_convert("America/Los_Angeles").strftime("%b %d, %Y %H:%M %Z")
    here = deadline.tz_convert("America/New_York").strftime("%b %d, %Y %H:%M %Z")
    line = next(c.value for c in at.caption if "The clock ran on" in c.value)
    assert "the West calendar, in America/Los\\_Angeles" in line or "the West calendar, in America/Los_Angeles" in line
    assert f"first-touch deadline {there} ({here})" in line
