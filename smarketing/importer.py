"""Canonical CSV import (DESIGN section 2): strict, all-or-nothing parsing of CRM files.

The pure part turns raw text frames (every cell a string) into canonical frames and a
list of problems, each naming file, row, column and value. Row numbers are the ones a
spreadsheet shows: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smarketing.errors import UserError
from smarketing.frames import (
    DEAL_STATUSES,
    DIRECTIONS,
    FLAG,
    ID_COLUMN,
    INSTANT,
    AMOUNT,
    REQUIRED,
    SCHEMAS,
    TABLES,
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
}


class ImportFailed(UserError):
    """An import that wrote nothing, with every problem found (up to MAX_PROBLEMS)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = f" (and {len(problems) - len(shown)} more problems)" if len(problems) > len(shown) else ""
        super().__init__("Nothing was imported: " + " ".join(shown) + more)


@dataclass
class ParsedFiles:
    """What an import directory holds once parsed: canonical frames, terms text, notes."""

    data: CrmData
    terms_toml: str | None = None
    warnings: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


# -- pure parsing ------------------------------------------------------------------------------


def parse_instants(values: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 text to UTC instants; text without an offset is local time in `tz`.
    Returns (instants, unparseable mask); empty cells are missing, not errors."""
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
        out[naive] = local.dt.tz_localize(
            tz, ambiguous=np.ones(int(naive.sum()), dtype=bool), nonexistent="shift_forward"
        ).dt.tz_convert("UTC").dt.as_unit("ns")
    return out, ~empty & out.isna()


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """true/false, yes/no, 1/0 to booleans (empty: missing); returns (flags, bad mask)."""
    text = values.astype("string").str.strip().str.lower()
    empty = text.isna() | (text == "")
    flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flags[text.isin(_TRUE).fillna(False)] = True
    flags[text.isin(_FALSE).fillna(False)] = False
    return flags, ~empty & flags.isna()


def parse_table(table: str, raw: pd.DataFrame, *, tz: str, label: str, first_row: int = 2) -> tuple[pd.DataFrame, list[str]]:
    """A raw text frame with canonical headers to a canonical frame, plus problems found."""
    problems: list[str] = []
    schema = SCHEMAS[table]
    missing = [c for c in REQUIRED[table] if c not in raw.columns]
    if missing:
        return raw.iloc[0:0], [f"{label} has no column '{c}' (the columns are: {', '.join(raw.columns)})." for c in missing]
    rows = pd.Series(np.arange(len(raw)) + first_row, index=raw.index)
    parsed: dict[str, pd.Series] = {}

    def report(column: str, bad: pd.Series, why: str) -> None:
        for idx in bad[bad].index[:MAX_PROBLEMS]:
            problems.append(f"{label}, row {rows[idx]}, column {column}: '{raw.at[idx, column]}' {why}.")

    for column, kind in schema.items():
        if column not in raw.columns:
            continue
        values = raw[column].astype("string").str.strip()
        values = values.where(values != "")
        if column in REQUIRED[table]:
            report(column, values.isna(), "is empty, but every row needs one")
        if kind == INSTANT:
            values, bad = parse_instants(values, tz)
            report(column, bad, "is not a date and time (ISO 8601, for example 2026-03-05T14:30:00-05:00)")
        elif kind == FLAG:
            values, bad = parse_flags(values)
            report(column, bad, "is not true or false")
        elif kind == AMOUNT:
            numbers = pd.to_numeric(values.str.replace(",", "", regex=False), errors="coerce")
            report(column, values.notna() & numbers.isna(), "is not a number")
            values = numbers
        elif (table, column) in _ALLOWED:
            values = values.str.lower()
            allowed = _ALLOWED[(table, column)]
            report(column, values.notna() & ~values.isin(allowed).fillna(False),
                   f"is not one of {', '.join(allowed)}")
        parsed[column] = values
    id_column = ID_COLUMN[table]
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
    """Read owners/leads/touches/deals (.csv or .xlsx) and terms.toml; raise with every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory} is not a folder; give the folder that holds leads.csv.")
    terms_path = directory / "terms.toml"
    terms_toml = terms_path.read_text(encoding="utf-8-sig") if terms_path.exists() else None
    if terms_toml is not None:
        from smarketing.terms import parse_terms_toml

        tz = parse_terms_toml(terms_toml)[0].timezone
    if find_table_file(directory, "leads") is None:
        raise UserError(f"{directory} has no leads.csv; an import needs at least the leads.")
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    warnings: list[str] = []
    files: dict[str, str] = {}
    for table in TABLES:
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
