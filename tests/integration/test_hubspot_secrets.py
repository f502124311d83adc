"""Issue 18: a HubSpot token with a line break or odd characters never reaches output (terminal,
traceback, the Data page, logs, the database); a failed sync is recorded as failed; HubSpot
text on the Data page is shown literally, never as Markdown."""

from __future__ import annotations

import json
import logging
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from smarketing.core.errors import UserError
from smarketing.core.frames import CrmData
from smarketing.sources.demo import generate_demo
from smarketing.sources.hubspot import run_sync, settings_from_env
from smarketing.sources.hubspot.sync import LAST_SYNC
from smarketing.store import storage
from tests.fake_hubspot import build_portal
from tests.fake_hubspot.testing import database_text, fast_fake, run_cli, settings_for, sqlite_bytes, sync_env

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-05-20T15:00:00Z")
ODD_TOKENS = {
    "line break": "pat-na1-11112222-aaaa\nbbbb-3333-second-line",
    "carriage return": "pat-na1-44445555-cccc\r\ndddd-6666",
    "space": "pat-na1 77778888 eeee-ffff",
    "non-ASCII": "pat-na1-9999ü0000-gggg-hhhh",
    "tab": "pat-na1-aaaa\tbbbb-cccc-dddd",
}
PANEL = """
from smarketing.store import storage
from smarketing.ui.hubspot_panel import render_sync_panel
render_sync_panel(storage.make_engine({url!r}), "America/New_York")
"""


def pieces(token: str) -> list[str]:
    """The token and every line or word of it long enough to recognise."""
    return [p for p in {token, *token.split(), *re.split(r"[\s]+", token)} if len(p) >= 6]


def assert_absent(token: str, *texts: str) -> None:
    for text in texts:
        for piece in pieces(token):
            assert piece not in text, f"{piece!r} leaked"


@pytest.fixture(scope="module")
def data() -> CrmData:
    return generate_demo(seed=11, months=1, now=NOW)


@pytest.mark.parametrize("case", list(ODD_TOKENS))
def test_a_token_with_odd_characters_is_refused_in_one_sentence_without_it(case: str) -> None:
    token = ODD_TOKENS[case]
    with pytest.raises(UserError) as caught:
        settings_from_env({"HUBSPOT_ACCESS_TOKEN": token})
    message = str(caught.value)
    assert "copy it again as one line" in message and "\n" not in message
    assert_absent(token, message)


def test_the_token_from_secrets_with_a_line_break_is_refused_too() -> None:
    token = ODD_TOKENS["line break"]
    with pytest.raises(UserError) as caught:
        settings_from_env({}, secrets={"access_token": token})
    assert_absent(token, str(caught.value))


def test_a_client_given_an_odd_token_fails_in_one_scrubbed_sentence_recorded_as_failed(
    data, sqlite_url, caplog
) -> None:
    token = ODD_TOKENS["line break"]
    caplog.set_level(logging.DEBUG)
    portal = build_portal(data)
    engine = storage.make_engine(sqlite_url)
    with fast_fake(portal) as fake:
        with pytest.raises(UserError) as caught:
            run_sync(engine, settings_for(fake, portal, access_token=token))
    message = str(caught.value)
    assert message.startswith("The HubSpot sync failed") and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert_absent(token, message, repr(caught.value.report), caplog.text, database_text(sqlite_url))
    assert all(p.encode() not in sqlite_bytes(sqlite_url) for p in pieces(token))
    loads = storage.data_loads(engine)
    assert loads["status"].iloc[0] == "failed" and loads["error"].iloc[0]


def test_a_sync_that_fails_midway_is_failed_in_the_load_history(data, sqlite_url) -> None:
    portal = build_portal(data)
    engine = storage.make_engine(sqlite_url)
    with fast_fake(portal) as fake:
        fake.fail(status=502, times=None, path="/crm/v3/objects/contacts")
        with pytest.raises(UserError):
            run_sync(engine, settings_for(fake, portal, max_retries=1))
    last = storage.data_loads(engine).iloc[0]
    assert last["source"] == "hubspot" and last["status"] == "failed" and "502" in last["error"]


def test_the_cli_with_a_two_line_token_file_prints_one_line_and_no_token(data, tmp_path) -> None:
    token = ODD_TOKENS["line break"]
    portal = build_portal(data)
    with fast_fake(portal) as fake:
        done = run_cli(f"sqlite:///{tmp_path / 'cli.db'}", sync_env(fake, portal, HUBSPOT_ACCESS_TOKEN=token))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert_absent(token, done.stdout, done.stderr)


def test_sync_now_with_a_two_line_token_shows_one_sentence_without_it(data, sqlite_url, monkeypatch) -> None:
    token = ODD_TOKENS["line break"]
    portal = build_portal(data)
    with fast_fake(portal) as fake:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", token)
        monkeypatch.setenv("HUBSPOT_API_BASE", fake.base_url)
        app = AppTest.from_string(PANEL.format(url=sqlite_url), default_timeout=120).run()
        app.button(key="hubspot_sync_now").click().run()
    assert not app.exception
    assert len(app.error) == 1 and "copy it again as one line" in app.error[0].value
    assert_absent(token, str(app), database_text(sqlite_url))


HOSTILE = "![pixel](http://tracker.example/p.png) **bold** <img src=x onerror=alert(1)> $x^2$ [link](http://e.x)"


def test_sync_warnings_and_the_last_error_are_shown_literally(sqlite_url) -> None:
    engine = storage.make_engine(sqlite_url)
    report = {"status": "failed", "error": HOSTILE, "warnings": [HOSTILE], "finished_at": NOW.isoformat()}
    storage.save_data(engine, CrmData(), source="hubspot", sync_cursors={LAST_SYNC: json.dumps(report)})
    app = AppTest.from_string(PANEL.format(url=sqlite_url), default_timeout=120).run()
    assert not app.exception
    shown = [w.value for w in app.warning] + [c.value for c in app.caption if "Last error" in c.value]
    assert len(shown) == 2
    for value in shown:
        assert not re.search(r"(?<!\\)[\[\]<>*$]", value), value  # every Markdown, HTML and LaTeX mark escaped
        assert "tracker.example" in value  # the text is still there, to read
