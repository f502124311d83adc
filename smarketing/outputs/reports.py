"""Report exports of one month's scorecard: CSV, Excel and PDF (DESIGN sections 1 and 7).

`report_bundle` gathers everything a report shows in one object; the `write_*` functions
only lay it out (they are the only functions here that touch files). Nothing here knows
about Streamlit, so the dashboard's download button and `python -m smarketing report`
produce the same files.

Decisions worth knowing:
- A closed month is reported from its snapshot (the frozen scorecard JSON, its `as_of` and
  the terms version it used), never from live data. The per-lead ledger and the daily MQL
  counts are not part of the scorecard JSON: when a snapshot carries them (a `ledger` or
  `leads` list) they are used, else they are recomputed as of the snapshot's instant under
  its terms version, and a note in the report says so when they no longer add up to the
  frozen numbers (the data changed after the close).
- The trend shows up to 12 months ending with the month (never before the first month
  with data); closed months in it come from their snapshots, the others are live as of
  the requested instant.
- CSV is one tidy file `section,item,measure,value` with status codes as in the JSON
  (`at_risk`); Excel and PDF are for people and show statuses in words ("At risk").
  Every text cell of CSV and Excel is neutralised against formula injection
  (`exports.safe_cell`); Excel instants are real date-times in the agreement's timezone
  (named in the Scorecard sheet), without a timezone of their own.
- The PDF uses DejaVu Sans (Debian's fonts-dejavu-core) for Unicode CRM names; without
  it, core Helvetica with the text reduced to ASCII.
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from smarketing.core.consequences import COMMITMENT_LABELS
from smarketing.core.errors import UserError
from smarketing.core.evidence import NO_ACTIVITIES, UNKNOWN, evidence_notes, pending_note, plural, projection_note
from smarketing.core.sales import status_counts
from smarketing.core.scorecard import LEDGER_COLUMNS, MARKETING_HEADLINE, jsonable
from smarketing.outputs.exports import neutralise, status_words, write_csv

REPORT_FORMATS = (".pdf", ".xlsx", ".csv")
TREND_MONTHS = 12
SNAPSHOT_META = ("closed_at", "closed_by", "snapshot_id", "terms_version_id")
LEDGER_EXPORT_COLUMNS = [
    "lead_id",
    "owner_id",
    "owner_name",
    "segment",
    "source",
    "mql_at",
    "clock_start",
    "first_touch_deadline",
    "first_touch_at",
    "response_hours",
    "first_touch_status",
    "attempts",
    "attempts_deadline",
    "attempts_status",
]
OWNER_COLUMNS = [
    "name",
    "team",
    "owner_id",
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
    "untouched",
]
STATUS_COLORS = {
    "met": "#2e7d32",
    "on_track": "#1565c0",
    "at_risk": "#ef8f00",
    "behind": "#c62828",
    "missed": "#c62828",
    "no_data": "#8a8a8a",
    "not_started": "#8a8a8a",
    "no_activity_data": "#8a8a8a",
    None: "#8a8a8a",
}
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass
class ReportBundle:
    """Everything one month's report shows. Instants in `ledger` are tz-aware UTC."""

    month: str
    card: dict[str, Any]
    closed: bool
    as_of: str
    timezone: str
    owners: pd.DataFrame
    ledger: pd.DataFrame
    terms_toml: str
    trend: pd.DataFrame
    daily: pd.DataFrame
    terms_version_id: int | None = None
    effective_from: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    notes: str = ""
    caveats: list[str] = field(default_factory=list)
    requested_as_of: str = ""

    @property
    def title_month(self) -> str:
        """The month in words, e.g. "March 2026"."""
        return pd.Period(self.month, freq="M").strftime("%B %Y")

    @property
    def state_line(self) -> str:
        """One line saying whether the numbers are frozen or live, and as of when."""
        when = local_text(self.as_of, self.timezone)
        if self.closed:
            by = f" by {self.closed_by}" if self.closed_by else ""
            on = f" on {local_text(self.closed_at, self.timezone, '%Y-%m-%d')}" if self.closed_at else ""
            return f"Closed month: frozen snapshot as of {when} (closed{by}{on})"
        return f"Live, not closed: as of {when}"


# -- pure parts of the gathering (the engine side is api.report_bundle) --------------------------


def snapshot_ledger(snapshot: dict) -> pd.DataFrame | None:
    """A ledger frozen inside the snapshot, when the snapshot carries one."""
    for key in ("ledger", "leads"):
        records = snapshot.get(key)
        if isinstance(records, list) and (not records or isinstance(records[0], dict)):
            frame = pd.DataFrame.from_records(records, columns=list(records[0]) if records else LEDGER_COLUMNS)
            for column in frame.columns:
                if column.endswith("_at") or column.endswith("_deadline") or column == "clock_start":
                    frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            return frame
    return None


def ledger_matches(ledger: pd.DataFrame, card: dict) -> bool:
    """Whether a recomputed ledger has the frozen scorecard's first-touch and attempt counts."""
    sales = card.get("sales") or {}
    for column, key in (("first_touch_status", "first_touch"), ("attempts_status", "attempts")):
        frozen = sales.get(key) or {}
        if status_counts(ledger[column]) != (frozen.get("met"), frozen.get("breached"), frozen.get("pending")):
            return False
    return True


def with_owner_names(ledger: pd.DataFrame, card: dict, owners: pd.DataFrame) -> pd.DataFrame:
    """The ledger with an owner_name column (the scorecard's names first, then the CRM's)."""
    names = {str(o["owner_id"]): o.get("name") for o in card["sales"].get("by_owner", []) if o.get("owner_id")}
    crm = dict(zip(owners["owner_id"].astype(object), owners["name"].astype(object))) if len(owners) else {}
    out = ledger.copy()
    out["owner_name"] = (
        [
            None if pd.isna(o) else (names.get(str(o)) or _text_or_none(crm.get(o)))
            for o in out["owner_id"].astype(object)
        ]
        if len(out)
        else pd.Series(dtype=object)
    )
    return out


def _text_or_none(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def owners_frame(card: dict) -> pd.DataFrame:
    """The scorecard's by-owner rows as a frame with the report's columns first."""
    rows = card["sales"].get("by_owner", [])
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=OWNER_COLUMNS)
    if "team" in frame.columns:
        frame["team"] = frame["team"].astype(object).where(frame["team"].notna(), "no team")
    ordered = [c for c in OWNER_COLUMNS if c in frame.columns]
    return frame[ordered + [c for c in frame.columns if c not in ordered]]


def trend_row(month: str, card: dict, closed: bool) -> dict[str, Any]:
    mkt = card.get("marketing") or {}
    sales = card.get("sales") or {}
    ft, att = sales.get("first_touch") or {}, sales.get("attempts") or {}
    return {
        "month": month,
        "closed": closed,
        "month_over": card.get("month_over"),
        "mqls": mkt.get("mqls"),
        "quota": mkt.get("quota"),
        "attainment": mkt.get("attainment"),
        "marketing_status": mkt.get("status"),
        "first_touch_compliance": ft.get("compliance"),
        "first_touch_target": ft.get("target"),
        "first_touch_status": ft.get("status"),
        "attempts_compliance": att.get("compliance"),
        "attempts_target": att.get("target"),
        "attempts_status": att.get("status"),
    }


SCORE_COLUMNS = {"marketing": "marketing_score", "sales": "sales_score", "overall": "overall_score"}
CONSEQUENCE_COLUMNS = ["commitment", "side", "status", "score", "weight", "strikes", "critical", "credits"]


def with_scores(trend: pd.DataFrame, csq: dict | None) -> pd.DataFrame:
    """The trend with each month's weighted consequences scores (from the reported month's consequences)."""
    scores = {row["month"]: row for row in (csq or {}).get("trend", [])}
    out = trend.copy()
    for side, column in SCORE_COLUMNS.items():
        out[column] = [scores.get(m, {}).get(side) for m in out["month"]] if len(out) else []
    return out


def consequences_frame(card: dict) -> pd.DataFrame:
    """One row per commitment in force: its score, weight, strikes, critical flag, credits and their history."""
    rows = (card.get("consequences") or {}).get("by_commitment", [])
    frame = pd.DataFrame(rows, columns=[*CONSEQUENCE_COLUMNS, "credit_history_text"])
    return frame.rename(columns={"credit_history_text": "credit_history"})


# -- shared formatting -----------------------------------------------------------------------------


def local_text(instant: Any, tz: str, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """An instant (ISO text or Timestamp) in the agreement's local time, for people."""
    if instant is None or (not isinstance(instant, str) and pd.isna(instant)):
        return "—"
    stamp = pd.Timestamp(instant)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(tz).strftime(fmt)


def pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None or _nan(value) else f"{100 * float(value):.{digits}f}%"


def num(value: Any, digits: int = 0) -> str:
    if value is None or _nan(value):
        return "—"
    return f"{float(value):,.{digits}f}"


def hours(value: Any) -> str:
    return "—" if value is None or _nan(value) else f"{float(value):.1f} h"


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def target_hours_text(target: Any) -> str:
    """First-touch hours in words: "within 4 business hours" or "within 2 h Enterprise, 4 h SMB
    (business hours)"."""
    if isinstance(target, dict):
        return "within " + ", ".join(f"{_short(h)} h {seg}" for seg, h in target.items()) + " (business hours)"
    if target is None:
        return "within the agreed business hours"
    return f"within {_short(target)} business hours"


def _short(value: Any) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def budget_text(budget_left: Any) -> str:
    if budget_left is None:
        return ""
    budget_left = int(budget_left)
    if budget_left >= 0:
        return f"{budget_left} more breach{'es' if budget_left != 1 else ''} allowed"
    return f"{-budget_left} breach{'es' if budget_left != -1 else ''} over the allowance"


# -- CSV -------------------------------------------------------------------------------------------


def csv_rows(bundle: ReportBundle) -> list[tuple[str, str, str, Any]]:
    """The report as tidy (section, item, measure, value) rows."""
    card = bundle.card
    mkt, sales, funnel = card["marketing"], card["sales"], card.get("funnel") or {}
    rows: list[tuple[str, str, str, Any]] = [
        ("report", "", "month", bundle.month),
        ("report", "", "as_of", bundle.as_of),
        ("report", "", "state", "closed" if bundle.closed else "live"),
        ("report", "", "closed_at", bundle.closed_at),
        ("report", "", "closed_by", bundle.closed_by),
        ("report", "", "timezone", bundle.timezone),
        ("report", "", "terms_version", bundle.terms_version_id),
        ("report", "", "requested_as_of", bundle.requested_as_of),
    ]
    rows += [("marketing", "", k, mkt.get(k)) for k in MARKETING_HEADLINE]
    for seg in mkt.get("by_segment", []):
        rows += [
            ("marketing segment", seg["segment"], k, seg.get(k))
            for k in ("quota", "mqls", "attainment", "prior", "projected", "status")
        ]
    for src in mkt.get("by_source", []):
        rows.append(("marketing source", src["source"], "mqls", src.get("mqls")))
    for key, name, extra in (
        ("first_touch", "sales first touch", ("median_hours", "p90_hours")),
        ("attempts", "sales attempts", ("min_attempts", "window_days")),
    ):
        part = sales[key]
        rows += [
            (name, "", k, part.get(k))
            for k in (
                "met",
                "breached",
                "pending",
                "compliance",
                "target",
                "allowed_breaches",
                "budget_left",
                "needed_of_pending",
                *extra,
                "status",
            )
        ]
    for owner in sales.get("by_owner", []):
        item = owner.get("name") or owner.get("owner_id") or "Unassigned"
        rows += [("by owner", item, k, owner.get(k)) for k in OWNER_COLUMNS if k != "name"]
    rows += [("funnel", "", k, v) for k, v in funnel.items() if not isinstance(v, (dict, list))]
    csq = card.get("consequences") or {}
    rows += [("consequences", "", f"score {k}", v) for k, v in (csq.get("score") or {}).items()]
    for record in consequences_frame(card).to_dict("records"):
        rows += [("consequences", record["commitment"], k, jsonable(v)) for k, v in record.items() if k != "commitment"]
    for record in bundle.trend.to_dict("records"):
        rows += [("trend", record["month"], k, jsonable(v)) for k, v in record.items() if k != "month"]
    rows += [("evidence", "", "note", note) for note in evidence_notes(card)]
    return rows


def write_csv_report(bundle: ReportBundle, path: str | Path) -> Path:
    """The report as one tidy CSV (section, item, measure, value), formula-safe."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        write_csv(stream, ["section", "item", "measure", "value"], csv_rows(bundle))
    return path


# -- Excel -----------------------------------------------------------------------------------------

_PERCENT, _DECIMAL, _DATETIME = "0.0%", "0.0", "yyyy-mm-dd hh:mm"
_COUNT, _MONEY, _HOURS = "#,##0", '"$"#,##0', '0.0 "h"'


def write_excel_report(bundle: ReportBundle, path: str | Path) -> Path:
    """The report as an .xlsx workbook: Scorecard, By owner, Lead ledger, Terms and Trend sheets."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Scorecard"
    _scorecard_sheet(ws, bundle)
    _frame_sheet(
        wb.create_sheet("By owner"),
        bundle.owners,
        {
            "first_touch_compliance": _PERCENT,
            "attempts_compliance": _PERCENT,
            "median_hours": _HOURS,
            "p90_hours": _HOURS,
        },
        bundle.timezone,
    )
    ledger = bundle.ledger[[c for c in LEDGER_EXPORT_COLUMNS if c in bundle.ledger.columns]]
    _frame_sheet(wb.create_sheet("Lead ledger"), ledger, {"response_hours": '0.00 "h"'}, bundle.timezone)
    _terms_sheet(wb.create_sheet("Terms"), bundle)
    consequences = consequences_frame(bundle.card)
    consequences["status"] = consequences["status"].map(status_words)
    _frame_sheet(wb.create_sheet("Consequences"), consequences, {"score": _PERCENT}, bundle.timezone)
    trend = bundle.trend.copy()
    for column in ("marketing_status", "first_touch_status", "attempts_status"):
        if column in trend:
            trend[column] = trend[column].map(status_words)
    _frame_sheet(
        wb.create_sheet("Trend"),
        trend,
        {
            "attainment": _PERCENT,
            "first_touch_compliance": _PERCENT,
            "first_touch_target": _PERCENT,
            "attempts_compliance": _PERCENT,
            "attempts_target": _PERCENT,
            **{column: _PERCENT for column in SCORE_COLUMNS.values()},
        },
        bundle.timezone,
    )
    wb.save(path)
    return Path(path)


def _put(ws: Any, row: int, col: int, value: Any, number_format: str | None = None, bold: bool = False) -> Any:
    """Write one cell: text neutralised and stored as text, missing values empty."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    value = _excel_value(value)
    if isinstance(value, str):
        value = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    if number_format and isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (dict, list, tuple)):
        return str(value)
    value = jsonable(value)
    return None if isinstance(value, float) and math.isnan(value) else value


def _scorecard_sheet(ws: Any, bundle: ReportBundle) -> None:
    card = bundle.card
    mkt, ft, att = card["marketing"], card["sales"]["first_touch"], card["sales"]["attempts"]
    _put(ws, 1, 1, f"SLA scorecard — {bundle.title_month}", bold=True)
    info = [
        ("Month", bundle.month),
        ("State", bundle.state_line),
        ("As of", local_text(bundle.as_of, bundle.timezone)),
        ("Timezone of all times", bundle.timezone),
        ("Terms version", bundle.terms_version_id),
        ("Months not closed are as of", local_text(bundle.requested_as_of, bundle.timezone)),
    ]
    row = 3
    for label, value in info:
        _put(ws, row, 1, label, bold=True)
        _put(ws, row, 2, value)
        row += 1
    row += 1
    for col, head in enumerate(("Side", "Measure", "Value", "Target / allowed", "Status"), start=1):
        _put(ws, row, col, head, bold=True)
    header_row = row
    lines: list[tuple[str, str, Any, Any, str | None, str | None]] = [
        ("Marketing", "MQLs", mkt.get("mqls"), mkt.get("quota"), status_words(mkt.get("status")), _COUNT),
        (
            "Marketing",
            "Attainment (MQLs / quota)",
            mkt.get("attainment"),
            1.0 if mkt.get("quota") else None,
            None,
            _PERCENT,
        ),
        ("Marketing", "Share of the month elapsed", mkt.get("elapsed_fraction"), None, None, _PERCENT),
        ("Marketing", "Expected by now (straight line)", mkt.get("expected_to_date"), None, None, _DECIMAL),
        ("Marketing", "Pace (MQLs / expected)", mkt.get("pace"), None, None, _PERCENT),
        ("Marketing", "Recent months' average (prior)", mkt.get("prior"), None, None, _DECIMAL),
        ("Marketing", "Projected at month end", mkt.get("projected"), mkt.get("quota"), None, _DECIMAL),
        ("Marketing", "Required MQLs per day", mkt.get("required_daily_rate"), None, None, _DECIMAL),
    ]
    for seg in mkt.get("by_segment", []):
        lines.append(
            (
                f"Marketing segment {seg['segment']}",
                "MQLs",
                seg.get("mqls"),
                seg.get("quota"),
                status_words(seg.get("status")) if seg.get("quota") is not None else None,
                _COUNT,
            )
        )
    commitments = [("Sales first touch", ft), ("Sales attempts", att)]
    if card["sales"].get("acceptance"):
        commitments.append(("Sales acceptance", card["sales"]["acceptance"]))
    for side, part in commitments:
        lines += [
            (
                side,
                "Compliance (met / decided)",
                part.get("compliance"),
                part.get("target"),
                status_words(part.get("status")),
                _PERCENT,
            ),
            (side, "Met", part.get("met"), None, None, _COUNT),
            (side, "Breached", part.get("breached"), part.get("allowed_breaches"), None, _COUNT),
            (side, "Pending", part.get("pending"), None, None, _COUNT),
            (side, "Breach budget left", part.get("budget_left"), None, None, _COUNT),
            (side, "Pending leads that must still be met", part.get("needed_of_pending"), None, None, _COUNT),
            (side, "Excluded (rejected in time or disputed)", part.get("excluded"), None, None, _COUNT),
        ]
    if mkt.get("quality_status"):
        lines += [
            ("Marketing lead quality", "MQLs (all)", mkt.get("mqls_total"), None, None, None),
            ("Marketing lead quality", "Rejected by sales", mkt.get("rejected"), None, None, None),
            (
                "Marketing lead quality",
                "Rejection rate",
                mkt.get("rejection_rate"),
                mkt.get("max_rejection_rate"),
                status_words(mkt.get("quality_status")),
                _PERCENT,
            ),
        ]
    lines += [
        ("Sales first touch", "Median response (business hours)", ft.get("median_hours"), None, None, _HOURS),
        ("Sales first touch", "p90 response (business hours)", ft.get("p90_hours"), None, None, _HOURS),
        ("Sales first touch", "Allowed response", target_hours_text(ft.get("target_hours")), None, None, None),
        ("Sales attempts", "Attempts required", att.get("min_attempts"), None, None, None),
        ("Sales attempts", "Attempt window (business days)", att.get("window_days"), None, None, None),
    ]
    for key, value in (card.get("funnel") or {}).items():
        if not isinstance(value, (dict, list)):
            fmt = _MONEY if "revenue" in key or "deal_size" in key else _COUNT
            shown = UNKNOWN if value is None and fmt == _MONEY else value
            lines.append(("Funnel", key.replace("_", " "), shown, None, None, fmt))
    lines += [("Evidence", "Note", note, None, None, None) for note in evidence_notes(card)]
    for side, value in ((card.get("consequences") or {}).get("score") or {}).items():
        lines.append(("Consequences", f"Weighted score, {side}", value, None, None, _PERCENT))
    for side, measure, value, target, status, fmt in lines:
        row += 1
        _put(ws, row, 1, side)
        _put(ws, row, 2, measure)
        _put(ws, row, 3, value, fmt)
        _put(ws, row, 4, target, fmt)
        _put(ws, row, 5, status)
    if bundle.notes:
        row += 2
        _put(ws, row, 1, "Meeting notes", bold=True)
        _put(ws, row, 2, bundle.notes)
    for caveat in bundle.caveats:
        row += 1
        _put(ws, row, 1, "Note", bold=True)
        _put(ws, row, 2, caveat)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    for letter, width in zip("ABCDE", (30, 38, 16, 16, 18)):
        ws.column_dimensions[letter].width = width


def _frame_sheet(ws: Any, frame: pd.DataFrame, formats: dict[str, str], tz: str) -> None:
    """A frame as a sheet with a bold, frozen, filterable header; instants local and tz-free."""
    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    for col, name in enumerate(columns, start=1):
        _put(ws, 1, col, str(name), bold=True)
    for col, name in enumerate(columns, start=1):
        values = frame[name]
        fmt = formats.get(name)
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert(tz).dt.tz_localize(None)
            fmt = _DATETIME
        for row, value in enumerate(values.astype(object), start=2):
            _put(ws, row, col, value, fmt)
        if fmt == _DATETIME:
            for row in range(2, len(values) + 2):
                ws.cell(row=row, column=col).number_format = _DATETIME
        ws.column_dimensions[get_column_letter(col)].width = max(10, min(40, len(str(name)) + 2))
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(frame) + 1)}"


def _terms_sheet(ws: Any, bundle: ReportBundle) -> None:
    """The agreement as setting/value rows, then its TOML text line by line."""
    _put(ws, 1, 1, "Setting", bold=True)
    _put(ws, 1, 2, "Value", bold=True)
    row = 1
    try:
        parsed = tomllib.loads(bundle.terms_toml)
    except tomllib.TOMLDecodeError:
        parsed = {}
    for key, value in _flatten(parsed):
        row += 1
        _put(ws, row, 1, key)
        _put(ws, row, 2, ", ".join(map(str, value)) if isinstance(value, list) else value)
    row += 2
    _put(ws, row, 1, "terms.toml (as stored)", bold=True)
    for line in bundle.terms_toml.splitlines():
        row += 1
        _put(ws, row, 1, line)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 30


def _flatten(data: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        else:
            yield name, value


# -- charts ----------------------------------------------------------------------------------------

_DPI = 170


def _figure(width_mm: float, height_mm: float) -> Any:
    """A matplotlib Figure of the given size; no pyplot, so no global backend or state."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=_DPI)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, facecolor="white")
    return buf.getvalue()


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=6.5, length=2)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def pace_chart_png(bundle: ReportBundle, width_mm: float = 133, height_mm: float = 80) -> bytes:
    """Cumulative MQLs of the month against the straight line to the quota, as a PNG."""
    mkt = bundle.card["marketing"]
    quota, status = mkt.get("quota"), mkt.get("status")
    days = len(bundle.daily)
    now_x = float(mkt.get("elapsed_fraction") or 0.0) * days
    xs, ys = [0.0], [0]
    for i, cumulative in enumerate(bundle.daily["cumulative"].tolist(), start=1):
        if i <= now_x:
            xs.append(float(i))
            ys.append(int(cumulative))
        elif i - 1 < now_x:
            xs.append(now_x)
            ys.append(int(cumulative))
    color = STATUS_COLORS.get(status, STATUS_COLORS[None])
    fig = _figure(width_mm, height_mm)
    fig.subplots_adjust(left=0.11, right=0.95, top=0.88, bottom=0.11)
    ax = fig.subplots()
    _style(ax)
    if quota:
        ax.plot([0, days], [0, quota], color="#7a7a7a", linestyle="--", linewidth=1, label="Straight line to quota")
        ax.axhline(quota, color="#7a7a7a", linestyle=":", linewidth=0.8)
        ax.annotate(
            f"quota {quota:,}",
            (0, quota),
            textcoords="offset points",
            xytext=(3, 2.5),
            ha="left",
            fontsize=6.5,
            color="#555555",
        )
    ax.plot(xs, ys, color=color, linewidth=1.8, label=f"MQLs delivered ({status_words(status).lower()})")
    ax.fill_between(xs, ys, color=color, alpha=0.12, linewidth=0)
    projected = mkt.get("projected")
    if projected is not None and 0 < now_x < days:
        ax.plot(
            [now_x, days],
            [ys[-1], projected],
            color=color,
            linestyle=":",
            linewidth=1.3,
            label=f"Projected month end: {projected:,.0f}",
        )
        ax.axvline(now_x, color="#bbbbbb", linewidth=0.6)
        ax.annotate("as of", (now_x, 0), textcoords="offset points", xytext=(2, 2), fontsize=6, color="#888888")
    ax.annotate(
        f"{ys[-1]:,}",
        (xs[-1], ys[-1]),
        textcoords="offset points",
        xytext=(-3, 4),
        ha="right",
        fontsize=7.5,
        color=color,
        fontweight="bold",
    )
    ticks = list(range(0, days, 7))
    ax.set_xticks(ticks)
    first = pd.Timestamp(f"{bundle.month}-01")
    ax.set_xticklabels([(first + pd.Timedelta(days=d)).strftime("%-d %b") for d in ticks])
    ax.set_xlim(0, days)
    top = max([quota or 0, projected or 0, ys[-1], 1])
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("MQLs (cumulative)", fontsize=7)
    title = f"Pace of MQLs, {bundle.title_month}"
    if mkt.get("mqls") is not None and ys[-1] != mkt["mqls"]:
        title += f" (today's data: {ys[-1]:,}; frozen: {mkt['mqls']:,})"
    ax.set_title(title, fontsize=9, loc="left", fontweight="bold")
    ax.legend(fontsize=6.5, loc="lower right", frameon=True, facecolor="white", edgecolor="none", framealpha=0.9)
    return _png(fig)


def trend_chart_png(bundle: ReportBundle, width_mm: float = 133, height_mm: float = 80) -> bytes:
    """The months' MQLs against quota (top) and both sales compliances against target (bottom)."""
    trend = bundle.trend
    labels = [pd.Period(m, freq="M").strftime("%b\n%y") for m in trend["month"]]
    x = list(range(len(trend)))
    fig = _figure(width_mm, height_mm)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.88, bottom=0.12, hspace=0.42)
    top, bottom = fig.subplots(2, 1, sharex=True)
    _style(top)
    _style(bottom)
    colors = [STATUS_COLORS.get(s, STATUS_COLORS[None]) for s in trend["marketing_status"]]
    mqls = [0 if _missing(v) else v for v in trend["mqls"]]
    bars = top.bar(x, mqls, color=colors, width=0.62)
    running = [not over for over in trend.get("month_over", pd.Series([True] * len(trend)))]
    for bar, is_running in zip(bars, running):
        if is_running:
            bar.set_alpha(0.45)
    quotas = [None if _missing(q) else q for q in trend["quota"]]
    top.scatter(
        [i for i, q in zip(x, quotas) if q is not None],
        [q for q in quotas if q is not None],
        marker="_",
        s=110,
        color="#222222",
        linewidths=1.5,
        label="quota",
        zorder=3,
    )
    top.set_ylim(0, max([*mqls, *[q for q in quotas if q is not None], 1]) * 1.15)
    top.set_ylabel("MQLs", fontsize=7)
    top.set_title("Trend: MQLs against quota (bar colour: status)", fontsize=9, loc="left", fontweight="bold")
    top.legend(fontsize=6.5, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 0.98), borderaxespad=0)
    lows = [100.0]
    for column, target, label, line_color in (
        ("first_touch_compliance", "first_touch_target", "First touch in time", "#1565c0"),
        ("attempts_compliance", "attempts_target", "Attempts made", "#6a1b9a"),
    ):
        values = [math.nan if _missing(v) else 100 * v for v in trend[column]]
        status_column = column.replace("compliance", "status")
        bottom.plot(x, values, color=line_color, linewidth=1.3, label=label, marker="o", markersize=0)
        bottom.scatter(
            x,
            values,
            zorder=3,
            s=18,
            linewidths=0.8,
            edgecolors=line_color,
            color=[STATUS_COLORS.get(s, STATUS_COLORS[None]) for s in trend[status_column]],
        )
        targets = [math.nan if _missing(t) else 100 * t for t in trend[target]]
        bottom.step(x, targets, where="mid", color=line_color, linestyle="--", linewidth=0.8, alpha=0.7)
        lows += [v for v in values + targets if not math.isnan(v)]
    floor = max(0.0, math.floor(min(lows) / 10) * 10 - 10)
    bottom.set_ylim(max(0.0, floor - 0.35 * (102 - floor)), 102)
    bottom.set_ylabel("% of leads", fontsize=7)
    bottom.set_title("Sales compliance (dashed: target; dot colour: status)", fontsize=8, loc="left")
    bottom.legend(fontsize=6.5, frameon=False, loc="lower left", ncols=2)
    bottom.set_xticks(x)
    bottom.set_xticklabels(labels)
    return _png(fig)


# -- PDF -------------------------------------------------------------------------------------------

_ASCII = {
    "—": "-",
    "–": "-",
    "−": "-",
    "·": "|",
    "→": "->",
    "≥": ">=",
    "≤": "<=",
    "…": "...",
    "×": "x",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
}
_PAGE_BOTTOM = 198.0  # mm: above the footer of an A4 landscape page
_ROW_FILL = (248, 249, 251)
_HEAD_FILL = (236, 239, 242)


class _Pdf:
    """A thin layer over fpdf2: fonts (Unicode when available), colours and small blocks."""

    def __init__(self, footer: str, font_dir: Path | None = None):
        from fpdf import FPDF

        outer = self

        class Doc(FPDF):
            def footer(self) -> None:
                self.set_y(-9)
                outer.font(7)
                self.set_text_color(130, 130, 130)
                self.cell(0, 4, outer.t(f"{footer} · page {self.page_no()}/{{nb}}"), align="R")
                self.set_text_color(0, 0, 0)

        self.doc = Doc(orientation="L", unit="mm", format="A4")
        self.doc.set_margins(12, 11, 12)
        self.doc.set_auto_page_break(True, margin=12)
        fonts = font_dir or DEJAVU_DIR
        regular, bold = fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"
        self.unicode = regular.is_file() and bold.is_file()
        if self.unicode:
            self.doc.add_font("DejaVu", "", str(regular))
            self.doc.add_font("DejaVu", "B", str(bold))
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.doc.set_title(self.t(footer))
        self.doc.set_creator("smarketing")

    def t(self, text: Any) -> str:
        """Text the chosen font can draw (ASCII when falling back to a core font), one line."""
        text = "" if text is None else str(text)
        text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
        if self.unicode:
            return text
        for char, repl in _ASCII.items():
            text = text.replace(char, repl)
        return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")

    def font(self, size: float, bold: bool = False) -> None:
        self.doc.set_font(self.family, "B" if bold else "", size)

    @staticmethod
    def rgb(hex_color: str) -> tuple[int, int, int]:
        h = hex_color.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    def badge(self, x: float, y: float, status: str | None, h: float = 5.5) -> float:
        """A filled, rounded status label in words; returns its width."""
        d = self.doc
        text = self.t(status_words(status).upper())
        self.font(7.5, bold=True)
        w = d.get_string_width(text) + 5
        d.set_fill_color(*self.rgb(STATUS_COLORS.get(status, STATUS_COLORS[None])))
        d.rect(x, y, w, h, style="F", round_corners=True, corner_radius=1.2)
        d.set_text_color(255, 255, 255)
        d.set_xy(x, y)
        d.cell(w, h, text, align="C")
        d.set_text_color(0, 0, 0)
        return w

    def text_at(
        self,
        x: float,
        y: float,
        w: float,
        text: str,
        size: float = 8.5,
        bold: bool = False,
        grey: bool = False,
        h: float | None = None,
        color: tuple[int, int, int] | None = None,
    ) -> float:
        """A paragraph in a box of width w at (x, y); returns the y below it."""
        d = self.doc
        self.font(size, bold)
        d.set_text_color(*(color or ((95, 95, 95) if grey else (0, 0, 0))))
        d.set_xy(x, y)
        d.multi_cell(w, h or size * 0.48, self.t(text), align="L")
        d.set_text_color(0, 0, 0)
        return d.get_y()


def write_pdf_report(bundle: ReportBundle, path: str | Path, *, font_dir: Path | None = None) -> Path:
    """The report as a two-page A4 landscape PDF: both columns with the pace and trend charts,
    then the reps, the trend in numbers and the funnel."""
    pdf = _Pdf(f"smarketing · SLA scorecard {bundle.title_month}", font_dir)
    d = pdf.doc
    d.add_page()
    left, width = d.l_margin, d.w - d.l_margin - d.r_margin
    gap = 6
    col_w = (width - gap) / 2

    pdf.text_at(left, 11, width, f"Sales & marketing SLA scorecard — {bundle.title_month}", size=17, bold=True, h=8)
    y = pdf.text_at(
        left,
        20,
        width,
        f"{bundle.state_line} · times in {bundle.timezone}",
        size=9,
        color=(21, 101, 192) if bundle.closed else (95, 95, 95),
        h=4.5,
    )
    top = y + 3
    bottom = max(
        _marketing_column(pdf, bundle, left, top, col_w), _sales_column(pdf, bundle, left + col_w + gap, top, col_w)
    )
    box_h = bottom - top + 3
    for x in (left, left + col_w + gap):
        d.set_draw_color(205, 205, 205)
        d.set_line_width(0.3)
        d.rect(x, top, col_w, box_h, round_corners=True, corner_radius=2)

    csq = bundle.card.get("consequences") or {}
    chart_y = (_consequences_block(pdf, csq, left, top + box_h + 4, width) if csq else top + box_h + 4) + 1
    chart_h = _PAGE_BOTTOM - chart_y
    d.image(io.BytesIO(pace_chart_png(bundle, col_w, chart_h)), x=left, y=chart_y, w=col_w, h=chart_h)
    d.image(io.BytesIO(trend_chart_png(bundle, col_w, chart_h)), x=left + col_w + gap, y=chart_y, w=col_w, h=chart_h)

    d.add_page()
    _second_page(pdf, bundle, left, width)
    d.output(str(path))
    return Path(path)


def _column_head(pdf: _Pdf, x: float, y: float, w: float, title: str) -> float:
    """The grey title band of a column; returns the y below it."""
    d = pdf.doc
    d.set_fill_color(244, 246, 248)
    d.rect(x + 0.15, y + 0.15, w - 0.3, 9, style="F", round_corners=True, corner_radius=2)
    pdf.text_at(x + 4, y + 2.2, w - 8, title, size=10.5, bold=True, h=5)
    return y + 12


def _headline(pdf: _Pdf, x: float, y: float, w: float, status: str | None, big: str, sub: str) -> float:
    """A status badge, a big number beside it and a grey line under the number; returns the y below."""
    badge_w = pdf.badge(x, y + 0.6, status)
    pdf.text_at(x + badge_w + 3.5, y - 0.4, w - badge_w - 3.5, big, size=14.5, bold=True, h=7)
    return pdf.text_at(x + badge_w + 3.5, y + 6.6, w - badge_w - 3.5, sub, size=8, grey=True, h=3.9) + 2


def _marketing_column(pdf: _Pdf, b: ReportBundle, x: float, y: float, w: float) -> float:
    mkt = b.card["marketing"]
    cy = _column_head(pdf, x, y, w, "MARKETING — qualified leads delivered")
    inner, iw = x + 4, w - 8
    quota = mkt.get("quota")
    if quota is not None:
        big = f"{num(mkt.get('mqls'))} of {plural(quota, 'MQL')}"
        sub = f"{pct(mkt.get('attainment'), 0)} of the monthly quota"
    else:
        big, sub = plural(mkt.get("mqls"), "MQL"), "no quota set for this month"
    cy = _headline(pdf, inner, cy, iw, mkt.get("status"), big, sub)
    over = b.card.get("month_over")
    lines = [f"Month elapsed: {pct(mkt.get('elapsed_fraction'), 0)}"]
    if quota is not None and not over:
        lines[0] += (
            f" · expected by now on a straight line: {num(mkt.get('expected_to_date'))}"
            f" (pace {pct(mkt.get('pace'), 0)})"
        )
        lines.append(
            f"Projected month end: {num(mkt.get('projected'))} · needed per day from here: "
            f"{num(mkt.get('required_daily_rate'), 1)}"
        )
        lines.append(f"At risk when the projection is under {pct(mkt.get('at_risk_ratio'), 0)} of quota")
    elif quota is not None:
        lines[0] += " · the month is over"
        short = quota - (mkt.get("mqls") or 0)
        lines.append(f"Shortfall: {plural(short, 'MQL')}" if short > 0 else f"Above quota by {plural(-short, 'MQL')}")
    projection = projection_note(mkt) if quota is not None else None
    if projection:
        lines.append(projection)
    for line in lines:
        cy = pdf.text_at(inner, cy, iw, line, size=8.5, h=4.4) + 0.6
    segments = mkt.get("by_segment", [])
    if segments:
        cy = pdf.text_at(inner, cy + 1.5, iw, "By segment", size=8.5, bold=True, h=4.4) + 0.5
        for seg in segments[:6]:
            quota_text = f" of {num(seg['quota'])}" if seg.get("quota") is not None else ""
            state = f" · {status_words(seg.get('status'))}" if seg.get("quota") is not None else ""
            cy = (
                pdf.text_at(
                    inner + 2, cy, iw - 2, f"{seg['segment']}: {num(seg.get('mqls'))}{quota_text}{state}", size=8, h=4
                )
                + 0.3
            )
        if len(segments) > 6:
            cy = pdf.text_at(
                inner + 2,
                cy,
                iw - 2,
                f"and {len(segments) - 6} more segments (see the Excel export)",
                size=7.5,
                grey=True,
                h=3.8,
            )
    sources = mkt.get("by_source", [])
    if sources:
        cy = pdf.text_at(inner, cy + 1.5, iw, "By source", size=8.5, bold=True, h=4.4) + 0.5
        text = " · ".join(f"{s['source']} {num(s.get('mqls'))}" for s in sources[:8])
        if len(sources) > 8:
            text += f" · {len(sources) - 8} more"
        cy = pdf.text_at(inner + 2, cy, iw - 2, text, size=8, h=4)
    return cy


def _sales_column(pdf: _Pdf, b: ReportBundle, x: float, y: float, w: float) -> float:
    ft, att = b.card["sales"]["first_touch"], b.card["sales"]["attempts"]
    cy = _column_head(pdf, x, y, w, "SALES — follow-up of those MQLs")
    inner, iw = x + 4, w - 8
    if ft.get("status") == "no_activity_data":
        cy = _headline(pdf, inner, cy, iw, ft.get("status"), "Follow-up not measured", NO_ACTIVITIES)
        return pdf.text_at(
            inner,
            cy,
            iw,
            f"{plural(ft.get('leads'), 'MQL')} this month. First touch and attempts need the CRM's calls, "
            "e-mails and meetings; this source has none.",
            size=8.5,
            h=4.4,
        )
    window = _short(att.get("window_days") or 0)
    blocks = (
        (
            "First touch",
            ft,
            f"of leads touched {target_hours_text(ft.get('target_hours'))}",
            f"Median response {hours(ft.get('median_hours'))} · p90 {hours(ft.get('p90_hours'))} (business hours)"
            + (f" · {ft['untouched']} never touched" if ft.get("untouched") else ""),
        ),
        (
            "Attempts",
            att,
            f"of leads given {att.get('min_attempts', '?')} attempts in {window} business days or converted",
            f"{att['converted']} converted within the window or before" if att.get("converted") else "",
        ),
    )
    for name, part, meaning, extra in blocks:
        cy = _headline(
            pdf,
            inner,
            cy,
            iw,
            part.get("status"),
            f"{name}: {pct(part.get('compliance'))}",
            f"{meaning} · target {pct(part.get('target'), 0)}",
        )
        counts = (
            f"{part.get('met', 0)} met · {part.get('breached', 0)} breached · {part.get('pending', 0)} pending"
            f" · {budget_text(part.get('budget_left'))}"
        )
        cy = pdf.text_at(inner, cy, iw, counts, size=8.5, h=4.4) + 0.4
        pending = pending_note(part)
        if pending:
            cy = pdf.text_at(inner, cy, iw, pending, size=8.5, h=4.4) + 0.4
        if extra:
            cy = pdf.text_at(inner, cy, iw, extra, size=8.5, h=4.4)
        cy += 3
    return cy - 3


_TABLE_FONT = 7.8
_LINE_H = 4.2
_PAD = 0.9
_ROW_H = _LINE_H + 2 * _PAD  # one-line table row


def _fit(pdf: _Pdf, text: str, width: float, bold: bool = False) -> str:
    """Text cut with an ellipsis to fit one table line of the given cell width."""
    text = pdf.t(text)
    pdf.font(_TABLE_FONT, bold)
    room = width - 2.8
    if pdf.doc.get_string_width(text) <= room:
        return text
    ellipsis = "…" if pdf.unicode else "..."
    while text and pdf.doc.get_string_width(text + ellipsis) > room:
        text = text[:-1]
    return text.rstrip() + ellipsis


def _table(
    pdf: _Pdf,
    widths: tuple[float, ...],
    align: tuple[str, ...],
    headings: tuple[str, ...],
    rows: list[list[tuple[str, Any]]],
) -> None:
    """A compact table with shaded alternate rows; each row cell is (text, FontFace or None), cut to one
    line so that the table's height is known in advance."""
    from fpdf.fonts import FontFace

    d = pdf.doc
    pdf.font(_TABLE_FONT)
    with d.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=align,
        line_height=_LINE_H,
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="B", fill_color=_HEAD_FILL),
        padding=(_PAD, 1.2),
    ) as table:
        row = table.row()
        for head in headings:
            row.cell(pdf.t(head))
        for i, cells in enumerate(rows):
            fill = _ROW_FILL if i % 2 else (255, 255, 255)
            row = table.row()
            for (text, style), w in zip(cells, widths):
                face = style or FontFace()
                row.cell(
                    _fit(pdf, text, w, bold=style is not None),
                    style=FontFace(emphasis=face.emphasis, color=face.color, fill_color=fill),
                )


def _height(pdf: _Pdf, width: float, text: str, size: float, h: float, bold: bool = False) -> float:
    """The height a paragraph would take (nothing is drawn)."""
    pdf.font(size, bold)
    return float(pdf.doc.multi_cell(width, h, pdf.t(text), dry_run=True, output="HEIGHT"))


def _second_page(pdf: _Pdf, b: ReportBundle, left: float, width: float) -> None:
    """Reps, each commitment month by month, funnel, terms, notes; sized to fit one page."""
    d = pdf.doc
    pdf.text_at(left, 11, width, f"Reps and trend — {b.title_month}", size=14, bold=True, h=7)
    y = (
        pdf.text_at(
            left,
            19,
            width,
            f"{b.state_line}. Compliance = met / (met + breached); response times in "
            "business hours; red: below the agreed target.",
            size=8.5,
            grey=True,
            h=4.2,
        )
        + 2.5
    )

    funnel = b.card.get("funnel") or {}
    funnel_text = ""
    if funnel:
        funnel_text = (
            f"This month's MQLs: {num(funnel.get('mqls'))} → {num(funnel.get('sqls'))} sales-qualified → "
            f"{num(funnel.get('customers'))} customers so far. Deals won with a close date in the month: "
            f"{num(funnel.get('won_deals'))}, revenue "
            f"{UNKNOWN if funnel.get('won_revenue') is None else num(funnel.get('won_revenue'))}"
        )
        if funnel.get("won_deals_without_amount"):
            funnel_text += f" ({plural(funnel['won_deals_without_amount'], 'won deal')} without an amount)"
        if funnel.get("revenue_goal"):
            funnel_text += f" (revenue goal {num(funnel.get('revenue_goal'))})"
        funnel_text += "."
    terms_line = (
        f"Agreement: terms version {b.terms_version_id if b.terms_version_id is not None else '(default)'}"
        + (f", in force from {b.effective_from}" if b.effective_from else "")
        + "; the full text is in the Excel export's Terms sheet."
    )
    caveats = [f"Note: {c}" for c in b.caveats]
    trend_h = 6 + 2 * _LINE_H + 2 * _PAD + 5 * _ROW_H + 1 + 3.8 + 3
    fixed = trend_h + _height(pdf, width, terms_line, 8, 4) + 3
    fixed += (5.5 + _height(pdf, width, funnel_text, 8.5, 4.4) + 2) if funnel_text else 0
    fixed += sum(_height(pdf, width, c, 8, 4) + 1 for c in caveats)
    header_h = 2 * _LINE_H + 2 * _PAD
    wanted_rows = min(len(b.owners), 8)
    notes = _shorten(b.notes, 900)
    # Notes give way to the reps table (at least 8 rows, or all of them) before anything else.
    while notes:
        notes_h = 5.5 + _height(pdf, width, notes, 8.5, 4.2) + 3
        if _PAGE_BOTTOM - y - fixed - notes_h - header_h - 6 >= wanted_rows * _ROW_H or len(notes) < 120:
            break
        notes = _shorten(notes, int(len(notes) * 0.7))
    notes_h = (5.5 + _height(pdf, width, notes, 8.5, 4.2) + 3) if notes else 0
    room = _PAGE_BOTTOM - y - fixed - notes_h - header_h - 1.5 - 3
    max_rows = len(b.owners)
    if max_rows * _ROW_H > room:
        max_rows = max(1, int((room - 5) // _ROW_H))  # keep a line for "and N more"

    ft_target = b.card["sales"]["first_touch"].get("target")
    att_target = b.card["sales"]["attempts"].get("target")
    rows = []
    for owner in b.owners.head(max_rows).to_dict("records"):
        rows.append(
            [
                (owner.get("name") or owner.get("owner_id") or "Unassigned", None),
                (owner.get("team") or "no team", None),
                (num(owner.get("leads")), None),
                (
                    f"{owner.get('first_touch_met', 0)} / {owner.get('first_touch_breached', 0)} / "
                    f"{owner.get('first_touch_pending', 0)}",
                    None,
                ),
                (pct(owner.get("first_touch_compliance")), _below(owner.get("first_touch_compliance"), ft_target)),
                (hours(owner.get("median_hours")), None),
                (hours(owner.get("p90_hours")), None),
                (
                    f"{owner.get('attempts_met', 0)} / {owner.get('attempts_breached', 0)} / "
                    f"{owner.get('attempts_pending', 0)}",
                    None,
                ),
                (pct(owner.get("attempts_compliance")), _below(owner.get("attempts_compliance"), att_target)),
                (num(owner.get("untouched")), None),
            ]
        )
    d.set_xy(left, y)
    _table(
        pdf,
        (56, 28, 14, 40, 20, 18, 18, 40, 20, 19),
        ("LEFT", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "CENTER", "RIGHT", "RIGHT"),
        (
            "Owner",
            "Team",
            "Leads",
            "First touch met / breached / pending",
            "In time",
            "Median",
            "p90",
            "Attempts met / breached / pending",
            "Attempts",
            "Never touched",
        ),
        rows,
    )
    y = d.get_y() + 1.5
    if len(b.owners) > max_rows:
        y = (
            pdf.text_at(
                left,
                y,
                width,
                f"And {plural(len(b.owners) - max_rows, 'more owner')} with fewer leads: see the Excel export.",
                size=8,
                grey=True,
                h=4,
            )
            + 1
        )
    y += 3

    y = pdf.text_at(left, y, width, "Each commitment month by month", size=10, bold=True, h=5) + 1
    d.set_xy(left, y)
    trend = b.trend.tail(12)
    months = [
        pd.Period(m, freq="M").strftime("%b %y") + ("" if closed else " *")
        for m, closed in zip(trend["month"], trend["closed"])
    ]
    label_w = 40
    cell_w = min(19.5, (width - label_w) / max(1, len(months)))

    def status_cell(value: str, status: str | None) -> tuple[str, Any]:
        from fpdf.fonts import FontFace

        return value, FontFace(color=pdf.rgb(STATUS_COLORS.get(status, STATUS_COLORS[None])), emphasis="B")

    records = trend.to_dict("records")
    trend_rows = [
        [("MQLs / quota", None)]
        + [status_cell(f"{num(r['mqls'])} / {num(r['quota'])}", r["marketing_status"]) for r in records],
        [("First touch in time", None)]
        + [status_cell(pct(r["first_touch_compliance"], 0), r["first_touch_status"]) for r in records],
        [("Attempts made", None)]
        + [status_cell(pct(r["attempts_compliance"], 0), r["attempts_status"]) for r in records],
        [("Score · marketing", None)] + [(pct(r.get("marketing_score"), 0), None) for r in records],
        [("Score · sales", None)] + [(pct(r.get("sales_score"), 0), None) for r in records],
    ]
    _table(pdf, (label_w, *[cell_w] * len(months)), ("LEFT", *["CENTER"] * len(months)), ("", *months), trend_rows)
    y = (
        pdf.text_at(
            left,
            d.get_y() + 1,
            width,
            "Colour: green met or on track, amber at risk, red missed or behind. * not closed: live numbers.",
            size=7.5,
            grey=True,
            h=3.8,
        )
        + 3
    )

    if funnel_text:
        y = pdf.text_at(left, y, width, "Funnel and revenue", size=10, bold=True, h=5) + 0.5
        y = pdf.text_at(left, y, width, funnel_text, size=8.5, h=4.4) + 2
    y = pdf.text_at(left, y, width, terms_line, size=8, grey=True, h=4) + 3
    if notes:
        y = pdf.text_at(left, y, width, "Meeting notes", size=10, bold=True, h=5) + 0.5
        y = pdf.text_at(left, y, width, notes, size=8.5, h=4.2) + 3
    for caveat in caveats:
        y = pdf.text_at(left, y, width, caveat, size=8, grey=True, h=4) + 1


def consequences_line(csq: dict) -> str:
    """'Weighted score this month: marketing 95.0%, sales 88.1%, overall 92.0%. Critical at 3 misses …'."""
    score = csq.get("score") or {}
    settings = csq.get("settings") or {}
    shown = ", ".join(
        f"{side} {pct(score.get(side)) if score.get(side) is not None else 'not final'}" for side in score
    )
    rule = (
        f" Critical at {settings['critical_misses']} misses in the last {settings['critical_window_months']} "
        f"finished months; each miss adds {settings['credit_per_miss']} credit(s), "
        f"{settings['earn_back_months']} met months in a row earn one back."
        if settings
        else ""
    )
    return f"Weighted score this month: {shown}.{rule}"


def _consequences_block(pdf: _Pdf, csq: dict, left: float, y: float, width: float) -> float:
    """The consequences heading, the month's scores and one row per commitment; returns the y below."""
    y = pdf.text_at(left, y, width, "Consequences: strikes, critical failures and credits", size=10, bold=True, h=5)
    y = pdf.text_at(left, y + 0.5, width, consequences_line(csq), size=8.5, h=4.2) + 1
    rows = [
        [
            (COMMITMENT_LABELS.get(c["commitment"], c["commitment"]), None),
            (status_words(c["status"]), None),
            (pct(c["score"]) if c["score"] is not None else "not final", None),
            (f"{c['weight']:g}", None),
            (str(c["strikes"]), None),
            ("CRITICAL" if c["critical"] else "", None),
            (str(c["credits"]), None),
            (c["credit_history_text"], None),
        ]
        for c in csq.get("by_commitment", [])
    ]
    pdf.doc.set_xy(left, y)
    _table(
        pdf,
        (42, 20, 18, 14, 15, 20, 15, width - 144),
        ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "CENTER", "RIGHT", "LEFT"),
        ("Commitment", "Status", "Score", "Weight", "Strikes", "Critical", "Credits", "Credit history"),
        rows,
    )
    return pdf.doc.get_y()


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with a pointer to the full text."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip()
    return cut + " … (continued in the dashboard)"


def _below(value: Any, target: Any) -> Any:
    """A red bold face for a compliance under its target (None otherwise)."""
    from fpdf.fonts import FontFace

    if _missing(value) or target is None or value >= target:
        return None
    return FontFace(color=(198, 40, 40), emphasis="B")


# -- one call --------------------------------------------------------------------------------------


WRITERS = {".pdf": write_pdf_report, ".xlsx": write_excel_report, ".csv": write_csv_report}


def check_report_path(out_path: str | Path) -> Path:
    """The report path, refused in one sentence when its suffix or folder is wrong."""
    out = Path(out_path)
    if out.suffix.lower() not in WRITERS:
        raise UserError(f"Cannot write {out.name}: a report file name must end in .pdf, .xlsx or .csv.")
    if not out.parent.is_dir():
        raise UserError(f"Cannot write {out}: the folder {out.parent} does not exist.")
    return out


def write_bundle(bundle: ReportBundle, out_path: str | Path) -> Path:
    """Write a report; the format follows the suffix. The file appears complete or not at all."""
    out = check_report_path(out_path)
    with _atomic(out) as tmp:
        WRITERS[out.suffix.lower()](bundle, tmp)
    return out


MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
}


def report_bytes(bundle: ReportBundle, fmt: str) -> tuple[bytes, str, str]:
    """A report in memory, for a download button: (content, file name, media type).
    `fmt` is "pdf", "xlsx" or "csv"."""
    suffix = "." + fmt.lower().lstrip(".")
    writer = WRITERS.get(suffix)
    if writer is None:
        raise UserError(f"'{fmt}' is not a report format; use pdf, xlsx or csv.")
    name = f"smarketing-scorecard-{bundle.month}{'-closed' if bundle.closed else ''}{suffix}"
    with tempfile.TemporaryDirectory(prefix="smarketing-report-") as folder:
        path = Path(folder) / name
        writer(bundle, path)
        return path.read_bytes(), name, MEDIA_TYPES[suffix]


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path next to `path`, renamed onto it when the block succeeds."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror}.") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror}.") from None
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "REPORT_FORMATS",
    "ReportBundle",
    "check_report_path",
    "csv_rows",
    "owners_frame",
    "pace_chart_png",
    "report_bytes",
    "trend_chart_png",
    "write_bundle",
    "write_csv_report",
    "write_excel_report",
    "write_pdf_report",
]
