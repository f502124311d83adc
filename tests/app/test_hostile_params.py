"""Issue 18 on the pages: hostile URL query parameters never raise (a warning says what was
ignored, literally), a closed month says so on every page, and CRM text with image,
LaTeX and HTML syntax is shown literally."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from app_helpers import NOW, PAGES, metrics, no_exception, open_page
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarketing import api
from smarketing.core.frames import CrmData
from smarketing.store import storage

pytestmark = pytest.mark.app

HOSTILE_PARAMS = {
    "years outside the range": {"month": "9999-01", "as_of": "0001-01-01T00:00:00Z"},
    "pandas' own edge": {"month": "2262-04", "as_of": "2262-04-11T23:47:16"},
    "markdown in the params": {"month": "![x](http://tracker.example/p.png)", "as_of": "**now** $x$"},
    "line breaks": {"month": "2026-03\n", "as_of": "2026-03-18\nT15:00"},
}
UNESCAPED = re.compile(r"(?<!\\)[\[\]*$<>]")


def rendered(at) -> list[str]:
    return [m.value for m in (*at.markdown, *at.caption, *at.warning, *at.info, *at.error, *at.success)]


@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_query_params_on_every_page_fall_back_with_a_literal_warning(app_env: str, page: str) -> None:
    for case, params in HOSTILE_PARAMS.items():
        at = open_page(page, **params)
        no_exception(at)
        warnings = [w.value for w in at.warning if "instead" in w.value or "Showing" in w.value]
        assert warnings or case == "line breaks", params  # a trailing line break is trimmed, and read
        for text in warnings:
            assert not UNESCAPED.search(text.replace("\\\\", "")), text


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(month=st.text(max_size=12), as_of=st.text(max_size=24))
def test_generated_query_params_never_raise(app_env: str, month: str, as_of: str) -> None:
    at = open_page("home", month=month or "x", as_of=as_of or "x")
    no_exception(at)
    assert "MQLs delivered" in metrics(at)


def test_a_closed_month_says_so_on_every_page(write_env: str) -> None:
    engine = storage.make_engine(write_env)
    api.close_month(engine, "2026-02", closed_by="cfo@example.com", as_of=NOW, force=True)
    for page in PAGES:
        at = open_page(page, month="2026-02")
        no_exception(at)
        said = [*(i.value for i in at.info), *(m.value for m in at.markdown)]
        assert any("is closed" in text for text in said), page


def test_crm_text_with_image_latex_and_html_syntax_is_literal_everywhere(write_env: str) -> None:
    evil = "![pixel](http://tracker.example/p.png) $\\frac{1}{0}$ <img src=x onerror=alert(1)> **bold**"
    engine = storage.make_engine(write_env)
    owners = pd.DataFrame({"owner_id": ["evil-owner"], "name": [evil], "team": [evil]})
    leads = pd.DataFrame(
        {
            "lead_id": ["evil-lead"],
            "mql_at": [NOW - pd.Timedelta(hours=30)],
            "segment": [evil],
            "source": [evil],
            "owner_id": ["evil-owner"],
        }
    )
    storage.save_data(engine, CrmData.of(owners=owners, leads=leads), source="import", detail=evil)
    for page in PAGES:
        at = open_page(page, **({"lead": "evil-lead"} if page == "ledger" else {}))
        no_exception(at)
        for text in rendered(at):
            assert "](http://tracker" not in text.replace("\\]", "").replace("\\(", "(") or "\\[" in text, page
            assert "![pixel](" not in text and "<img" not in text, (page, text)
