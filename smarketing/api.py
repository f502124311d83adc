"""The library API: storage + core in one call each. The CLI and the dashboard are thin
wrappers over these functions (the sqlite-utils shape: db.py is the API, cli.py wraps it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from smarketing.core.errors import UserError
from smarketing.core.frames import CrmData
from smarketing.core.marketing import daily_mqls
from smarketing.core.months import add_months, is_over, month_range, parse_month
from smarketing.core.recalc import cohort_months, lookback_months, proposed_terms, recalculate
from smarketing.core.sales import lead_ledger
from smarketing.core.scorecard import build_scorecard, build_scorecards, iso
from smarketing.core.terms import (
    Terms,
    TermsVersion,
    parse_terms_toml,
    terms_for_month,
    terms_to_toml,
    version_for_month,
)
from smarketing.outputs import reports
from smarketing.outputs.digest import digest_text
from smarketing.sources.canonical import ImportFailed, read_canonical_dir, unknown_exclusion_leads
from smarketing.sources.demo import DEMO_TERMS_TOML, generate_demo
from smarketing.store import storage


def parse_as_of(text: str | None, tz: str = "UTC") -> pd.Timestamp:
    """An as_of instant from ISO 8601 text (no offset: local in tz); default now."""
    if text is None:
        return pd.Timestamp.now(tz="UTC").floor("s")
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise UserError(f"--as-of '{text}' is not an ISO 8601 instant such as 2026-03-31T17:00:00-04:00.") from None
    if stamp is pd.NaT:
        raise UserError(f"--as-of '{text}' is not an ISO 8601 instant.")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    return stamp.tz_convert("UTC")


@dataclass
class MonthView:
    """What one month's screens need: its terms, data and as_of."""

    month: str
    terms: Terms
    data: CrmData
    as_of: pd.Timestamp


def terms_versions(engine: Engine) -> list[TermsVersion]:
    return storage.load_terms_versions(engine)


def month_terms(engine: Engine, month: str) -> Terms:
    return terms_for_month(terms_versions(engine), month)


def version_for(engine: Engine, month: str) -> TermsVersion | None:
    """The stored terms version in force for a month (None before any is stored)."""
    return version_for_month(terms_versions(engine), month)


def load_month(engine: Engine, month: str, as_of: pd.Timestamp) -> MonthView:
    """Load only what one month's scorecard and ledger need."""
    month = parse_month(month)
    terms = month_terms(engine, month)
    data = storage.load_data(engine, months=[month], tz=terms.timezone, as_of=as_of)
    return MonthView(month, terms, data, as_of)


def scorecard(engine: Engine, month: str, as_of: pd.Timestamp) -> dict:
    """The live two-sided scorecard of a month as of an instant."""
    view = load_month(engine, month, as_of)
    return build_scorecard(view.data, view.terms, view.month, as_of)


def ledger(engine: Engine, month: str, as_of: pd.Timestamp) -> tuple[pd.DataFrame, Terms]:
    """The per-lead ledger of a month's MQLs, and the terms it was measured against."""
    view = load_month(engine, month, as_of)
    return lead_ledger(view.data, view.terms, as_of, view.month), view.terms


def scorecards(engine: Engine, months: list[str], as_of: pd.Timestamp) -> dict[str, dict]:
    """Live scorecards of several consecutive months from one load."""
    versions = terms_versions(engine)
    tz = terms_for_month(versions, months[-1]).timezone
    data = storage.load_data(engine, months=months, tz=tz, as_of=as_of)
    return build_scorecards(data, versions, months, as_of)


def data_months(engine: Engine) -> list[str]:
    """Every month from the first MQL to the last (empty when there is no data)."""
    tz = month_terms(engine, "9999-12").timezone
    span = storage.month_span(engine, tz)
    return month_range(*span) if span else []


def trailing_months(month: str, count: int) -> list[str]:
    """`count` months ending with `month`."""
    return month_range(add_months(month, -(count - 1)), month)


# -- loading data ---------------------------------------------------------------------------------


def seed_demo(
    engine: Engine, *, seed: int = 7, months: int = 18, now: pd.Timestamp | None = None, replace: bool = True
) -> dict:
    """Fill the database with generated demo data and the demo agreement."""
    data = generate_demo(seed=seed, months=months, now=now)
    if replace:
        storage.delete_all_data(engine)
    first_month = data_first_month(data, parse_terms_toml(DEMO_TERMS_TOML)[0].timezone)
    if not storage.load_terms_versions(engine):
        storage.save_terms_version(engine, DEMO_TERMS_TOML, first_month, note="demo agreement")
    return storage.save_data(engine, data, source="demo", detail=f"seed {seed}, {months} months")


def ensure_seeded(engine: Engine) -> bool:
    """Seed demo data when the database has no leads at all; True when it did."""
    if storage.data_counts(engine)["leads"]:
        return False
    seed_demo(engine)
    return True


def data_first_month(data: CrmData, tz: str) -> str:
    mql = data.leads["mql_at"].dropna()
    stamp = mql.min() if len(mql) else pd.Timestamp.now(tz="UTC")
    return stamp.tz_convert(tz).strftime("%Y-%m")


def import_directory(engine: Engine, directory: str | Path) -> dict:
    """Import canonical CSV/Excel files (and terms.toml) from a folder, all or nothing."""
    versions = storage.load_terms_versions(engine)
    tz = versions[0].terms.timezone if versions else Terms().timezone
    parsed = read_canonical_dir(Path(directory), tz)
    if len(parsed.data.exclusions):
        stored = storage.known_lead_ids(engine, parsed.data.exclusions["lead_id"].dropna())
        problems = unknown_exclusion_leads(parsed.data, stored)
        if problems:
            raise ImportFailed(problems)
    terms_from = None
    if parsed.terms_toml is not None:
        terms, effective = parse_terms_toml(parsed.terms_toml)
        terms_from = effective or data_first_month(parsed.data, terms.timezone)
    counts = storage.save_data(engine, parsed.data, source="import", detail=str(Path(directory).name))
    if parsed.terms_toml is not None and not _same_version_exists(engine, parsed.terms_toml, terms_from):
        storage.save_terms_version(engine, parsed.terms_toml, terms_from, note=f"imported from {Path(directory).name}")
    return {"counts": counts, "warnings": parsed.warnings, "terms_effective_from": terms_from}


def _same_version_exists(engine: Engine, toml_text: str, effective_from: str) -> bool:
    """Re-importing the same terms.toml must not create another version."""
    new_terms = parse_terms_toml(toml_text)[0]
    return any(v.effective_from == effective_from and v.terms == new_terms for v in terms_versions(engine))


# -- exclusions (disputes) ------------------------------------------------------------------------

EXCLUSION_COLUMNS = [
    "exclusion_id",
    "lead_id",
    "commitment",
    "reason",
    "requested_by",
    "requested_at",
    "decision",
    "decided_by",
    "decided_at",
    "decision_note",
]


def request_exclusion(engine: Engine, lead_id: str, commitment: str, reason: str, *, by: str) -> dict:
    """Ask to leave a lead out of a commitment (or `all`); the request waits for a decision."""
    return storage.add_exclusion(engine, lead_id, commitment, reason, requested_by=by)


def decide_exclusion(
    engine: Engine, exclusion_id: str, *, approve: bool, by: str, note: str | None = None, forbid_self: bool = False
) -> dict:
    """Approve or deny a pending request; a decided request is never decided again."""
    return storage.decide_exclusion(
        engine, exclusion_id, approve=approve, decided_by=by, note=note, forbid_self=forbid_self
    )


def exclusion_requests(engine: Engine, *, month: str | None = None, lead_id: str | None = None) -> pd.DataFrame:
    """Every request (of a month's MQLs, or of one lead), oldest first, with its decision."""
    tz = month_terms(engine, month or "9999-12").timezone
    return storage.load_exclusions(engine, month=parse_month(month) if month else None, lead_id=lead_id, tz=tz)


def exclusion_records(frame: pd.DataFrame, tz: str = "UTC") -> list[dict[str, Any]]:
    """Exclusion rows as JSON-ready dicts, instants ISO 8601 with offset."""
    from smarketing.core.scorecard import ledger_records

    return ledger_records(frame, tz, EXCLUSION_COLUMNS)


# -- recalculation and month close ----------------------------------------------------------------


def recalc(engine: Engine, month: str, as_of: pd.Timestamp | None = None) -> dict:
    """Propose the month's quota from the history (DESIGN section 6); nothing is saved."""
    month = parse_month(month)
    as_of = as_of if as_of is not None else parse_as_of(None)
    versions = terms_versions(engine)
    terms = terms_for_month(versions, month)
    previous = terms_for_month(versions, add_months(month, -1))
    first = min(cohort_months(month, terms)[0], lookback_months(month, terms)[0])
    data = storage.load_data(engine, months=month_range(first, add_months(month, -1)), tz=terms.timezone, as_of=as_of)
    return recalculate(data, terms, month, as_of, previous)


def apply_recalc(engine: Engine, proposal: dict, *, by: str = "cli") -> int:
    """Save a proposal as a new terms version effective from its month; returns the version id."""
    month = proposal["month"]
    terms = proposed_terms(month_terms(engine, month), proposal)
    note = f"recalculated quota {proposal['current_quota']} → {proposal['proposed_quota']} by {by}"
    return storage.save_terms_version(engine, terms_to_toml(terms, month), month, note=note)


def close_month(
    engine: Engine, month: str, *, closed_by: str, force: bool = False, as_of: pd.Timestamp | None = None
) -> dict:
    """Freeze the month's scorecard with its terms version; refuses while it is open unless forced."""
    month = parse_month(month)
    as_of = as_of if as_of is not None else parse_as_of(None)
    terms = month_terms(engine, month)
    if not force and not is_over(month, as_of, terms.timezone):
        raise UserError(f"{month} is not over yet; close it after it ends, or use --force.")
    card = scorecard(engine, month, as_of)
    pending = sum(card["sales"][c]["pending"] for c in ("first_touch", "attempts", "acceptance") if c in card["sales"])
    if pending and not force:
        raise UserError(
            f"{month} still has {pending} follow-up deadline(s) running; close it when they have passed, "
            "or use --force."
        )
    version = version_for(engine, month)
    snapshot_id = storage.save_snapshot(
        engine,
        month,
        card,
        as_of=as_of,
        closed_by=closed_by,
        terms_version_id=version.version_id if version else None,
        force=force,
    )
    return {"month": month, "snapshot_id": snapshot_id, "as_of": card["as_of"], "pending": pending}


def month_scorecard(engine: Engine, month: str, as_of: pd.Timestamp) -> dict:
    """What a screen shows for a month: its frozen snapshot when closed, else the live scorecard.

    The result has `closed` (bool) and, when closed, the snapshot's metadata."""
    snapshot = storage.load_snapshot(engine, parse_month(month))
    if snapshot is not None:
        return {**snapshot, "closed": True}
    return {**scorecard(engine, month, as_of), "closed": False}


# -- reports and digest: the engine side; drawing lives in outputs ----------------------------------


def report_bundle(
    engine: Engine, month: str, as_of: pd.Timestamp | None = None, *, trend_months: int = reports.TREND_MONTHS
) -> reports.ReportBundle:
    """The month's report contents: its scorecard (the snapshot when the month is closed),
    by-owner table, lead ledger, terms, trend and daily MQLs."""
    month = parse_month(month)
    requested = parse_as_of(None) if as_of is None else pd.Timestamp(as_of).tz_convert("UTC")
    snapshot = storage.load_snapshot(engine, month)
    version = version_for(engine, month)
    caveats: list[str] = []

    if snapshot is not None:
        version_id = snapshot.get("terms_version_id")
        terms = _snapshot_terms(engine, version_id) or month_terms(engine, month)
        if version_id is None and version is not None:
            version_id = version.version_id
        numbers_as_of = pd.Timestamp(snapshot["as_of"]).tz_convert("UTC")
        tz = snapshot.get("timezone") or terms.timezone
        card = {k: v for k, v in snapshot.items() if k not in reports.SNAPSHOT_META}
        card["as_of"] = iso(numbers_as_of, tz)
    else:
        version_id = version.version_id if version is not None else None
        terms = month_terms(engine, month)
        numbers_as_of = requested
        tz = terms.timezone
        card = None

    data = storage.load_data(engine, months=[month], tz=tz, as_of=numbers_as_of)
    computed = lead_ledger(data, terms, numbers_as_of, month)
    if card is None:
        card = build_scorecard(data, terms, month, numbers_as_of, ledger=computed)
    ledger = reports.snapshot_ledger(snapshot) if snapshot is not None else None
    if ledger is None:
        ledger = computed
        if snapshot is not None and not reports.ledger_matches(ledger, card):
            caveats.append(
                "The lead ledger was recomputed from the data stored today as of the close instant and no longer "
                "adds up to the frozen scorecard: the month's data changed after it was closed."
            )
    ledger = reports.with_owner_names(ledger, card, data.owners)

    daily = daily_mqls(data.leads, terms, month, numbers_as_of, data.exclusions)
    frozen_mqls = (card.get("marketing") or {}).get("mqls")
    if snapshot is not None and frozen_mqls is not None and int(daily["mqls"].sum()) != int(frozen_mqls):
        caveats.append(
            f"The pace chart is drawn from today's data ({int(daily['mqls'].sum())} MQLs); the frozen scorecard "
            f"counted {frozen_mqls}."
        )

    terms_text = _terms_text(engine, version_id, terms, version.effective_from if version else None)
    effective_from = None
    try:
        effective_from = parse_terms_toml(terms_text)[1]
    except UserError:
        pass
    if effective_from is None and version is not None:
        effective_from = version.effective_from

    return reports.ReportBundle(
        month=month,
        card=card,
        closed=snapshot is not None,
        as_of=card["as_of"],
        timezone=tz,
        owners=reports.owners_frame(card),
        ledger=ledger,
        terms_toml=terms_text,
        trend=_trend(engine, month, card, snapshot is not None, requested, trend_months),
        daily=daily,
        terms_version_id=version_id,
        effective_from=effective_from,
        closed_at=iso(snapshot["closed_at"], tz) if snapshot and snapshot.get("closed_at") else None,
        closed_by=snapshot.get("closed_by") if snapshot else None,
        notes=storage.load_month_notes(engine, month),
        caveats=caveats,
        requested_as_of=iso(requested, tz) or "",
    )


def month_card(engine: Engine, month: str, as_of: pd.Timestamp | None = None) -> dict[str, Any]:
    """The month's scorecard as it is shown (`month_scorecard`: the snapshot when closed, else
    live as of an instant, default now), with `as_of` and `closed_at` in the agreement's local time."""
    requested = parse_as_of(None) if as_of is None else pd.Timestamp(as_of).tz_convert("UTC")
    card = dict(month_scorecard(engine, parse_month(month), requested))
    if card.get("closed"):
        tz = card.get("timezone") or month_terms(engine, card["month"]).timezone
        card["as_of"] = iso(pd.Timestamp(card["as_of"]), tz)
        if card.get("closed_at"):
            card["closed_at"] = iso(pd.Timestamp(card["closed_at"]), tz)
    return card


def _snapshot_terms(engine: Engine, version_id: int | None) -> Terms | None:
    """The terms of a stored version (None when there is no such version)."""
    if version_id is None:
        return None
    try:
        return parse_terms_toml(storage.load_terms_toml(engine, int(version_id)))[0]
    except UserError:
        return None


def _terms_text(engine: Engine, version_id: int | None, terms: Terms, effective_from: str | None) -> str:
    """The TOML of the version used: the stored text as agreed, else the terms written out."""
    if version_id is not None:
        try:
            return storage.load_terms_toml(engine, int(version_id))
        except UserError:
            pass
    return terms_to_toml(terms, effective_from)


def _trend(engine: Engine, month: str, card: dict, closed: bool, as_of: pd.Timestamp, count: int) -> pd.DataFrame:
    """One row per month (up to `count`, ending with `month`): each commitment's number and status."""
    months = trailing_months(month, max(1, count))
    known = data_months(engine)
    if known:
        months = [m for m in months if m >= known[0]] or [month]
    closed_set = set(storage.closed_months(engine))
    cards: dict[str, tuple[dict, bool]] = {month: (card, closed)}
    for m in months:
        if m != month and m in closed_set:
            snap = storage.load_snapshot(engine, m)
            if snap is not None:
                cards[m] = (snap, True)
    live = [m for m in months if m not in cards]
    if live:
        for m, c in scorecards(engine, month_range(live[0], live[-1]), as_of).items():
            if m in live:
                cards[m] = (c, False)
    return pd.DataFrame([reports.trend_row(m, *cards[m]) for m in months])


def write_report(engine: Engine, month: str, out_path: str | Path, as_of: pd.Timestamp | None = None) -> Path:
    """Export the month's report to out_path; the format follows the suffix (.pdf, .xlsx, .csv).

    The file appears complete or not at all (written to a temporary file, then renamed)."""
    out = reports.check_report_path(out_path)
    return reports.write_bundle(report_bundle(engine, month, as_of), out)


def month_digest(engine: Engine, month: str, as_of: pd.Timestamp | None = None) -> str:
    """The digest of a month: from its snapshot when closed, else live as of an instant (default now)."""
    card = month_card(engine, month, as_of)
    lead_rows, _terms = ledger(engine, card["month"], pd.Timestamp(card["as_of"]).tz_convert("UTC"))
    return digest_text(card, lead_rows)
