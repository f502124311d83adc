"""Page timings for the benchmark: pages rendered by Streamlit's AppTest, cold and warm."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from smarketing.ui import loaders
from smarketing.ui.context import PAGES

ROOT = Path(__file__).resolve().parents[2]


def home_render_seconds(db_url: str, month: str, as_of: pd.Timestamp) -> tuple[float | None, float | None]:
    """(cold, warm) seconds of a Streamlit AppTest run of dashboard.py on the database."""
    dashboard = ROOT / "dashboard.py"
    if not dashboard.exists():
        return None, None
    with _database(db_url):
        app = AppTest.from_file(str(dashboard), default_timeout=600)
        app.query_params["month"] = month
        app.query_params["as_of"] = as_of.isoformat()
        return _cold_and_warm(app, "the home page")


def page_render_seconds(db_url: str, month: str, as_of: pd.Timestamp) -> dict[str, tuple[float, float]]:
    """(cold, warm) seconds of each other page, switched to from the home page with every cache
    emptied first (a page opened first on a fresh server, less the imports the home page did)."""
    dashboard = ROOT / "dashboard.py"
    if not dashboard.exists():
        return {}
    timings = {}
    with _database(db_url):
        app = AppTest.from_file(str(dashboard), default_timeout=600)
        app.query_params["month"] = month
        app.query_params["as_of"] = as_of.isoformat()
        app.run()
        for path, label, _ in PAGES:
            loaders.refresh()
            app.switch_page(path)
            timings[label] = _cold_and_warm(app, f"the {label} page")
    return timings


def _cold_and_warm(app: AppTest, what: str) -> tuple[float, float]:
    """Seconds of two runs of the app: the first (cold) and the second (warm)."""
    start = time.perf_counter()
    app.run()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    app.run()
    warm = time.perf_counter() - start
    if app.exception:
        raise RuntimeError(f"{what} raised: {app.exception[0].message}")
    return round(cold, 3), round(warm, 3)


@contextlib.contextmanager
def _database(db_url: str) -> Iterator[None]:
    """SMARKETING_DB set to the URL for the duration."""
    previous = os.environ.get("SMARKETING_DB")
    os.environ["SMARKETING_DB"] = db_url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SMARKETING_DB", None)
        else:
            os.environ["SMARKETING_DB"] = previous
