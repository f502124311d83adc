"""Shared constants and helpers of the AppTest tests (imported by conftest and the tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from smarketing import api
from smarketing.store import storage

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = str(ROOT / "dashboard.py")
NOW = pd.Timestamp("2026-03-18T15:00:00Z")
AS_OF = NOW.isoformat()
MONTH = "2026-03"
TIMEOUT = 120
PAGES = {
    "home": None,
    "marketing": "pages/1_Marketing.py",
    "sales": "pages/2_Sales.py",
    "ledger": "pages/3_Lead_ledger.py",
    "trends": "pages/4_Trends.py",
    "terms": "pages/5_Terms.py",
    "data": "pages/6_Data.py",
}


def seed(url: str) -> None:
    """Demo data generated as of NOW."""
    api.seed_demo(storage.make_engine(url), now=NOW)


def open_page(name: str, month: str = MONTH, as_of: str | None = AS_OF, **params: str) -> AppTest:
    """Run the Home page, then switch to `name` with the month (and as_of) in the URL."""
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.query_params = {"month": month, **({"as_of": as_of} if as_of else {}), **params}
    at.run()
    if PAGES[name]:
        at.switch_page(PAGES[name])
        at.run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Every metric on the page: label → shown value."""
    return {m.label: m.value for m in at.metric}


def no_exception(at: AppTest) -> None:
    """The run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe on the page that has all these columns."""
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}: {[list(f.value.columns) for f in at.dataframe]}")
