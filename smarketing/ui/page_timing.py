"""Page timings for the benchmark: the home page rendered by Streamlit's AppTest, cold and warm."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def home_render_seconds(db_url: str, month: str, as_of: pd.Timestamp) -> tuple[float | None, float | None]:
    """(cold, warm) seconds of a Streamlit AppTest run of dashboard.py on the database."""
    dashboard = ROOT / "dashboard.py"
    if not dashboard.exists():
        return None, None
    previous = os.environ.get("SMARKETING_DB")
    os.environ["SMARKETING_DB"] = db_url
    try:
        app = AppTest.from_file(str(dashboard), default_timeout=600)
        app.query_params["month"] = month
        app.query_params["as_of"] = as_of.isoformat()
        start = time.perf_counter()
        app.run()
        cold = time.perf_counter() - start
        start = time.perf_counter()
        app.run()
        warm = time.perf_counter() - start
        if app.exception:
            raise RuntimeError(f"the home page raised: {app.exception[0].message}")
        return round(cold, 3), round(warm, 3)
    finally:
        if previous is None:
            os.environ.pop("SMARKETING_DB", None)
        else:
            os.environ["SMARKETING_DB"] = previous
