"""Real schedules in the terms (DESIGN section 3, v2): week, named calendars, routing, 24/7."""

from __future__ import annotations

import re
import tomllib

import pytest

from smarketing.core.calendar import BusinessCalendar
from smarketing.core.terms import CalendarTerms, Terms, TermsError, parse_terms_toml, terms_to_toml

pytestmark = pytest.mark.unit

# The v2 example of DESIGN section 3 (calendar part), on top of a New York agreement. Its
# week is written as a [calendar.week] table: an inline table over several lines is TOML 1.1,
# which Python 3.11's tomllib (TOML 1.0) refuses.
V2_EXAMPLE = """\
timezone = "America/New_York"

[calendar]
holidays = "US"

[calendar.week]
Mon = ["08:00-12:00", "13:00-17:00"]
Tue = ["08:00-12:00", "13:00-17:00"]
Wed = ["08:00-12:00", "13:00-17:00"]
Thu = ["08:00-12:00", "13:00-17:00"]
Fri = ["08:00-15:00"]
Sat = ["09:00-13:00"]

[calendars.EMEA]
timezone = "Europe/Berlin"
holidays = "DE-BE"
hours = ["09:00", "17:00"]

[sales]
calendar_by_team = { EMEA = "EMEA" }
calendar_by_segment = { Hot = "24/7" }
attempt_window_days = 10
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(TermsError) as info:
        parse_terms_toml(text)
    return info.value.problems


def test_parse_the_v2_calendar_example():
    terms, _ = parse_terms_toml(V2_EXAMPLE)
    assert terms.week["Mon"] == ("08:00-12:00", "13:00-17:00")
    assert terms.week["Sat"] == ("09:00-13:00",) and "Sun" not in terms.week
    assert terms.calendars == {
        "EMEA": CalendarTerms(timezone="Europe/Berlin", holidays="DE-BE", hours=("09:00", "17:00"))
    }
    assert terms.calendar_by_team == {"EMEA": "EMEA"} and terms.calendar_by_segment == {"Hot": "24/7"}
    # Mon-Thu 4 x 8 h + Fri 7 h + Sat 4 h = 43 h over 6 weekdays; 10 business days = 430/6 h.
    assert terms.calendar.daily_hours == pytest.approx(43 / 6)
    assert terms.attempt_window_hours == pytest.approx(430 / 6)


def test_named_calendars_inherit_nothing_but_the_timezone():
    terms, _ = parse_terms_toml(V2_EXAMPLE + '\n[calendars.Night]\nweek = { Sun = ["20:00-24:00"] }\n')
    by_name = terms.calendars_by_name
    assert set(by_name) == {"default", "24/7", "EMEA", "Night"}
    emea, night = by_name["EMEA"], by_name["Night"]
    assert emea.timezone == "Europe/Berlin" and emea.holidays == "DE-BE" and emea.daily_hours == 8
    # Night: no timezone of its own -> the agreement's; no holidays although [calendar] has US.
    assert night.timezone == "America/New_York" and night.holidays is None
    assert night.weekly_windows[6] == ((20 * 3600, 24 * 3600),) and night.daily_hours == 4
    assert by_name["24/7"].always_open and by_name["24/7"].daily_hours == 24


def test_terms_without_the_new_keys_build_the_version_1_calendar():
    terms, _ = parse_terms_toml('timezone = "America/New_York"\n[calendar]\nhours = ["08:30", "17:00"]\n')
    assert terms.week == {} and terms.calendars == {} and terms.calendar_by_team == {}
    assert terms.calendar.week is None
    assert terms.calendar == BusinessCalendar(
        "America/New_York", opens=terms.calendar.opens, closes=terms.calendar.closes
    )
    assert set(tomllib.loads(terms_to_toml(terms))) == {"timezone", "calendar", "marketing", "sales", "targets"}


ROUND_TRIP = [
    pytest.param(V2_EXAMPLE, id="v2-example"),
    pytest.param(
        '[calendar]\nweek = { Sat = ["09:00-13:00"], Sun = ["00:00-24:00"] }\nextra_holidays = ["2026-12-24"]\n'
        '[calendars.APAC]\ntimezone = "Asia/Tokyo"\nweek = { Mon = ["09:00-12:00", "13:00-18:00"] }\nholidays = "JP"\n'
        '[calendars.US-West]\nworkdays = ["Mon", "Tue"]\nhours = ["07:00", "15:00"]\nholidays = "US-CA"\n'
        '[sales]\ncalendar_by_segment = { Enterprise = "APAC", Hot = "24/7", Basic = "default" }\n'
        'calendar_by_team = { "West Coast" = "US-West" }\n',
        id="everything",
    ),
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_toml_round_trip_keeps_weeks_named_calendars_and_routing(text):
    terms, _ = parse_terms_toml(text)
    exported = terms_to_toml(terms, "2026-05")
    again, effective_from = parse_terms_toml(exported)
    assert again == terms and effective_from == "2026-05"
    assert terms_to_toml(again, "2026-05") == exported
    data = tomllib.loads(exported)
    assert "workdays" not in data["calendar"] and "hours" not in data["calendar"]


def test_a_week_replaces_the_base_hours_and_hours_replace_the_base_week():
    base, _ = parse_terms_toml(V2_EXAMPLE)
    hours, _ = parse_terms_toml('[calendar]\nhours = ["10:00", "16:00"]\n', base=base)
    assert hours.week == {} and hours.calendar.daily_hours == 6
    assert hours.calendars == base.calendars and hours.calendar_by_team == base.calendar_by_team
    week, _ = parse_terms_toml('[calendar]\nweek = { Tue = ["10:00-11:00"] }\n', base=hours)
    assert week.week == {"Tue": ("10:00-11:00",)} and week.calendar.daily_hours == 1


PROBLEMS = [
    pytest.param('[calendar]\nweek = { Mon = ["8-12"] }\n', ["calendar.week.Mon", "8-12", "HH:MM-HH:MM"], id="format"),
    pytest.param(
        '[calendar]\nweek = { Mon = ["17:00-09:00"] }\n', ["calendar.week.Mon", "17:00-09:00", "closes"], id="backwards"
    ),
    pytest.param('[calendar]\nweek = { Mon = ["09:00-09:00"] }\n', ["calendar.week.Mon", "closes"], id="empty-window"),
    pytest.param(
        '[calendar]\nweek = { Mon = ["08:00-12:00", "11:30-17:00"] }\n',
        ["calendar.week.Mon", "11:30-17:00", "overlapping", "08:00-12:00"],
        id="overlap",
    ),
    pytest.param(
        '[calendar]\nweek = { Mon = ["13:00-17:00", "08:00-12:00"] }\n',
        ["calendar.week.Mon", "in order"],
        id="unsorted",
    ),
    pytest.param(
        '[calendar]\nweek = { Mon = ["24:00-24:00"] }\n', ["calendar.week.Mon", "24:00", "close"], id="24-open"
    ),
    pytest.param('[calendar]\nweek = { Mon = ["09:00-24:30"] }\n', ["calendar.week.Mon", "09:00-24:30"], id="past-24"),
    pytest.param('[calendar]\nweek = { Funday = ["09:00-17:00"] }\n', ["calendar.week", "Funday"], id="weekday"),
    pytest.param("[calendar]\nweek = {}\n", ["calendar.week", "no weekday"], id="no-window"),
    pytest.param('[calendar]\nweek = "Mon-Fri"\n', ["calendar.week", "table"], id="not-a-table"),
    pytest.param('[calendar]\nweek = { Mon = "09:00-17:00" }\n', ["calendar.week.Mon", "list"], id="not-a-list"),
    pytest.param(
        '[calendar]\nweek = { Mon = ["09:00-17:00"] }\nhours = ["09:00", "17:00"]\n',
        ["calendar.week", "calendar.hours"],
        id="week-and-hours",
    ),
    pytest.param(
        '[calendar]\nworkdays = ["Mon"]\nweek = { Mon = ["09:00-17:00"] }\n',
        ["calendar.week", "calendar.workdays"],
        id="week-and-workdays",
    ),
    pytest.param(
        '[sales]\ncalendar_by_team = { EMEA = "EMEA" }\n', ["sales.calendar_by_team.EMEA", "'EMEA'"], id="unknown-team"
    ),
    pytest.param(
        '[sales]\ncalendar_by_segment = { Hot = "24x7" }\n', ["sales.calendar_by_segment.Hot", "24x7"], id="unknown-seg"
    ),
    pytest.param('[sales]\ncalendar_by_team = "EMEA"\n', ["sales.calendar_by_team", "table"], id="routing-not-table"),
    pytest.param(
        '[calendars.EMEA]\ntimezone = "Europe/Berln"\n', ["calendars.EMEA.timezone", "Europe/Berln"], id="named-tz"
    ),
    pytest.param('[calendars.EMEA]\nholidays = "XX"\n', ["calendars.EMEA.holidays", "XX"], id="named-holidays"),
    pytest.param(
        '[calendars.EMEA]\nweek = { Fri = ["15:00-14:00"] }\n',
        ["calendars.EMEA.week.Fri", "15:00-14:00"],
        id="named-week",
    ),
    pytest.param('[calendars.EMEA]\nlunch = "12:00"\n', ["lunch", "[calendars.EMEA]"], id="named-unknown-key"),
    pytest.param('[calendars."24/7"]\nhours = ["09:00", "17:00"]\n', ["calendars.24/7", "built-in"], id="reserved-247"),
    pytest.param('[calendars.default]\nhours = ["09:00", "17:00"]\n', ["calendars.default", "built-in"], id="reserved"),
    pytest.param('calendars = "EMEA"\n', ["[calendars]"], id="calendars-not-tables"),
]


@pytest.mark.parametrize(("text", "words"), PROBLEMS)
def test_each_schedule_problem_is_one_sentence_naming_the_key(text, words):
    problems = problems_of(text)
    assert len(problems) == 1, problems
    (message,) = problems
    for word in words:
        assert word in message, (word, message)
    assert message.endswith(".") and "\n" not in message
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


def test_a_broken_named_calendar_is_not_also_reported_as_unknown():
    problems = problems_of('[calendars.EMEA]\ntimezone = "Nowhere"\n[sales]\ncalendar_by_team = { EMEA = "EMEA" }\n')
    assert problems == ["calendars.EMEA.timezone 'Nowhere' is not an IANA timezone such as 'America/New_York'."]


def test_calendar_terms_default_to_the_version_1_schedule():
    assert Terms().calendar_terms == CalendarTerms(timezone="UTC")
    assert CalendarTerms().to_calendar("Europe/Berlin") == BusinessCalendar("Europe/Berlin")


def test_a_week_written_over_several_lines_gets_a_hint():
    # DESIGN's layout spreads the inline table over lines, which TOML 1.0 does not allow.
    text = '[calendar]\nweek = { Mon = ["08:00-12:00", "13:00-17:00"],\n         Fri = ["08:00-15:00"] }\n'
    (message,) = problems_of(text)
    assert message.startswith("The terms file is not valid TOML") and "[calendar.week]" in message
    assert message.endswith(".") and "\n" not in message
