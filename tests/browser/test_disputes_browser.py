"""Disputes and lead quality in a real Chromium at 1440 px: a lead's ledger page with its dispute
form, a request submitted from it, the review queue showing it pending, and the Marketing page's
rejection reasons by source and segment. Screenshots: artifacts/screenshots/lead-dispute.png,
review-queue.png, marketing-reasons.png.

The demo agreement sets no `max_rejection_rate` (the reasons section shows only when the terms
set it), so this module's database adds the acceptance and lead-quality terms to the demo's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401  (fixtures used by name)
    NOW,
    QUERY,
    browser,
    errors,
    settle,
)
from test_daily_use import shoot_at, wide  # noqa: F401  (fixture used by name)

from smarketing import api
from smarketing.core.terms import terms_to_toml
from smarketing.store import storage
from smarketing.ui.page_timing import start_server, stop_server

pytestmark = pytest.mark.browser
MONTH = "2026-03"
WIDTH = 1440
REASON = "Came in during the <b>routing</b> outage of *3 March*"  # CRM-style text: shown literally


@pytest.fixture(scope="module")
def quality_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('disputes') / 'demo.db'}"
    engine = storage.make_engine(url)
    api.seed_demo(engine, now=NOW)
    terms = replace(api.month_terms(engine, MONTH), acceptance_hours=8.0, max_rejection_rate=0.05)
    storage.save_terms_version(engine, terms_to_toml(terms, MONTH), MONTH, note="acceptance and lead quality")
    return url


@pytest.fixture(scope="module")
def quality_server(quality_db: str) -> Iterator[str]:
    proc, base, _ = start_server(quality_db)
    yield base
    stop_server(proc)


def shoot_section(tab, section, name: str) -> Path:
    """A 1440 px wide screenshot of one section of the page (the whole page is laid out first)."""
    tab.mouse.move(0, 0)  # no grid toolbar from a hover
    path = shoot_at(tab, name, WIDTH)
    box = section.bounding_box()
    assert box is not None, f"{name}: the section is not on the page"
    top = max(0.0, box["y"] - 24)
    tab.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": top, "width": WIDTH, "height": box["height"] + 48}
    )
    return path


def a_rejected_lead(url: str) -> str:
    """A lead of the month that sales rejected with a reason (the lead page shows both)."""
    ledger, _ = api.ledger(storage.make_engine(url), MONTH, NOW)
    rejected = ledger.loc[ledger["rejected_at"].notna() & ledger["rejection_reason"].notna(), "lead_id"]
    assert len(rejected), "the demo month has no rejected lead with a reason"
    return str(rejected.iloc[0])


def test_request_an_exclusion_see_it_pending_and_the_rejection_reasons(quality_server: str, quality_db: str, wide):  # noqa: F811
    lead_id = a_rejected_lead(quality_db)
    wide.goto(f"{quality_server}/Lead_ledger?{QUERY}&lead={lead_id}")
    settle(wide)
    assert errors(wide) == []
    assert wide.get_by_text("Ask to leave this lead out of a commitment").count() == 1
    assert wide.get_by_text("Rejected by sales").count() >= 1
    commitment = wide.locator('[data-testid="stSelectbox"]').filter(has_text="Commitment")
    commitment.locator("input").click()
    wide.keyboard.type("first touch")
    wide.keyboard.press("Enter")
    wide.get_by_label("Reason").fill(REASON)
    wide.get_by_role("button", name="Request exclusion").click()
    wide.get_by_text("recorded; it waits for an approver").wait_for(timeout=60_000)
    settle(wide)
    assert errors(wide) == []
    wide.mouse.move(0, 0)  # no grid toolbar from a hover
    shoot_at(wide, "lead-dispute", WIDTH)
    (row,) = api.exclusion_records(api.exclusion_requests(storage.make_engine(quality_db), lead_id=lead_id))
    assert (row["commitment"], row["reason"], row["decision"]) == ("first_touch", REASON, "pending")

    wide.set_viewport_size({"width": WIDTH, "height": 900})
    wide.goto(f"{quality_server}/Executive_review?{QUERY}")
    wide.get_by_text("Exclusion requests to decide").wait_for(timeout=90_000)  # the page's last sections
    settle(wide)
    assert errors(wide) == []
    blocks = wide.locator('[data-testid="stVerticalBlock"]').filter(has_text="Exclusion requests to decide")
    queue = blocks.filter(has_text=f"lead {lead_id}").last  # the innermost: the queue itself
    assert queue.get_by_text(f"Reason: {REASON}", exact=True).count() == 1  # literal, not Markdown
    assert queue.get_by_role("button", name="Approve").count() == 1
    assert queue.get_by_role("button", name="Deny").count() == 1
    shoot_section(wide, queue, "review-queue")

    wide.set_viewport_size({"width": WIDTH, "height": 900})
    wide.goto(f"{quality_server}/Marketing?{QUERY}")
    settle(wide)
    assert errors(wide) == []
    blocks = wide.locator('[data-testid="stVerticalBlock"]').filter(has_text="Rejected by sales")
    section = blocks.filter(has_text="By source").filter(has_text="By segment").last  # the innermost
    assert section.get_by_text("By source").count() == 1 and section.get_by_text("By segment").count() == 1
    assert section.locator('[data-testid="stDataFrame"], [data-testid="stTable"]').count() == 2
    shoot_section(wide, section, "marketing-reasons")
