"""The benchmark's page timings draw every page, cold (caches emptied) and then warm."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import AS_OF, MONTH

from smarketing.ui.context import PAGES
from smarketing.ui.page_timing import home_render_seconds, page_render_seconds

pytestmark = pytest.mark.app


def test_every_page_is_timed_cold_and_warm(app_env: str) -> None:
    timings = page_render_seconds(app_env, MONTH, pd.Timestamp(AS_OF))
    assert list(timings) == [label for _, label, _ in PAGES]
    assert all(cold > 0 and warm > 0 for cold, warm in timings.values())
    cold, warm = home_render_seconds(app_env, MONTH, pd.Timestamp(AS_OF))
    assert cold > 0 and warm > 0
