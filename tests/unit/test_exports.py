"""Formula-injection safety of every CSV/Excel cell (smarketing.outputs.exports)."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest

from smarketing import cli
from smarketing.outputs import exports
from smarketing.outputs.exports import frame_for_export, neutralise, safe_cell, status_words, write_csv

HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("text", [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1", "=", "-"])
def test_formula_like_text_gets_a_leading_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -2.5, 0, 3, np.int64(-7), np.float64(-1.25), True])
def test_numbers_stay_numbers(value) -> None:
    assert safe_cell(value) is value


@pytest.mark.parametrize("text", ["Avery Stone", "a=b", "100%", "2026-03-06T16:00:00-05:00", "'=already", ""])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert safe_cell(text) == text


def test_none_is_an_empty_cell_but_neutralise_keeps_it() -> None:
    assert safe_cell(None) == ""
    assert neutralise(None) is None


def test_write_csv_neutralises_header_and_cells_but_not_negative_numbers() -> None:
    buf = io.StringIO()
    write_csv(buf, ["name", "=evil"], [[HYPERLINK, -50], ["Blake", None], ["-10", -0.5]])
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows == [["name", "'=evil"], ["'" + HYPERLINK, "-50"], ["Blake", ""], ["'-10", "-0.5"]]


def test_frame_for_export_touches_only_text_cells() -> None:
    frame = pd.DataFrame(
        {
            "name": pd.Series([HYPERLINK, "Avery", None], dtype="string"),
            "segment": pd.Series(["@x", "SMB", "+1"], dtype=object),
            "budget": [-3, 2, -1],
            "rate": [0.5, np.nan, -0.25],
            "when": pd.to_datetime(["2026-03-01", None, "2026-03-02"], utc=True),
        }
    )
    out = frame_for_export(frame)
    assert out["name"].tolist()[:2] == ["'" + HYPERLINK, "Avery"] and pd.isna(out["name"].iloc[2])
    assert out["segment"].tolist() == ["'@x", "SMB", "'+1"]
    assert out["budget"].tolist() == [-3, 2, -1]
    assert out["rate"].iloc[2] == -0.25 and math.isnan(out["rate"].iloc[1])
    assert out["when"].dtype == frame["when"].dtype
    assert frame["name"].iloc[0] == HYPERLINK  # the input is not modified


def test_frame_for_export_neutralises_column_names() -> None:
    assert list(frame_for_export(pd.DataFrame({"=x": [1], "ok": [2]})).columns) == ["'=x", "ok"]


def test_statuses_in_words() -> None:
    assert [status_words(s) for s in ("met", "missed", "on_track", "at_risk", "behind", "no_data", None)] == [
        "Met",
        "Missed",
        "On track",
        "At risk",
        "Behind",
        "No data",
        "No target",
    ]


def test_the_cli_still_offers_the_moved_helpers() -> None:
    assert cli.safe_cell is exports.safe_cell
    assert cli.write_csv is exports.write_csv
