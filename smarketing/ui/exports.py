"""Download files (CSV and Excel) of scorecards and frames, safe against formula injection.

Every text cell goes through `exports.safe_cell`, in CSV and in Excel alike, so a CRM value
such as `=HYPERLINK(...)` arrives as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from smarketing.core.scorecard import LEDGER_COLUMNS, ledger_records, scorecard_rows
from smarketing.outputs.exports import safe_cell, write_csv

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
LEDGER_EXPORT_COLUMNS = [
    *LEDGER_COLUMNS[:3],
    "source",
    *LEDGER_COLUMNS[3:],
    "assigned_at",
    "first_touch_hours_allowed",
    "converted_at",
    "routing_delay_hours",
    "rep_delay_hours",
    "overdue_hours",
    "calendar",
    "calendar_timezone",
]
OWNER_COLUMNS = [
    "owner_id",
    "name",
    "team",
    "leads",
    "first_touch_met",
    "first_touch_breached",
    "first_touch_pending",
    "first_touch_compliance",
    "median_hours",
    "p90_hours",
    "attempts_met",
    "attempts_breached",
    "attempts_pending",
    "attempts_compliance",
]


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A UTF-8 CSV (with BOM, so Excel reads accents) with neutralised cells."""
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A display frame as CSV."""
    rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return csv_bytes(list(map(str, frame.columns)), rows)


def xlsx_bytes(sheets: Mapping[str, tuple[Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    """An Excel workbook, one sheet per (header, rows), every text cell neutralised."""
    book = Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title=title[:31])
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E8EEF9")
        for row in rows:
            sheet.append([_excel_value(v) for v in row])
        _finish_sheet(sheet, len(header))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def frame_xlsx(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """Display frames as sheets of one workbook."""
    return xlsx_bytes(
        {
            name: (list(map(str, f.columns)), [list(r) for r in f.itertuples(index=False, name=None)])
            for name, f in frames.items()
        }
    )


def scorecard_csv(card: dict) -> bytes:
    """The headline rows of a scorecard (the CLI's `scorecard --format csv` layout)."""
    return csv_bytes(["side", "measure", "value"], scorecard_rows(card))


def scorecard_xlsx(card: dict) -> bytes:
    """The scorecard's headline rows, its segments, sources and reps, one sheet each."""
    marketing = card["marketing"]
    seg_cols = ["segment", "quota", "mqls", "attainment", "projected", "required_daily_rate", "status"]
    sheets: dict[str, tuple[Sequence[str], Sequence[Sequence[Any]]]] = {
        "Scorecard": (["side", "measure", "value"], scorecard_rows(card)),
        "Segments": (seg_cols, [[s.get(c) for c in seg_cols] for s in marketing.get("by_segment", [])]),
        "Sources": (["source", "mqls"], [[s["source"], s["mqls"]] for s in marketing.get("by_source", [])]),
        "Reps": (OWNER_COLUMNS, [[o.get(c) for c in OWNER_COLUMNS] for o in card["sales"].get("by_owner", [])]),
    }
    return xlsx_bytes(sheets)


def ledger_csv(ledger: pd.DataFrame, tz: str) -> bytes:
    """The per-lead ledger, instants ISO 8601 with the local offset."""
    header, rows = _ledger_rows(ledger, tz)
    return csv_bytes(header, rows)


def ledger_xlsx(ledger: pd.DataFrame, tz: str) -> bytes:
    """The per-lead ledger as a workbook."""
    return xlsx_bytes({"Ledger": _ledger_rows(ledger, tz)})


def _ledger_rows(ledger: pd.DataFrame, tz: str) -> tuple[list[str], list[list[Any]]]:
    """The ledger's export columns and rows (instants ISO 8601 in local time)."""
    columns = [c for c in LEDGER_EXPORT_COLUMNS if c in ledger.columns]
    records = ledger_records(ledger, tz, columns)
    return columns, [[r[c] for c in columns] for r in records]


def _plain(value: Any) -> Any:
    """A frame value as a plain CSV value (missing → None)."""
    if value is None or (not isinstance(value, (str, bytes, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _excel_value(value: Any) -> Any:
    """A value openpyxl stores as data, never as a formula."""
    value = _plain(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list, tuple)):
        value = str(value)
    return safe_cell(value) if isinstance(value, str) or value is None else value


def _finish_sheet(sheet: Any, width: int) -> None:
    """Freeze the header, force text cells to be text, size the columns."""
    sheet.freeze_panes = "A2"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for index in range(1, width + 1):
        letter = get_column_letter(index)
        longest = max((len(str(c.value)) for c in sheet[letter] if c.value is not None), default=8)
        sheet.column_dimensions[letter].width = min(max(10, longest + 2), 48)
