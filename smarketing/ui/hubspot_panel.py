"""The Data page's HubSpot section: token status, the last sync, cursors, and a "Sync now" button.

Thin: the sync itself is smarketing.sources.hubspot.run_sync; this only draws its report. The token
comes from HUBSPOT_ACCESS_TOKEN or the `[hubspot]` table of the Streamlit secrets and is
never shown. CRM text is drawn as plain text, never as HTML.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from smarketing.core.errors import UserError
from smarketing.sources.hubspot import last_sync, run_sync, settings_from_env
from smarketing.ui.components import table
from smarketing.ui.fmt import md_escape
from smarketing.ui.secrets import read_secrets


def _secrets() -> Mapping[str, Any]:
    """The `[hubspot]` secrets table ({} when there are no secrets)."""
    return read_secrets().table("hubspot")


def _token_source() -> str | None:
    if os.environ.get("HUBSPOT_ACCESS_TOKEN", "").strip():
        return "the HUBSPOT_ACCESS_TOKEN environment variable"
    if str(_secrets().get("access_token") or "").strip():
        return "the Streamlit secrets ([hubspot] access_token)"
    return None


def _when(iso: str | None, tz: str) -> str:
    if not iso:
        return "—"
    stamp = pd.Timestamp(iso)
    return stamp.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


def _cursor_rows(cursors: Mapping[str, Any], tz: str) -> pd.DataFrame:
    rows = []
    for object_type, cursor in cursors.items():
        if not isinstance(cursor, dict):
            continue
        since = cursor.get("since") or cursor.get("synced_at")
        rows.append(
            {
                "Object": object_type,
                "Phase": {"list": "backfill", "archived": "deletions", "search": "incremental"}.get(
                    cursor.get("mode"), "?"
                ),
                "Changes read up to": _when(pd.Timestamp(since, unit="ms", tz="UTC").isoformat(), tz) if since else "—",
            }
        )
    return pd.DataFrame(rows)


def render_sync_panel(engine: Engine, tz: str = "UTC", on_synced: Callable[[], None] | None = None) -> None:
    """Draw the HubSpot section for a database; `on_synced` runs after a sync wrote data."""
    with st.container(border=True):
        st.subheader("HubSpot")
        source = _token_source()
        if source is None:
            st.info(
                "Set HUBSPOT_ACCESS_TOKEN (or access_token under [hubspot] in the Streamlit secrets) to a "
                "HubSpot private-app token with the scopes crm.objects.contacts.read, crm.objects.deals.read, "
                "crm.objects.owners.read and sales-email-read to sync from HubSpot."
            )
        else:
            st.caption(f"Access token from {source}.")
        full = st.checkbox("Full resync (re-read everything and remove records deleted in HubSpot)", key="hubspot_full")
        if st.button("Sync now", type="primary", disabled=source is None, key="hubspot_sync_now"):
            _sync(engine, full, on_synced)
        report = last_sync(engine)
        if report is None:
            st.text("No HubSpot sync has run on this database yet.")
        else:
            cols = st.columns(3)
            cols[0].metric("Last sync", _when(report.get("finished_at"), tz))
            cols[1].metric("Status", "ok" if report.get("status") == "ok" else "failed")
            cols[2].metric("Records read", f"{sum((report.get('fetched') or {}).values()):,}")
            saved = report.get("saved") or {}
            changed = {t: c.get("inserted", 0) + c.get("updated", 0) for t, c in saved.items()}
            st.text(
                "Changed rows: "
                + (", ".join(f"{t} {n:,}" for t, n in changed.items() if n) or "none")
                + (
                    " · deleted: " + ", ".join(f"{t} {n:,}" for t, n in (report.get("deleted") or {}).items())
                    if report.get("deleted")
                    else ""
                )
            )
            if report.get("error"):
                st.caption(f"Last error: {md_escape(report['error'])}")
            for warning in report.get("warnings") or []:
                st.warning(md_escape(warning))
            cursors = _cursor_rows(report.get("cursors") or {}, tz)
            if not cursors.empty:
                table(cursors)


def _sync(engine: Engine, full: bool, on_synced: Callable[[], None] | None) -> None:
    bar = st.progress(0.0, text="Starting the HubSpot sync…")

    def progress(event: dict[str, Any]) -> None:
        kind, fetched, total = event.get("object_type"), int(event.get("fetched") or 0), event.get("total")
        share = min(1.0, fetched / total) if total else 0.0
        label = f"{kind}: {fetched:,} read" + (f" of {total:,}" if total else "") if kind else "Finishing…"
        bar.progress(share, text=f"{label} · {event.get('requests', 0):,} requests")

    try:
        report = run_sync(engine, settings_from_env(secrets=_secrets()), full=full, progress=progress)
    except UserError as exc:
        bar.empty()
        st.error(md_escape(exc))
        if on_synced is not None:
            on_synced()
        return
    bar.empty()
    st.success(md_escape(report.summary()))
    if on_synced is not None:
        on_synced()


def sync_now(ctx: Any) -> None:
    """The Data page's slot: render_sync_panel for the page's database, refreshing caches after a sync."""
    from smarketing.ui import loaders

    render_sync_panel(ctx.engine, ctx.tz, on_synced=loaders.refresh)
