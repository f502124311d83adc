"""Canonical CSV import (DESIGN section 2): strict, all-or-nothing parsing of CRM files.

The pure part turns raw text frames (every cell a string) into canonical frames and a
list of problems, each naming file, row, column and value. Row numbers are the ones a
spreadsheet shows: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smarketing.core.errors import UserError
from smarketing.core.frames import (
    ALL_TABLES,
    AMOUNT,
    COMMITMENTS,
    DEAL_STATUSES,
    DECISIONS,
    DIRECTIONS,
    FLAG,
    ID_COLUMN,
    INSTANT,
    REQUIRED,
    SCHEMAS,
    TOUCH_KINDS,
    CrmData,
    normalize,
)

MAX_PROBLEMS = 20
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_OFFSET = re.compile(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.I)
_ALLOWED = {
    ("touches", "kind"): TOUCH_KINDS,
    ("touches", "direction"): DIRECTIONS,
    ("deals", "status"): DEAL_STATUSES,
    ("exclusions", "commitment"): COMMITMENTS,
    ("exclusions", "decision"): DECISIONS,
}


class ImportFailed(UserError):
    """An import that wrote nothing, with every problem found (up to MAX_PROBLEMS).

    `total` is how many problems there were when only some of them were kept as text."""

    def __init__(self, problems: list[str], total: int | None = None):
        self.problems = problems
        self.total = max(int(total or 0), len(problems))
        shown = problems[:MAX_PROBLEMS]
        more = f" (and {self.total - len(shown)} more problems)" if self.total > len(shown) else ""
        super().__init__("Nothing was imported: " + " ".join(shown) + more)


@dataclass
class ParsedFiles:
    """What an import directory holds once parsed: canonical frames, terms text, notes."""

    data: CrmData
    terms_toml: str | None = None
    warnings: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


# -- pure parsing ------------------------------------------------------------------------------


def parse_instants(values: pd.Series, tz: str, formats: Sequence[str] | None = None) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 text to UTC instants; text without an offset is local time in `tz`.
    Returns (instants, unparseable mask); empty cells are missing, not errors.

    With `formats` (strptime formats such as "%d-%m-%Y %H:%M", or "ISO8601", "epoch_s",
    "epoch_ms"), each cell is read with the first format that fits it; a format with %z
    reads the cell's own offset, any other is local time in `tz`."""
    if formats:
        return _parse_with_formats(values, tz, list(formats))
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    aware = text.str.contains(_OFFSET, na=False)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce").dt.as_unit("ns")
    naive = ~aware & ~empty
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        if getattr(local.dt, "tz", None) is not None:
            local = local.dt.tz_localize(None)
        out[naive] = (
            local.dt.tz_localize(tz, ambiguous=np.ones(int(naive.sum()), dtype=bool), nonexistent="shift_forward")
            .dt.tz_convert("UTC")
            .dt.as_unit("ns")
        )
    return out, ~empty & out.isna()


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local wall-clock times in `tz` as UTC (DST gaps shift forward, repeats take the first)."""
    return (
        naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
        .dt.tz_convert("UTC")
        .dt.as_unit("ns")
    )


def _parse_with_formats(values: pd.Series, tz: str, formats: list[str]) -> tuple[pd.Series, pd.Series]:
    """parse_instants with explicit formats, tried in order per cell."""
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    todo = ~empty
    for fmt in formats:
        if not todo.any():
            break
        part = text[todo]
        name = fmt.strip().lower()
        if name == "iso8601":
            parsed, _ = parse_instants(part, tz)
        elif name in ("epoch_s", "epoch_ms"):
            numbers = pd.to_numeric(part, errors="coerce")
            parsed = pd.to_datetime(numbers, unit="s" if name == "epoch_s" else "ms", utc=True, errors="coerce")
        elif "%z" in fmt or "%Z" in fmt:
            parsed = pd.to_datetime(part, format=fmt, utc=True, errors="coerce")
        else:
            local = pd.to_datetime(part, format=fmt, errors="coerce")
            parsed = pd.Series(pd.NaT, index=part.index, dtype="datetime64[ns, UTC]")
            ok = local.notna()
            if ok.any():
                parsed[ok] = _localize(local[ok], tz)
        parsed = parsed.astype("datetime64[ns, UTC]")
        ok = parsed.notna()
        out[ok[ok].index] = parsed[ok]
        todo[ok[ok].index] = False
    return out, ~empty & out.isna()


def describe_formats(formats: Sequence[str] | None) -> str:
    """How a problem names the expected date layout, with an example."""
    if not formats:
        return "a date and time (ISO 8601, for example 2026-03-05T14:30:00-05:00)"
    example = pd.Timestamp("2026-03-05 14:30:00", tz="UTC")
    shown = []
    for fmt in formats:
        name = fmt.strip().lower()
        if name == "iso8601":
            shown.append("ISO 8601 (for example 2026-03-05T14:30:00-05:00)")
        elif name in ("epoch_s", "epoch_ms"):
            shown.append("seconds since 1970" if name == "epoch_s" else "milliseconds since 1970")
        else:
            shown.append(f"{fmt} (for example {example.strftime(fmt)})")
    return "a date in the format " + " or ".join(shown)


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """true/false, yes/no, 1/0 to booleans (empty: missing); returns (flags, bad mask)."""
    text = values.astype("string").str.strip().str.lower()
    empty = text.isna() | (text == "")
    flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flags[text.isin(_TRUE).fillna(False)] = True
    flags[text.isin(_FALSE).fillna(False)] = False
    return flags, ~empty & flags.isna()


def parse_table(
    table: str,
    raw: pd.DataFrame,
    *,
    tz: str,
    label: str,
    first_row: int = 2,
    rows: Sequence[int] | pd.Series | None = None,
    formats: Mapping[str, Sequence[str]] | None = None,
    decimals: Mapping[str, str] | None = None,
    column_labels: Mapping[str, str] | None = None,
    check_duplicates: bool = True,
    tally: Counter | None = None,
    required: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """A raw text frame with canonical headers to a canonical frame, plus problems found.

    Mapped imports pass the spreadsheet row of each record (`rows`), date formats and
    decimal marks per column, the file's column names to show in problems
    (`column_labels`), and a Counter whose "problems" entry gets the number of all
    problems, also those beyond the MAX_PROBLEMS per column that are kept as text.
    `required` overrides the table's required columns (a mapping source that only adds
    columns to rows of another source needs only the id)."""
    problems: list[str] = []
    schema = SCHEMAS[table]
    required = tuple(REQUIRED[table] if required is None else required)
    formats = formats or {}
    decimals = decimals or {}
    column_labels = column_labels or {}
    missing = [c for c in required if c not in raw.columns]
    if missing:
        if tally is not None:
            tally["problems"] += len(missing)
        return raw.iloc[0:0], [
            f"{label} has no column '{c}' (the columns are: {', '.join(raw.columns)})." for c in missing
        ]
    if rows is None:
        rows = pd.Series(np.arange(len(raw)) + first_row, index=raw.index)
    else:
        rows = pd.Series(np.asarray(rows), index=raw.index)
    parsed: dict[str, pd.Series] = {}

    def report(column: str, bad: pd.Series, why: str) -> None:
        if tally is not None:
            tally["problems"] += int(bad.sum())
        shown = column_labels.get(column, column)
        for idx in bad[bad].index[:MAX_PROBLEMS]:
            problems.append(f"{label}, row {rows[idx]}, column {shown}: '{raw.at[idx, column]}' {why}.")

    for column, kind in schema.items():
        if column not in raw.columns:
            continue
        values = raw[column].astype("string").str.strip()
        values = values.where(values != "")
        if column in required:
            report(column, values.isna(), "is empty, but every row needs one")
        if kind == INSTANT:
            values, bad = parse_instants(values, tz, formats.get(column))
            report(column, bad, f"is not {describe_formats(formats.get(column))}")
        elif kind == FLAG:
            values, bad = parse_flags(values)
            report(column, bad, "is not true or false")
        elif kind == AMOUNT:
            if decimals.get(column, ".") == ",":
                text = values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            else:
                text = values.str.replace(",", "", regex=False)
            numbers = pd.to_numeric(text, errors="coerce")
            report(column, values.notna() & numbers.isna(), "is not a number")
            values = numbers
        elif (table, column) in _ALLOWED:
            values = values.str.lower()
            allowed = _ALLOWED[(table, column)]
            report(column, values.notna() & ~values.isin(allowed).fillna(False), f"is not one of {', '.join(allowed)}")
        parsed[column] = values
    if table == "leads" and {"rejected_at", "mql_at"} <= parsed.keys():
        early = (parsed["rejected_at"] < parsed["mql_at"]).fillna(False).astype(bool)
        report("rejected_at", early, "is before the lead's mql_at; a lead is rejected after it became an MQL")
    if table == "exclusions" and "decision" in parsed:
        decided = parsed["decision"].isin(["approved", "denied"]).fillna(False).astype(bool)
        undated = decided & (parsed["decided_at"].isna() if "decided_at" in parsed else True)
        report("decision", pd.Series(undated, index=raw.index), "needs a decided_at (when it was decided)")
    id_column = ID_COLUMN[table]
    if check_duplicates:
        ids = parsed[id_column]
        dup = ids.notna() & ids.duplicated(keep="first")
        report(id_column, dup, f"appears more than once in {label}; each {id_column} must be unique")
    return normalize(table, pd.DataFrame(parsed)) if not problems else raw.iloc[0:0], problems


# -- reading files -------------------------------------------------------------------------------


def read_text_frame(path: Path) -> pd.DataFrame:
    """A CSV (delimiter and encoding detected) or .xlsx file as strings, empty cells as ''."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        return frame.astype("string").fillna("")
    raw = path.read_bytes()
    text = _decode(raw, path.name)
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, ValueError) as exc:
        raise UserError(f"{path.name} could not be read as CSV: {str(exc).strip()}.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else Latin-1."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def find_table_file(directory: Path, table: str) -> Path | None:
    for suffix in (".csv", ".xlsx"):
        candidate = directory / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return None


def read_canonical_dir(directory: Path, tz: str) -> ParsedFiles:
    """Read owners/leads/touches/deals/exclusions (.csv or .xlsx) and terms.toml; raise with every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory} is not a folder; give the folder that holds leads.csv.")
    terms_path = directory / "terms.toml"
    terms_toml = terms_path.read_text(encoding="utf-8-sig") if terms_path.exists() else None
    if terms_toml is not None:
        from smarketing.core.terms import parse_terms_toml

        tz = parse_terms_toml(terms_toml)[0].timezone
    if find_table_file(directory, "leads") is None:
        raise UserError(f"{directory} has no leads.csv; an import needs at least the leads.")
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    warnings: list[str] = []
    files: dict[str, str] = {}
    for table in ALL_TABLES:
        path = find_table_file(directory, table)
        if path is None:
            continue
        raw = read_text_frame(path)
        unknown = [c for c in raw.columns if c not in SCHEMAS[table]]
        if unknown:
            warnings.append(f"{path.name}: ignored columns {', '.join(unknown)}.")
        frames[table], found = parse_table(table, raw, tz=tz, label=path.name)
        problems += found
        files[table] = path.name
    if problems:
        raise ImportFailed(problems)
    return ParsedFiles(CrmData.of(**frames), terms_toml, warnings, files)


def unknown_exclusion_leads(data: CrmData, stored: set[str]) -> list[str]:
    """Problems for exclusions whose lead is neither in the import nor stored already."""
    known = set(data.leads["lead_id"].dropna()) | stored
    problems = []
    for position, lead_id in enumerate(data.exclusions["lead_id"]):
        if lead_id not in known:
            problems.append(f"exclusions.csv, row {position + 2}, column lead_id: '{lead_id}' is not a known lead.")
    return problems[:MAX_PROBLEMS]
