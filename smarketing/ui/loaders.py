"""Cached loaders: the only way pages reach data. Each calls the library API / pure core once.

Every cached call is keyed by (database URL, month, as_of to the minute, data token). The
token changes whenever a data load, a terms version or a month close is stored (and is
itself re-read every few seconds), so stale numbers are never shown for long; in-app
writes call `refresh()` to clear everything at once (tests too, between databases).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from smarketing import api
from smarketing.core import alert_rules
from smarketing.core.frames import CrmData
from smarketing.core.lead_filter import from_params, scoped_data
from smarketing.core.marketing import daily_mqls
from smarketing.core.months import add_months, current_month, month_bounds
from smarketing.core.sales import lead_ledger, overdue_worklist, owner_summary
from smarketing.core.scorecard import build_scorecard, scoped_scorecard
from smarketing.core.terms import Terms, TermsVersion
from smarketing.outputs import reports
from smarketing.store import storage

TOKEN_TTL_SECONDS = 3
TREND_MONTHS = 12
PREFETCH_THREAD = "smarketing-prefetch"
log = logging.getLogger(__name__)
_PREFETCHED: set[tuple] = set()
_PREFETCH_LOCK = threading.Lock()


class _PrefetchHasNoSession(logging.Filter):
    """Drop Streamlit's "missing ScriptRunContext" warning for the prefetch thread only: the thread
    warms the cache and draws nothing, so it has (and needs) no session; other threads still warn."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != PREFETCH_THREAD or "ScriptRunContext" not in record.getMessage()


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_PrefetchHasNoSession())


@dataclass
class MonthBundle:
    """Everything one month's screens draw: the scorecard, the ledger and the month's data (of the
    touches, those that can count as follow-ups: storage.load_data's `follow_ups_only`)."""

    month: str
    as_of: pd.Timestamp
    terms: Terms
    card: dict
    ledger: pd.DataFrame
    data: CrmData
    daily: pd.DataFrame
    version_id: int | None
    version_from: str | None


@dataclass
class DataSummary:
    """What the whole app needs to know about the database (cheap, cached per token)."""

    counts: dict[str, int]
    loads: pd.DataFrame
    months: list[str]
    timezone: str
    closed: list[str]
    versions: list[TermsVersion] = field(default_factory=list)

    @property
    def has_leads(self) -> bool:
        """Whether any lead is stored."""
        return bool(self.counts.get("leads"))

    @property
    def demo_load(self) -> pd.Series | None:
        """The latest successful demo load when demo data is in the database, else None."""
        if not self.has_leads or self.loads.empty:
            return None
        demo = self.loads.loc[(self.loads["source"] == "demo") & (self.loads["status"] == "ok")]
        return demo.iloc[0] if len(demo) else None


def engine(url: str) -> Engine:
    """The storage engine of a URL (shared per process by storage.make_engine)."""
    return storage.make_engine(url)


@st.cache_resource(show_spinner="Preparing the demo database…")
def ensure_demo(url: str) -> bool:
    """Seed the embedded default database with demo data on first start (once per process)."""
    return api.ensure_seeded(engine(url))


@st.cache_data(ttl=TOKEN_TTL_SECONDS, show_spinner=False)
def data_token(url: str) -> str:
    """A fingerprint of the stored data: newest load, row counts, terms versions, closed months, disputes."""
    eng = engine(url)
    loads = storage.data_loads(eng, limit=1)
    newest = f"{loads['id'].iloc[0]}@{loads['finished_at'].iloc[0].isoformat()}" if len(loads) else "none"
    versions = [v.version_id for v in storage.load_terms_versions(eng)]
    disputes = storage.exclusions_fingerprint(eng)
    return f"{newest}|{storage.data_counts(eng)}|{versions}|{storage.closed_months(eng)}|{disputes}"


@st.cache_data(show_spinner=False, max_entries=8)
def data_summary(url: str, token: str) -> DataSummary:
    """Counts, load history, months with data, the current timezone and closed months."""
    eng = engine(url)
    return DataSummary(
        counts=storage.data_counts(eng),
        loads=storage.data_loads(eng, limit=200),
        months=api.data_months(eng),
        timezone=api.month_terms(eng, "9999-12").timezone,
        closed=storage.closed_months(eng),
        versions=api.terms_versions(eng),
    )


@st.cache_data(show_spinner=False, max_entries=16)
def opening_months(url: str, as_of: str, token: str) -> tuple[str, str]:
    """api.opening_months: where the dashboard and the Executive review open without ?month=."""
    return api.opening_months(engine(url), pd.Timestamp(as_of))


# A resource, not data: every page of every session gets the same objects instead of unpickling a
# copy (a month at a million leads is half a second to unpickle). Pages only read a bundle: pandas'
# copy-on-write keeps derived frames apart, and tests/app/test_bundle_read_only.py renders every page
# and checks the cached bundle is unchanged.
@st.cache_resource(show_spinner="Loading the month…", max_entries=12)
def month_bundle(url: str, month: str, as_of: str, token: str) -> MonthBundle:
    """One month's scorecard, ledger and pace data from a single load (same numbers as api.scorecard).
    Its touches are the follow-up ones only: a lead's every touch is lead_touches'."""
    eng = engine(url)
    stamp = pd.Timestamp(as_of)
    view = api.load_month(eng, month, stamp, follow_ups_only=True)
    ledger = lead_ledger(view.data, view.terms, stamp, view.month)
    card = build_scorecard(view.data, view.terms, view.month, stamp, ledger=ledger)
    version = api.version_for(eng, month)
    return MonthBundle(
        month=view.month,
        as_of=stamp,
        terms=view.terms,
        card=card,
        ledger=ledger,
        data=view.data,
        daily=daily_mqls(view.data.leads, view.terms, view.month, stamp, view.data.exclusions),
        version_id=version.version_id if version else None,
        version_from=version.effective_from if version else None,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def lead_touches(url: str, lead_id: str, as_of: str, token: str) -> pd.DataFrame:
    """api.lead_touches: every touch of the lead the Lead ledger shows."""
    return api.lead_touches(engine(url), lead_id, pd.Timestamp(as_of))


@st.cache_data(show_spinner="Loading twelve months…", max_entries=16)
def trend_cards(url: str, last_month: str, as_of: str, token: str, first_month: str | None) -> dict[str, dict]:
    """Scorecards of the 12 months up to last_month (not before first_month); closed months from their snapshot."""
    months = trend_months(last_month, first_month)
    if not months:
        return {}
    eng = engine(url)
    cards = api.closed_or_live_cards(eng, months[:-1], pd.Timestamp(as_of))
    # The last month is the one on screen: its card comes with the month's bundle, which the page has loaded.
    frozen = storage.load_snapshot(eng, last_month)
    cards[last_month] = (
        (frozen, True) if frozen is not None else (month_bundle(url, last_month, as_of, token).card, False)
    )
    return {m: {**card, "frozen": True} if closed else card for m, (card, closed) in cards.items()}


def trend_months(last_month: str, first_month: str | None) -> list[str]:
    """The 12 months up to last_month, not before first_month."""
    return [m for m in api.trailing_months(last_month, TREND_MONTHS) if first_month is None or m >= first_month]


Scope = tuple[tuple[str, str], ...]


@st.cache_data(show_spinner=False, max_entries=16)
def filtered_trend_cards(
    url: str, last_month: str, as_of: str, token: str, first_month: str | None, scope: Scope
) -> dict[str, dict]:
    """The 12 months' commitment figures over the filtered leads only (api.filtered_scorecards);
    `scope` is the filter's URL parameters as sorted pairs."""
    months = trend_months(last_month, first_month)
    if not months:
        return {}
    return api.filtered_scorecards(engine(url), months, pd.Timestamp(as_of), from_params(dict(scope)))


@st.cache_data(show_spinner=False, max_entries=48)
def filtered_month(url: str, month: str, as_of: str, token: str, scope: Scope) -> tuple[dict, pd.DataFrame]:
    """The month's commitment figures and daily MQLs over the filtered leads only (core.scorecard.scoped_scorecard
    on the month's cached bundle)."""
    bundle = month_bundle(url, month, as_of, token)
    lead_filter = from_params(dict(scope))
    card = scoped_scorecard(bundle.data, bundle.terms, month, bundle.as_of, lead_filter, ledger=bundle.ledger)
    leads = scoped_data(bundle.data, lead_filter).leads
    return card, daily_mqls(leads, bundle.terms, month, bundle.as_of, bundle.data.exclusions)


@st.cache_data(show_spinner="Scoring the months…", max_entries=16)
def consequences(
    url: str, month: str, as_of: str, token: str, live: bool = False, first_month: str | None = None
) -> dict:
    """The month's consequences: a closed month's frozen ones (unless `live`), else computed over its
    history as of as_of (api.month_scorecard's, with the month's card taken from its cached bundle and
    the eleven months before it from the page's cached trend cards (`first_month` as the page passes
    it), not computed again: only the months before those are scored here)."""
    eng = engine(url)
    stamp = pd.Timestamp(as_of)
    frozen = None if live else storage.load_snapshot(eng, month)
    if frozen is not None:
        return api.with_consequences(eng, frozen, stamp)["consequences"]
    trend = trend_cards(url, month, as_of, token, first_month)
    earlier = {m: {k: v for k, v in card.items() if k != "frozen"} for m, card in trend.items() if m != month}
    return api.month_consequences(eng, month_bundle(url, month, as_of, token).card, stamp, known=earlier)


@st.cache_data(show_spinner=False, max_entries=16)
def snapshot(url: str, month: str, token: str) -> dict | None:
    """The closed month's frozen scorecard (None when the month is not closed)."""
    return storage.load_snapshot(engine(url), month)


@st.cache_data(show_spinner=False, max_entries=16)
def snapshot_history(url: str, month: str, token: str) -> list[dict]:
    """Every snapshot of the month, newest first (storage.snapshot_history; re-closes keep the old ones)."""
    return storage.snapshot_history(engine(url), month)


@st.cache_data(show_spinner="Recalculating next month's targets…", max_entries=16)
def proposal(url: str, month: str, as_of: str, token: str) -> dict:
    """api.recalc: the month's proposed quota with every input and where it came from (nothing is saved)."""
    return api.recalc(engine(url), month, pd.Timestamp(as_of))


@st.cache_data(show_spinner=False, max_entries=16)
def version_note(url: str, version_id: int, token: str) -> dict:
    """A stored terms version's note (who made it and why) and when it was saved."""
    return storage.terms_version_note(engine(url), version_id)


@st.cache_data(show_spinner=False, ttl=60, max_entries=16)
def month_notes(url: str, month: str, token: str) -> dict:
    """The month's meeting notes with who saved them and when (notes "" when there are none).

    Saving notes does not change the data token: the app's own save calls `refresh()`, and the
    short ttl picks up notes saved elsewhere."""
    return storage.month_notes_record(engine(url), month)


@st.cache_data(show_spinner=False, max_entries=4)
def report_bundle(url: str, month: str, as_of: str, token: str) -> reports.ReportBundle:
    """The month's report contents (api.report_bundle: the snapshot when the month is closed)."""
    return api.report_bundle(engine(url), month, pd.Timestamp(as_of))


@st.cache_data(show_spinner=False, max_entries=12)
def report_file(url: str, month: str, as_of: str, token: str, fmt: str) -> tuple[bytes, str, str]:
    """The month's report as (bytes, file name, media type); fmt is "pdf", "xlsx" or "csv"."""
    return reports.report_bytes(report_bundle(url, month, as_of, token), fmt)


@st.cache_data(show_spinner=False, max_entries=48)
def team_summary(url: str, month: str, as_of: str, token: str) -> list[dict]:
    """`sales.owner_summary` with each lead's owner replaced by the owner's team (same rules, per team)."""
    bundle = month_bundle(url, month, as_of, token)
    owners = bundle.data.owners
    team_of = dict(zip(owners["owner_id"], owners["team"].fillna("No team")))
    ledger = bundle.ledger.assign(owner_id=bundle.ledger["owner_id"].map(team_of).fillna("No team"))
    teams = sorted(set(ledger["owner_id"]))
    pseudo = pd.DataFrame({"owner_id": teams, "name": teams, "team": teams, "active": True})
    return owner_summary(ledger, pseudo)


@st.cache_data(show_spinner=False, max_entries=48)
def worklist(url: str, month: str, as_of: str, token: str) -> pd.DataFrame:
    """The month's overdue worklist (sales.overdue_worklist): untouched leads, most overdue first."""
    return overdue_worklist(month_bundle(url, month, as_of, token).ledger)


@st.cache_data(show_spinner=False, max_entries=48)
def due_soon(url: str, month: str, as_of: str, token: str) -> pd.DataFrame:
    """The month's leads whose first-touch or attempts deadline is near (alert_rules.due_soon)."""
    bundle = month_bundle(url, month, as_of, token)
    return alert_rules.due_soon(bundle.ledger, bundle.terms, bundle.as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def terms_toml(url: str, version_id: int, token: str) -> str:
    """The stored TOML text of a terms version."""
    return storage.load_terms_toml(engine(url), version_id)


def previous_month(month: str) -> str:
    """The month before."""
    return add_months(month, -1)


def month_window(month: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a local month as local wall-clock (naive) timestamps, for charts."""
    start, end = month_bounds(month, tz)
    return start.tz_convert(tz).tz_localize(None), end.tz_convert(tz).tz_localize(None)


def this_month(tz: str, as_of: pd.Timestamp) -> str:
    """The local month of as_of."""
    return current_month(tz, as_of)


def refresh() -> None:
    """Forget every cached result (after the app itself wrote to the database)."""
    st.cache_data.clear()
    month_bundle.clear()


def prefetch_trends(url: str, month: str, as_of: str, token: str, first_month: str | None) -> None:
    """Compute the 12-month scorecards in the background (once per key) so Trends opens at once."""
    prefetch(trend_cards, url, month, as_of, token, first_month)


def prefetch(loader: Callable[..., object], *args: object) -> None:
    """Call a cached loader in the background, once per arguments, so that the section (or page)
    that needs it later finds it computed or being computed (Streamlit computes one key once)."""
    key = (loader.__qualname__, *args)
    with _PREFETCH_LOCK:
        if key in _PREFETCHED or st.get_option("global.appTest"):
            return
        _PREFETCHED.add(key)

    def work() -> None:
        """Fill the cache; failures only log."""
        try:
            loader(*args)
        except Exception:  # a warm-up only: the page computes (and reports) it again when it needs it
            log.warning("prefetching %s failed", loader.__qualname__, exc_info=True)

    threading.Thread(target=work, name=PREFETCH_THREAD, daemon=True).start()
