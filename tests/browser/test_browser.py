"""End to end in a real headless Chromium: every page renders on demo data without an error box,
the month picker changes the month (and the link carries it to other pages), and with [auth]
configured a direct URL shows only the login gate. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from smarketing import api
from smarketing.store import storage
from smarketing.ui.context import PAGES as PAGES_IN_ORDER
from smarketing.ui.page_timing import CHROMIUM, CHROMIUM_ARGS, server_page_seconds, start_server, stop_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
NOW = pd.Timestamp("2026-03-18T15:00:00Z")
QUERY = "month=2026-03&as_of=2026-03-18T15:00:00%2B00:00"
PAGES = {
    "home": "",
    "marketing": "Marketing",
    "sales": "Sales",
    "ledger": "Lead_ledger",
    "trends": "Trends",
    "terms": "Terms",
    "data": "Data",
    "review": "Executive_review",
}
WIDTH = 1440

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    api.seed_demo(storage.make_engine(url), now=NOW)
    return url


@pytest.fixture(scope="module")
def server(demo_db: str) -> Iterator[str]:
    proc, base, _ = start_server(demo_db)
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def settle(tab, timeout: float = 90) -> None:
    """Wait for the first heading, then until the app has been idle for two seconds."""
    tab.wait_for_selector("h1", timeout=timeout * 1000)
    deadline, quiet = time.time() + timeout, 0
    while time.time() < deadline and quiet < 8:
        busy = tab.locator('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]').count()
        quiet = 0 if busy else quiet + 1
        time.sleep(0.25)


def shoot(tab, name: str) -> Path:
    """A full-page screenshot (the viewport grows to the app's height first)."""
    height = tab.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain],[data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), 900)"
    )
    tab.set_viewport_size({"width": WIDTH, "height": min(int(height) + 40, 9000)})
    time.sleep(1.0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    tab.set_viewport_size({"width": WIDTH, "height": 900})
    return path


def errors(tab) -> list[str]:
    return tab.locator('[data-testid="stException"]').all_inner_texts()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_without_errors(server: str, page, name: str) -> None:
    extra = "&lead=10007921" if name == "ledger" else ""
    page.goto(f"{server}/{PAGES[name]}?{QUERY}{extra}")
    settle(page)
    assert errors(page) == []
    assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"]').count() > 0
    assert "Demo data" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert shoot(page, name).stat().st_size > 10_000


def test_month_picker_changes_month_and_links_keep_it(server: str, page) -> None:
    page.goto(f"{server}/?{QUERY}")
    settle(page)
    before = page.locator('[data-testid="stMetric"]').first.inner_text()
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="February 2026").click()
    page.wait_for_url("**month=2026-02**", timeout=30_000)
    settle(page)
    assert errors(page) == []
    assert (
        "February 2026" in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()[0]
        or "February 2026" in page.content()
    )
    assert page.locator('[data-testid="stMetric"]').first.inner_text() != before
    shoot(page, "home-february")
    page.locator('[data-testid="stSidebar"] a', has_text="Sales").click()
    page.wait_for_url("**/Sales?**", timeout=30_000)
    settle(page)
    assert "month=2026-02" in page.url
    assert errors(page) == []


def test_review_of_a_finished_month(server: str, page) -> None:
    page.goto(f"{server}/Executive_review?{QUERY.replace('2026-03', '2026-02', 1)}")
    settle(page)
    assert errors(page) == []
    assert page.get_by_text("Live — not closed yet").count() == 1
    assert page.get_by_text("Next month's targets").count() == 1
    shoot(page, "review-february")


def test_ledger_row_click_opens_the_lead(server: str, page) -> None:
    page.goto(f"{server}/Lead_ledger?{QUERY}")
    settle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 36 + 17)  # the first row's selection cell
    settle(page)
    assert errors(page) == []
    assert page.get_by_text("Every touch, and whether it counted").count() == 1


@pytest.fixture(scope="module")
def auth_server(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets.write_text(
        '[auth]\nredirect_uri = "http://127.0.0.1/oauth2callback"\ncookie_secret = "test-only"\n'
        'client_id = "smarketing-test"\nclient_secret = "test-only"\n'
        'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n'
    )
    proc, base, _ = start_server(demo_db, ["--secrets.files", str(secrets)])
    yield base
    stop_server(proc)


@pytest.mark.parametrize("name", ["home", "sales", "ledger", "data"])
def test_auth_gate_on_direct_urls(auth_server: str, page, name: str) -> None:
    page.goto(f"{auth_server}/{PAGES[name]}?{QUERY}")
    settle(page)
    assert errors(page) == []
    assert page.get_by_role("button", name="Sign in").count() == 1
    assert page.locator('[data-testid="stMetric"], [data-testid="stDataFrame"], .js-plotly-plot').count() == 0
    if name == "sales":
        shoot(page, "login-gate")


def test_the_benchmark_times_every_page_on_a_fresh_server(demo_db: str, browser) -> None:
    timings = server_page_seconds(demo_db, "2026-03", NOW, browser)
    assert list(timings) == [label for _, label, _ in PAGES_IN_ORDER]
    for label, (first, complete) in timings.items():
        assert first is not None and 0 < first <= complete < 600, label
