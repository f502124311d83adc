"""The Data page's sections: what is stored, where it came from, upload, and who can see it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from smarketing.store.storage import mask_url
from smarketing.ui import actions
from smarketing.ui.components import empty_state, table, time_column
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import count, month_label
from smarketing.ui.tables import local_naive

SOURCES = {"demo": "Demo generator", "import": "File import", "hubspot": "HubSpot sync"}


def overview(ctx: PageContext) -> None:
    """Row counts, the months covered and the database in use."""
    s = ctx.summary
    with st.container(border=True):
        st.subheader("What is stored")
        cols = st.columns(4)
        for col, name in zip(cols, ("owners", "leads", "touches", "deals")):
            col.metric(name.title(), count(s.counts.get(name, 0)))
        span = f"{month_label(s.months[0])} – {month_label(s.months[-1])}" if s.months else "no MQLs yet"
        st.caption(f"Months with MQLs: {span} · closed months: {', '.join(s.closed) or 'none'} · timezone {ctx.tz}")
        st.text(f"Database: {mask_url(ctx.url)}")


def loads(ctx: PageContext) -> None:
    """Every data load: when, from where, what it changed."""
    frame = ctx.summary.loads
    with st.container(border=True):
        st.subheader("Where the data came from")
        if frame.empty:
            empty_state(
                "Nothing has been loaded yet. Upload files below, run `python -m smarketing import DIR`, "
                "or `python -m smarketing demo` for demo data."
            )
            return
        table(
            _loads_frame(frame, ctx.tz),
            {
                "Finished": time_column("Finished"),
                "New rows": st.column_config.NumberColumn("New rows", format="localized"),
                "Updated rows": st.column_config.NumberColumn("Updated rows", format="localized"),
            },
            key="loads",
            height=min(400, 38 + 35 * len(frame)),
        )


def _loads_frame(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Load history for display: local times, source in words, changed rows summed per load."""

    def total(counts: dict, key: str) -> int:
        """Rows of one kind (inserted / updated) over every table of a load."""
        return sum(int(c.get(key, 0)) for c in counts.values() if isinstance(c, dict))

    return pd.DataFrame(
        {
            "Finished": local_naive(frame["finished_at"], tz),
            "Source": [SOURCES.get(s, s) for s in frame["source"]],
            "Detail": frame["detail"],
            "Status": ["✔ ok" if s == "ok" else f"✘ {s}" for s in frame["status"]],
            "New rows": [total(c, "inserted") for c in frame["counts"]],
            "Updated rows": [total(c, "updated") for c in frame["counts"]],
            "Error": frame["error"].fillna(""),
        }
    )


def upload(ctx: PageContext) -> None:
    """CSV / Excel upload of canonical files, imported all or nothing."""
    with st.container(border=True):
        st.subheader("Upload CRM files")
        st.caption(
            "Canonical files named owners, leads, touches, deals (.csv or .xlsx; leads is required) whose "
            "headers are the canonical column names (lead_id, mql_at, owner_id, …; see the README), and "
            "optionally terms.toml. Re-uploading the same files changes "
            "nothing; a file with a bad row imports nothing."
        )
        with st.form("upload", clear_on_submit=True):
            files = st.file_uploader("Files", type=["csv", "xlsx", "toml"], accept_multiple_files=True)
            submitted = st.form_submit_button("Import", type="primary", icon=":material/upload:")
        if submitted:
            _report(actions.import_uploads(ctx.engine, list(files or [])))


def _report(outcome: actions.Outcome) -> None:
    """The import's result, each problem on its own line (as plain text)."""
    if outcome.ok:
        st.success(outcome.message, icon=":material/check_circle:")
        if outcome.problems:
            st.warning("The import went through with these notes:", icon=":material/warning:")
            st.text("\n".join(f"• {p}" for p in outcome.problems))
        return
    st.error("Nothing was imported. Fix these and upload again:", icon=":material/error:")
    st.text("\n".join(f"• {p}" for p in outcome.problems))


def access(ctx: PageContext) -> None:
    """Whether sign-in is required, and who is signed in."""
    with st.container(border=True):
        st.subheader("Access")
        if ctx.auth.configured:
            st.success(
                "Sign-in required: every page asks for an OIDC login ([auth] in .streamlit/secrets.toml).",
                icon=":material/lock:",
            )
            if ctx.auth.user:
                st.text(f"Signed in as {ctx.auth.user}")
        else:
            st.warning(
                "Open access: there is no [auth] section in .streamlit/secrets.toml, so anyone who can reach "
                "this server sees the data. Keep it on localhost, or configure sign-in as the README explains.",
                icon=":material/lock_open:",
            )
