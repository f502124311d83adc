"""The Data page's sections: what is stored, where it came from, upload, and who can see it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from smarketing import api
from smarketing.store.storage import mask_url
from smarketing.ui import actions
from smarketing.ui.components import empty_state, table, time_column
from smarketing.ui.context import PageContext
from smarketing.ui.fmt import count, md_escape, month_label
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


CANONICAL = ""
OWN_MAPPING = "mapping file"
GEN_KEY = "import_generation"
OUTCOME_KEY = "import_outcome"
TERMS_NAME = "terms.toml"
REFUSE_KEY = "import_refuse_unknown"


def _layouts() -> dict[str, str]:
    """The ways the uploaded files can be read: canonical names, each preset, or a mapping file."""
    presets = {name: f"Preset: {name}" for name in api.import_presets()}
    return {CANONICAL: "Canonical files (owners, leads, touches, deals)", **presets, OWN_MAPPING: "My mapping file"}


def upload(ctx: PageContext) -> None:
    """Upload CRM files: choose how they are read, see a preview, then import; a terms.toml is shown
    as its difference from the agreement in force and applied only when confirmed."""
    generation = st.session_state.setdefault(GEN_KEY, 0)
    with st.container(border=True):
        st.subheader("Import CRM files")
        _last_outcome()
        layouts = _layouts()
        layout = st.selectbox("How to read the files", list(layouts), format_func=layouts.get, key="import_layout")
        mapping_text = _mapping_text(generation) if layout == OWN_MAPPING else None
        st.caption(_layout_help(layout))
        refuse = st.checkbox(
            "Refuse touches and deals of unknown leads or owners",
            key=REFUSE_KEY,
            help="Import nothing when a row names a lead or owner that neither the files nor the database has "
            "(the CLI's import --refuse-unknown). Unticked, such rows are imported and listed as notes.",
        )
        files = st.file_uploader(
            "Files",
            type=["csv", "tsv", "txt", "xlsx", "toml"],
            accept_multiple_files=True,
            key=f"import_files_{generation}",
        )
        if not files:
            return
        data_files = [f for f in files if Path(f.name).name.lower() != TERMS_NAME]
        terms_file = next((f for f in files if Path(f.name).name.lower() == TERMS_NAME), None)
        if data_files and (layout != OWN_MAPPING or mapping_text):
            preset = layout if layout not in (CANONICAL, OWN_MAPPING) else None
            if _preview(ctx, data_files, preset, mapping_text, layout == CANONICAL, refuse):
                _import_step(ctx, data_files, preset, mapping_text, refuse)
        elif data_files:
            st.info("Upload the mapping file to see what these files would import.", icon=":material/rule:")
        if terms_file is not None:
            _terms_step(ctx, terms_file)


def _layout_help(layout: str) -> str:
    """One line on what the chosen layout expects."""
    if layout == CANONICAL:
        return (
            "Files named owners, leads, touches, deals (.csv or .xlsx; leads is required) with the canonical "
            "column names (see the README). Re-uploading the same files changes nothing; a bad row imports nothing."
        )
    if layout == OWN_MAPPING:
        return "A mapping file (.toml) says which export file is which table and how its columns map."
    return f"The {layout} export files as the CRM writes them; the preset maps their columns."


def _mapping_text(generation: int) -> str | None:
    """The uploaded mapping file's text (None until one is uploaded)."""
    mapping_file = st.file_uploader("Mapping file", type=["toml"], key=f"import_mapping_{generation}")
    return mapping_file.getvalue().decode("utf-8-sig", errors="replace") if mapping_file else None


def _preview(
    ctx: PageContext,
    files: list[actions.Upload],
    preset: str | None,
    mapping_text: str | None,
    canonical: bool,
    refuse_unknown: bool = False,
) -> bool:
    """What the import would write (rows per table, the mapped columns, the first problems); True when
    it can go ahead. Nothing is written."""
    problems = actions.upload_problems(files) if canonical else []
    if problems:
        _problems(problems)
        return False
    with st.spinner("Reading the files…"):
        preview = api.preview_upload(
            {Path(f.name).name: f.getvalue() for f in files},
            preset=preset,
            mapping=mapping_text,
            timezone=ctx.tz,
            engine=ctx.engine,
            refuse_unknown=refuse_unknown,
        )
    if preview.problems:
        _problems(preview.problems)
        return False
    st.markdown("**Preview** — nothing is written until you import")
    shown = [t for t in ("owners", "leads", "touches", "deals", "exclusions") if t in preview.counts]
    for column, table_name in zip(st.columns(max(1, len(shown))), shown):
        column.metric(f"{table_name.title()} to import", count(preview.counts.get(table_name, 0)))
    for table_name, frame in preview.frames.items():
        with st.expander(f"{table_name}: {', '.join(map(str, frame.columns))}"):
            table(frame, key=f"preview_{table_name}", height=min(300, 38 + 35 * len(frame)))
    if preview.warnings:
        st.warning("Notes the import will keep:", icon=":material/warning:")
        st.text("\n".join(f"• {w}" for w in preview.warnings[:10]))
    return True


def _problems(problems: list[str]) -> None:
    """Why these files cannot be imported, the first ones, as plain text."""
    st.error("These files cannot be imported as they are:", icon=":material/error:")
    st.text("\n".join(f"• {p}" for p in problems[:10]))


def _import_step(
    ctx: PageContext,
    files: list[actions.Upload],
    preset: str | None,
    mapping_text: str | None,
    refuse_unknown: bool = False,
) -> None:
    """The import button, behind a confirmation when the database holds the demo company."""
    confirmed = True
    if ctx.demo:
        st.warning(
            "This database holds the demo company. Your rows would be mixed with its made-up ones: remove the "
            "demo data first (below), or confirm to import into it anyway.",
            icon=":material/science:",
        )
        confirmed = st.checkbox("Import into the database that holds demo data", key="import_over_demo")
    if not st.button("Import", type="primary", icon=":material/upload:", disabled=not confirmed, key="import_go"):
        return
    bar = st.progress(0.0, text="Starting the import…")
    outcome = actions.import_uploads(
        ctx.engine,
        files,
        preset=preset,
        mapping=mapping_text,
        refuse_unknown=refuse_unknown,
        progress=lambda f, label: _advance(bar, f, label),
    )
    _done(outcome)


def _advance(bar: DeltaGenerator, fraction: float, label: str) -> None:
    """Move the import's progress bar (the label names an uploaded file: plain text)."""
    bar.progress(fraction, text=f"{md_escape(label)} · {fraction:.0%}")


def _terms_step(ctx: PageContext, terms_file: actions.Upload) -> None:
    """An uploaded terms.toml: its difference from the agreement in force, applied only on confirmation."""
    text = terms_file.getvalue().decode("utf-8-sig", errors="replace")
    st.markdown("**terms.toml — a new agreement**")
    change = actions.terms_upload(ctx.engine, text, ctx.month, ctx.summary.closed)
    if change.problems:
        _problems(change.problems)
    else:
        st.caption(f"Compared with the agreement in force in {month_label(change.month)}:")
        st.text("\n".join(f"• {line}" for line in change.changes) or "• no setting changes")
    apply, cancel = st.columns(2)
    if apply.button(
        f"Apply from {month_label(change.month)}",
        type="primary",
        key="terms_apply",
        disabled=bool(change.problems) or not change.changes,
        icon=":material/handshake:",
    ):
        _done(actions.save_terms(ctx.engine, text, change.month, "uploaded terms.toml", ctx.summary.closed))
    if cancel.button("Cancel: keep the agreement in force", key="terms_cancel", icon=":material/close:"):
        _done(actions.Outcome(True, message="The agreement in force is unchanged."))


def remove_demo(ctx: PageContext) -> None:
    """ "Remove demo data", behind a confirmation (shown only while demo data is in the database)."""
    if not ctx.demo:
        return
    with st.container(border=True):
        st.subheader("Demo data")
        st.caption(
            "The numbers shown now come from a generated company. Removing it empties the data tables "
            "(the agreement and the load history stay), so your own import starts clean."
        )
        sure = st.checkbox("Yes, remove every demo owner, lead, touch and deal", key="remove_demo_sure")
        if st.button("Remove demo data", icon=":material/delete:", disabled=not sure, key="remove_demo"):
            _done(actions.remove_demo(ctx.engine))


def _done(outcome: actions.Outcome) -> None:
    """Keep the outcome for the next run, clear the uploader, and redraw with fresh counts."""
    st.session_state[OUTCOME_KEY] = outcome
    st.session_state[GEN_KEY] = st.session_state.get(GEN_KEY, 0) + 1
    st.rerun()


def _last_outcome() -> None:
    """The result of the last import or terms decision, once."""
    outcome = st.session_state.pop(OUTCOME_KEY, None)
    if outcome is not None:
        _report(outcome)


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
