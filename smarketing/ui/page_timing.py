"""Page timings for the benchmark: pages rendered by Streamlit's AppTest, cold and warm, and pages
opened first on a freshly started `streamlit run` server in headless Chromium (also the browser
tests' server and browser settings)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from smarketing.ui import loaders
from smarketing.ui.context import PAGES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"  # Debian's package (Playwright's own browser download does not work here)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What shows a page's first numbers.
FIRST_NUMBERS = '[data-testid="stMetric"], [data-testid="stDataFrame"], [data-testid="stPlotlyChart"]'


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


def server_page_seconds(
    db_url: str, month: str, as_of: pd.Timestamp, browser: Any = None
) -> dict[str, tuple[float | None, float]]:
    """(first numbers, complete) seconds of each page opened first on a freshly started server, in
    headless Chromium (`browser`, a Playwright browser, or one started here): from the request to the
    first metric, table or chart, and to when the page was done ({} without Chromium)."""
    if browser is None:
        if not Path(CHROMIUM).exists():
            return {}
        from playwright.sync_api import sync_playwright  # the benchmark's and browser tests' dependency

        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return server_page_seconds(db_url, month, as_of, chromium)
            finally:
                chromium.close()
    query = urllib.parse.urlencode({"month": month, "as_of": as_of.isoformat()})
    timings = {}
    for path, label, _ in PAGES:
        proc, base, _ = start_server(db_url)
        try:
            tab = browser.new_page(viewport={"width": 1440, "height": 900})
            timings[label] = _opened(tab, f"{base}/{_url_path(path)}?{query}")
            tab.close()
        finally:
            stop_server(proc)
    return timings


def _url_path(page: str) -> str:
    """The page's path on the server: '' for the home page, 'Lead_ledger' for pages/3_Lead_ledger.py."""
    return "" if page == "dashboard.py" else Path(page).stem.split("_", 1)[1]


def _opened(tab: Any, url: str, quiet: float = 1.5, limit: float = 600.0) -> tuple[float | None, float]:
    """Seconds from asking for the URL to its first numbers (None when it shows none) and to the moment
    its script last stopped running (it then stayed stopped for `quiet` seconds), or its numbers showed."""
    probe = f"""() => [document.querySelectorAll('{FIRST_NUMBERS}').length,
        document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') ?? null]"""
    start = time.perf_counter()
    tab.goto(url)
    first = stopped = None
    ran = False
    while (now := time.perf_counter() - start) < limit:
        numbers, state = tab.evaluate(probe)
        if first is None and numbers:
            first = now
        ran = ran or state == "running"
        if not ran or state != "notRunning":
            stopped = None
        elif stopped is None:
            stopped = now
        elif now - stopped >= quiet:
            break
        time.sleep(0.05)
    complete = max(stopped if stopped is not None else limit, first or 0.0)  # not complete before its numbers show
    return (round(first, 2) if first is not None else None), round(complete, 2)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, extra: list[str] | None = None) -> tuple[subprocess.Popen, str, Path]:
    """The dashboard's server (ui/server.py: `streamlit run dashboard.py` with the app imported first)
    on a free port against db_url; waits for its health check.
    Returns the process, its base URL and its log file (beside the database file)."""
    port = free_port()
    log = Path(db_url.removeprefix("sqlite:///")).with_suffix(f".{port}.log")
    env = {**os.environ, "SMARKETING_DB": db_url, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "smarketing.ui.server", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen([*cmd, *(extra or [])], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).status == 200:
                return proc, base, log
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"streamlit did not start:\n{log.read_text()}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server start_server started."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
