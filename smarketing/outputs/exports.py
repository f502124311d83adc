"""Safe tabular output shared by the CLI, the reports and the dashboard's downloads.

Spreadsheet programs run a cell that begins with `=`, `+`, `-` or `@` (and, in some of
them, a tab or a carriage return) as a formula, so CRM text such as an owner named
`=HYPERLINK("http://evil","click")` would become a live link or worse in an export. Every
text cell that leaves smarketing in CSV or Excel goes through `safe_cell`, which puts an
apostrophe in front of such text (the OWASP "CSV injection" advice). Only text is touched:
a negative number stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

STATUS_WORDS = {
    "met": "Met",
    "missed": "Missed",
    "on_track": "On track",
    "at_risk": "At risk",
    "behind": "Behind",
    "no_data": "No data",
    "not_started": "Not started",
    "no_activity_data": "No activity data",
}


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, with a leading apostrophe; anything else as is."""
    if isinstance(value, str) and value[:1] in FORMULA_PREFIXES:
        return "'" + value
    return value


def safe_cell(value: Any) -> Any:
    """A value for a CSV/Excel cell: formula-like text neutralised, None as an empty cell."""
    return "" if value is None else neutralise(value)


def write_csv(stream: io.TextIOBase, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A header and rows as CSV, every cell through safe_cell."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])


def frame_for_export(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of a frame with every text cell (and text column name) neutralised; other cells unchanged."""
    out = df.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            out[column] = values.astype(object).map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def status_words(status: str | None) -> str:
    """A commitment status in words for people ("at_risk" → "At risk"; none → "No target")."""
    if status is None:
        return "No target"
    return STATUS_WORDS.get(status, str(status).replace("_", " ").capitalize())


__all__ = [
    "FORMULA_PREFIXES",
    "STATUS_WORDS",
    "frame_for_export",
    "neutralise",
    "safe_cell",
    "status_words",
    "write_csv",
]
