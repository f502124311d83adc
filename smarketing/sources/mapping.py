"""Mapped CSV/Excel import (DESIGN section 2): any CRM export into the canonical tables.

`import DIR --mapping FILE` / `--preset NAME` read the files of a folder through a mapping
(a TOML file) and write owners, leads, touches and deals in one transaction, or nothing at
all. Presets are mappings shipped in `smarketing/sources/presets/` (`olist`, `maven-crm`,
`salesforce`); copy one to start your own.

The mapping format
==================

Top level (every key optional)::

    name = "my-crm"                     # shown in messages
    description = "..."
    timezone = "Europe/Berlin"          # naive times in the files are local here; default: the
                                        # agreement's timezone (terms.toml in the folder, else
                                        # [terms] below, else the database's first terms version)
    null_values = ["null", "NULL"]      # cells equal to one of these are empty (empty cells always are)
    chunk_rows = 100000                 # rows read at a time from a CSV (memory stays bounded)

    [terms]                             # the agreement (terms.toml layout) to start with; stored as a
    timezone = "America/Sao_Paulo"      # version only when the database has no terms yet. A terms.toml
                                        # in the import folder is stored as in the canonical import.
    [derive]
    customer_at_from_won_deals = true   # a lead without customer_at gets the earliest closed_at
                                        # of its won deals (deals.lead_id) in this import

    [combine]                           # several rows for one id (see mode below): per table and
    owners = { team = "join" }          # column "first" (default: first non-empty value, in
                                        # mapping order) or "join" (distinct values joined by " / ")

Sources: each canonical table (`owners`, `leads`, `touches`, `deals`) is an array of
sources, `[[leads]]`, each a file (or several) and how its columns make canonical columns::

    [[touches]]
    file = ["Task.csv", "Tasks*.csv"]   # glob(s), case-insensitive, files directly in the folder
                                        # (.csv, .txt, .tsv or .xlsx); every matching file is read
    required = true                     # default true: no matching file is an error
    mode = "rows"                       # rows (default): one record per row, an id twice is an error;
                                        # distinct: many rows per id, combined (owners from a deals file);
                                        # enrich: only adds columns to ids another source of the table
                                        # gives; rows for other ids are skipped with a warning
    delimiter = ";"                     # default: detected from the header (, ; tab |)
    encoding = "latin-1"                # default: detected (UTF-8, UTF-8 with BOM, UTF-16 with BOM,
                                        # Windows-1252/Latin-1)
    sheet = "Tasks"                     # .xlsx: the sheet (default the first)
    skip = ["Status != 'Completed'"]    # rows matching any rule are skipped (and counted)

    [touches.columns]                   # canonical column = how to make it
    touch_id = "Id"                     # a string is always a column of the file
    kind = { value = "call" }           # a constant
    lead_id = { first_of = ["WhoId", "LeadId"] }          # first non-empty of (columns or specs)
    owner_id = { concat = ["First", "Last"], sep = " " }  # non-empty parts joined (sep default " ")
    direction = { cases = [ { if = "CallType == 'Inbound'", value = "inbound" } ],
                  else = { value = "outbound" } }         # the first case whose rule holds, else `else`
                                                          # (written on one line in a real file)

When a file has no ids, make them (the same rows give the same ids on every import)::

    touch_id = { hash = ["WhoId", "CreatedDate"], prefix = "t-" }  # 16 hex chars of a SHA-1 of the parts
    touch_id = { row_number = true, prefix = "call-" }    # or: prefix + spreadsheet row (+ file stem when
                                                          # the glob matched several files)

Options on any spec (applied in this order after the value is made): `lookup = { file =
"Lead.csv", key = "ConvertedContactId", value = "Id", unmatched = "empty" }` (replace the
value by another file's column on the row whose `key` equals it; unmatched values become
empty, or stay with "keep"); `map = { "Closed Won" = "won" }` (case-insensitive; "" maps to
empty) and `known = ["web", "email"]` (values known as they are) with `unknown = "warn"`
(default: values outside map/known are kept and listed in a warning), "keep" (silently) or
"error" (each is a problem), and `otherwise = "other"` (such values become this);
`default = "x"` (for empty cells); `prefix = "deal-"` (before non-empty values);
`optional = true` (the file may lack the columns: the value is empty, with a warning).
Canonical instant columns take `format`: a strptime format or a list tried in order per
cell, e.g. `["%d-%m-%Y %H:%M", "%d-%m-%Y"]`, `"%m/%d/%Y %I:%M %p"`, `"%Y-%m-%dT%H:%M:%S%z"`,
or "ISO8601" (the default), "epoch_s", "epoch_ms". A format with %z reads the offset; any
other is local time in the timezone (a date-only value is local midnight). Real date cells
of .xlsx files are always understood. Amount columns take `decimal = ","` for 1.234,56.

Rules (`skip`, `if`): `column == 'value'`, `!=`, `<`, `<=`, `>`, `>=` (numbers), `column in
('a', 'b')`, `not in`, `column contains 'x'`, `column is empty`, `is not empty`, joined with
`and`, `or`, `not` and parentheses. Text compares case-insensitively after trimming; bare
`true` / `false` compare as flags (true, yes, 1 / false, no, 0); a column with spaces is
written in backquotes: `` `Lead Source` == 'Web' ``.

Validation: a mapping's every key is checked before any file is read. Then each file is
streamed in chunks through the canonical parser (importer.parse_table): every problem names
the file, the spreadsheet row (header = row 1), the column and the value, up to
importer.MAX_PROBLEMS of them (with the total), and nothing is written when there is one.
Ids repeated within a `rows` source are problems; values a mapping does not know are
warnings. The returned summary counts, per table, rows inserted, updated, unchanged (the
upsert by id of storage.save_data) and skipped (by rules, blank, or enrich rows without a
base row). Re-importing the same files changes nothing.

`preview_import` runs the same pipeline on uploaded bytes and writes nothing.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import hashlib
import io
import re
import tomllib
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from smarketing.core.consistency import dates_out_of_order, unknown_references
from smarketing.core.errors import UserError
from smarketing.core.frames import (
    ALL_TABLES,
    AMOUNT,
    ID_COLUMN,
    INSTANT,
    REQUIRED,
    SCHEMAS,
    CrmData,
    empty_frame,
    normalize,
)
from smarketing.core.terms import Terms, TermsError, parse_terms_toml, terms_from_dict
from smarketing.sources.canonical import (
    MAX_PROBLEMS,
    ImportFailed,
    cell_text,
    parse_table,
    read_text_file,
    unknown_exclusion_leads,
)
from smarketing.sources.progress import Progress, Ticker
from smarketing.store import storage

# How much of an import's progress bar each stage owns: reading, checking, saving (the rest: the agreement).
READ_SHARE, CHECK_SHARE, SAVE_SHARE = 0.7, 0.75, 0.98

CHUNK_ROWS = 100_000
DELIMITERS = (",", ";", "\t", "|")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# A sheet wider than this is a stray cell far to the right (column XFD is 16,384), which pandas
# would expand to millions of empty cells: refuse it before reading.
MAX_EXCEL_COLUMNS = 1_024
MODES = ("rows", "distinct", "enrich")
PRESET_PACKAGE = "smarketing.sources.presets"
_MAX_TEXT_PROBLEMS = 200  # problems kept as text (the message shows MAX_PROBLEMS; the rest are counted)
_MAX_UNKNOWN_VALUES = 8  # distinct unknown values named in one warning

_TOP_KEYS = {"name", "description", "timezone", "null_values", "chunk_rows", "terms", "derive", "combine", *ALL_TABLES}
_SOURCE_KEYS = {"file", "required", "mode", "delimiter", "encoding", "sheet", "skip", "columns"}
_BASE_KEYS = ("column", "value", "concat", "first_of", "hash", "row_number", "cases")
_OPTION_KEYS = {
    "sep",
    "else",
    "lookup",
    "map",
    "known",
    "unknown",
    "otherwise",
    "default",
    "prefix",
    "format",
    "decimal",
    "optional",
}
_LOOKUP_KEYS = {"file", "key", "value", "unmatched"}


# -- rules: a tiny expression language for skip and cases --------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>==|!=|<=|>=|<|>|=|\(|\)|,)
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<bq>`[^`]+`)
      | (?P<word>[^\s=!<>(),'"`]+)
    )""",
    re.X,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "contains"}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class RuleError(ValueError):
    """A rule that cannot be read."""


@dataclass(frozen=True)
class Literal:
    text: str
    bare: bool  # written without quotes (true/false/numbers)


@dataclass
class Rule:
    """A parsed rule; `holds(frame)` gives a boolean mask over the frame's rows."""

    text: str
    node: tuple

    @classmethod
    def parse(cls, text: str) -> Rule:
        tokens = _tokenize(text)
        parser = _RuleParser(tokens, text)
        node = parser.expr()
        if parser.pos != len(tokens):
            raise RuleError(f"unexpected '{tokens[parser.pos][1]}'")
        return cls(text, node)

    def columns(self) -> set[str]:
        return _node_columns(self.node)

    def holds(self, frame: pd.DataFrame, column: Any) -> pd.Series:
        """Evaluate over a frame of stripped text; `column(name)` gives a column's text."""
        return _evaluate(self.node, frame, column).fillna(False).astype(bool)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise RuleError(f"cannot read '{text[pos:].strip()}'")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "bq":
            value = value[1:-1]
        elif kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        tokens.append((kind, value))
    return tokens


class _RuleParser:
    def __init__(self, tokens: list[tuple[str, str]], text: str):
        self.tokens, self.text, self.pos = tokens, text, 0

    def peek(self, kind: str | None = None, value: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        k, v = self.tokens[self.pos]
        return (kind is None or k == kind) and (value is None or v == value)

    def take(self, kind: str | None = None, value: str | None = None, what: str = "") -> str:
        if not self.peek(kind, value):
            found = f"'{self.tokens[self.pos][1]}'" if self.pos < len(self.tokens) else "the end"
            raise RuleError(f"expected {what or value or kind} but found {found}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def expr(self) -> tuple:
        node = self.conjunction()
        while self.peek("kw", "or"):
            self.pos += 1
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.unary()
        while self.peek("kw", "and"):
            self.pos += 1
            node = ("and", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek("kw", "not"):
            self.pos += 1
            return ("not", self.unary())
        if self.peek("op", "("):
            self.pos += 1
            node = self.expr()
            self.take("op", ")")
            return node
        return self.comparison()

    def literal(self) -> Literal:
        if self.peek("str"):
            return Literal(self.take("str"), False)
        if self.peek("word"):
            return Literal(self.take("word"), True)
        raise RuleError(f"expected a value in '{self.text}'")

    def comparison(self) -> tuple:
        if not (self.peek("word") or self.peek("bq")):
            raise RuleError("expected a column name")
        column = self.tokens[self.pos][1]
        self.pos += 1
        if self.peek("kw", "is"):
            self.pos += 1
            negate = self.peek("kw", "not")
            if negate:
                self.pos += 1
            self.take("kw", "empty", "'empty'")
            node: tuple = ("empty", column)
            return ("not", node) if negate else node
        negate = self.peek("kw", "not")
        if negate:
            self.pos += 1
        if self.peek("kw", "in"):
            self.pos += 1
            self.take("op", "(", "'('")
            values = [self.literal()]
            while self.peek("op", ","):
                self.pos += 1
                values.append(self.literal())
            self.take("op", ")", "')'")
            node = ("in", column, tuple(values))
            return ("not", node) if negate else node
        if self.peek("kw", "contains"):
            self.pos += 1
            node = ("contains", column, self.literal())
            return ("not", node) if negate else node
        if negate:
            raise RuleError("expected 'in' or 'contains' after 'not'")
        op = self.take("op", what="a comparison such as ==")
        if op not in ("==", "!=", "<", "<=", ">", ">=", "="):
            raise RuleError(f"'{op}' is not a comparison")
        return ("cmp", "==" if op == "=" else op, column, self.literal())


def _node_columns(node: tuple) -> set[str]:
    if node[0] in ("and", "or"):
        return _node_columns(node[1]) | _node_columns(node[2])
    if node[0] == "not":
        return _node_columns(node[1])
    return {node[2] if node[0] == "cmp" else node[1]}


def _equals(text: pd.Series, literal: Literal) -> pd.Series:
    word = literal.text.strip().lower()
    if literal.bare and word in ("true", "false"):
        lowered = text.str.lower()
        return lowered.isin(_TRUE if word == "true" else _FALSE)
    return text.str.casefold() == literal.text.strip().casefold()


def _evaluate(node: tuple, frame: pd.DataFrame, column: Any) -> pd.Series:
    kind = node[0]
    if kind == "and":
        return _evaluate(node[1], frame, column) & _evaluate(node[2], frame, column)
    if kind == "or":
        return _evaluate(node[1], frame, column) | _evaluate(node[2], frame, column)
    if kind == "not":
        return ~_evaluate(node[1], frame, column)
    if kind == "empty":
        return column(node[1]) == ""
    if kind == "in":
        text = column(node[1])
        mask = pd.Series(False, index=frame.index)
        for literal in node[2]:
            mask |= _equals(text, literal)
        return mask
    if kind == "contains":
        return column(node[1]).str.casefold().str.contains(node[2].text.strip().casefold(), regex=False)
    _, op, name, literal = node
    text = column(name)
    if op == "==":
        return _equals(text, literal)
    if op == "!=":
        return ~_equals(text, literal)
    try:
        bound = float(literal.text)
    except ValueError:
        raise RuleError(f"'{literal.text}' is not a number to compare with {op}") from None
    numbers = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    result = {"<": numbers < bound, "<=": numbers <= bound, ">": numbers > bound, ">=": numbers >= bound}[op]
    return result.fillna(False)


# -- the mapping model ----------------------------------------------------------------------------


@dataclass
class Lookup:
    """Replace a value by another file's column on the row whose key column equals it."""

    patterns: tuple[str, ...]
    key: str
    value: str
    unmatched: str = "empty"

    @property
    def cache_key(self) -> tuple:
        return (self.patterns, self.key, self.value)


@dataclass
class Spec:
    """How one value is made from a row (see the module docstring)."""

    base: str
    label: str
    column: str | None = None
    value: str = ""
    parts: list[Spec] = field(default_factory=list)
    sep: str = " "
    cases: list[tuple[Rule, Spec]] = field(default_factory=list)
    fallback: Spec | None = None
    lookup: Lookup | None = None
    map: dict[str, str] | None = None
    known: set[str] | None = None
    unknown: str = "warn"
    otherwise: str | None = None
    default: str | None = None
    prefix: str = ""
    formats: list[str] | None = None
    decimal: str = "."
    optional: bool = False

    def columns(self) -> set[str]:
        """Every file column this spec reads (rules included, lookups' own files excluded)."""
        found = {self.column} if self.column else set()
        for part in self.parts:
            found |= part.columns()
        for rule, spec in self.cases:
            found |= rule.columns() | spec.columns()
        if self.fallback is not None:
            found |= self.fallback.columns()
        return found

    def required_columns(self) -> set[str]:
        """Columns the file must have: those not under an optional spec."""
        if self.optional:
            return set()
        found = {self.column} if self.column else set()
        for part in self.parts:
            found |= part.required_columns()
        for rule, spec in self.cases:
            found |= rule.columns() | spec.required_columns()
        if self.fallback is not None:
            found |= self.fallback.required_columns()
        return found

    def lookups(self, optional: bool = False) -> list[tuple[Lookup, bool]]:
        """Every lookup in the spec, with whether it sits under an optional spec."""
        optional = optional or self.optional
        found = [(self.lookup, optional)] if self.lookup else []
        for part in self.parts:
            found += part.lookups(optional)
        for _, spec in self.cases:
            found += spec.lookups(optional)
        if self.fallback is not None:
            found += self.fallback.lookups(optional)
        return found


@dataclass
class Source:
    """One file (or glob) feeding one canonical table."""

    table: str
    number: int
    patterns: tuple[str, ...]
    columns: dict[str, Spec]
    mode: str = "rows"
    required: bool = True
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    skip: list[Rule] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.table} source {self.number} ({', '.join(self.patterns)})"


@dataclass
class ImportMapping:
    """A validated mapping."""

    name: str
    sources: list[Source]
    timezone: str | None = None
    null_values: frozenset[str] = frozenset()
    chunk_rows: int = CHUNK_ROWS
    terms: dict | None = None
    customer_at_from_won_deals: bool = False
    combine: dict[str, dict[str, str]] = field(default_factory=dict)
    description: str = ""


def preset_names() -> list[str]:
    """The presets shipped in the package."""
    folder = resources.files(PRESET_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """A preset's TOML text (copy it to start a mapping of your own)."""
    names = preset_names()
    if name not in names:
        raise UserError(f"There is no preset '{name}'; the presets are: {', '.join(names)}.")
    return resources.files(PRESET_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load_mapping(
    *, mapping_file: str | Path | None = None, preset: str | None = None, text: str | None = None
) -> ImportMapping:
    """A mapping from a file, a preset name or TOML text; UserError naming every problem."""
    if sum(x is not None for x in (mapping_file, preset, text)) != 1:
        raise UserError("Give either a mapping file or a preset, not both.")
    if preset is not None:
        return parse_mapping(preset_text(preset), origin=f"preset {preset}", default_name=preset)
    if mapping_file is not None:
        path = Path(mapping_file)
        text = read_text_file(path, "mapping file")
        return parse_mapping(text, origin=f"mapping file {path.name}", default_name=path.stem)
    return parse_mapping(text or "", origin="the mapping", default_name="mapping")


def parse_mapping(text: str, *, origin: str = "the mapping", default_name: str = "mapping") -> ImportMapping:
    """Parse and check a mapping's TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{origin} is not valid TOML: {exc}.") from None
    return mapping_from_dict(data, origin=origin, default_name=default_name)


def mapping_from_dict(
    data: Mapping[str, Any], *, origin: str = "the mapping", default_name: str = "mapping"
) -> ImportMapping:
    problems: list[str] = []
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"'{key}' is not a mapping setting (the settings are: {', '.join(sorted(_TOP_KEYS))})")
    tz = data.get("timezone")
    if tz is not None:
        try:
            terms_from_dict({"timezone": tz})
        except TermsError as exc:
            problems += [p.rstrip(".") for p in exc.problems]
    nulls = data.get("null_values", [])
    if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
        problems.append('null_values must be a list of texts, such as ["null", "NULL"]')
        nulls = []
    chunk_rows = data.get("chunk_rows", CHUNK_ROWS)
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        problems.append("chunk_rows must be a whole number of rows, 1 or more")
        chunk_rows = CHUNK_ROWS
    terms = data.get("terms")
    if terms is not None:
        if not isinstance(terms, dict):
            problems.append("[terms] must be a table in the terms.toml layout")
            terms = None
        else:
            try:
                terms_from_dict(terms)
            except TermsError as exc:
                problems += [f"[terms]: {p.rstrip('.')}" for p in exc.problems]
    derive = data.get("derive", {})
    derive_customer = False
    if not isinstance(derive, dict):
        problems.append("[derive] must be a table")
    else:
        for key, value in derive.items():
            if key != "customer_at_from_won_deals":
                problems.append(f"[derive] '{key}' is not known (the setting is customer_at_from_won_deals)")
            elif not isinstance(value, bool):
                problems.append("[derive] customer_at_from_won_deals must be true or false")
            else:
                derive_customer = value
    combine: dict[str, dict[str, str]] = {}
    raw_combine = data.get("combine", {})
    if not isinstance(raw_combine, dict):
        problems.append("[combine] must be a table of tables")
    else:
        for table, rules in raw_combine.items():
            if table not in ALL_TABLES or not isinstance(rules, dict):
                problems.append(
                    f'[combine] \'{table}\' must be one of {", ".join(ALL_TABLES)} with column = "first" or "join"'
                )
                continue
            for column, how in rules.items():
                if column not in SCHEMAS[table] or how not in ("first", "join"):
                    problems.append(
                        f'[combine] {table}.{column} = {how!r}: give a {table} column and "first" or "join"'
                    )
            combine[table] = {str(c): str(h) for c, h in rules.items()}
    sources: list[Source] = []
    for table in ALL_TABLES:
        entries = data.get(table)
        if entries is None:
            continue
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            problems.append(f"[[{table}]] must be one or more tables")
            continue
        for number, entry in enumerate(entries, start=1):
            source = _parse_source(table, number, entry, problems)
            if source is not None:
                sources.append(source)
    if not sources and not problems:
        problems.append("it maps no file; add at least one [[leads]] source with a file and [leads.columns]")
    if problems:
        raise UserError(f"{origin} has problems: " + "; ".join(problems) + ".")
    return ImportMapping(
        name=str(data.get("name") or default_name),
        description=str(data.get("description") or ""),
        sources=sources,
        timezone=str(tz) if tz else None,
        null_values=frozenset(nulls),
        chunk_rows=chunk_rows,
        terms=terms,
        customer_at_from_won_deals=derive_customer,
        combine=combine,
    )


def _patterns(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    return None


def _parse_source(table: str, number: int, entry: Any, problems: list[str]) -> Source | None:
    where = f"[[{table}]] number {number}"
    if not isinstance(entry, dict):
        problems.append(f"{where} must be a table")
        return None
    for key in entry:
        if key not in _SOURCE_KEYS:
            problems.append(f"{where}: '{key}' is not a source setting (they are: {', '.join(sorted(_SOURCE_KEYS))})")
    patterns = _patterns(entry.get("file"))
    if patterns is None:
        problems.append(f'{where} needs file = "name or glob" (or a list of them)')
        patterns = ("",)
    mode = entry.get("mode", "rows")
    if mode not in MODES:
        problems.append(f"{where}: mode must be one of {', '.join(MODES)}, not {mode!r}")
    required = entry.get("required", True)
    if not isinstance(required, bool):
        problems.append(f"{where}: required must be true or false")
    delimiter = entry.get("delimiter")
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            problems.append(f'{where}: delimiter must be one character (or "tab")')
    encoding = entry.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            problems.append(f"{where}: encoding '{encoding}' is not known")
    sheet = entry.get("sheet")
    skip: list[Rule] = []
    raw_skip = entry.get("skip", [])
    if isinstance(raw_skip, str):
        raw_skip = [raw_skip]
    if not isinstance(raw_skip, list):
        problems.append(f"{where}: skip must be a list of rules")
        raw_skip = []
    for text in raw_skip:
        try:
            skip.append(Rule.parse(str(text)))
        except RuleError as exc:
            problems.append(f'{where}: the skip rule "{text}" cannot be read: {exc}')
    columns: dict[str, Spec] = {}
    raw_columns = entry.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        problems.append(f"{where} needs a [{table}.columns] table naming how canonical columns are made")
        raw_columns = {}
    for column, raw in raw_columns.items():
        if column not in SCHEMAS[table]:
            problems.append(f"{where}: '{column}' is not a {table} column (they are: {', '.join(SCHEMAS[table])})")
            continue
        spec = _parse_spec(raw, f"{where}, {column}", problems, top=column)
        if spec is not None:
            if SCHEMAS[table][column] != INSTANT and spec.formats:
                problems.append(f"{where}, {column}: format is only for date columns")
            columns[column] = spec
    id_column = ID_COLUMN[table]
    if raw_columns and id_column not in columns:
        problems.append(f"{where} must say how {id_column} is made")
    if raw_columns and mode != "enrich":
        for column in REQUIRED[table]:
            if column not in columns:
                problems.append(f"{where} must say how {column} is made (every {table} row needs one)")
    return Source(
        table,
        number,
        patterns,
        columns,
        mode,
        bool(required),
        delimiter,
        str(encoding) if encoding else None,
        sheet,
        skip,
    )


def _parse_spec(raw: Any, where: str, problems: list[str], top: str | None = None) -> Spec | None:
    if isinstance(raw, str):
        return Spec("column", label=raw, column=raw)
    if not isinstance(raw, dict):
        problems.append(f'{where}: give a column name or a table such as {{ column = "X" }}')
        return None
    for key in raw:
        if key not in _BASE_KEYS and key not in _OPTION_KEYS:
            problems.append(
                f"{where}: '{key}' is not known (use one of {', '.join(_BASE_KEYS)} and options "
                f"{', '.join(sorted(_OPTION_KEYS))})"
            )
    bases = [k for k in _BASE_KEYS if k in raw]
    if len(bases) != 1:
        problems.append(f"{where}: give exactly one of {', '.join(_BASE_KEYS)}")
        return None
    base = bases[0]
    spec = Spec(base, label=top or base)
    arg = raw[base]
    if base == "column":
        if not isinstance(arg, str) or not arg.strip():
            problems.append(f"{where}: column must be a column name")
            return None
        spec.column, spec.label = arg, arg
    elif base == "value":
        if isinstance(arg, bool):
            arg = "true" if arg else "false"
        if not isinstance(arg, (str, int, float)):
            problems.append(f"{where}: value must be a text or a number")
            return None
        spec.value, spec.label = str(arg), f"{top or 'value'} (constant)"
    elif base in ("concat", "first_of", "hash"):
        if not isinstance(arg, list) or not arg:
            problems.append(f"{where}: {base} must be a list of columns or specs")
            return None
        for i, item in enumerate(arg, start=1):
            part = _parse_spec(item, f"{where}, {base} item {i}", problems)
            if part is not None:
                spec.parts.append(part)
        spec.label = f"{base}({', '.join(p.label for p in spec.parts)})"
    elif base == "row_number":
        if arg is not True:
            problems.append(f"{where}: write row_number = true")
        spec.label = f"{top or 'id'} (row number)"
    elif base == "cases":
        if not isinstance(arg, list) or not arg:
            problems.append(f'{where}: cases must be a list of {{ if = "rule", ... }} tables')
            return None
        for i, item in enumerate(arg, start=1):
            if not isinstance(item, dict) or "if" not in item:
                problems.append(f'{where}: case {i} needs if = "rule"')
                continue
            try:
                rule = Rule.parse(str(item["if"]))
            except RuleError as exc:
                problems.append(f'{where}: the rule "{item["if"]}" cannot be read: {exc}')
                continue
            part = _parse_spec({k: v for k, v in item.items() if k != "if"}, f"{where}, case {i}", problems)
            if part is not None:
                spec.cases.append((rule, part))
        if "else" in raw:
            spec.fallback = _parse_spec(raw["else"], f"{where}, else", problems)
        spec.label = top or "cases"
        shown = sorted({c for r, s in spec.cases for c in s.columns()})
        if shown and top:
            spec.label = "/".join(shown)
    if "else" in raw and base != "cases":
        problems.append(f"{where}: else is only for cases")
    if "sep" in raw:
        if not isinstance(raw["sep"], str):
            problems.append(f"{where}: sep must be a text")
        else:
            spec.sep = raw["sep"]
    if "lookup" in raw:
        spec.lookup = _parse_lookup(raw["lookup"], where, problems)
    if "map" in raw:
        if not isinstance(raw["map"], dict):
            problems.append(f'{where}: map must be a table such as {{ Won = "won" }}')
        else:
            spec.map = {str(k).strip().casefold(): _text(v) for k, v in raw["map"].items()}
    if "known" in raw:
        if not isinstance(raw["known"], list):
            problems.append(f"{where}: known must be a list of values")
        else:
            spec.known = {str(v).strip().casefold() for v in raw["known"]}
    if "unknown" in raw:
        if raw["unknown"] not in ("warn", "keep", "error"):
            problems.append(f'{where}: unknown must be "warn", "keep" or "error"')
        else:
            spec.unknown = raw["unknown"]
    if "otherwise" in raw:
        spec.otherwise = _text(raw["otherwise"])
    if "default" in raw:
        spec.default = _text(raw["default"])
    if "prefix" in raw:
        spec.prefix = _text(raw["prefix"])
    if "format" in raw:
        formats = raw["format"]
        formats = [formats] if isinstance(formats, str) else formats
        if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f for f in formats):
            problems.append(f"{where}: format must be a strptime format or a list of them")
        else:
            spec.formats = list(formats)
    if "decimal" in raw:
        if raw["decimal"] not in (".", ","):
            problems.append(f'{where}: decimal must be "." or ","')
        else:
            spec.decimal = raw["decimal"]
    if "optional" in raw:
        if not isinstance(raw["optional"], bool):
            problems.append(f"{where}: optional must be true or false")
        else:
            spec.optional = raw["optional"]
    return spec


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _parse_lookup(raw: Any, where: str, problems: list[str]) -> Lookup | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: lookup must be a table {{ file = ..., key = ..., value = ... }}")
        return None
    for key in raw:
        if key not in _LOOKUP_KEYS:
            problems.append(f"{where}: lookup '{key}' is not known (use {', '.join(sorted(_LOOKUP_KEYS))})")
    patterns = _patterns(raw.get("file"))
    key, value = raw.get("key"), raw.get("value")
    unmatched = raw.get("unmatched", "empty")
    if patterns is None or not isinstance(key, str) or not isinstance(value, str):
        problems.append(f"{where}: lookup needs file, key and value")
        return None
    if unmatched not in ("empty", "keep"):
        problems.append(f'{where}: lookup unmatched must be "empty" or "keep"')
    return Lookup(patterns, key, value, unmatched)


def canonical_mapping() -> ImportMapping:
    """The canonical layout (owners.csv, leads.csv, ... with canonical headers) as a mapping."""
    data: dict[str, Any] = {"name": "canonical"}
    for table in ALL_TABLES:
        columns: dict[str, Any] = {}
        for column in SCHEMAS[table]:
            spec: dict[str, Any] = {"column": column}
            if column not in REQUIRED[table]:
                spec["optional"] = True
            columns[column] = spec
        data[table] = [{"file": [f"{table}.csv", f"{table}.xlsx"], "required": table == "leads", "columns": columns}]
    return mapping_from_dict(data, origin="the canonical layout", default_name="canonical")


# -- input files ----------------------------------------------------------------------------------


@dataclass
class InputFile:
    """A file to read: on disk or uploaded bytes."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    _encoding: str | None = None

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    @property
    def is_excel(self) -> bool:
        return self.suffix in EXCEL_SUFFIXES

    @property
    def stem(self) -> str:
        return Path(self.name).stem


def _detect_encoding(f: InputFile) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252, else Latin-1; one streaming pass."""
    if f._encoding:
        return f._encoding
    with f.open() as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            f._encoding = "utf-8-sig"
            return f._encoding
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            f._encoding = "utf-16"
            return f._encoding
        for candidate in ("utf-8", "cp1252"):
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(candidate)()
            try:
                while block := handle.read(1 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            f._encoding = "utf-8-sig" if candidate == "utf-8" else candidate
            return f._encoding
    f._encoding = "latin-1"
    return f._encoding


def _head_text(f: InputFile, encoding: str, size: int = 1 << 16) -> str:
    with f.open() as handle:
        raw = handle.read(size)
    return raw.decode(encoding, errors="replace")


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def detect_delimiter(header_line: str) -> str:
    """The candidate (, ; tab |) that splits the header into the most columns; ',' when none does."""
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] else ","


@dataclass
class TableReader:
    """A file's header and a way to read its rows in chunks (as stripped text)."""

    file: InputFile
    header: list[str]
    delimiter: str | None
    encoding: str | None
    sheet: Any = None
    problems: list[str] = field(default_factory=list)
    done: float = 0.0

    def chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """Chunks of text with a RangeIndex continuing across chunks (row = index + 2); `done` is the
        share of the file read so far (bytes for text, rows for a sheet)."""
        if self.file.is_excel:
            frame = _read_excel(self.file, self.sheet)
            for start in range(0, len(frame), chunk_rows):
                self.done = min(1.0, (start + chunk_rows) / max(1, len(frame)))
                yield frame.iloc[start : start + chunk_rows]
            return
        size = max(1, self.file.size)
        with self.file.open() as handle:
            reader = pd.read_csv(
                handle,
                sep=self.delimiter,
                dtype=str,
                na_filter=False,
                keep_default_na=False,
                skip_blank_lines=False,
                chunksize=chunk_rows,
                encoding=self.encoding,
                index_col=False,
                header=0,
                engine="c",
            )
            rows = iter(reader)
            while True:
                # pandas drops the fields past the header with only a warning: refuse when one held data
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    chunk = next(rows, None)
                if chunk is None:
                    return
                if any(issubclass(w.category, pd.errors.ParserWarning) for w in seen):
                    lost = self.lost_fields()
                    if lost:
                        raise _FileProblem(lost)
                chunk.columns = self.header
                self.done = min(1.0, handle.tell() / size)
                yield chunk

    def lost_fields(self) -> str | None:
        """The first record with a non-empty field past the header's columns, as a problem."""
        with self.file.open() as handle:
            text = io.TextIOWrapper(handle, encoding=self.encoding or "utf-8", errors="replace", newline="")
            for number, record in enumerate(csv.reader(text, delimiter=self.delimiter or ","), start=1):
                extra = [v for v in record[len(self.header) :] if v.strip()]
                if number > 1 and extra:
                    return (
                        f"{self.file.name}, row {number}: has {len(record)} fields but the header has "
                        f"{len(self.header)}; '{cell_text(extra[0])}' would be lost (check the delimiter and quotes)."
                    )
        return None


def _read_excel(f: InputFile, sheet: Any) -> pd.DataFrame:
    """The sheet as text (a header row, then records); a _FileProblem when it is not a workbook,
    has no such sheet, or is wider than MAX_EXCEL_COLUMNS."""
    _check_excel_width(f, sheet)
    try:
        with f.open() as handle:
            frame = pd.read_excel(
                handle,
                sheet_name=0 if sheet is None else sheet,
                dtype=str,
                na_filter=False,
                keep_default_na=False,
                header=0,
            )
    except ValueError as exc:
        raise _FileProblem(f"{f.name} cannot be read as an Excel workbook: {str(exc).strip()}.") from None
    except Exception:  # a zip that is not a workbook, a CSV named .xlsx, a truncated file
        raise _FileProblem(
            f"{f.name} is not an Excel workbook (.xlsx) that can be read; save it again from Excel, or as CSV."
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(str).reset_index(drop=True)


def _check_excel_width(f: InputFile, sheet: Any) -> None:
    """Refuse a sheet whose used range (as the workbook states it) is wider than MAX_EXCEL_COLUMNS."""
    import openpyxl

    try:
        with f.open() as handle:
            book = openpyxl.load_workbook(handle, read_only=True)
            try:
                sheets = book.worksheets
                chosen = book[sheet] if isinstance(sheet, str) and sheet in book.sheetnames else None
                if chosen is None and isinstance(sheet, int | None) and (sheet or 0) < len(sheets):
                    chosen = sheets[sheet or 0]
                width = chosen.max_column if chosen is not None else None
            finally:
                book.close()
    except Exception:  # not a workbook, or no stated size: pandas reads it and explains
        return
    if width is not None and width > MAX_EXCEL_COLUMNS:
        raise _FileProblem(
            f"{f.name} has a cell in column {openpyxl.utils.get_column_letter(width)}, {width:,} columns wide; "
            f"a sheet can have at most {MAX_EXCEL_COLUMNS:,} columns: delete the cells far to the right and save it again."
        )


class _FileProblem(Exception):
    """A file that cannot be read at all; its message names the file."""


def open_table(f: InputFile, *, delimiter: str | None, encoding: str | None, sheet: Any) -> TableReader:
    """Detect the encoding and delimiter and read the header; problems with the layout are listed."""
    if f.is_excel:
        frame = _read_excel(f, sheet)
        return TableReader(f, list(frame.columns), None, None, sheet)
    encoding = encoding or _detect_encoding(f)
    try:
        text = _head_text(f, encoding)
    except LookupError:
        raise _FileProblem(f"{f.name}: the encoding '{encoding}' is not known.") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise _FileProblem(f"{f.name} is empty; it needs a header row with the column names.")
    first_line = text.splitlines()[0]
    chosen = delimiter or detect_delimiter(first_line)
    try:
        sample = list(csv.reader(io.StringIO(text), delimiter=chosen))
    except csv.Error as exc:  # a NUL or a bare carriage return inside a field
        raise _FileProblem(f"{f.name} could not be read as CSV: {exc}.") from None
    if len(text) >= (1 << 16) - 4 and len(sample) > 1:
        sample = sample[:-1]  # the last record may be cut
    header = [h.strip() for h in sample[0]] if sample else []
    problems: list[str] = []
    others = [d for d in DELIMITERS if d != chosen and _count_outside_quotes(first_line, d)]
    if len(header) == 1 and others:
        shown = {"\t": "tab"}.get(others[0], others[0])
        told = {"\t": "tab"}.get(chosen, chosen)
        problems.append(
            f"{f.name}: the header is one column '{header[0][:80]}' when split at '{told}'; "
            f"the file looks separated by '{shown}' (set delimiter = \"{shown}\" in the mapping, or remove delimiter to detect it)."
        )
    elif len(header) > 1:
        for number, record in enumerate(sample[1:51], start=2):
            if len(record) == 1 and record[0].strip():
                hits = [d for d in DELIMITERS if d != chosen and d in record[0]]
                if hits:
                    shown = {"\t": "tab"}.get(hits[0], hits[0])
                    told = {"\t": "tab"}.get(chosen, chosen)
                    problems.append(
                        f"{f.name}, row {number}: '{record[0][:80]}' is one field, but the header has "
                        f"{len(header)} columns separated by '{told}'; the rows look separated by '{shown}'."
                    )
                    break
    seen: set[str] = set()
    dups = [h for h in header if h and (h in seen or seen.add(h))]
    if dups:
        problems.append(f"{f.name}: the header names the column '{dups[0]}' twice; each column needs its own name.")
    return TableReader(f, header, chosen, encoding, sheet, problems)


def _parser_problem(f: InputFile, exc: Exception, reader: TableReader) -> str:
    text = str(exc).strip()
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    told = {"\t": "tab"}.get(reader.delimiter or ",", reader.delimiter)
    if match:
        expected, line, saw = match.groups()
        return (
            f"{f.name}, line {line}: has {saw} fields but the header has {expected}; check the delimiter "
            f"('{told}') and that text with delimiters is in double quotes."
        )
    if isinstance(exc, UnicodeDecodeError):
        return f"{f.name} is not in the encoding {reader.encoding}: {exc.reason} at byte {exc.start}."
    return f"{f.name} could not be read as CSV: {text}."


def list_folder(directory: Path) -> list[InputFile]:
    """The files directly in a folder (sorted by name)."""
    return [InputFile(p.name, path=p) for p in sorted(directory.iterdir(), key=lambda p: p.name) if p.is_file()]


def match_files(files: list[InputFile], patterns: tuple[str, ...]) -> list[InputFile]:
    """Files whose names match any pattern (case-insensitive), in folder order, each once."""
    lowered = [p.lower() for p in patterns]
    return [
        f
        for f in files
        if any(fnmatch.fnmatchcase(f.name.lower(), p) for p in lowered) and (f.suffix in TEXT_SUFFIXES or f.is_excel)
    ]


# -- running a mapping ----------------------------------------------------------------------------


class _Problems:
    """Problems kept as text up to a limit, all of them counted."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.total = 0

    def add(self, text: str) -> None:
        self.total += 1
        if len(self.texts) < _MAX_TEXT_PROBLEMS:
            self.texts.append(text)

    def extend(self, texts: list[str], total: int | None = None) -> None:
        room = _MAX_TEXT_PROBLEMS - len(self.texts)
        self.texts += texts[: max(room, 0)]
        self.total += len(texts) if total is None else total

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass
class _Unknown:
    """Values a spec's map/known did not cover, across chunks."""

    file: str
    label: str
    otherwise: str | None
    values: Counter = field(default_factory=Counter)
    first_row: dict[str, int] = field(default_factory=dict)

    def warning(self) -> str:
        total = sum(self.values.values())
        shown = ", ".join(
            f"'{v}' ({n} row{'s' if n != 1 else ''}, first at row {self.first_row[v]})"
            for v, n in self.values.most_common(_MAX_UNKNOWN_VALUES)
        )
        more = (
            f" and {len(self.values) - _MAX_UNKNOWN_VALUES} more values"
            if len(self.values) > _MAX_UNKNOWN_VALUES
            else ""
        )
        fate = f"they became '{self.otherwise}'" if self.otherwise is not None else "they were kept as they are"
        rows = f"{total} rows have values" if total != 1 else "1 row has a value"
        return f"{self.file}, column {self.label}: {rows} the mapping does not know ({shown}{more}); {fate}."


@dataclass
class _Part:
    """What one source produced: its canonical rows (mapped columns only) and row numbers."""

    source: Source
    frame: pd.DataFrame
    rows: np.ndarray
    files: np.ndarray


@dataclass
class RunResult:
    data: CrmData
    warnings: list[str]
    skipped: dict[str, int]
    files: list[dict]
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _Runner:
    def __init__(
        self,
        mapping: ImportMapping,
        files: list[InputFile],
        tz: str,
        *,
        stop_early: bool = False,
        progress: Ticker | None = None,
    ):
        self.progress = progress or Ticker(None)
        self.read_bytes = 0
        self.total_bytes = 1
        self.mapping = mapping
        self.files = files
        self.tz = tz
        self.problems = _Problems()
        self.warnings: list[str] = []
        self.unknown: dict[tuple, _Unknown] = {}
        self.lookups: dict[tuple, pd.Series] = {}
        self.skipped: Counter = Counter()
        self.file_stats: list[dict] = []
        self.stop_early = stop_early
        self.carried: dict[str, set[str]] = {t: set() for t in ALL_TABLES}

    # reading ---------------------------------------------------------------------------

    def run(self) -> RunResult:
        parts: dict[str, list[_Part]] = {t: [] for t in ALL_TABLES}
        self.total_bytes = max(
            1, sum(f.size for source in self.mapping.sources for f in match_files(self.files, source.patterns))
        )
        for source in self.mapping.sources:
            matched = match_files(self.files, source.patterns)
            if not matched:
                if source.required:
                    names = ", ".join(f.name for f in self.files) or "no files"
                    self.problems.add(
                        f"No file matches {' or '.join(source.patterns)} (needed for {source.table}); "
                        f"the files are: {names}."
                    )
                continue
            part = self._read_source(source, matched)
            if part is not None:
                parts[source.table].append(part)
        if self.problems:
            raise ImportFailed(self.problems.texts, total=self.problems.total)
        canonical: dict[str, pd.DataFrame] = {}
        for table in ALL_TABLES:
            if parts[table]:
                combined = self._combine(table, parts.pop(table))
                canonical[table] = normalize(table, combined)
                del combined
        data = CrmData(**{t: canonical.pop(t) if t in canonical else empty_frame(t) for t in ALL_TABLES})
        if self.mapping.customer_at_from_won_deals:
            data = _derive_customer_at(data)
            self.carried["leads"].add("customer_at")
        for entry in self.unknown.values():
            self.warnings.append(entry.warning())
        columns = {t: tuple(c for c in SCHEMAS[t] if c in self.carried[t]) for t in ALL_TABLES if self.carried[t]}
        skipped = {t: n for t, n in self.skipped.items() if n}
        return RunResult(data, self.warnings, skipped, self.file_stats, columns)

    def _read_source(self, source: Source, matched: list[InputFile]) -> _Part | None:
        pieces: list[pd.DataFrame] = []
        ids: list[pd.Series] = []
        rows: list[np.ndarray] = []
        file_index: list[np.ndarray] = []
        mapped = list(source.columns)
        formats = {c: s.formats for c, s in source.columns.items() if s.formats}
        decimals = {c: s.decimal for c, s in source.columns.items() if SCHEMAS[source.table][c] == AMOUNT}
        labels = {c: s.label for c, s in source.columns.items()}
        id_column = ID_COLUMN[source.table]
        for number, f in enumerate(matched):
            try:
                reader = open_table(f, delimiter=source.delimiter, encoding=source.encoding, sheet=source.sheet)
            except _FileProblem as exc:
                self.problems.add(str(exc))
                continue
            if reader.problems:
                self.problems.extend(reader.problems)
                continue
            resolve, missing_ok = self._resolve_columns(source, reader)
            if resolve is None:
                continue
            self.carried[source.table] |= _carried_columns(source, missing_ok)
            for spec in source.columns.values():
                for lookup, optional in spec.lookups():
                    self._load_lookup(lookup, optional)
            file_formats = formats
            if f.is_excel:
                file_formats = {c: [*fs, "ISO8601"] for c, fs in formats.items()}
            stats = {"file": f.name, "table": source.table, "mode": source.mode, "rows": 0, "skipped": 0}
            self.file_stats.append(stats)
            ctx_multi = len(matched) > 1
            chunks = reader.chunks(self.mapping.chunk_rows)
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                    self.problems.add(_parser_problem(f, exc, reader))
                    break
                except _FileProblem as exc:
                    self.problems.add(str(exc))
                    break
                frame, chunk_rows = self._chunk(
                    source, f, chunk, resolve, missing_ok, ctx_multi, stats, file_formats, decimals, labels
                )
                self.progress(
                    (self.read_bytes + reader.done * f.size) / self.total_bytes,
                    f"Reading {f.name}: {stats['rows']:,} rows",
                )
                ids.append(frame[id_column].astype(str).reset_index(drop=True))
                rows.append(chunk_rows)
                file_index.append(np.full(len(chunk_rows), number, dtype=np.int32))
                if not self.problems:
                    pieces.append(frame[mapped])
                if self.stop_early and self.problems.total >= MAX_PROBLEMS:
                    break
            self.read_bytes += f.size
        if self.problems and not rows:
            return None
        all_ids = pd.concat(ids, ignore_index=True) if ids else pd.Series([], dtype=str)
        ids.clear()
        all_rows = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
        all_files = np.concatenate(file_index) if file_index else np.array([], dtype=np.int32)
        if source.mode == "rows":
            self._report_duplicates(source, matched, all_ids, all_rows, all_files, labels.get(id_column, id_column))
        if self.problems:
            return None
        frame = pd.concat(pieces, ignore_index=True) if pieces else _empty_mapped(source.table, mapped)
        pieces.clear()
        return _Part(source, frame, all_rows, all_files)

    def _resolve_columns(self, source: Source, reader: TableReader) -> tuple[dict[str, str] | None, set[str]]:
        """Map the mapping's column names to the header's (exact, else case-insensitive)."""
        header = reader.header
        exact = set(header)
        folded: dict[str, list[str]] = {}
        for h in header:
            folded.setdefault(h.casefold(), []).append(h)
        needed: set[str] = set()
        required: dict[str, str] = {}
        for column, spec in source.columns.items():
            needed |= spec.columns()
            for name in spec.required_columns():
                required.setdefault(name, f"{source.table}.{column}")
        for rule in source.skip:
            needed |= rule.columns()
            for name in rule.columns():
                required.setdefault(name, f'the skip rule "{rule.text}"')
        resolve: dict[str, str] = {}
        missing: list[str] = []
        for name in sorted(needed):
            if name in exact:
                resolve[name] = name
            elif len(folded.get(name.strip().casefold(), [])) == 1:
                resolve[name] = folded[name.strip().casefold()][0]
            elif name in required:
                missing.append(name)
        if missing:
            for name in missing:
                self.problems.add(
                    f"{reader.file.name} has no column '{name}' (needed for {required[name]}); "
                    f"the columns are: {', '.join(header)}."
                )
            return None, set()
        absent = {n for n in needed if n not in resolve}
        if absent:
            self.warnings.append(
                f"{reader.file.name} has no column {', '.join(sorted(absent))}; "
                f"the values made from {'it' if len(absent) == 1 else 'them'} keep what is stored (empty for new rows)."
            )
        return resolve, absent

    def _load_lookup(self, lookup: Lookup, optional: bool) -> None:
        """Read a lookup's key and value columns (streamed) into a Series indexed by key."""
        if lookup.cache_key in self.lookups:
            return
        matched = match_files(self.files, lookup.patterns)
        table = pd.Series(dtype=object)
        what = f"a lookup of {lookup.value} by {lookup.key}"
        if not matched:
            if optional:
                self.warnings.append(f"No file matches {' or '.join(lookup.patterns)}; {what} found nothing.")
            else:
                self.problems.add(f"No file matches {' or '.join(lookup.patterns)} (needed for {what}).")
        pieces = []
        for f in matched:
            try:
                reader = open_table(f, delimiter=None, encoding=None, sheet=None)
            except _FileProblem as exc:
                self.problems.add(str(exc))
                continue
            if reader.problems:
                self.problems.extend(reader.problems)
                continue
            missing = [c for c in (lookup.key, lookup.value) if c not in reader.header]
            if missing and optional:
                self.warnings.append(f"{f.name} has no column {missing[0]}; {what} found nothing.")
                continue
            if missing:
                self.problems.add(
                    f"{f.name} has no column '{missing[0]}' (needed for {what}); "
                    f"the columns are: {', '.join(reader.header)}."
                )
                continue
            try:
                for chunk in reader.chunks(self.mapping.chunk_rows):
                    keys = self._clean(chunk[lookup.key])
                    values = self._clean(chunk[lookup.value])
                    keep = keys != ""
                    pieces.append(pd.Series(values[keep].to_numpy(), index=keys[keep].to_numpy()))
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                self.problems.add(_parser_problem(f, exc, reader))
        if pieces:
            table = pd.concat(pieces)
            table = table[~table.index.duplicated(keep="first")]
        self.lookups[lookup.cache_key] = table

    def _clean(self, values: pd.Series) -> pd.Series:
        text = values.astype(str).str.strip()
        if self.mapping.null_values:
            text = text.mask(text.isin(self.mapping.null_values), "")
        return text

    def _chunk(
        self,
        source: Source,
        f: InputFile,
        chunk: pd.DataFrame,
        resolve: dict[str, str],
        absent: set[str],
        multi: bool,
        stats: dict,
        formats: dict,
        decimals: dict,
        labels: dict,
    ) -> tuple[pd.DataFrame, np.ndarray] | None:
        rows = chunk.index.to_numpy() + 2
        used = {name: self._clean(chunk[actual]) for name, actual in resolve.items()}
        frame = pd.DataFrame(used, index=chunk.index) if used else pd.DataFrame(index=chunk.index)
        empty_text = pd.Series("", index=chunk.index, dtype=str)

        def column(name: str) -> pd.Series:
            if name in frame.columns:
                return frame[name]
            if name in absent:
                return empty_text
            raise RuleError(f"no column {name}")

        # blank rows (every used cell empty) and rule-skipped rows
        stats["rows"] += len(chunk)
        keep = (chunk != "").any(axis=1) if len(chunk.columns) else pd.Series(True, index=chunk.index)
        for rule in source.skip:
            keep &= ~rule.holds(frame, column)
        dropped = int((~keep).sum())
        if dropped:
            frame = frame[keep]
            rows = rows[keep.to_numpy()]
            empty_text = empty_text[keep]
        ctx = _Ctx(self, f, frame, rows, column=column, multi=multi)
        texts = {c: ctx.evaluate(spec, canonical=c) for c, spec in source.columns.items()}
        raw = pd.DataFrame(texts, index=frame.index)
        id_column = ID_COLUMN[source.table]
        if source.mode != "rows":
            has_id = raw[id_column] != ""
            if not has_id.all():
                dropped += int((~has_id).sum())
                raw = raw[has_id]
                rows = rows[has_id.to_numpy()]
        stats["skipped"] += dropped
        self.skipped[source.table] += dropped
        tally: Counter = Counter()
        parsed, problems = parse_table(
            source.table,
            raw,
            tz=self.tz,
            label=f.name,
            rows=rows,
            formats=formats,
            decimals=decimals,
            column_labels=labels,
            check_duplicates=False,
            tally=tally,
            required=(id_column,) if source.mode == "enrich" else None,
        )
        if problems:
            unique = list(dict.fromkeys(problems))  # one file column may feed two canonical columns
            self.problems.extend(unique, tally["problems"] - (len(problems) - len(unique)))
            parsed = raw.iloc[0:0]
            return pd.DataFrame({id_column: raw[id_column].to_numpy()}), rows
        return parsed, rows

    def _report_duplicates(
        self, source: Source, matched: list[InputFile], ids: pd.Series, rows: np.ndarray, files: np.ndarray, label: str
    ) -> None:
        dup = (ids != "") & ids.duplicated(keep=False)
        if not dup.any():
            return
        first_seen: dict[Any, tuple[int, int]] = {}
        table = source.table
        count = 0
        for position in np.flatnonzero(dup.to_numpy()):
            value = ids.iat[position]
            where = (int(files[position]), int(rows[position]))
            if value not in first_seen:
                first_seen[value] = where
                continue
            count += 1
            f0, r0 = first_seen[value]
            first = f"row {r0}" if f0 == where[0] else f"{matched[f0].name} row {r0}"
            if count <= _MAX_TEXT_PROBLEMS:
                self.problems.add(
                    f"{matched[where[0]].name}, row {where[1]}, column {label}: '{cell_text(value)}' appears more than once "
                    f"(first at {first}); each {ID_COLUMN[table]} must be unique."
                )
            else:
                self.problems.total += 1

    # combining -------------------------------------------------------------------------

    def _combine(self, table: str, parts: list[_Part]) -> pd.DataFrame:
        id_column = ID_COLUMN[table]
        base = [p for p in parts if p.source.mode != "enrich"]
        enrich = [p for p in parts if p.source.mode == "enrich"]
        if len(base) == 1 and base[0].source.mode == "rows" and not enrich:
            return base[0].frame
        known = (
            pd.Index(pd.concat([p.frame[id_column] for p in base], ignore_index=True).unique())
            if base
            else pd.Index([])
        )
        frames = [p.frame for p in base]
        for p in enrich:
            hit = p.frame[id_column].isin(known)
            missing = int((~hit).sum())
            if missing:
                self.skipped[table] += missing
                examples = ", ".join(f"'{v}'" for v in p.frame.loc[~hit, id_column].head(3))
                self.warnings.append(
                    f"{p.source.name}: {missing} row{'s' if missing != 1 else ''} name a {id_column} that no other "
                    f"{table} source has (for example {examples}); they were skipped."
                )
            frames.append(p.frame[hit])
        if not frames:
            return pd.DataFrame(columns=[id_column])
        stacked = pd.concat(frames, ignore_index=True)
        rules = self.mapping.combine.get(table, {})
        grouped = stacked.groupby(id_column, sort=False)
        combined = grouped.first()
        for column, how in rules.items():
            if how == "join" and column in stacked.columns:
                combined[column] = grouped[column].agg(_join_distinct)
        return combined.reset_index()


def _carried_columns(source: Source, absent: set[str]) -> set[str]:
    """The canonical columns a file carries: those made from at least one of its columns (or a constant)."""
    return {c for c, spec in source.columns.items() if not spec.columns() or not spec.columns() <= absent}


def _empty_mapped(table: str, columns: list[str]) -> pd.DataFrame:
    return normalize(table, pd.DataFrame({c: [] for c in columns}))[columns]


def _join_distinct(values: pd.Series) -> Any:
    seen = [str(v) for v in dict.fromkeys(values.dropna()) if str(v) != ""]
    return " / ".join(seen) if seen else None


def _derive_customer_at(data: CrmData) -> CrmData:
    """Leads without customer_at get the earliest closed_at of their won deals."""
    deals = data.deals
    won = deals.loc[(deals["status"] == "won") & deals["closed_at"].notna() & deals["lead_id"].notna()]
    if won.empty:
        return data
    first = won.groupby("lead_id")["closed_at"].min()
    leads = data.leads.copy()
    fill = leads["customer_at"].isna()
    leads.loc[fill, "customer_at"] = leads.loc[fill, "lead_id"].map(first).astype(leads["customer_at"].dtype)
    return CrmData(owners=data.owners, leads=leads, touches=data.touches, deals=data.deals)


class _Ctx:
    """Evaluates specs over one chunk."""

    def __init__(
        self, runner: _Runner, f: InputFile, frame: pd.DataFrame, rows: np.ndarray, *, column: Any, multi: bool
    ):
        self.runner, self.f, self.frame, self.rows, self.column, self.multi = runner, f, frame, rows, column, multi

    def constant(self, value: str) -> pd.Series:
        return pd.Series(value, index=self.frame.index, dtype=str)

    def evaluate(self, spec: Spec, canonical: str | None = None) -> pd.Series:
        values = self._base(spec)
        if spec.lookup is not None:
            table = self.runner.lookups.get(spec.lookup.cache_key, pd.Series(dtype=object))
            found = values.map(table) if len(table) else pd.Series(np.nan, index=values.index)
            hit = found.notna() & (values != "")
            fallback = values if spec.lookup.unmatched == "keep" else self.constant("")
            values = found.astype(object).where(hit, fallback).astype(str)
        if spec.map is not None or spec.known is not None:
            values = self._translate(spec, values)
        if spec.default is not None:
            values = values.mask(values == "", spec.default)
        if spec.prefix:
            values = values.mask(values != "", spec.prefix + values)
        return values

    def _base(self, spec: Spec) -> pd.Series:
        if spec.base == "column":
            return self.column(spec.column)
        if spec.base == "value":
            return self.constant(spec.value)
        if spec.base == "first_of":
            result = self.evaluate(spec.parts[0])
            for part in spec.parts[1:]:
                result = result.mask(result == "", self.evaluate(part))
            return result
        if spec.base == "concat":
            result = self.evaluate(spec.parts[0])
            for part in spec.parts[1:]:
                nxt = self.evaluate(part)
                joined = result + spec.sep + nxt
                result = joined.mask(result == "", nxt).mask(nxt == "", result)
            return result
        if spec.base == "hash":
            columns = [self.evaluate(p).tolist() for p in spec.parts]
            digests = [
                "" if not any(vals) else hashlib.sha1("\x1f".join(vals).encode("utf-8")).hexdigest()[:16]
                for vals in zip(*columns)
            ]
            return pd.Series(digests, index=self.frame.index, dtype=str)
        if spec.base == "row_number":
            stem = f"{self.f.stem}:" if self.multi else ""
            return pd.Series([f"{stem}{r}" for r in self.rows], index=self.frame.index, dtype=str)
        if spec.base == "cases":
            result = self.constant("")
            decided = pd.Series(False, index=self.frame.index)
            for rule, part in spec.cases:
                hit = rule.holds(self.frame, self.column) & ~decided
                if hit.any():
                    result = result.mask(hit, self.evaluate(part))
                decided |= hit
            if spec.fallback is not None and (~decided).any():
                result = result.mask(~decided, self.evaluate(spec.fallback))
            return result
        raise AssertionError(spec.base)

    def _translate(self, spec: Spec, values: pd.Series) -> pd.Series:
        folded = values.str.casefold()
        mapped = folded.map(spec.map) if spec.map else pd.Series(np.nan, index=values.index)
        hit = mapped.notna()
        result = mapped.astype(object).where(hit, values).astype(str)
        known = folded.isin(spec.known) if spec.known else pd.Series(False, index=values.index)
        unknown = (values != "") & ~hit & ~known
        if not unknown.any():
            return result
        if spec.unknown == "error":
            positions = np.flatnonzero(unknown.to_numpy())
            accepted = sorted(set(spec.map or {}) | set(spec.known or set()))
            for position in positions:
                self.runner.problems.add(
                    f"{self.f.name}, row {self.rows[position]}, column {spec.label}: '{values.iloc[position]}' "
                    f"is not one of the values the mapping knows ({', '.join(accepted)})."
                )
            return result
        if spec.otherwise is not None:
            result = result.mask(unknown, spec.otherwise)
        if spec.unknown == "warn" or spec.otherwise is not None:
            key = (self.f.name, spec.label, id(spec))
            entry = self.runner.unknown.setdefault(key, _Unknown(self.f.name, spec.label, spec.otherwise))
            counts = values[unknown].value_counts()
            entry.values.update(counts.to_dict())
            first_rows = pd.Series(self.rows[unknown.to_numpy()], index=values[unknown].to_numpy())
            for value, row in first_rows.groupby(level=0).min().items():
                entry.first_row.setdefault(value, int(row))
        return result


# -- timezone and terms ---------------------------------------------------------------------------


def _parse_timezone(mapping: ImportMapping, terms_text: str | None, fallback: str) -> str:
    """Naive times are local in: the mapping's timezone, else terms.toml's, else [terms]', else fallback."""
    if mapping.timezone:
        return mapping.timezone
    if terms_text is not None:
        return parse_terms_toml(terms_text)[0].timezone
    if mapping.terms is not None:
        return terms_from_dict(mapping.terms)[0].timezone
    return fallback


def _mapping_terms_toml(mapping: ImportMapping) -> str | None:
    if mapping.terms is None:
        return None
    import tomli_w

    return tomli_w.dumps(mapping.terms)


def run_mapping(
    mapping: ImportMapping, files: list[InputFile], tz: str, *, stop_early: bool = False, progress: Ticker | None = None
) -> RunResult:
    """Read and check every source of a mapping; ImportFailed with every problem, else the data."""
    return _Runner(mapping, files, tz, stop_early=stop_early, progress=progress).run()


# -- the API --------------------------------------------------------------------------------------


def _resolve_mapping(mapping_file: str | Path | None, preset: str | None, text: str | None = None) -> ImportMapping:
    given = [x for x in (mapping_file, preset, text) if x]
    if len(given) > 1:
        raise UserError("Give either a mapping file or a preset, not both.")
    if not given:
        return canonical_mapping()
    return load_mapping(mapping_file=mapping_file or None, preset=preset or None, text=text or None)


def import_mapped(
    engine: Engine,
    directory: str | Path,
    *,
    mapping_file: str | Path | None = None,
    preset: str | None = None,
    refuse_unknown: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Import a folder of CRM exports through a mapping file or preset, all or nothing.

    Returns {"counts": {table: {inserted, updated, unchanged, skipped}}, "warnings": [...],
    "terms_effective_from": "YYYY-MM" or None, "files": [{file, table, mode, rows, skipped}],
    "mapping": name}. Rows naming a lead or owner nobody has, and dates in an impossible
    order, are warnings; with `refuse_unknown` unknown references refuse the import. `progress(fraction,
    label)` hears how far it got: reading by bytes, then checking, then saving table by table, 1.0 at the end."""
    mapping = _resolve_mapping(mapping_file, preset)
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory} is not a folder; give the folder that holds the export files.")
    files = [f for f in list_folder(directory) if f.name.lower() != "terms.toml"]
    terms_path = directory / "terms.toml"
    terms_text = read_text_file(terms_path, "agreement file") if terms_path.exists() else None
    detail = f"{mapping.name}: {directory.name}"
    return _import(engine, mapping, files, terms_text, detail=detail, refuse_unknown=refuse_unknown, progress=progress)


def import_files(
    engine: Engine,
    files: Mapping[str, bytes],
    *,
    mapping: str | None = None,
    preset: str | None = None,
    refuse_unknown: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Import uploaded files (name -> bytes; a "terms.toml" among them is the agreement) through a
    mapping's TOML text or a preset (neither: the canonical layout); same report and progress as import_mapped."""
    parsed = _resolve_mapping(None, preset, mapping)
    inputs, terms_text = _uploaded(files)
    names = ", ".join(sorted(Path(name).name for name in files)) or "no files"
    return _import(
        engine,
        parsed,
        inputs,
        terms_text,
        detail=f"{parsed.name}: {names}",
        refuse_unknown=refuse_unknown,
        progress=progress,
    )


def _uploaded(files: Mapping[str, bytes]) -> tuple[list[InputFile], str | None]:
    terms_text = None
    inputs = []
    for name, data in sorted(files.items()):
        base = Path(name).name
        if base.lower() == "terms.toml":
            try:
                terms_text = bytes(data).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise UserError("terms.toml is not UTF-8 text; save it as UTF-8 and upload it again.") from None
        else:
            inputs.append(InputFile(base, data=bytes(data)))
    return inputs, terms_text


def _first_month(data: CrmData, tz: str) -> str:
    mql = data.leads["mql_at"].dropna()
    stamp = mql.min() if len(mql) else pd.Timestamp.now(tz="UTC")
    return stamp.tz_convert(tz).strftime("%Y-%m")


def _same_version_stored(engine: Engine, toml_text: str, effective_from: str) -> bool:
    """Re-importing the same terms must not create another version."""
    new_terms = parse_terms_toml(toml_text)[0]
    return any(v.effective_from == effective_from and v.terms == new_terms for v in storage.load_terms_versions(engine))


def _import(
    engine: Engine,
    mapping: ImportMapping,
    files: list[InputFile],
    terms_text: str | None,
    *,
    detail: str,
    refuse_unknown: bool = False,
    progress: Progress | None = None,
) -> dict:
    ticker = Ticker(progress)
    ticker(0.0, "Reading the files")
    versions = storage.load_terms_versions(engine)
    stored_tz = versions[0].terms.timezone if versions else Terms().timezone
    try:
        tz = _parse_timezone(mapping, terms_text, stored_tz)
    except TermsError as exc:
        raise UserError(f"terms.toml: {exc}") from None
    result = run_mapping(mapping, files, tz, progress=ticker.stage(0.0, READ_SHARE))
    ticker(READ_SHARE, "Checking the rows against the database")
    if len(result.data.exclusions):
        stored = storage.known_lead_ids(engine, result.data.exclusions["lead_id"].dropna())
        problems = unknown_exclusion_leads(result.data, stored)
        if problems:
            raise ImportFailed(problems)
    unknown = unknown_references(result.data, lambda table, ids: storage.existing_ids(engine, table, ids))
    if unknown and refuse_unknown:
        raise ImportFailed([f"{f.text}; nothing was imported." for f in unknown])
    result.warnings.extend(f"{f.text}." for f in [*unknown, *dates_out_of_order(result.data)])
    new_terms = terms_text
    if new_terms is None and not versions:
        new_terms = _mapping_terms_toml(mapping)
    terms_from = None
    if new_terms is not None:
        terms, effective = parse_terms_toml(new_terms)
        terms_from = effective or _first_month(result.data, terms.timezone)
        if not _same_version_stored(engine, new_terms, terms_from):
            storage.refuse_closed_terms(engine, terms_from)  # before any data is written: all or nothing
    ticker(CHECK_SHARE, "Saving to the database")
    counts = storage.save_data(
        engine,
        result.data,
        source="import",
        detail=detail,
        columns=result.columns,
        progress=ticker.stage(CHECK_SHARE, SAVE_SHARE),
    )
    if new_terms is not None and not _same_version_stored(engine, new_terms, terms_from):
        storage.save_terms_version(engine, new_terms, terms_from, note=f"imported with {mapping.name}")
    for table in counts:
        counts[table]["skipped"] = int(result.skipped.get(table, 0))
    ticker(1.0, "Imported")
    return {
        "counts": counts,
        "warnings": result.warnings,
        "terms_effective_from": terms_from,
        "files": result.files,
        "mapping": mapping.name,
    }


class Preview(NamedTuple):
    """What an import would write: the first rows of each canonical table, problems, warnings, counts."""

    frames: dict[str, pd.DataFrame]
    problems: list[str]
    warnings: list[str]
    counts: dict[str, int]


def preview_import(
    files: Mapping[str, bytes],
    *,
    mapping: str | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    head: int = 20,
    engine: Engine | None = None,
    refuse_unknown: bool = False,
) -> Preview:
    """Run an import of uploaded files without writing anything (for the Data page).

    files: name -> bytes (.csv/.txt/.tsv/.xlsx; a "terms.toml" is the agreement). mapping: a
    mapping's TOML text; preset: a preset name; neither: the canonical layout. timezone: the
    agreement's zone for naive times when neither the mapping nor terms.toml gives one. With
    `engine`, rows naming a lead or owner that neither the files nor the database has are
    warnings, or problems with `refuse_unknown` (as the import itself does them).
    problems is empty when the import would succeed; a broken mapping is one problem."""
    try:
        parsed = _resolve_mapping(None, preset, mapping)
        inputs, terms_text = _uploaded(files)
        tz = _parse_timezone(parsed, terms_text, timezone or Terms().timezone)
        result = run_mapping(parsed, inputs, tz, stop_early=True)
    except ImportFailed as exc:
        more = exc.total - len(exc.problems[:MAX_PROBLEMS])
        shown = exc.problems[:MAX_PROBLEMS] + ([f"(and {more} more problems)"] if more > 0 else [])
        return Preview({}, shown, [], {})
    except UserError as exc:
        return Preview({}, [str(exc)], [], {})
    unknown = []
    if engine is not None:
        unknown = unknown_references(result.data, lambda table, ids: storage.existing_ids(engine, table, ids))
    if unknown and refuse_unknown:
        return Preview({}, [f"{f.text}; nothing would be imported." for f in unknown], [], {})
    frames = {
        t: result.data.frame(t).head(head).reset_index(drop=True) for t in ALL_TABLES if len(result.data.frame(t))
    }
    return Preview(frames, [], [*result.warnings, *(f"{f.text}." for f in unknown)], result.data.counts())


__all__ = [
    "CHUNK_ROWS",
    "ImportMapping",
    "InputFile",
    "Preview",
    "Rule",
    "canonical_mapping",
    "detect_delimiter",
    "import_files",
    "import_mapped",
    "load_mapping",
    "parse_mapping",
    "preset_names",
    "preset_text",
    "preview_import",
    "run_mapping",
]
