"""Canonical CSV import (DESIGN section 2): strict, all-or-nothing parsing of CRM files.

The pure part turns raw text frames (every cell a string) into canonical frames and a
list of problems, each naming file, row, column and value. Row numbers are the ones a
spreadsheet shows: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smarketing.core import bounds
from smarketing.core.errors import UserError
from smarketing.core.frames import (
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
# An exact, ASCII-only subset of _OFFSET (what CRM exports write), matched in Arrow; only the other
# cells need Python's re (Unicode digits and spaces, lower-case t and z), which is ten times slower.
_COMMON_OFFSET = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
# The instants CRM exports and the benchmark write (2026-01-02T03:04:05.123456+00:00), read from their bytes.
_EXPORT_WIDTH = 32
_EXPORT_SEPARATORS = {
    position: np.frombuffer(allowed, dtype=np.uint8)
    for position, allowed in {4: b"-", 7: b"-", 10: b"T ", 13: b":", 16: b":", 19: b".", 26: b"+-", 29: b":"}.items()
}
_EXPORT_DIGITS = [i for i in range(_EXPORT_WIDTH) if i not in _EXPORT_SEPARATORS]
_NAT = np.iinfo(np.int64).min
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


# -- pure parsing ------------------------------------------------------------------------------


def cell_text(value: object, limit: int = 80) -> str:
    """A cell as a problem quotes it: on one line (control characters escaped), cut to `limit`."""
    text = str(value).encode("unicode_escape").decode("ascii") if not str(value).isprintable() else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_instants(values: pd.Series, tz: str, formats: Sequence[str] | None = None) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 text to UTC instants; text without an offset is local time in `tz`.
    Returns (instants, unreadable mask); empty cells are missing, not errors, and instants
    outside the years 1900-2199 are unreadable (see core.bounds).

    With `formats` (strptime formats such as "%d-%m-%Y %H:%M", or "ISO8601", "epoch_s",
    "epoch_ms"), each cell is read with the first format that fits it; a format with %z
    reads the cell's own offset, any other is local time in `tz`."""
    out, bad, outside = read_instants(values, tz, formats)
    return out, bad | outside


def read_instants(
    values: pd.Series, tz: str, formats: Sequence[str] | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """parse_instants, with the cells outside the years 1900-2199 in a mask of their own:
    (instants, unreadable mask, outside mask)."""
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    formats = formats or ["ISO8601"]
    if formats[0].strip().lower() == "iso8601":
        out = read_exported(text)
    else:
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    outside = pd.Series(False, index=values.index)
    todo = ~empty & out.isna()
    for fmt in formats:
        if not todo.any():
            break
        parsed, far = _read_format(text[todo], tz, fmt.strip())
        outside[far[far].index] = True
        todo[far[far].index] = False
        ok = parsed.notna()
        out[ok[ok].index] = parsed[ok]
        todo[ok[ok].index] = False
    return out, todo & ~empty, outside


def read_exported(text: pd.Series) -> pd.Series:
    """The cells written exactly as YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM (or a space for the T, any offset
    up to 23:59, years 1901-2198) as UTC instants, computed from their digits; NaT for every other
    cell, which the general ISO 8601 path reads (to the same instant had it been of this shape)."""
    cells = pa.array(text.astype("string[pyarrow]").array)  # an Array, or a ChunkedArray of several
    cells = pa.chunked_array([cells] if isinstance(cells, pa.Array) else cells.chunks, type=cells.type)
    cells = cells.combine_chunks().cast(pa.large_string())
    sized = pc.fill_null(pc.equal(pc.binary_length(cells), _EXPORT_WIDTH), False)
    nanos = np.full(len(cells), _NAT)
    if pc.any(sized).as_py():
        picked = pc.filter(cells, sized)
        offsets = np.frombuffer(picked.buffers()[1], dtype=np.int64)[picked.offset : picked.offset + len(picked) + 1]
        raw = np.frombuffer(picked.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        rows = raw.reshape(len(picked), _EXPORT_WIDTH)
        block = 1 << 16  # the temporaries of a block stay in the CPU's cache
        read = [_exported_nanos(rows[start : start + block]) for start in range(0, len(rows), block)]
        nanos[sized.to_numpy(zero_copy_only=False)] = np.concatenate(read)
    return pd.Series(pd.DatetimeIndex(nanos.view("datetime64[ns]"), tz="UTC"), index=text.index)


def _exported_nanos(raw: np.ndarray) -> np.ndarray:
    """Nanoseconds since 1970 in UTC of rows of 32 bytes; NaT where a row is not of the exported shape
    or names no real instant (31 April, 24:00, an offset of 24 hours)."""
    shaped = (raw[:, _EXPORT_DIGITS] - np.uint8(ord("0")) <= 9).all(axis=1)  # below "0" wraps around
    for position, allowed in _EXPORT_SEPARATORS.items():
        shaped &= np.isin(raw[:, position], allowed)

    def number(start: int, width: int) -> np.ndarray:
        return sum((raw[:, start + i].astype(np.int64) - ord("0")) * 10 ** (width - 1 - i) for i in range(width))

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second, micros = number(11, 2), number(14, 2), number(17, 2), number(20, 6)
    offset_hours, offset_minutes = number(27, 2), number(30, 2)
    valid = shaped & (year >= 1901) & (year <= 2198) & (month >= 1) & (month <= 12) & (day >= 1)
    valid &= (hour <= 23) & (minute <= 59) & (second <= 59) & (offset_hours <= 23) & (offset_minutes <= 59)
    first_day = np.where(valid, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    date = first_day.astype("datetime64[D]") + np.where(valid, day - 1, 0)
    valid &= date.astype("datetime64[M]") == first_day  # no 31 April, no 29 February outside leap years
    east = np.where(raw[:, 26] == ord("-"), -1, 1) * (offset_hours * 60 + offset_minutes)
    seconds = date.astype(np.int64) * 86_400 + hour * 3_600 + minute * 60 + second - east * 60
    return np.where(valid, seconds * 1_000_000_000 + micros * 1_000, _NAT)


def _read_format(text: pd.Series, tz: str, fmt: str) -> tuple[pd.Series, pd.Series]:
    """Cells read with one format: (UTC instants within range, mask of those outside it)."""
    name = fmt.lower()
    if name in ("epoch_s", "epoch_ms"):
        numbers = pd.to_numeric(text, errors="coerce")
        per_ns = 1e9 if name == "epoch_s" else 1e6
        low, high = bounds.EARLIEST.value / per_ns, bounds.LATEST.value / per_ns
        far = numbers.notna() & ((numbers < low) | (numbers >= high))
        parsed = pd.to_datetime(numbers.mask(far), unit="s" if name == "epoch_s" else "ms", utc=True, errors="coerce")
        kept, outside = bounds.bounded_instants(parsed)
        return kept, far | outside
    if name == "iso8601":
        aware = has_offset(text)
    else:
        aware = pd.Series("%z" in fmt or "%Z" in fmt, index=text.index)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    far = pd.Series(False, index=text.index)
    if aware.any():
        parsed = pd.to_datetime(text[aware], format=fmt if name != "iso8601" else "ISO8601", utc=True, errors="coerce")
        kept, outside = bounds.bounded_instants(parsed)
        out[aware], far[aware] = kept, outside
    naive = ~aware
    if naive.any():
        local = _wall_clock(text[naive], fmt if name != "iso8601" else "ISO8601")
        outside = bounds.instants_outside(local)
        local = local.mask(outside)
        ok = local.notna()
        if ok.any():
            out[ok[ok].index] = _localize(local[ok], tz)
        far[naive] = outside
    return out, far


def _wall_clock(text: pd.Series, fmt: str) -> pd.Series:
    """Cells without an offset as naive wall-clock times (NaT where unreadable). A cell pandas reads
    with an offset the offset rule does not accept (such as +00:0) keeps only its wall-clock time,
    whatever the cells beside it hold."""
    try:
        local = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError:  # "Mixed timezones": some of these cells carry such an offset; each is read alone
        return pd.Series([_wall_clock_of(cell, fmt) for cell in text], index=text.index, dtype="datetime64[ns]")
    return local.dt.tz_localize(None) if getattr(local.dt, "tz", None) is not None else local


def _wall_clock_of(cell: str, fmt: str) -> pd.Timestamp:
    stamp = pd.to_datetime(cell, format=fmt, errors="coerce")
    return stamp.tz_localize(None) if stamp is not pd.NaT and stamp.tzinfo is not None else stamp


def has_offset(text: pd.Series) -> pd.Series:
    """Which cells end in a UTC offset or Z (text such as 2026-03-05T14:30:00-05:00)."""
    aware = text.astype("string[pyarrow]").str.contains(_COMMON_OFFSET, na=False).astype(bool)
    rest = ~aware & text.notna()
    if rest.any():
        aware[rest] = text[rest].str.contains(_OFFSET, na=False).astype(bool)
    return aware


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local wall-clock times in `tz` as UTC (DST gaps shift forward, repeats take the first)."""
    return (
        naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
        .dt.tz_convert("UTC")
        .dt.as_unit("ns")
    )


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
            problems.append(f"{label}, row {rows[idx]}, column {shown}: '{cell_text(raw.at[idx, column])}' {why}.")

    for column, kind in schema.items():
        if column not in raw.columns:
            continue
        values = raw[column].astype("string").str.strip()
        values = values.where(values != "")
        if column in required:
            report(column, values.isna(), "is empty, but every row needs one")
        if kind == INSTANT:
            values, bad, outside = read_instants(values, tz, formats.get(column))
            report(column, bad, f"is not {describe_formats(formats.get(column))}")
            report(column, outside, f"is outside {bounds.YEARS}")
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
            report(column, bounds.amounts_outside(numbers), f"is not {bounds.AMOUNTS}")
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


def read_text_file(path: Path, what: str) -> str:
    """A UTF-8 text file (with or without BOM); one sentence naming it when it is missing, a
    folder, unreadable or not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"The {what} {path.name} does not exist.") from None
    except IsADirectoryError:
        raise UserError(f"The {what} {path.name} is a folder, not a file.") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"The {what} {path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again."
        ) from None
    except OSError as exc:
        raise UserError(f"The {what} {path.name} cannot be read ({exc.strerror or type(exc).__name__}).") from None


def unknown_exclusion_leads(data: CrmData, stored: set[str]) -> list[str]:
    """Problems for exclusions whose lead is neither in the import nor stored already."""
    known = set(data.leads["lead_id"].dropna()) | stored
    problems = []
    for position, lead_id in enumerate(data.exclusions["lead_id"]):
        if lead_id not in known:
            problems.append(f"exclusions.csv, row {position + 2}, column lead_id: '{lead_id}' is not a known lead.")
    return problems[:MAX_PROBLEMS]
