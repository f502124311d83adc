"""Every page run puts the secret-masking log filter on the handlers there are, Streamlit's own included."""

from __future__ import annotations

import logging

import pytest
from app_helpers import no_exception, open_page
from streamlit.logger import get_logger

from smarketing.outputs import log_scrub

pytestmark = pytest.mark.app


def test_a_page_run_installs_the_filter_on_streamlit_and_root_handlers(app_env: str) -> None:
    late = get_logger("streamlit.smarketing_late_probe")  # a Streamlit logger made before the run
    late.streamlit_console_handler.removeFilter(log_scrub.FILTER)
    at = open_page("home")
    no_exception(at)
    assert log_scrub.FILTER in late.streamlit_console_handler.filters
    assert log_scrub.FILTER in logging.lastResort.filters
