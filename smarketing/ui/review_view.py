"""The Executive review page's sections (the monthly alignment meeting).

The reviewed month is shown from its snapshot once it is closed (never recomputed; live numbers on
request), with "Close again" and "Reopen month", else live with a "Close month" button; then the consequences (both sides' weighted score and its trend,
strikes, the critical flag of the terms, credits with their history), twelve months of every
commitment, next month's proposed targets, the meeting's notes and the report downloads. Opened without a month in the URL, the page reviews the last full month.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.evidence import NO_ACTIVITIES
from smarketing.store import storage
from smarketing.ui import charts, closed_month, exclusions_view, loaders
from smarketing.ui import scorecard_view as scorecard
from smarketing.ui.closed_month import Shown
from smarketing.ui.components import empty_state, plot, plot_or_empty, table
from smarketing.ui.context import MONTH_KEY, PageContext
from smarketing.ui.fmt import STATUS_TEXT, count, local_time, md_escape, month_label, pct, status_text
from smarketing.ui.history import any_value, consecutive_misses, has_activities, status_history

FLASH_KEY = "smk_review_flash"
NOTES_FLASH_KEY = "smk_notes_flash"
REPORT_FORMATS = (
    ("pdf", "PDF report", ":material/picture_as_pdf:", "application/pdf"),
    (
        "xlsx",
        "Excel workbook",
        ":material/table_view:",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("csv", "CSV", ":material/csv:", "text/csv"),
)
CELL_TINTS = {
    "met": "#dcfce7",
    "missed": "#fee2e2",
    "behind": "#fee2e2",
    "at_risk": "#fef3c7",
    "on_track": "#dbeafe",
    "no_data": "#f1f5f9",
    "not_started": "#f1f5f9",
    "no_activity_data": "#f1f5f9",
    "pending": "#f1f5f9",
}


# -- which month -------------------------------------------------------------------------------------


def month_was_chosen() -> bool:
    """Whether a month was asked for (in the URL or earlier in this session); call before setup_page."""
    return "month" in st.query_params or MONTH_KEY in st.session_state


def steer_to_last_full_month(ctx: PageContext, chosen: bool) -> None:
    """Opened without a month: review the latest finished month with data (the meeting looks back)."""
    if chosen or ctx.month == ctx.review_default:
        return
    _switch_month(ctx.review_default)
    st.rerun()


def _switch_month(month: str) -> None:
    """Make `month` the selected month (URL and session), as the sidebar picker would."""
    st.session_state[MONTH_KEY] = month
    st.query_params["month"] = month


# -- the reviewed month ------------------------------------------------------------------------------


def review_cards(ctx: PageContext) -> tuple[Shown, dict | None, str]:
    """The reviewed month (its snapshot when closed, unless live numbers are asked for), the month
    before's card, and that month."""
    month = closed_month.shown(ctx)
    prev_month = loaders.previous_month(ctx.month)
    prev = loaders.snapshot(ctx.url, prev_month, ctx.token) or ctx.bundle(prev_month).card
    return month, prev, prev_month


def month_status(ctx: PageContext, month: Shown) -> None:
    """Closed on … by … (frozen) with re-close and reopen, or live with the Close month controls; the
    re-close history."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    card = month.card
    if not card.get("month_over") and not month.closed:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(
                f":material/hourglass_top: **{month_label(ctx.month)} is still in progress.** The alignment "
                "meeting reviews a finished month; this one can be closed after it ends."
            )
            previous = ctx.review_default
            st.button(
                f"Review {month_label(previous)}",
                key="review_last_full",
                icon=":material/history:",
                on_click=_switch_month,
                args=(previous,),
                width="content",
            )
    with st.container(border=True):
        if month.frozen is not None:
            _closed_line(ctx, month.frozen)
            exclusions_view.decided_after_close(ctx, {**month.frozen, "closed": True})
            _reclose(ctx)
            _reopen_controls(ctx)
        else:
            _open_line(ctx, card)
            _close_controls(ctx)
    _snapshot_list(ctx)


def _closed_line(ctx: PageContext, card: dict) -> None:
    """':lock: Closed on Mar 02, 2026 09:00 by dana · frozen as of … · terms version 1'."""
    version = card.get("terms_version_id")
    st.markdown(
        f":material/lock: **Closed on {local_time(card.get('closed_at'), ctx.tz, with_zone=False)} by "
        f"{md_escape(card.get('closed_by'))}** · frozen scorecard as of {local_time(card.get('as_of'), ctx.tz)}"
        + (f" · measured with terms version {version}" if version else "")
        + ". Later data changes do not move these numbers."
    )


def _open_line(ctx: PageContext, card: dict) -> None:
    """':lock_open: Live — not closed yet' with what that means."""
    state = "the month is over" if card.get("month_over") else "the month is running"
    st.markdown(
        f":material/lock_open: **Live — not closed yet.** Numbers as of {local_time(card.get('as_of'), ctx.tz)}; "
        f"{state}, and late CRM updates still move them until the month is closed."
    )


def _close_controls(ctx: PageContext) -> None:
    """Close month (refused with the core's sentence while it is open), with an explicit force option."""
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        force = st.checkbox(
            "Force",
            key="close_force",
            help="Close even though the month is not over or follow-up deadlines are still running.",
        )
        clicked = st.button("Close month", key="close_month", type="primary", icon=":material/lock:")
    if force:
        st.warning(
            "Forcing freezes the numbers while leads can still be judged: pending follow-ups stay pending "
            "in the snapshot. A later forced re-close replaces the snapshot shown and keeps this one in the "
            "history.",
            icon=":material/warning:",
        )
    if clicked:
        _close(ctx, force)


def _reclose(ctx: PageContext) -> None:
    """A forced re-close, behind an expander and a confirmation."""
    with st.expander("Close again (force)", icon=":material/lock_reset:"):
        st.warning(
            f"Re-closing freezes the numbers as of {local_time(ctx.as_of, ctx.tz)} and shows them from then "
            "on. The current snapshot is not deleted: it stays in this month's snapshot history.",
            icon=":material/warning:",
        )
        sure = st.checkbox("Replace the snapshot shown, keep the old one in the history", key="reclose_sure")
        if (
            st.button("Re-close with force", key="reclose_month", icon=":material/lock_reset:", disabled=not sure)
            and sure
        ):
            _close(ctx, True)


def _reopen_controls(ctx: PageContext) -> None:
    """The "Reopen month" action behind a reason and a confirmation; with login on, only a signed-in user (who is
    recorded with the snapshot, as the CLI's `reopen --by`)."""
    with st.expander("Reopen month", icon=":material/lock_open:"):
        st.caption(
            "Reopening lets the month's terms and targets change again, and every page shows live numbers "
            "until it is closed again. The snapshot is not deleted: it stays in the history with who reopened "
            "it and why."
        )
        who = ctx.auth.user if ctx.auth.configured else "dashboard"
        if who is None:
            st.info("Only a signed-in user with a name or e-mail address can reopen a month.", icon=":material/lock:")
        reason = st.text_input("Why reopen it (kept with the snapshot)", key="reopen_reason")
        sure = st.checkbox(f"Yes, reopen {month_label(ctx.month)}", key="reopen_sure")
        ready = bool(who and sure and reason.strip())
        if st.button("Reopen month", key="reopen_month", icon=":material/lock_open:", disabled=not ready) and ready:
            _reopen(ctx, str(who), reason)


def _reopen(ctx: PageContext, who: str, reason: str) -> None:
    """api.reopen_month as `who`; a refusal shown as its one sentence."""
    try:
        api.reopen_month(ctx.engine, ctx.month, by=who, reason=reason)
    except UserError as exc:
        st.error(md_escape(str(exc).replace(" (--reason)", "")), icon=":material/block:")
        return
    loaders.refresh()
    st.session_state[FLASH_KEY] = (
        f"{month_label(ctx.month)} is open again; its snapshot stays in the history with who reopened it and why. "
        "Close it again below when it is ready."
    )
    st.rerun()


def _close(ctx: PageContext, force: bool) -> None:
    """api.close_month as the signed-in user (or "dashboard"); the refusal shown as the core's sentence."""
    try:
        result = api.close_month(
            ctx.engine, ctx.month, closed_by=ctx.auth.user or "dashboard", force=force, as_of=ctx.as_of
        )
    except UserError as exc:
        hint = "" if force else " Tick “Force” to close it anyway."
        st.error(md_escape(str(exc).replace(", or use --force", "")) + hint, icon=":material/block:")
        return
    loaders.refresh()
    pending = result.get("pending") or 0
    st.session_state[FLASH_KEY] = (
        f"{month_label(ctx.month)} is closed: snapshot {result['snapshot_id']} frozen as of "
        f"{local_time(ctx.as_of, ctx.tz)}"
        + (f", with {pending} follow-up deadline(s) still running." if pending else ".")
    )
    st.rerun()


def _snapshot_list(ctx: PageContext) -> None:
    """Every snapshot of the month when it was closed more than once (the old ones are kept)."""
    history = loaders.snapshot_history(ctx.url, ctx.month, ctx.token)
    if len(history) < 2:
        return
    with st.expander(f"Snapshot history · closed {len(history)} times", icon=":material/history:", expanded=True):
        table(snapshot_frame(history, ctx.tz), key="snapshots")
        st.caption(
            "Newest first. The one marked 'shown' is the scorecard above; superseded snapshots are kept as they were."
        )


def snapshot_frame(history: list[dict], tz: str) -> pd.DataFrame:
    """Snapshots as display rows: when, by whom, as of when, and each side's headline number (pure)."""
    rows = []
    for snap in history:
        card = snap.get("payload") or {}
        m = card.get("marketing") or {}
        sales = card.get("sales") or {}
        rows.append(
            {
                "Snapshot": snap["snapshot_id"],
                "State": "superseded" if snap.get("superseded") else "shown",
                "Closed": local_time(snap.get("closed_at"), tz, with_zone=False),
                "By": str(snap.get("closed_by") or ""),
                "Numbers as of": local_time(snap.get("as_of"), tz, with_zone=False),
                "Terms version": snap.get("terms_version_id"),
                "MQLs / quota": f"{count(m.get('mqls'))} / {count(m.get('quota'))}",
                "First touch": pct((sales.get("first_touch") or {}).get("compliance")),
                "Attempts": pct((sales.get("attempts") or {}).get("compliance")),
            }
        )
    return pd.DataFrame(rows)


def two_columns(card: dict, prev: dict | None, prev_month: str) -> None:
    """Marketing's and Sales' side of the month, the revenue link between them (the Home cards)."""
    prev_label = scorecard.previous_label(prev_month)
    marketing, strip, sales = st.columns([5, 2.3, 5])
    with marketing:
        scorecard.marketing_card(card, prev, prev_label)
    with strip:
        scorecard.revenue_strip(card, prev, prev_label)
    with sales:
        scorecard.sales_card(card, prev, prev_label)


# -- commitments over the months ---------------------------------------------------------------------


def commitment_frame(cards: Mapping[str, Mapping]) -> pd.DataFrame:
    """Commitments down, months across (oldest first) in words, then the misses in a row (pure)."""
    ordered = {m: cards[m] for m in sorted(cards)}
    raw = status_history(ordered)
    shown = raw.map(status_text)
    shown.columns = [_month_column(m, ordered[m]) for m in raw.columns]
    shown["Misses in a row"] = [consecutive_misses(list(raw.loc[name])) for name in raw.index]
    return shown.rename_axis("Commitment").reset_index()


def _month_column(month: str, card: Mapping) -> str:
    """'Feb 26' (with a snowflake when shown from a snapshot)."""
    label = pd.Period(month, freq="M").strftime("%b %y")
    return label + (" ❄" if card.get("frozen") else "")


def commitments(cards: Mapping[str, Mapping]) -> None:
    """Each commitment's met/missed per month and the trend charts."""
    with st.container(border=True):
        st.subheader(f":material/timeline: Commitments over the last {len(cards)} months")
        if not cards:
            empty_state("There is no data for the months up to this one yet.")
            return
        frame = commitment_frame(cards)
        months = [c for c in frame.columns if c not in ("Commitment", "Misses in a row")]
        table(
            frame[["Commitment", *months, "Misses in a row"]].style.map(_tint, subset=months),
            {"Commitment": st.column_config.TextColumn("Commitment", pinned=True)},
            key="commitments",
        )
        st.caption(
            "Oldest month first; ❄ marks a closed month shown from its snapshot. A month that is still running, "
            "or has follow-ups pending, shows its current status (on track, at risk, behind)."
        )
        left, mid, right = st.columns(3)
        with left:
            st.markdown("**Marketing · MQLs against quota**")
            plot(charts.mqls_trend(cards, height=280), key="r_mqls")
        if not has_activities(cards):
            with mid:
                empty_state(f"Sales · {NO_ACTIVITIES}", icon=":material/block:")
            return
        for column, key, label in ((mid, "first_touch", "first-touch"), (right, "attempts", "attempt")):
            with column:
                st.markdown(f"**Sales · {label} compliance**")
                plot_or_empty(
                    charts.compliance_trend(cards, key),
                    any_value(cards, ("sales", key, "compliance")),
                    "No lead of these months has been judged yet, so there is no compliance to draw.",
                    key=f"r_{key}",
                )


def _tint(value: object) -> str:
    """A light background per status word for the month cells."""
    for status, (symbol, word) in STATUS_TEXT.items():
        if value == f"{symbol} {word}":
            return f"background-color: {CELL_TINTS.get(status, '#ffffff')}"
    return ""


# -- notes and report --------------------------------------------------------------------------------


def notes_and_report(ctx: PageContext, card: dict) -> None:
    """The meeting's notes next to the report downloads."""
    left, right = st.columns([2, 1])
    with left:
        notes(ctx)
    with right:
        report(ctx, card)


def notes(ctx: PageContext) -> None:
    """The meeting's decisions for the month: a text area saved with a button, with who saved it and when."""
    saved = loaders.month_notes(ctx.url, ctx.month, ctx.token)
    with st.container(border=True):
        st.subheader(":material/edit_note: Decisions and notes")
        st.caption(
            f"What the meeting decided about {month_label(ctx.month)}. Stored with the month and printed in the report."
        )
        text = st.text_area(
            "Notes of the meeting",
            value=saved["notes"],
            key=f"notes_{ctx.month}",
            height=180,
            label_visibility="collapsed",
            placeholder="e.g. SMB quota kept; routing fix for the East team by the 10th; "
            "revisit the attempts target next month.",
        )
        with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
            clicked = st.button("Save notes", key="save_notes", icon=":material/save:")
            if saved.get("updated_by"):
                st.caption(
                    f"Last saved by {md_escape(saved['updated_by'])} on {local_time(saved.get('updated_at'), ctx.tz)}"
                )
            else:
                st.caption("No notes saved for this month yet.")
        flash = st.session_state.pop(NOTES_FLASH_KEY, None)
        if flash:
            st.success(flash, icon=":material/check_circle:")
        if clicked:
            _save_notes(ctx, text or "")


def _save_notes(ctx: PageContext, text: str) -> None:
    """Store the notes as the signed-in user (or "dashboard") and forget the cached ones."""
    storage.save_month_notes(ctx.engine, ctx.month, text, by=ctx.auth.user or "dashboard")
    loaders.month_notes.clear()
    loaders.report_bundle.clear()
    loaders.report_file.clear()
    st.session_state[NOTES_FLASH_KEY] = f"Notes for {month_label(ctx.month)} saved."
    st.rerun()


def report(ctx: PageContext, card: dict) -> None:
    """PDF, Excel and CSV of the month, each made when its button is clicked (cached per month, as_of, data)."""
    with st.container(border=True):
        st.subheader(":material/download: Report")
        source = "its snapshot" if card.get("closed") else f"live numbers as of {local_time(ctx.as_of, ctx.tz)}"
        st.caption(
            f"{month_label(ctx.month)} from {source}. PDF: both columns, the pace chart, the trend and the rep "
            "table. Excel: scorecard, by owner, lead ledger, terms. Made when you click (a PDF takes a few seconds)."
        )
        for fmt, label, icon, mime in REPORT_FORMATS:
            st.download_button(
                label,
                _report_data(ctx, fmt),
                file_name=report_name(ctx.month, bool(card.get("closed")), fmt),
                mime=mime,
                key=f"report_{fmt}",
                icon=icon,
                on_click="ignore",
                width="stretch",
            )


def report_name(month: str, closed: bool, fmt: str) -> str:
    """The download's file name (as reports.report_bytes names it)."""
    return f"smarketing-scorecard-{month}{'-closed' if closed else ''}.{fmt}"


def _report_data(ctx: PageContext, fmt: str) -> Callable[[], bytes]:
    """A callable the download button runs on click: the cached report bytes."""
    url, month, as_of, token = ctx.url, ctx.month, ctx.as_of_iso, ctx.token

    def make() -> bytes:
        """The report file's bytes."""
        return loaders.report_file(url, month, as_of, token, fmt)[0]

    return make
