"""Inconsistent data an import reports: references to leads or owners nobody has, and dates in
an order that cannot happen. Pure: the caller says which ids exist besides the imported ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from smarketing.core.frames import CrmData, among

EXAMPLES = 3
# (table, earlier column, later column): the later one cannot come first.
DATE_ORDER = (
    ("leads", "created_at", "mql_at"),
    ("leads", "mql_at", "sql_at"),
    ("leads", "mql_at", "customer_at"),
    ("deals", "created_at", "closed_at"),
)
REFERENCES = (
    ("touches", "lead_id", "leads"),
    ("deals", "lead_id", "leads"),
    ("leads", "owner_id", "owners"),
    ("touches", "owner_id", "owners"),
    ("deals", "owner_id", "owners"),
)
_NOUN = {"leads": "lead", "touches": "touch", "deals": "deal", "owners": "owner"}
_ID = {"leads": "lead_id", "owners": "owner_id"}


@dataclass(frozen=True)
class Finding:
    """One kind of inconsistency: how many rows, and a few of their ids."""

    kind: str  # "reference" or "order"
    text: str


def _examples(values: Iterable[object]) -> str:
    return ", ".join(f"'{v}'" for v in list(values)[:EXAMPLES])


def _rows(count: int, table: str) -> str:
    noun = _NOUN[table]
    return f"{count} {noun if count == 1 else table}"


def unknown_references(data: CrmData, stored: Callable[[str, list[str]], set[str]]) -> list[Finding]:
    """Rows naming a lead or owner that neither the import nor the database has.

    `stored(table, ids)` returns which of the ids the database already holds."""
    findings = []
    for table, column, target in REFERENCES:
        frame = data.frame(table)
        named = frame[column].dropna()
        if named.empty:
            continue
        missing = sorted(set(named[~among(named, data.frame(target)[_ID[target]])].unique()))
        if missing:
            missing = sorted(set(missing) - stored(target, missing))
        if not missing:
            continue
        rows = frame.loc[frame[column].isin(missing)]
        findings.append(
            Finding(
                "reference",
                f"{_rows(len(rows), table)} {'names' if len(rows) == 1 else 'name'} "
                f"{'an' if column[0] in 'aeiou' else 'a'} {column} that no {_NOUN[target]} has "
                f"(for example {_examples(missing)})",
            )
        )
    return findings


def dates_out_of_order(data: CrmData) -> list[Finding]:
    """Rows whose dates come in an order that cannot happen (an MQL before the lead was created ...)."""
    findings = []
    for table, earlier, later in DATE_ORDER:
        frame = data.frame(table)
        wrong = frame[earlier].notna() & frame[later].notna() & (frame[later] < frame[earlier])
        if wrong.any():
            count, ids = int(wrong.sum()), frame.loc[wrong, frame.columns[0]]
            verb = "has" if count == 1 else "have"
            findings.append(
                Finding(
                    "order", f"{_rows(count, table)} {verb} {later} before {earlier} (for example {_examples(ids)})"
                )
            )
    return findings
