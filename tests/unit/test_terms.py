"""The agreement (DESIGN section 3): parsing, defaults, validation, TOML, versions."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import replace

import pandas as pd
import pytest

from smarketing.core.calendar import BusinessCalendar
from smarketing.core.errors import UserError
from smarketing.core.terms import (
    Terms,
    TermsError,
    TermsVersion,
    parse_terms_toml,
    terms_for_month,
    terms_to_toml,
    version_for_month,
)

pytestmark = pytest.mark.unit

# The example of DESIGN section 3, verbatim (comments included).
DESIGN_EXAMPLE = """\
timezone = "America/New_York"          # IANA; months and business hours are local

[calendar]
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = ["09:00", "17:00"]             # one window a day, local wall clock
holidays = "US"                        # optional: country code of the holidays package, or "US-CA" with a subdivision
extra_holidays = ["2026-12-24"]        # optional explicit dates

[marketing]
mql_quota = 400                        # per month; or per segment:
segment_quotas = { A = 100, B = 300 }  # optional; when given, the quota is their sum
at_risk_ratio = 0.9                    # projected/quota below which a month is at risk

[sales]
clock_starts = "mql"                   # or "assignment": max(mql_at, assigned_at)
first_touch_hours = 4                  # business hours; may be a table per segment
first_touch_target = 0.9               # share of MQLs that must be touched in time
min_attempts = 5
attempt_window_days = 10               # business days
attempts_target = 0.8

[targets]                              # how next month's quota is derived (section 6)
revenue_goal = 500000                  # monthly sales revenue goal
marketing_share = 0.6                  # share of revenue expected from marketing leads
lookback_months = 6
cohort_lag_months = 2
carry_forward_shortfall = false
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(TermsError) as info:
        parse_terms_toml(text)
    return info.value.problems


def assert_one_sentence(message: str) -> None:
    """A single, complete sentence: one line, ends with a period, no second sentence."""
    assert isinstance(message, str) and message.strip() == message
    assert "\n" not in message
    assert message.endswith(".")
    assert len(message) >= 20
    # no ". X" / "! X" / "? X" inside: a second sentence would start there
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message
    assert "Traceback" not in message and "Error(" not in message


# -- parsing ---------------------------------------------------------------------------


def test_parse_the_design_example():
    terms, effective_from = parse_terms_toml(DESIGN_EXAMPLE)
    assert effective_from is None  # no effective_from key: the caller decides the month
    assert terms.timezone == "America/New_York"
    assert terms.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert terms.hours == ("09:00", "17:00")
    assert terms.holidays == "US"
    assert terms.extra_holidays == ("2026-12-24",)
    assert terms.mql_quota == 400
    assert dict(terms.segment_quotas) == {"A": 100, "B": 300}
    assert terms.quota == 400  # the sum of the segment quotas
    assert terms.at_risk_ratio == 0.9
    assert terms.clock_starts == "mql"
    assert terms.first_touch_hours == 4
    assert terms.first_touch_target == 0.9
    assert terms.min_attempts == 5
    assert terms.attempt_window_days == 10
    assert terms.attempts_target == 0.8
    assert terms.revenue_goal == 500000
    assert terms.marketing_share == 0.6
    assert terms.lookback_months == 6
    assert terms.cohort_lag_months == 2
    assert terms.carry_forward_shortfall is False


def test_the_design_example_builds_its_calendar():
    terms, _ = parse_terms_toml(DESIGN_EXAMPLE)
    cal = terms.calendar
    assert isinstance(cal, BusinessCalendar)
    assert cal.timezone == "America/New_York"
    assert cal.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert (cal.opens, cal.closes) == (dt.time(9), dt.time(17))
    assert cal.holidays == "US"
    assert cal.extra_holidays == (dt.date(2026, 12, 24),)
    # "10 business days" = 10 x (17:00 - 09:00) = 80 business hours
    assert terms.attempt_window_hours == 80
    # The calendar works: Wed 2026-12-23 16:00 EST (21:00Z) + 4h: Wed 1h, Thu 12-24
    # (extra holiday) and Fri 12-25 (Christmas) off, Mon 12-28 09-12 -> 12:00 EST = 17:00Z.
    start = pd.Timestamp("2026-12-23 21:00", tz="UTC")
    assert cal.deadline(start, terms.first_touch_hours)[0] == pd.Timestamp("2026-12-28 17:00", tz="UTC")


def test_segment_quota_sum_wins_over_mql_quota():
    terms, _ = parse_terms_toml("[marketing]\nmql_quota = 999\nsegment_quotas = { A = 10, B = 5 }\n")
    assert terms.quota == 15
    terms, _ = parse_terms_toml("[marketing]\nmql_quota = 120\n")
    assert terms.quota == 120


def test_per_segment_first_touch_hours():
    terms, _ = parse_terms_toml("[sales]\nfirst_touch_hours = { A = 2, B = 8, default = 4 }\n")
    assert terms.first_touch_hours_for("A") == 2
    assert terms.first_touch_hours_for("B") == 8
    assert terms.first_touch_hours_for("C") == 4  # unnamed segment -> `default`
    terms, _ = parse_terms_toml("[sales]\nfirst_touch_hours = { A = 2, B = 8 }\n")
    # without a default entry, an unnamed segment gets the most lenient promise
    assert terms.first_touch_hours_for("all") == 8
    terms, _ = parse_terms_toml("[sales]\nfirst_touch_hours = 6\n")
    assert terms.first_touch_hours_for("anything") == 6


def test_native_toml_dates_are_accepted_for_extra_holidays():
    terms, _ = parse_terms_toml("[calendar]\nextra_holidays = [2026-12-24, 2026-12-31]\n")
    assert terms.extra_holidays == ("2026-12-24", "2026-12-31")
    assert terms.calendar.extra_holidays == (dt.date(2026, 12, 24), dt.date(2026, 12, 31))


def test_effective_from_is_read():
    terms, effective_from = parse_terms_toml('effective_from = "2026-03"\ntimezone = "Europe/Berlin"\n')
    assert effective_from == "2026-03"
    assert terms.timezone == "Europe/Berlin"


def test_holidays_with_a_subdivision():
    terms, _ = parse_terms_toml('[calendar]\nholidays = "US-CA"\n')
    assert terms.holidays == "US-CA"
    assert terms.calendar.holidays == "US-CA"


# -- defaults --------------------------------------------------------------------------


def test_empty_file_gives_the_documented_defaults():
    terms, effective_from = parse_terms_toml("")
    assert effective_from is None
    assert terms == Terms()
    # Terms' defaults: the DESIGN example's values, in UTC and without holidays.
    assert terms.timezone == "UTC"
    assert terms.holidays is None and terms.extra_holidays == ()
    assert terms.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert terms.hours == ("09:00", "17:00")
    assert terms.mql_quota == 400 and dict(terms.segment_quotas) == {}
    assert terms.quota == 400
    assert terms.at_risk_ratio == 0.9
    assert terms.clock_starts == "mql"
    assert terms.first_touch_hours == 4
    assert terms.first_touch_target == 0.9
    assert terms.min_attempts == 5
    assert terms.attempt_window_days == 10
    assert terms.attempts_target == 0.8
    assert terms.revenue_goal == 500000
    assert terms.marketing_share == 0.6
    assert terms.lookback_months == 6
    assert terms.cohort_lag_months == 2
    assert terms.carry_forward_shortfall is False


def test_omitted_keys_keep_their_defaults():
    terms, _ = parse_terms_toml(
        'timezone = "Asia/Kolkata"\n[sales]\nmin_attempts = 3\n[calendar]\nhours = ["10:00", "18:30"]\n'
    )
    expected = Terms(timezone="Asia/Kolkata", min_attempts=3, hours=("10:00", "18:30"))
    assert terms == expected
    assert terms.calendar.daily_hours == 8.5
    assert terms.attempt_window_hours == 85


def test_omitted_keys_keep_the_base_values():
    base, _ = parse_terms_toml(DESIGN_EXAMPLE)
    terms, _ = parse_terms_toml("[marketing]\nat_risk_ratio = 0.75\n", base=base)
    assert terms.at_risk_ratio == 0.75
    assert terms.timezone == "America/New_York" and terms.holidays == "US"
    assert dict(terms.segment_quotas) == {"A": 100, "B": 300}


# -- validation ------------------------------------------------------------------------

BAD_TERMS = [
    # (TOML text, words the one sentence must contain)
    pytest.param('timezone = "Mars/Olympus_Mons"\n', ["timezone", "Mars/Olympus_Mons"], id="unknown-timezone"),
    pytest.param('timezone = "EST5EDTX"\n', ["timezone", "EST5EDTX"], id="unknown-timezone-2"),
    pytest.param(
        '[calendar]\nhours = ["17:00", "09:00"]\n', ["calendar.hours", "17:00", "09:00"], id="close-before-open"
    ),
    pytest.param('[calendar]\nhours = ["09:00", "09:00"]\n', ["calendar.hours", "09:00"], id="close-equals-open"),
    pytest.param('[calendar]\nhours = ["9am", "5pm"]\n', ["calendar.hours"], id="bad-clock"),
    pytest.param('[calendar]\nhours = ["09:00"]\n', ["calendar.hours"], id="one-clock"),
    pytest.param("[marketing]\nmql_quota = -1\n", ["mql_quota", "-1"], id="quota-below-0"),
    pytest.param("[marketing]\nmql_quota = 12.5\n", ["mql_quota", "12.5"], id="quota-fractional"),
    pytest.param(
        "[marketing]\nsegment_quotas = { A = -5 }\n", ["segment_quotas", "A", "-5"], id="segment-quota-below-0"
    ),
    pytest.param("[sales]\nfirst_touch_target = 1.5\n", ["first_touch_target", "1.5"], id="target-above-1"),
    pytest.param("[sales]\nattempts_target = -0.1\n", ["attempts_target", "-0.1"], id="target-below-0"),
    pytest.param("[marketing]\nat_risk_ratio = 2\n", ["at_risk_ratio", "2"], id="ratio-above-1"),
    pytest.param("[targets]\nmarketing_share = 1.01\n", ["marketing_share", "1.01"], id="share-above-1"),
    pytest.param('[calendar]\nholidays = "XX"\n', ["calendar.holidays", "XX"], id="unknown-holiday-country"),
    pytest.param('[calendar]\nholidays = "Narnia"\n', ["calendar.holidays", "Narnia"], id="unknown-holiday-country-2"),
    pytest.param('[calendar]\nholidays = "US-ZZ"\n', ["calendar.holidays", "US-ZZ"], id="unknown-holiday-subdivision"),
    pytest.param(
        "[sales]\nfirst_touch_hours = {}\n", ["first_touch_hours", "no segment"], id="empty-first-touch-table"
    ),
    pytest.param("[sales]\nfirst_touch_hours = 0\n", ["first_touch_hours", "0"], id="first-touch-zero"),
    pytest.param(
        "[sales]\nfirst_touch_hours = { A = -2 }\n", ["first_touch_hours", "A", "-2"], id="first-touch-segment-negative"
    ),
    pytest.param('colour = "blue"\n', ["colour"], id="unknown-top-level-key"),
    pytest.param("[sales]\nfirst_touch_hour = 4\n", ["first_touch_hour", "sales"], id="unknown-key-in-section"),
    pytest.param("[marketting]\nmql_quota = 4\n", ["marketting"], id="unknown-section"),
    pytest.param('effective_from = "2026-13"\n', ["effective_from", "2026-13"], id="bad-effective-from-month"),
    pytest.param('effective_from = "March 2026"\n', ["effective_from", "March 2026"], id="bad-effective-from-words"),
    pytest.param('effective_from = "2026-03-01"\n', ["effective_from", "2026-03-01"], id="bad-effective-from-day"),
    pytest.param('[calendar]\nworkdays = ["Mon", "Funday"]\n', ["workdays", "Funday"], id="unknown-workday"),
    pytest.param("[calendar]\nworkdays = []\n", ["workdays"], id="no-workdays"),
    pytest.param(
        '[calendar]\nextra_holidays = ["2026-02-30"]\n', ["extra_holidays", "2026-02-30"], id="bad-extra-holiday"
    ),
    pytest.param('[sales]\nclock_starts = "lunch"\n', ["clock_starts", "lunch"], id="bad-clock-starts"),
    pytest.param("[sales]\nmin_attempts = 0\n", ["min_attempts", "0"], id="no-attempts"),
    pytest.param("[sales]\nattempt_window_days = 0\n", ["attempt_window_days", "0"], id="no-attempt-window"),
    pytest.param("[targets]\nlookback_months = 0\n", ["lookback_months", "0"], id="no-lookback"),
    pytest.param("[targets]\ncohort_lag_months = -1\n", ["cohort_lag_months", "-1"], id="negative-lag"),
    pytest.param("[targets]\nrevenue_goal = -10\n", ["revenue_goal", "-10"], id="negative-goal"),
    pytest.param('[targets]\ncarry_forward_shortfall = "yes"\n', ["carry_forward_shortfall"], id="not-a-bool"),
    pytest.param("[marketing]\nmql_quota = true\n", ["mql_quota", "True"], id="bool-quota"),
    pytest.param("calendar = 5\n", ["calendar"], id="section-not-a-table"),
    pytest.param("timezone = \n", ["TOML"], id="not-toml"),
]


@pytest.mark.parametrize(("text", "words"), BAD_TERMS)
def test_each_problem_is_one_clear_sentence(text, words):
    problems = problems_of(text)
    assert len(problems) == 1, problems
    message = problems[0]
    assert_one_sentence(message)
    for word in words:
        assert word in message, (word, message)


def test_terms_error_is_a_user_error_whose_text_lists_the_problems():
    with pytest.raises(UserError) as info:
        parse_terms_toml('timezone = "Nowhere/Land"\n')
    assert isinstance(info.value, TermsError)
    assert str(info.value) == info.value.problems[0]


def test_several_problems_are_all_reported():
    text = """\
timezone = "Mars/Olympus"
effective_from = "2026-13"
colour = "blue"

[calendar]
hours = ["17:00", "09:00"]
holidays = "XX"

[marketing]
mql_quota = -1

[sales]
first_touch_hours = {}
first_touch_target = 1.5
"""
    problems = problems_of(text)
    expected_words = [
        "Mars/Olympus",
        "2026-13",
        "colour",
        "calendar.hours",
        "XX",
        "mql_quota",
        "first_touch_hours",
        "first_touch_target",
    ]
    assert len(problems) == len(expected_words), problems
    for word in expected_words:
        assert sum(word in p for p in problems) == 1, (word, problems)
    for p in problems:
        assert_one_sentence(p)
    with pytest.raises(TermsError) as info:
        parse_terms_toml(text)
    for p in problems:
        assert p in str(info.value)


def test_a_valid_part_does_not_hide_problems_elsewhere():
    problems = problems_of(
        DESIGN_EXAMPLE.replace("min_attempts = 5", "min_attempts = -5").replace(
            'timezone = "America/New_York"', 'timezone = "America/Nowhere"'
        )
    )
    assert len(problems) == 2
    assert any("min_attempts" in p for p in problems)
    assert any("America/Nowhere" in p for p in problems)


def test_boundary_values_are_accepted():
    terms, _ = parse_terms_toml(
        "[marketing]\nmql_quota = 0\nat_risk_ratio = 0\n"
        "[sales]\nfirst_touch_target = 1\nattempts_target = 0\nfirst_touch_hours = 0.25\n"
        "[targets]\nmarketing_share = 1\ncohort_lag_months = 0\nrevenue_goal = 0\n"
    )
    assert terms.quota == 0
    assert terms.first_touch_target == 1 and terms.attempts_target == 0
    assert terms.first_touch_hours == 0.25
    assert terms.marketing_share == 1 and terms.cohort_lag_months == 0


# -- TOML export / import --------------------------------------------------------------


ROUND_TRIP = [
    pytest.param(DESIGN_EXAMPLE, id="design-example"),
    pytest.param("", id="defaults"),
    pytest.param(
        'timezone = "Asia/Jerusalem"\n'
        '[calendar]\nworkdays = ["Sun", "Mon", "Tue", "Wed", "Thu"]\nhours = ["08:00", "16:00"]\n'
        'holidays = "IL"\nextra_holidays = ["2026-05-01", "2026-06-01"]\n'
        "[marketing]\nsegment_quotas = { Enterprise = 40, SMB = 260 }\nat_risk_ratio = 0.85\n"
        '[sales]\nclock_starts = "assignment"\n'
        "first_touch_hours = { Enterprise = 1.5, SMB = 8, default = 4 }\n"
        "min_attempts = 7\nattempt_window_days = 12.5\n"
        "[targets]\nrevenue_goal = 1250000.5\nmarketing_share = 0.45\nlookback_months = 3\n"
        "cohort_lag_months = 1\ncarry_forward_shortfall = true\n",
        id="everything-changed",
    ),
]


@pytest.mark.parametrize("text", ROUND_TRIP)
@pytest.mark.parametrize("effective_from", [None, "2026-04"])
def test_toml_round_trip(text, effective_from):
    terms, _ = parse_terms_toml(text)
    exported = terms_to_toml(terms, effective_from)
    tomllib.loads(exported)  # valid TOML
    again, again_from = parse_terms_toml(exported)
    assert again_from == effective_from
    assert again.quota == terms.quota
    if terms.segment_quotas:
        # With segment quotas the export writes mql_quota as their sum (the quota in
        # force); the unused mql_quota field is the only thing that may change.
        assert again == replace(terms, mql_quota=terms.quota)
    else:
        assert again == terms
    # a second round trip changes nothing at all
    assert terms_to_toml(again, effective_from) == exported
    assert parse_terms_toml(exported) == (again, effective_from)


def test_export_has_the_design_layout():
    terms, _ = parse_terms_toml(DESIGN_EXAMPLE)
    data = tomllib.loads(terms_to_toml(terms, "2026-01"))
    assert set(data) == {"effective_from", "timezone", "calendar", "marketing", "sales", "targets"}
    assert data["effective_from"] == "2026-01"
    assert data["calendar"] == {
        "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "hours": ["09:00", "17:00"],
        "holidays": "US",
        "extra_holidays": ["2026-12-24"],
    }
    assert data["marketing"]["segment_quotas"] == {"A": 100, "B": 300}
    assert data["marketing"]["mql_quota"] == 400
    assert data["sales"]["first_touch_hours"] == 4


# -- versions by month -----------------------------------------------------------------


def _versions() -> list[TermsVersion]:
    # deliberately out of order
    return [
        TermsVersion("2026-07", Terms(mql_quota=700), version_id=3),
        TermsVersion("2026-01", Terms(mql_quota=100), version_id=1),
        TermsVersion("2026-04", Terms(mql_quota=400), version_id=2),
    ]


@pytest.mark.parametrize(
    ("month", "quota"),
    [
        ("2024-12", 100),  # long before the first version: the first
        ("2025-12", 100),  # the month just before the first version: the first
        ("2026-01", 100),  # the first version's own month
        ("2026-03", 100),  # still the first
        ("2026-04", 400),  # the second takes over from its month
        ("2026-06", 400),
        ("2026-07", 700),  # the third takes over from its month
        ("2026-10", 700),  # "2026-10" > "2026-07": not fooled by text order of one-digit months
        ("2027-02", 700),  # and stays in force
    ],
)
def test_terms_for_month(month, quota):
    assert terms_for_month(_versions(), month).quota == quota
    version = version_for_month(_versions(), month)
    assert version is not None and version.terms.quota == quota


def test_a_newer_version_for_the_same_month_wins():
    versions = [
        TermsVersion("2026-04", Terms(mql_quota=450), version_id=5),
        TermsVersion("2026-04", Terms(mql_quota=400), version_id=2),
        TermsVersion("2026-01", Terms(mql_quota=100), version_id=1),
    ]
    assert terms_for_month(versions, "2026-05").quota == 450
    assert version_for_month(versions, "2026-05").version_id == 5
    assert terms_for_month(versions, "2026-03").quota == 100


def test_no_versions():
    assert terms_for_month([], "2026-01") == Terms()
    assert version_for_month([], "2026-01") is None


def test_a_single_version_covers_every_month():
    only = [TermsVersion("2026-06", Terms(mql_quota=42))]
    for month in ["2020-01", "2026-05", "2026-06", "2030-12"]:
        assert terms_for_month(only, month).quota == 42


# -- [alerts] (DESIGN section 9) -------------------------------------------------------------------


def test_without_an_alerts_table_the_documented_defaults_apply_and_nothing_is_exported():
    terms, _ = parse_terms_toml("")
    assert terms.alerts is None
    assert (terms.alert_settings.warn_at, terms.alert_settings.escalate_after_hours) == (0.75, 4.0)
    assert terms.alert_settings.stale_after_hours == 24.0
    assert "alerts" not in tomllib.loads(terms_to_toml(terms))


def test_an_alerts_table_round_trips_through_toml():
    terms, _ = parse_terms_toml("[alerts]\nwarn_at = 0.5\nescalate_after_hours = 8\n")
    assert (terms.alerts.warn_at, terms.alerts.escalate_after_hours, terms.alerts.stale_after_hours) == (0.5, 8, 24)
    again, _ = parse_terms_toml(terms_to_toml(terms))
    assert again == terms
    assert tomllib.loads(terms_to_toml(terms))["alerts"] == {
        "warn_at": 0.5,
        "escalate_after_hours": 8.0,
        "stale_after_hours": 24.0,
    }


@pytest.mark.parametrize(
    "table, words",
    [
        ("warn_at = 1", "alerts.warn_at must be a share above 0 and below 1, not 1."),
        ("warn_at = 0", "alerts.warn_at must be a share above 0 and below 1, not 0."),
        ("escalate_after_hours = -1", "alerts.escalate_after_hours must be a number of business hours of 0 or more"),
        ("stale_after_hours = 0", "alerts.stale_after_hours must be a number of hours above 0, not 0."),
        ('stale_after_hours = "a day"', "alerts.stale_after_hours must be a number of hours above 0"),
        ("every = 5", "'every' in [alerts] is not a setting smarketing knows."),
    ],
)
def test_each_alerts_problem_is_one_sentence_naming_the_key(table, words):
    with pytest.raises(TermsError) as caught:
        parse_terms_toml(f"[alerts]\n{table}\n")
    assert words in str(caught.value)


def test_terms_changes_names_each_changed_setting() -> None:
    from smarketing.core.terms import Terms, terms_changes

    old = Terms(mql_quota=420, segment_quotas={"SMB": 200})
    new = Terms(mql_quota=6, segment_quotas={"SMB": 200, "Enterprise": 5})
    assert terms_changes(old, new) == ["mql_quota: 420 → 6", "segment_quotas.Enterprise: none → 5"]
    assert terms_changes(old, old) == []


def test_with_settings_changes_only_the_given_keys() -> None:
    from smarketing.core.terms import parse_terms_toml, with_settings
    from smarketing.sources.demo import DEMO_TERMS_TOML

    text = with_settings(DEMO_TERMS_TOML, {"marketing": {"mql_quota": 500}, "sales": {"min_attempts": 6}})
    terms, _ = parse_terms_toml(text)
    demo, _ = parse_terms_toml(DEMO_TERMS_TOML)
    assert (terms.mql_quota, terms.min_attempts) == (500, 6)
    assert terms.segment_quotas == demo.segment_quotas and terms.holidays == demo.holidays
