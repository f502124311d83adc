"""`python -m smarketing.ui.server [streamlit run options]`: `streamlit run dashboard.py` with the
app's modules imported first, so that the first session's page does not pay for importing pandas,
plotly, SQLAlchemy and the app (about a second and a half on the benchmark's machine) before its
first number. Options after the module name go to `streamlit run` as they are."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from streamlit.runtime.caching import cache_data_api
from streamlit.web import cli as streamlit_cli

import smarketing.ui

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard.py"
# Not the app's: the benchmark's timing of pages (AppTest, Chromium) and this launcher.
NOT_THE_APP = {"smarketing.ui.page_timing", "smarketing.ui.server"}
# Decorating an st.cache_data function before the runtime exists logs that it found none; the
# cache itself is chosen at the first call, inside the runtime, so the warning says nothing here.
CACHE_DECORATION_LOGGER = cache_data_api.__name__


def app_modules() -> list[str]:
    """Every module the pages import: the package's ui modules but the benchmark's and this one."""
    found = pkgutil.iter_modules(smarketing.ui.__path__, prefix="smarketing.ui.")
    return sorted(module.name for module in found if module.name not in NOT_THE_APP)


def preload() -> None:
    """Import the app's modules (and with them everything they import) in this process."""
    logger = logging.getLogger(CACHE_DECORATION_LOGGER)
    # A filter, not a level: reading Streamlit's config on the way resets its loggers' levels.
    quiet = logging.Filter(name="not " + CACHE_DECORATION_LOGGER)  # a name no record has: drops all
    logger.addFilter(quiet)
    try:
        for name in app_modules():
            importlib.import_module(name)
    finally:
        logger.removeFilter(quiet)


def main(options: list[str]) -> None:
    """Preload, then hand the process to `streamlit run dashboard.py OPTIONS`."""
    preload()
    sys.argv = ["streamlit", "run", str(DASHBOARD), *options]
    streamlit_cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
