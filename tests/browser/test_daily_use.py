"""The daily-use features in a real Chromium: every page at phone width (390 px) with the sidebar
collapsed, a filtered Sales page, and the maven-crm files imported from the Data page end to end.
Screenshots go to artifacts/screenshots/ (name-390.png, sales-filtered.png, import-*.png)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401  (fixtures used by name)
    PAGES,
    QUERY,
    ROOT,
    SHOTS,
    browser,
    demo_db,
    errors,
    server,
    settle,
)

pytestmark = pytest.mark.browser
PHONE = 390
MAVEN = next(
    (
        p
        for p in (
            ROOT.parent / "shared" / "datasets" / "maven-crm",
            ROOT.parents[1] / "shared" / "datasets" / "maven-crm",
        )
        if p.is_dir()
    ),
    None,
)


@pytest.fixture
def phone(browser) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(viewport={"width": PHONE, "height": 844}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def wide(browser) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def shoot_at(tab, name: str, width: int) -> Path:
    """A full-page screenshot at this width."""
    height = tab.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain],[data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), 800)"
    )
    tab.set_viewport_size({"width": width, "height": min(int(height) + 40, 9000)})
    time.sleep(1.0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_on_a_phone(server: str, phone, name: str) -> None:  # noqa: F811
    phone.goto(f"{server}/{PAGES[name]}?{QUERY}")
    settle(phone)
    assert errors(phone) == []
    box = phone.locator('[data-testid="stSidebar"]').bounding_box()
    assert box is None or box["x"] + box["width"] <= 1, box  # collapsed: off-screen, not over the content
    assert shoot_at(phone, f"{name}-{PHONE}", PHONE).stat().st_size > 5_000


def test_filtered_sales_links_to_the_ledger(server: str, wide) -> None:  # noqa: F811
    wide.goto(f"{server}/Sales?{QUERY}&team=East")
    settle(wide)
    assert errors(wide) == []
    assert "Filtered to team East" in wide.locator('[data-testid="stAlert"]').first.inner_text()
    shoot_at(wide, "sales-filtered", 1440)
    wide.get_by_text("first touches breached").first.click()
    settle(wide)
    assert "first_touch=breached" in wide.url and "team=East" in wide.url
    assert errors(wide) == []
    team = wide.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Team")
    shown = team.evaluate("e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")
    assert "East" in shown and "All teams" not in shown, shown
    shoot_at(wide, "ledger-drilled", 1440)


def test_maven_files_import_from_the_data_page(server: str, wide) -> None:  # noqa: F811
    if MAVEN is None:
        pytest.skip("the Maven CRM dataset is not in shared/datasets")
    wide.goto(f"{server}/Data?{QUERY}")
    settle(wide)
    leads_before = wide.locator('[data-testid="stMetric"]').nth(1).inner_text()
    layout = wide.locator('[data-testid="stSelectbox"]').filter(has_text="How to read the files")
    layout.locator("input").click()
    wide.keyboard.type("maven")
    wide.keyboard.press("Enter")
    wide.get_by_text("The maven-crm export files").wait_for(timeout=30_000)
    settle(wide)
    wide.locator('input[type="file"]').last.set_input_files(sorted(str(p) for p in Path(MAVEN).glob("*.csv")))
    wide.get_by_text("Leads to import").wait_for(timeout=90_000)
    settle(wide)
    shoot_at(wide, "import-preview", 1440)
    wide.get_by_text("Import into the database that holds demo data").click()
    wide.get_by_role("button", name="Import", exact=True).click()
    wide.get_by_text("Imported:").wait_for(timeout=120_000)
    settle(wide)
    assert errors(wide) == []
    assert wide.locator('[data-testid="stMetric"]').nth(1).inner_text() != leads_before
    shoot_at(wide, "import-done", 1440)
