"""Small Streamlit building blocks shared by the pages (badges, metrics, charts, downloads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from smarketing.ui.charts import CONFIG
from smarketing.ui.exports import CSV_MIME, XLSX_MIME
from smarketing.ui.fmt import DASH, STATUS_BADGE, status_word


def status_badge(status: str | None, note: str | None = None) -> None:
    """A status in words with an icon and a colour, then an optional plain-text note."""
    icon, color = STATUS_BADGE.get(status or "no_data", (":material/help:", "gray"))
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.badge(status_word(status), icon=icon, color=color)
        if note:
            st.caption(note)


def plot(fig: go.Figure, key: str | None = None) -> None:
    """A plotly figure in the house template (Streamlit's theme off so the template holds)."""
    st.plotly_chart(fig, theme=None, config=CONFIG, key=key, width="stretch")


def plot_or_empty(fig: go.Figure, has_data: bool, why_empty: str, key: str | None = None) -> None:
    """The chart when it has something to show, else the reason it is empty (never bare axes)."""
    if has_data:
        plot(fig, key=key)
    else:
        empty_state(why_empty, icon=":material/bar_chart_off:")


SKELETON_TEXT = "Loading {}…"


def in_order(*sections: tuple[str, Callable[[], object]]) -> None:
    """Sections below a page's headline: a placeholder line for each at once ("Loading the worklist…"),
    then each section drawn in its own place, in reading order, so the page is never blank below the
    headline while the slower parts compute. Each is (what it shows, a function that draws it).

    The placeholder is one element, not a box: a section that draws nothing replaces it with an empty
    container, which would leave a box's old contents on screen."""
    slots = [st.empty() for _ in sections]
    for slot, (label, _) in zip(slots, sections):
        slot.caption(f":material/hourglass_top: {SKELETON_TEXT.format(label)}")
    for slot, (_, draw) in zip(slots, sections):
        with slot.container():
            draw()


def empty_state(message: str, icon: str = ":material/info:") -> None:
    """An explained empty panel."""
    st.info(message, icon=icon)


def downloads(name: str, csv_data: Callable[[], bytes], xlsx_data: Callable[[], bytes], key: str, label: str) -> None:
    """A CSV and an Excel download button side by side; the files are built only on click."""
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            f"{label} (CSV)",
            csv_data,
            file_name=f"{name}.csv",
            mime=CSV_MIME,
            key=f"{key}_csv",
            icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            f"{label} (Excel)",
            xlsx_data,
            file_name=f"{name}.xlsx",
            mime=XLSX_MIME,
            key=f"{key}_xlsx",
            icon=":material/table_view:",
            on_click="ignore",
        )


def table(
    frame: pd.DataFrame,
    config: Mapping[str, object] | None = None,
    height: int | str = "auto",
    key: str | None = None,
    **kwargs: object,
) -> object:
    """A read-only dataframe without the index (CRM text stays plain text). A missing value reads '—',
    never a grey "None": text cells hold the dash, and number, time and link cells keep their type (so
    sorting stays numeric) with the dash as the grid's placeholder."""
    if isinstance(frame, pd.DataFrame):
        links = [c for c, cfg in (config or {}).items() if _kind(cfg) == "link"]  # a dash is no address
        frame = without_missing_text(frame, keep=links)
    return st.dataframe(
        frame,
        hide_index=True,
        column_config=dict(config or {}),
        height=height,
        key=key,
        width="stretch",
        placeholder=DASH,
        **kwargs,
    )


def _kind(config: object) -> str | None:
    """The type of a column config ("link", "number", …; None for a plain label)."""
    return ((config or {}).get("type_config") or {}).get("type") if isinstance(config, Mapping) else None


def without_missing_text(frame: pd.DataFrame, keep: Sequence[str] = ()) -> pd.DataFrame:
    """Text columns (but those in `keep`) with '—' where a value is missing, so no table shows a literal None."""
    text = [
        c
        for c in frame.columns
        if c not in keep
        and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype))
        and frame[c].notna().any()
    ]  # a column with no value at all is left to the grid's placeholder: it may be configured as numbers
    if not text or not frame[text].isna().any().any():
        return frame
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].notna(), DASH) for c in text})


def percent_column(label: str, help: str | None = None) -> object:
    """A 0–100 number shown as a percent with one decimal."""
    return st.column_config.NumberColumn(label, format="%.1f%%", help=help)


def hours_column(label: str, help: str | None = None) -> object:
    """Business hours with one decimal."""
    return st.column_config.NumberColumn(label, format="%.1f h", help=help)


def time_column(label: str, help: str | None = None) -> object:
    """A local wall-clock datetime."""
    return st.column_config.DatetimeColumn(label, format="MMM D, HH:mm", help=help)


def progress_column(label: str, help: str | None = None, max_value: float = 100) -> object:
    """A 0–100 percent as a progress bar."""
    return st.column_config.ProgressColumn(label, format="%.0f%%", min_value=0, max_value=max_value, help=help)
