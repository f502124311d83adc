"""No table on any page shows a literal None / nan: missing text holds '—', and every grid shows '—' for
a missing number, time or link (Streamlit's placeholder), so the numbers keep sorting as numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import AS_OF, DASHBOARD, MONTH, PAGES, TIMEOUT, no_exception, open_page, table_with
from streamlit.testing.v1 import AppTest

from smarketing import api
from smarketing.store import storage

LITERALS = {"None", "none", "nan", "NaN", "<NA>", "NaT", "null"}
EVERY_PAGE = [*PAGES, "review"]


def _open(name: str, **params: str) -> AppTest:
    if name != "review":
        return open_page(name, **params)
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.query_params = {"month": MONTH, "as_of": AS_OF, **params}
    at.run()
    at.switch_page("pages/7_Executive_review.py")
    return at.run()


def _literal_cells(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(column, text) of every text cell that spells a missing value."""
    return [
        (str(column), str(value))
        for column in frame.columns
        for value in frame[column]
        if isinstance(value, str) and value.strip() in LITERALS
    ]


@pytest.mark.parametrize("page", EVERY_PAGE)
@pytest.mark.parametrize("params", [{}, {"team": "East"}], ids=["all", "team"])
def test_no_table_cell_reads_none_or_nan(app_env: str, page: str, params: dict[str, str]) -> None:
    at = _open(page, **params)
    no_exception(at)
    assert at.dataframe, f"{page} shows no table"
    assert not [c.value for c in at.caption if "Loading " in c.value], "a placeholder was left behind"
    for element in at.dataframe:
        frame = element.value
        assert not _literal_cells(frame), (page, list(frame.columns), _literal_cells(frame)[:3])
        if frame.isna().any().any():
            assert element.proto.placeholder == "—", (page, list(frame.columns))


def test_the_unassigned_rows_missing_median_shows_a_dash(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    api.import_uploaded(engine, {"leads.csv": b"lead_id,mql_at,segment\nNOBODY-1,2026-03-10T15:00:00Z,SMB\n"})
    at = open_page("sales")
    no_exception(at)
    reps = table_with(at, "Rep", "Median response")
    unassigned = reps.loc[reps["Rep"].str.startswith("Unassigned")]
    assert len(unassigned) == 1 and unassigned["Median response"].isna().all()  # the cell that read "None"
    assert pd.api.types.is_numeric_dtype(reps["Median response"])  # still numbers, so it sorts numerically
    grid = next(e for e in at.dataframe if {"Rep", "Median response"} <= set(e.value.columns))
    assert grid.proto.placeholder == "—"
    assert unassigned["Leads in ledger"].isna().all()  # no link for nobody's leads (the grid shows "—", not "Open")
