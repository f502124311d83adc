"""The library API: storage + core in one call each. The CLI and the dashboard are thin
wrappers over these functions (the sqlite-utils shape: db.py is the API, cli.py wraps it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from smarketing.core import bounds
from smarketing.core.alert_rules import alert_recipients, due_alerts, scan_start, stale
from smarketing.core.consequences import consequences
from smarketing.core.errors import UserError
from smarketing.core.frames import CrmData
from smarketing.core.lead_filter import LeadFilter
from smarketing.core.marketing import daily_mqls
from smarketing.core.months import (
    add_months,
    is_over,
    month_of,
    month_range,
    opening_month,
    parse_month,
    review_month,
)
from smarketing.core.recalc import cohort_months, lookback_months, proposed_terms, recalculate
from smarketing.core.sales import lead_ledger, lookup
from smarketing.core.scorecard import build_scorecard, build_scorecards, iso, scoped_scorecards
from smarketing.core.terms import (
    Terms,
    TermsVersion,
    parse_terms_toml,
    terms_for_month,
    terms_to_toml,
    version_for_month,
)
from smarketing.outputs import alert_delivery, reports
from smarketing.outputs.digest import digest_text
from smarketing.sources import mapping as mapping_module
from smarketing.sources.demo import DEMO_TERMS_TOML, generate_demo
from smarketing.sources.progress import Progress
from smarketing.store import alert_log, storage


def parse_as_of(text: str | None, tz: str = "UTC") -> pd.Timestamp:
    """An as_of instant from ISO 8601 text (no offset: local in tz); default now."""
    if text is None:
        return pd.Timestamp.now(tz="UTC").floor("s")
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        raise UserError(f"--as-of '{text}' is not an ISO 8601 instant such as 2026-03-31T17:00:00-04:00.") from None
    if stamp is pd.NaT:
        raise UserError(f"--as-of '{text}' is not an ISO 8601 instant.")
    if bounds.instants_outside(pd.Series([stamp.tz_localize(None) if stamp.tzinfo is None else stamp])).iloc[0]:
        raise UserError(f"--as-of '{text}' is outside {bounds.YEARS}.")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    return stamp.tz_convert("UTC").as_unit("ns")


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


def load_month(engine: Engine, month: str, as_of: pd.Timestamp, *, follow_ups_only: bool = False) -> MonthView:
    """Load only what one month's scorecard and ledger need (`follow_ups_only`: of the touches, only
    those that can count, storage.load_data's, which is all the scorecard and ledger read of them)."""
    month = parse_month(month)
    terms = month_terms(engine, month)
    data = storage.load_data(engine, months=[month], tz=terms.timezone, as_of=as_of, follow_ups_only=follow_ups_only)
    return MonthView(month, terms, data, as_of)


def lead_touches(engine: Engine, lead_id: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every touch of one lead up to as_of, counting or not (the Lead ledger's timeline of a lead)."""
    return storage.load_lead_touches(engine, lead_id, as_of)


def scorecard(engine: Engine, month: str, as_of: pd.Timestamp) -> dict:
    """The live two-sided scorecard of a month as of an instant, with its consequences (from a read
    of the follow-up touches only, as every scorecard: the ledger's other touches change no number)."""
    month = parse_month(month)
    card = scorecards(engine, [month], as_of)[month]
    return {**card, "consequences": month_consequences(engine, card, as_of)}


def month_consequences(
    engine: Engine, card: dict, as_of: pd.Timestamp, known: Mapping[str, dict] | None = None
) -> dict:
    """The consequences of the card's month over the history before it (closed months from their
    snapshots, the others live in one pass) and the card itself (DESIGN section 10). `known`: the
    scorecards of some earlier months already at hand, from the same data as of as_of (closed
    months from their snapshots), taken instead of scoring those months again."""
    month = card["month"]
    cards = {**history_cards(engine, month, as_of, known), month: card}
    return consequences(cards, month, month_terms(engine, month))


def history_cards(
    engine: Engine, month: str, as_of: pd.Timestamp, known: Mapping[str, dict] | None = None
) -> dict[str, dict]:
    """The scorecards of the months from the first with an MQL up to (not including) `month`:
    those in `known` from there, closed months from their snapshots, the others live from one load."""
    with_data = data_months(engine)
    months = [m for m in (month_range(with_data[0], add_months(month, -1)) if with_data else []) if m < month]
    have = {m: known[m] for m in months if known is not None and m in known}
    rest = [m for m in months if m not in have]
    scored = closed_or_live_cards(engine, rest, as_of, commitments_only=True) if rest else {}
    return {m: have[m] if m in have else scored[m][0] for m in months}


def closed_or_live_cards(
    engine: Engine, months: list[str], as_of: pd.Timestamp, *, commitments_only: bool = False
) -> dict[str, tuple[dict, bool]]:
    """Each month's scorecard and whether it is closed: closed months from their snapshots, the others
    live from one load of the span they cover (a closed history loads nothing)."""
    closed = set(storage.closed_months(engine))
    cards = {m: (snap, True) for m in months if m in closed and (snap := storage.load_snapshot(engine, m)) is not None}
    live = [m for m in months if m not in cards]
    if live:
        fresh = scorecards(engine, month_range(min(live), max(live)), as_of, commitments_only=commitments_only)
        cards |= {m: (fresh[m], False) for m in live}
    return {m: cards[m] for m in months}


def ledger(engine: Engine, month: str, as_of: pd.Timestamp) -> tuple[pd.DataFrame, Terms]:
    """The per-lead ledger of a month's MQLs, and the terms it was measured against."""
    view = load_month(engine, month, as_of)
    return lead_ledger(view.data, view.terms, as_of, view.month), view.terms


def scorecards(
    engine: Engine, months: list[str], as_of: pd.Timestamp, *, commitments_only: bool = False
) -> dict[str, dict]:
    """Live scorecards of several consecutive months from one load of what scorecards read (with
    `commitments_only`, just the parts consequences read)."""
    versions = terms_versions(engine)
    tz = terms_for_month(versions, months[-1]).timezone
    data = storage.load_data(
        engine, months=months, tz=tz, as_of=as_of, commitments_only=commitments_only, follow_ups_only=True
    )
    return build_scorecards(data, versions, months, as_of, commitments_only=commitments_only)


def filtered_scorecards(
    engine: Engine, months: list[str], as_of: pd.Timestamp, lead_filter: LeadFilter
) -> dict[str, dict]:
    """Live commitment figures of several consecutive months over the filter's leads only, from one load
    (core.scorecard.scoped_scorecards; a closed month's snapshot is the whole company's, so it is not used)."""
    versions = terms_versions(engine)
    tz = terms_for_month(versions, months[-1]).timezone
    data = storage.load_data(engine, months=months, tz=tz, as_of=as_of, follow_ups_only=True)
    return scoped_scorecards(data, versions, months, as_of, lead_filter)


def data_months(engine: Engine) -> list[str]:
    """Every month from the first MQL to the last (empty when there is no data)."""
    tz = month_terms(engine, "9999-12").timezone
    span = storage.month_span(engine, tz)
    return month_range(*span) if span else []


def opening_months(engine: Engine, as_of: pd.Timestamp) -> tuple[str, str]:
    """(the month the dashboard opens on, the month the Executive review opens on) as of an instant."""
    tz = month_terms(engine, "9999-12").timezone
    current = month_of(as_of, tz)
    home = opening_month(current, storage.latest_mql_month(engine, tz, as_of))
    review = review_month(current, storage.latest_mql_month(engine, tz, as_of, before=current))
    return home, review


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
    """Seed demo data when the database has no leads and has never had a load (so demo data that
    was removed stays removed); True when it did."""
    if storage.data_counts(engine)["leads"] or len(storage.data_loads(engine, limit=1)):
        return False
    seed_demo(engine)
    return True


def remove_demo_data(engine: Engine) -> None:
    """Empty the demo company: every data row goes when every successful load so far came from the demo
    generator; terms, snapshots and the load history stay. Anything else in the database refuses."""
    loads = storage.data_loads(engine, limit=1000)
    other = loads.loc[(loads["source"] != "demo") & (loads["status"] == "ok")] if len(loads) else loads
    if len(other):
        raise UserError(
            "The database holds imported or synced data besides the demo company, so removing it would "
            "remove your data too; nothing was removed."
        )
    storage.delete_all_data(engine)


def data_first_month(data: CrmData, tz: str) -> str:
    mql = data.leads["mql_at"].dropna()
    stamp = mql.min() if len(mql) else pd.Timestamp.now(tz="UTC")
    return stamp.tz_convert(tz).strftime("%Y-%m")


def import_directory(
    engine: Engine, directory: str | Path, *, refuse_unknown: bool = False, progress: Progress | None = None
) -> dict:
    """Import canonical CSV/Excel files (and terms.toml) from a folder, all or nothing.

    The canonical layout runs through the same reader as every mapping and preset, so a file
    is checked the same way whichever way it comes in; `refuse_unknown` refuses touches and
    deals for leads or owners nobody has (else they are reported); `progress(fraction, label)` hears how
    far it got (sources.progress)."""
    return mapping_module.import_mapped(engine, directory, refuse_unknown=refuse_unknown, progress=progress)


def import_uploaded(
    engine: Engine,
    files: dict[str, bytes],
    *,
    preset: str | None = None,
    mapping: str | None = None,
    refuse_unknown: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Import uploaded files (name -> bytes, terms.toml among them), all or nothing, through a preset
    or a mapping's TOML text (neither: the canonical layout); `refuse_unknown` and `progress(fraction,
    label)` as import_directory's."""
    return mapping_module.import_files(
        engine, files, preset=preset, mapping=mapping, refuse_unknown=refuse_unknown, progress=progress
    )


def preview_upload(
    files: dict[str, bytes],
    *,
    preset: str | None = None,
    mapping: str | None = None,
    timezone: str | None = None,
    engine: Engine | None = None,
    refuse_unknown: bool = False,
) -> mapping_module.Preview:
    """What importing these uploaded files would write, without writing (see mapping.preview_import;
    with `engine`, references to unknown leads or owners are checked, refused with `refuse_unknown`)."""
    return mapping_module.preview_import(
        files, preset=preset, mapping=mapping, timezone=timezone, engine=engine, refuse_unknown=refuse_unknown
    )


def import_presets() -> list[str]:
    """The names of the built-in import presets (olist, maven-crm, salesforce)."""
    return mapping_module.preset_names()


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
    span = month_range(first, add_months(month, -1))
    data = storage.load_data(
        engine, months=span, tz=terms.timezone, as_of=as_of, with_touches=False, columns=storage.RECALC_COLUMNS
    )
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
    """What every view shows for a month: its frozen snapshot when closed, else the live scorecard.

    The result has `closed` (bool) and `closed_at` (None while open) and, when closed, the
    snapshot's metadata."""
    snapshot = storage.load_snapshot(engine, parse_month(month))
    if snapshot is not None:
        return {**with_consequences(engine, snapshot, as_of), "closed": True}
    return {**scorecard(engine, month, as_of), "closed": False, "closed_at": None}


def reopen_month(engine: Engine, month: str, *, by: str, reason: str) -> int:
    """Reopen a closed month so its terms and targets can change; recorded with its snapshot."""
    return storage.reopen_month(engine, month, by=by, reason=reason)


def with_consequences(engine: Engine, card: dict, as_of: pd.Timestamp) -> dict:
    """The card with its `consequences` (a snapshot frozen before they existed gets them computed now)."""
    if "consequences" in card:
        return card
    return {**card, "consequences": month_consequences(engine, card, as_of)}


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
    card = with_consequences(engine, card, numbers_as_of)
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
        trend=reports.with_scores(
            _trend(engine, month, card, snapshot is not None, requested, trend_months), card.get("consequences")
        ),
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
    cards = {**closed_or_live_cards(engine, [m for m in months if m != month], as_of), month: (card, closed)}
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


# -- follow-up alerts (DESIGN section 9) ------------------------------------------------------------


@dataclass
class AlertRun:
    """What one `alerts` run did: one record per alert it handled, and the leads it left alone."""

    as_of: pd.Timestamp
    timezone: str
    records: list[dict[str, Any]]
    inactive: list[dict[str, Any]]
    dry_run: bool


def alert_candidates(engine: Engine, as_of: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """Every alert due at as_of over the MQLs that can still have a fresh one, each measured with
    the terms of its month, with its month and stale_after_hours; and the agreement's timezone."""
    versions = terms_versions(engine)
    tz = terms_for_month(versions, "9999-12").timezone
    since = min(scan_start(v.terms, as_of) for v in versions) if versions else scan_start(Terms(), as_of)
    by_assignment = any(v.terms.clock_starts == "assignment" for v in versions)
    data = storage.load_recent_data(engine, since, as_of, assigned_too=by_assignment)
    first = data.leads["mql_at"].min() if len(data.leads) else since
    months = month_range(month_of(min(first, since), tz), month_of(as_of, tz))
    frames = []
    for month in months:
        terms = terms_for_month(versions, month)
        due = due_alerts(lead_ledger(data, terms, as_of, month), terms, as_of)
        frames.append(due.assign(month=month, stale_after_hours=terms.alert_settings.stale_after_hours))
    alerts = pd.concat(frames, ignore_index=True)
    owners = data.owners.drop_duplicates("owner_id").set_index("owner_id")
    for column in ("name", "email", "team", "active"):
        alerts[f"owner_{column}"] = lookup(owners[column], alerts["owner_id"]) if len(owners) else None
    return alerts, tz


def run_alerts(
    engine: Engine,
    as_of: pd.Timestamp | None = None,
    *,
    dry_run: bool = False,
    settings: alert_delivery.DeliverySettings | None = None,
) -> AlertRun:
    """Send the follow-up alerts due at as_of (default now) and record them; with dry_run only list them.

    Already sent or stale (lead, kind) pairs are skipped; too old ones are recorded `stale`; a lead
    whose owner is inactive gets nothing (listed in `inactive`)."""
    as_of = parse_as_of(None) if as_of is None else pd.Timestamp(as_of).tz_convert("UTC")
    settings = settings if settings is not None else alert_delivery.load_settings()
    if not dry_run and not settings.configured:
        raise UserError(
            f"No alert route is configured; set {alert_delivery.WEBHOOK_ENV} (or SMTP, see the README) "
            "or use --dry-run."
        )
    if dry_run:
        return _alert_run(engine, as_of, settings, dry_run=True)
    with alert_log.run_lock(engine):
        return _alert_run(engine, as_of, settings, dry_run=False)


def _alert_run(
    engine: Engine, as_of: pd.Timestamp, settings: alert_delivery.DeliverySettings, *, dry_run: bool
) -> AlertRun:
    candidates, tz = alert_candidates(engine, as_of)
    log = alert_log.load_alert_log(engine, since=candidates["trigger_at"].min() if len(candidates) else as_of)
    done = {(r.lead_id, r.kind) for r in log.itertuples() if r.state in alert_log.FINAL_STATES}
    delivered = {(r.lead_id, r.kind): r.delivered for r in log.itertuples()}
    keys = list(zip(candidates["lead_id"].astype(str), candidates["kind"]))
    open_ = candidates.loc[[k not in done for k in keys]]
    inactive_mask = open_["owner_active"].eq(False).to_numpy()
    inactive = open_.loc[inactive_mask]
    open_ = open_.loc[~inactive_mask]
    too_old = stale(open_, as_of, open_["stale_after_hours"].to_numpy())

    stale_alerts, fresh = [], []
    for row, is_stale in zip(open_.to_dict("records"), too_old):
        owner_email, team = _text_or_none(row["owner_email"]), _text_or_none(row["owner_team"])
        routes = alert_recipients(row, owner_email, team, settings.routing)
        already = delivered.get((str(row["lead_id"]), row["kind"]), [])
        row.update(
            lead_id=str(row["lead_id"]),
            owner_name=_text_or_none(row["owner_name"]) or _text_or_none(row["owner_id"]) or "unassigned",
            recipients=[r.label for r in routes],
            routes=[r for r in routes if r.label not in already],
        )
        (stale_alerts if is_stale else fresh).append(row)

    outcomes: dict[tuple[str, str], alert_delivery.Outcome] = {}
    if not dry_run:
        alert_log.record_stale(engine, stale_alerts, alert_log.utc_now())
        outcomes = alert_delivery.deliver(engine, fresh, settings, tz=tz, as_of=as_of)
    records = [_alert_record(a, "stale", tz) for a in stale_alerts]
    for a in fresh:
        outcome = outcomes.get((a["lead_id"], a["kind"]))
        records.append(_alert_record(a, outcome.state if outcome else "due", tz, outcome.error if outcome else None))
    records.sort(key=lambda r: (r["trigger_at"], r["lead_id"], r["kind"]))
    skipped = [
        {"lead_id": str(r["lead_id"]), "owner_id": r["owner_id"], "kind": r["kind"]}
        for r in inactive.to_dict("records")
    ]
    return AlertRun(as_of, tz, records, skipped, dry_run)


def _alert_record(alert: dict[str, Any], state: str, tz: str, error: str | None = None) -> dict[str, Any]:
    """The `alerts --format json` shape (DESIGN section 7), with the hours left and any error."""
    record = {
        "lead_id": alert["lead_id"],
        "owner_id": _text_or_none(alert["owner_id"]),
        "kind": alert["kind"],
        "trigger_at": iso(alert["trigger_at"], tz),
        "recipients": alert["recipients"],
        "state": state,
        "deadline": iso(alert["deadline"], tz),
        "hours_left": round(float(alert["hours_left"]), 4),
        "month": alert["month"],
    }
    if error:
        record["error"] = error
    return record


def _text_or_none(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)
