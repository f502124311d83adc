"""`setup_page`: the one call at the top of every page (config, auth gate, data, month picker).

The selected month lives in the URL (`?month=YYYY-MM`) so a link opens the same view, and so do the
filters of the pages that take them (`&team=East&owner=o7&segment=SMB&source=Webinar`, see
`core.lead_filter`); an
optional `?as_of=ISO` pins the instant every number is computed at (tests and shared
links use it; without it the app is live, as of now to the minute).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.evidence import is_empty_month
from smarketing.core.lead_filter import SCOPE_KEYS, LeadFilter, choices, describe, from_params
from smarketing.core.months import parse_month
from smarketing.core.terms import Terms, terms_for_month
from smarketing.outputs import log_scrub
from smarketing.store import storage
from smarketing.ui import loaders
from smarketing.ui.auth import AuthStatus, auth_status, require_login, user_box
from smarketing.ui.fmt import local_time, md_escape, month_label

PAGES: tuple[tuple[str, str, str], ...] = (
    ("dashboard.py", "Scorecard", ":material/space_dashboard:"),
    ("pages/1_Marketing.py", "Marketing", ":material/campaign:"),
    ("pages/2_Sales.py", "Sales", ":material/support_agent:"),
    ("pages/3_Lead_ledger.py", "Lead ledger", ":material/receipt_long:"),
    ("pages/4_Trends.py", "Trends", ":material/monitoring:"),
    ("pages/5_Terms.py", "Terms", ":material/handshake:"),
    ("pages/6_Data.py", "Data", ":material/database:"),
    ("pages/7_Executive_review.py", "Executive review", ":material/groups:"),
)
MONTH_KEY = "smk_month"
PICKER_KEY = "smk_month_picker"
LIVE_KEY = "smk_live_as_of"
LIVE_REFRESH = pd.Timedelta(minutes=5)
FILTER_KEY = "smk_filter_{}"
# On a phone Streamlit stacks every column full width, so a band of four figures becomes a long
# scroll: keep small columns (figures, pickers) two to a row, and let columns that hold cards, tables
# or charts take the full width. Our own fixed CSS, never CRM text.
PHONE_CSS = """<style>
@media (max-width: 640px) {
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; gap: 0.5rem !important; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: 100% !important; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:not(:has([data-testid="stHorizontalBlock"],
      [data-testid="stDataFrame"], [data-testid="stVerticalBlockBorderWrapper"], [data-testid="stPlotlyChart"])) {
    min-width: calc(50% - 0.5rem) !important; flex: 1 1 calc(50% - 0.5rem) !important;
  }
  [data-testid="stMetricValue"] { font-size: 1.5rem !important; }
  h1 { font-size: 1.6rem !important; }
}
</style>"""
# Pages that show no month numbers; the others draw a closed month from its snapshot (ui.closed_month).
NO_MONTH_NUMBERS = ("Terms", "Data")
FILTER_LABELS = {"team": "Team", "owner": "Rep", "segment": "Segment", "source": "Source"}


@dataclass
class PageContext:
    """What a page needs after setup: where the data is, which month, as of when."""

    url: str
    engine: Engine
    token: str
    summary: loaders.DataSummary
    month: str
    months: list[str]
    as_of: pd.Timestamp
    review_default: str
    pinned: bool
    tz: str
    auth: AuthStatus
    leads: LeadFilter = field(default_factory=LeadFilter)

    @property
    def as_of_iso(self) -> str:
        """The cache key form of as_of."""
        return self.as_of.isoformat()

    @property
    def demo(self) -> bool:
        """Whether demo data is in the database."""
        return self.summary.demo_load is not None

    @property
    def first_month(self) -> str | None:
        """The first month with an MQL (None without data)."""
        return self.summary.months[0] if self.summary.months else None

    @property
    def terms(self) -> Terms:
        """The terms in force for the month (those its bundle is measured against), without loading it."""
        return terms_for_month(self.summary.versions, self.month)

    def bundle(self, month: str | None = None) -> loaders.MonthBundle:
        """The month's scorecard, ledger and data (cached)."""
        return loaders.month_bundle(self.url, month or self.month, self.as_of_iso, self.token)

    @property
    def scope_key(self) -> tuple[tuple[str, str], ...]:
        """The page's team / rep / segment / source filter as a cache key (sorted URL pairs)."""
        return tuple(sorted(self.leads.scope().params().items()))

    def link_params(self) -> dict[str, str]:
        """Query parameters that carry the view to another page."""
        params = {"month": self.month, **self.leads.scope().params()}
        if self.pinned:
            params["as_of"] = self.as_of_iso
        return params

    def ledger_params(self, lead_filter: LeadFilter) -> dict[str, str]:
        """Query parameters that open the lead ledger on exactly the leads of `lead_filter`."""
        params = {"month": self.month, **lead_filter.params()}
        if self.pinned:
            params["as_of"] = self.as_of_iso
        return params

    def owner_names(self) -> dict[str, str]:
        """Owner id → name in this month's data."""
        owners = self.bundle().data.owners
        return dict(zip(owners["owner_id"].astype(str), owners["name"].fillna(owners["owner_id"]).astype(str)))


def setup_page(title: str, icon: str = ":material/space_dashboard:", filters: bool = False) -> PageContext:
    """Page config, login gate, database, month picker, navigation and the demo banner; with `filters`,
    the team / rep / segment / source pickers too (their values in the URL, read into `ctx.leads`)."""
    log_scrub.install()  # every run: Streamlit may have replaced its handlers since
    st.set_page_config(page_title=f"{title} · smarketing", page_icon="📊", layout="wide", initial_sidebar_state="auto")
    st.html(PHONE_CSS)
    status = auth_status()
    require_login(status)
    url = _database_url()
    try:
        if not os.environ.get("SMARKETING_DB", "").strip():
            loaders.ensure_demo(url)
        token = loaders.data_token(url)
        summary = loaders.data_summary(url, token)
    except UserError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    as_of, pinned = _as_of(summary.timezone)
    home, review = loaders.opening_months(url, as_of.isoformat(), token)
    months = _month_options(summary.months, loaders.this_month(summary.timezone, as_of))
    month = _month(months, home)
    ctx = PageContext(
        url, loaders.engine(url), token, summary, month, months, as_of, review, pinned, summary.timezone, status
    )
    ctx.leads = from_params(st.query_params.to_dict())
    _sidebar(ctx)
    if filters:
        _filter_pickers(ctx)
    _header(ctx, title, icon, filters)
    return ctx


def _filter_pickers(ctx: PageContext) -> None:
    """Team, rep, segment and source pickers in the sidebar, each kept in the URL."""
    bundle = ctx.bundle()
    options = choices(bundle.ledger, bundle.data.owners)
    names = ctx.owner_names()
    st.sidebar.markdown("**Filters**")
    for key in SCOPE_KEYS:
        current = getattr(ctx.leads, key)
        values = ["", *options[key]]
        if current and current not in values:
            values.append(current)
        widget = FILTER_KEY.format(key)
        st.session_state[widget] = current  # always: a page switch gives the widget a fresh identity
        label = FILTER_LABELS[key]
        st.sidebar.selectbox(
            label,
            values,
            key=widget,
            format_func=lambda v, k=key, lab=label: (
                f"All {lab.lower()}s" if not v else names.get(v, v) if k == "owner" else v
            ),
            on_change=_on_filter_change,
            args=(key,),
        )


def _on_filter_change(key: str) -> None:
    """Put a picked filter in the URL (or take it out for "All")."""
    value = st.session_state[FILTER_KEY.format(key)]
    if value:
        st.query_params[key] = value
    elif key in st.query_params:
        del st.query_params[key]


def _clear_filters() -> None:
    """Drop every lead filter from the URL."""
    for key in (*SCOPE_KEYS, "first_touch", "attempts", "untouched"):
        if key in st.query_params:
            del st.query_params[key]


def empty_month(ctx: PageContext, card: dict) -> bool:
    """A month with nothing yet says so with the next step, instead of a row of zeros; True when shown."""
    if not is_empty_month(card):
        return False
    if card["marketing"].get("status") == "not_started":
        what = f"**{month_label(ctx.month)} has not started yet.**"
    else:
        what = f"**No MQLs in {month_label(ctx.month)} yet** (as of {local_time(card['as_of'], ctx.tz)})."
    latest = ctx.summary.months[-1] if ctx.summary.months else None
    with st.container(border=True):
        if not ctx.summary.has_leads:
            st.info(f"{what} Import your CRM files or connect HubSpot on the Data page.", icon=":material/upload:")
            try:
                st.page_link("pages/6_Data.py", label="Go to the Data page", icon=":material/database:")
            except Exception:  # a bare AppTest of one page has no page registry
                pass
        elif latest and latest != ctx.month:
            st.info(
                f"{what} The data runs from {month_label(ctx.summary.months[0])} to {month_label(latest)}: "
                "pick a month with data, or import or sync newer data on the Data page.",
                icon=":material/calendar_month:",
            )
            st.button(f"Show {month_label(latest)}", key="empty_to_latest", on_click=_pick_month, args=(latest,))
        else:
            st.info(f"{what} Import or sync newer data on the Data page.", icon=":material/upload:")
    return True


def _pick_month(month: str) -> None:
    """Make `month` the selected month (URL and session)."""
    st.session_state[MONTH_KEY] = month
    st.query_params["month"] = month


def _database_url() -> str:
    """The database URL the app reads (SMARKETING_DB, else the embedded SQLite file)."""
    return storage.default_db_url()


def _as_of(tz: str) -> tuple[pd.Timestamp, bool]:
    """as_of from ?as_of= (pinned), else live: now to the minute, kept for the session for a few
    minutes so moving between pages and months reuses cached results and shows one instant."""
    text = st.query_params.get("as_of")
    if text:
        try:
            return api.parse_as_of(text, tz), True
        except UserError as exc:
            st.warning(f"{md_escape(exc)} Showing live numbers instead.", icon=":material/schedule:")
    now = pd.Timestamp.now(tz="UTC").floor("min")
    kept = st.session_state.get(LIVE_KEY)
    if kept is None or now - kept >= LIVE_REFRESH:
        st.session_state[LIVE_KEY] = kept = now
    return kept, False


def _refresh_live() -> None:
    """Move the live as_of to now (the sidebar's refresh button)."""
    st.session_state.pop(LIVE_KEY, None)


def _month_options(data_months: list[str], current: str) -> list[str]:
    """Months to choose from, newest first: every month with data up to the current one."""
    months = {m for m in data_months if m <= current} | {current}
    return sorted(months, reverse=True)


def _month(options: list[str], default: str) -> str:
    """The month from the URL, else the one chosen earlier in this session, else `default`
    (the current month once it has an MQL, else the latest month with one)."""
    wanted = st.query_params.get("month")
    if wanted:
        try:
            wanted = parse_month(wanted)
        except UserError as exc:
            st.warning(f"{md_escape(exc)} Showing {month_label(default)}.", icon=":material/calendar_month:")
            wanted = None
    if wanted and wanted not in options:
        options.append(wanted)
        options.sort(reverse=True)
    chosen = wanted or st.session_state.get(MONTH_KEY) or default
    chosen = chosen if chosen in options else default
    st.session_state[MONTH_KEY] = chosen
    if st.query_params.get("month") != chosen:
        st.query_params["month"] = chosen
    if st.session_state.get(PICKER_KEY) != chosen:
        st.session_state[PICKER_KEY] = chosen
    return chosen


def _on_month_change() -> None:
    """Put the picked month in the URL and the session."""
    month = st.session_state[PICKER_KEY]
    st.session_state[MONTH_KEY] = month
    st.query_params["month"] = month


def _go_live() -> None:
    """Drop the pinned as_of from the URL."""
    if "as_of" in st.query_params:
        del st.query_params["as_of"]


def _sidebar(ctx: PageContext) -> None:
    """Brand, navigation, month picker, as-of line and the signed-in user."""
    bar = st.sidebar
    bar.markdown("### :material/handshake: smarketing")
    bar.caption("Marketing ⇄ Sales service-level scorecards")
    _navigation(ctx)
    bar.divider()
    bar.selectbox(
        "Month",
        ctx.months,
        key=PICKER_KEY,
        format_func=month_label,
        on_change=_on_month_change,
        help="The month every page shows. It is kept in the address bar, so a link opens the same month.",
    )
    if ctx.pinned:
        bar.caption(f":material/push_pin: Pinned as of {local_time(ctx.as_of, ctx.tz)}")
        bar.button("Back to live numbers", on_click=_go_live, key="go_live", icon=":material/update:")
    else:
        bar.caption(f":material/update: Live · as of {local_time(ctx.as_of, ctx.tz)}")
        bar.button(
            "Refresh now",
            on_click=_refresh_live,
            key="refresh_live",
            icon=":material/refresh:",
            help="Live numbers move to the current minute by themselves every few minutes.",
        )
    user_box(ctx.auth)


def _navigation(ctx: PageContext) -> None:
    """Links to every page that keep the month (and a pinned as_of) in the URL."""
    for path, label, icon in PAGES:
        try:
            st.sidebar.page_link(path, label=label, icon=icon, query_params=ctx.link_params())
        except Exception:  # run outside the app's folder (a bare AppTest of one page): no links
            return


def _header(ctx: PageContext, title: str, icon: str, filters: bool) -> None:
    """The page title, what is filtered, and the demo-data banner while demo data is shown."""
    st.title(f"{icon} {title}")
    if ctx.leads.scoped and not filters:
        st.caption(
            f":material/filter_alt: This page shows the whole company; the filter "
            f"({md_escape(describe(ctx.leads.scope(), ctx.owner_names()))}) is kept for the pages that take it."
        )
    elif ctx.leads.scoped:
        what = describe(ctx.leads.scope(), ctx.owner_names())
        text, clear = st.columns([5, 1])
        text.info(f"**Filtered to** {md_escape(what)}.", icon=":material/filter_alt:")
        clear.button("Clear filters", key="clear_filters", on_click=_clear_filters, icon=":material/filter_alt_off:")
    if ctx.month in ctx.summary.closed and title in NO_MONTH_NUMBERS:
        st.info(
            f"**{month_label(ctx.month)} is closed.** Its numbers of record are frozen; every page that shows "
            "them shows the closed ones. Reopen it on the Executive review page.",
            icon=":material/ac_unit:",
        )
    demo = ctx.summary.demo_load
    if demo is not None:
        when = local_time(demo["finished_at"], ctx.tz, with_zone=False)
        st.info(
            f"**Demo data.** These numbers come from a generated company (loaded {when}), not from your CRM. "
            "Import your own files or connect HubSpot on the Data page.",
            icon=":material/science:",
        )
