"""Disputes in the dashboard: request an exclusion from a lead's page, decide it in the review queue.

Every request and decision is kept (who, when, what) and shown on the lead's page. With login on,
the person who asked cannot decide their own request. Reasons and notes are CRM-style free text:
they are shown with st.text or in tables, never as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.core.frames import COMMITMENTS
from smarketing.ui import loaders
from smarketing.ui.components import empty_state, table
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import DASH, local_time

FLASH_KEY = "smk_exclusion_flash"
COMMITMENT_LABELS = {
    "mql_quota": "MQL quota (marketing)",
    "first_touch": "First touch",
    "attempts": "Attempts",
    "acceptance": "Acceptance",
    "all": "Every commitment",
}


def who(ctx: PageContext) -> str:
    """The signed-in user, or 'dashboard' when login is off."""
    return ctx.auth.user or "dashboard"


def _flash() -> None:
    """The outcome of the last request or decision, once."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/task_alt:")


def history_frame(requests: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Requests as a display table, text as plain strings. Who and when share a column ("sam ·
    Mar 02, 2026 09:15", local wall-clock time with the year: an audit trail spans years), so the
    table fits the page without cutting a header off; a request not decided yet reads '—'."""

    def by_at(who: object, at: object) -> str:
        when = local_time(at, tz, with_zone=False)
        name = "" if who is None or pd.isna(who) else str(who)
        return DASH if when == DASH and not name else f"{name or 'someone'} · {when}"

    return pd.DataFrame(
        {
            "Request": requests["exclusion_id"].to_numpy(),
            "Commitment": requests["commitment"].map(COMMITMENT_LABELS).fillna(requests["commitment"]).to_numpy(),
            "Reason": requests["reason"].to_numpy(),
            "Asked": [by_at(w, t) for w, t in zip(requests["requested_by"], requests["requested_at"])],
            "Decision": requests["decision"].to_numpy(),
            "Decided": [by_at(w, t) for w, t in zip(requests["decided_by"], requests["decided_at"])],
            "Note": requests["decision_note"].to_numpy(),
        }
    )


def lead_disputes(ctx: PageContext, lead_id: str) -> None:
    """The lead's exclusion requests with their decisions, and a form to ask for one."""
    requests = api.exclusion_requests(ctx.engine, lead_id=lead_id)
    with st.container(border=True):
        st.subheader(":material/gavel: Disputes")
        _flash()
        if requests.empty:
            st.caption("No exclusion has been requested for this lead.")
        else:
            shown = history_frame(requests, ctx.tz)
            table(shown, key="disputes")
            st.caption(f"Times in {ctx.tz}. Only an approved request counts, from its decision on.")
        with st.form(f"exclude_{lead_id}", clear_on_submit=True, border=False):
            st.markdown("**Ask to leave this lead out of a commitment**")
            commitment = st.selectbox(
                "Commitment", COMMITMENTS, format_func=COMMITMENT_LABELS.get, key="exclusion_commitment"
            )
            reason = st.text_area(
                "Reason", key="exclusion_reason", placeholder="e.g. came in during the routing outage of 3 May"
            )
            if st.form_submit_button("Request exclusion", icon=":material/send:"):
                _request(ctx, lead_id, commitment, reason)


def _request(ctx: PageContext, lead_id: str, commitment: str, reason: str) -> None:
    """Store a request; explain a refusal in one sentence."""
    _act(
        lambda: api.request_exclusion(ctx.engine, lead_id, commitment, reason, by=who(ctx)),
        lambda row: f"Request {row['exclusion_id']} recorded; it waits for an approver.",
    )


def _act(action: Callable[[], dict], done: Callable[[dict], str]) -> None:
    """Run a write; a refusal is one sentence, a success refreshes the data and is said after the rerun."""
    try:
        row = action()
    except UserError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    loaders.refresh()
    st.session_state[FLASH_KEY] = done(row)
    st.rerun()


def review_queue(ctx: PageContext) -> None:
    """Pending requests, oldest first, each with approve / deny and a note."""
    requests = api.exclusion_requests(ctx.engine)
    pending = requests.loc[requests["decision"] == "pending"]
    with st.container(border=True):
        st.subheader(":material/gavel: Exclusion requests to decide")
        _flash()
        if pending.empty:
            empty_state("No exclusion request is waiting for a decision.", icon=":material/done_all:")
        for request in pending.to_dict("records"):
            _decision_row(ctx, request)
        decided = requests.loc[requests["decision"] != "pending"]
        if len(decided):
            with st.expander(f"Decided requests ({len(decided)})"):
                table(history_frame(decided, ctx.tz).assign(Lead=decided["lead_id"].to_numpy()), key="decided")


def decided_after_close(ctx: PageContext, card: dict) -> None:
    """On a closed month: decisions on its MQLs made after the close, which the snapshot does not
    include, with a "Re-close to include" action (the old snapshot stays in the history)."""
    if not card.get("closed") or not card.get("closed_at"):
        return
    closed_at = pd.Timestamp(card["closed_at"]).tz_convert("UTC")
    requests = api.exclusion_requests(ctx.engine, month=ctx.month)
    late = requests.loc[requests["decided_at"].notna() & (requests["decided_at"] > closed_at)]
    if late.empty:
        return
    st.warning(
        f"{len(late)} exclusion decision(s) on this month's leads came after the close and are not in the "
        "frozen numbers.",
        icon=":material/gavel:",
    )
    table(history_frame(late, ctx.tz).assign(Lead=late["lead_id"].to_numpy()), key="late_decisions")
    if st.button("Re-close to include", key="reclose_include", icon=":material/lock_reset:"):
        as_of = max(ctx.as_of, late["decided_at"].max())
        _act(
            lambda: api.close_month(ctx.engine, ctx.month, closed_by=who(ctx), force=True, as_of=as_of),
            lambda result: f"Re-closed: snapshot {result['snapshot_id']} includes those decisions.",
        )


def _decision_row(ctx: PageContext, request: dict) -> None:
    """One pending request: what was asked, by whom, and the approver's buttons."""
    rid = request["exclusion_id"]
    own = ctx.auth.configured and ctx.auth.user is not None and ctx.auth.user == request["requested_by"]
    with st.container(border=True):
        st.text(
            f"Request {rid} · lead {request['lead_id']} · {COMMITMENT_LABELS.get(request['commitment'])} · "
            f"asked by {request['requested_by'] or 'someone'} on {local_time(request['requested_at'], ctx.tz)}"
        )
        st.text(f"Reason: {request['reason']}")
        note = st.text_input("Note (why)", key=f"note_{rid}")
        left, right = st.columns(2)
        help_text = "You asked for this exclusion; another approver decides it." if own else None
        if left.button("Approve", key=f"approve_{rid}", icon=":material/check:", disabled=own, help=help_text):
            _decide(ctx, rid, True, note)
        if right.button("Deny", key=f"deny_{rid}", icon=":material/close:", disabled=own, help=help_text):
            _decide(ctx, rid, False, note)


def _decide(ctx: PageContext, exclusion_id: str, approve: bool, note: str) -> None:
    """Store a decision (login on: never on one's own request)."""
    _act(
        lambda: api.decide_exclusion(
            ctx.engine, exclusion_id, approve=approve, by=who(ctx), note=note, forbid_self=ctx.auth.configured
        ),
        lambda row: f"Request {row['exclusion_id']} {row['decision']}.",
    )
