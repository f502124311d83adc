"""Where the dashboard opens (DESIGN v2 section 8): pure choices from the months that have data."""

from __future__ import annotations

import pytest

from smarketing.core.months import opening_month, review_month

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "current, latest, expected",
    [
        ("2026-12", "2026-12", "2026-12"),  # the current month has an MQL by now
        ("2026-12", "2018-08", "2018-08"),  # the data ends in 2018: open where it is
        ("2026-12", None, "2026-12"),  # no data at all: the current month (its empty state guides)
    ],
)
def test_opening_month(current, latest, expected):
    assert opening_month(current, latest) == expected


@pytest.mark.parametrize(
    "current, latest_finished, expected",
    [
        ("2026-12", "2026-11", "2026-11"),
        ("2026-12", "2018-08", "2018-08"),  # the latest finished month with data, not an empty November
        ("2026-12", None, "2026-11"),  # nothing finished with data: last month
    ],
)
def test_review_month(current, latest_finished, expected):
    assert review_month(current, latest_finished) == expected
