"""The app's writes: a new terms version and an upload of canonical files (then the caches go)."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.redact import scrub
from smarketing.core.terms import TermsError, parse_terms_toml, terms_changes
from smarketing.store import storage
from smarketing.ui.loaders import refresh

log = logging.getLogger(__name__)
UPLOAD_NAME = re.compile(r"^(owners|leads|touches|deals)\.(csv|xlsx)$|^terms\.toml$")


class Upload(Protocol):
    """What st.file_uploader returns per file."""

    name: str

    def getvalue(self) -> bytes:
        """The file's content."""
        ...


@dataclass
class Outcome:
    """What happened: ok, the problems to show, and a summary line or counts."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    message: str = ""
    details: dict = field(default_factory=dict)


def terms_problems(text: str, effective_from: str, closed: list[str]) -> list[str]:
    """Every reason a new terms version cannot be saved from that month (empty: it can)."""
    try:
        _, stated = parse_terms_toml(text)
    except TermsError as exc:
        return list(exc.problems)
    problems = []
    if stated and stated != effective_from:
        problems.append(
            f'The text says effective_from = "{stated}" but you chose {effective_from}; '
            "remove that line or choose the same month."
        )
    if closed and effective_from <= max(closed):
        problems.append(
            f"{max(closed)} is closed and keeps the terms it was measured with; "
            "a new version can start from the month after it."
        )
    return problems


@dataclass
class TermsUpload:
    """An uploaded agreement: the month it would start, what it changes, why it cannot be saved."""

    month: str
    changes: list[str]
    problems: list[str]


def terms_upload(engine: Engine, text: str, month: str, closed: list[str]) -> TermsUpload:
    """What an uploaded terms.toml would change against the version in force from its month (its own
    effective_from, else `month`); nothing is saved."""
    try:
        new, stated = parse_terms_toml(text)
    except TermsError as exc:
        return TermsUpload(month, [], list(exc.problems))
    start = stated or month
    problems = terms_problems(text, start, closed)
    return TermsUpload(start, terms_changes(api.month_terms(engine, start), new), problems)


def save_terms(engine: Engine, text: str, effective_from: str, note: str, closed: list[str]) -> Outcome:
    """Validate and store a new terms version from a month on."""
    problems = terms_problems(text, effective_from, closed)
    if problems:
        return Outcome(False, problems)
    try:
        version_id = storage.save_terms_version(engine, text, effective_from, note=note or "edited in the dashboard")
    except TermsError as exc:
        return Outcome(False, list(exc.problems))
    except UserError as exc:
        return Outcome(False, [str(exc)])
    refresh()
    return Outcome(True, message=f"Saved as version {version_id}, in force from {effective_from}.")


def upload_problems(files: list[Upload]) -> list[str]:
    """Files that an import would not read, named."""
    names = [Path(f.name).name.lower() for f in files]
    problems = [
        f"'{f.name}' is not one of owners / leads / touches / deals (.csv or .xlsx) or terms.toml."
        for f, n in zip(files, names)
        if not UPLOAD_NAME.match(n)
    ]
    if not any(n.startswith("leads.") for n in names):
        problems.append("An import needs leads.csv (or leads.xlsx); the other files are optional.")
    tables = [n.split(".")[0] for n in names]
    problems += [f"Two files for {t}; upload one." for t in sorted({t for t in tables if tables.count(t) > 1})]
    return problems


def import_uploads(
    engine: Engine,
    files: list[Upload],
    *,
    preset: str | None = None,
    mapping: str | None = None,
    refuse_unknown: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> Outcome:
    """Import the uploaded files in one transaction, from memory (no server path in any message),
    through a preset or a mapping's TOML text (neither: the canonical file names); `refuse_unknown`
    refuses touches and deals of leads or owners nobody has (else they are notes); `progress` hears how far."""
    problems = [] if preset or mapping else upload_problems(files)
    if problems:
        return Outcome(False, problems)
    try:
        report = api.import_uploaded(
            engine,
            {Path(f.name).name.lower(): f.getvalue() for f in files},
            preset=preset,
            mapping=mapping,
            refuse_unknown=refuse_unknown,
            progress=progress,
        )
    except TermsError as exc:
        return Outcome(False, ["terms.toml: " + p for p in exc.problems])
    except UserError as exc:
        return Outcome(False, [scrub(p) for p in getattr(exc, "problems", None) or [str(exc)]])
    except Exception:  # a bug: logged for the operator; the viewer gets one sentence, no traceback
        log.error("upload import failed: %s", scrub(traceback.format_exc()))
        return Outcome(False, ["The files could not be imported because of an internal error; nothing was imported."])
    refresh()
    return Outcome(
        True, problems=list(report.get("warnings", [])), message=_counts_line(report["counts"]), details=report
    )


def remove_demo(engine: Engine) -> Outcome:
    """Empty the demo company (api.remove_demo_data), then forget every cached result."""
    try:
        api.remove_demo_data(engine)
    except UserError as exc:
        return Outcome(False, [str(exc)])
    refresh()
    return Outcome(True, message="The demo data is removed. Import your CRM files or connect HubSpot.")


def _counts_line(counts: dict) -> str:
    """'leads 120 new, 3 updated; touches …'."""
    parts = [
        f"{t} {c.get('inserted', 0)} new, {c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged"
        for t, c in counts.items()
        if isinstance(c, dict)
    ]
    return "Imported: " + "; ".join(parts) + "."
