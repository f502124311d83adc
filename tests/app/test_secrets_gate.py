"""The gate fails closed: a secrets file that exists but cannot be read serves no data on any
page, by direct URL, and says in one sentence which file is broken and where."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from app_helpers import AS_OF, DASHBOARD, MONTH, PAGES, ROOT, TIMEOUT, no_exception
from streamlit import config
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.app

VALID_AUTH = """[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "cookie-s3cret-value"
client_id = "smarketing-test"
client_secret = "client-s3cret-value"
server_metadata_url = "https://login.example.com/.well-known/openid-configuration"
"""
BROKEN = {
    "syntax error after a valid [auth]": VALID_AUTH.encode() + b"\n[hubspot\naccess_token = 'pat-na1-s3cret'\n",
    "not UTF-8": VALID_AUTH.encode() + b"\nnote = '\xff\xfe'\n",
    "an [auth] that is not a table": b'auth = "yes"\n',
    "an empty [auth]": b"[auth]\n",
}


@pytest.fixture
def secrets_file(tmp_path: Path) -> Iterator[Path]:
    """Streamlit reads its secrets from this one file during the test."""
    path = tmp_path / ".streamlit" / "secrets.toml"
    path.parent.mkdir()
    saved = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    st.secrets._reset()
    yield path
    config.set_option("secrets.files", saved)
    st.secrets._reset()


def direct(page: str) -> AppTest:
    """A page opened by URL in a new session, month in the URL, nobody signed in."""
    path = DASHBOARD if PAGES[page] is None else str(ROOT / PAGES[page])
    at = AppTest.from_file(path, default_timeout=TIMEOUT)
    at.query_params = {"month": MONTH, "as_of": AS_OF}
    return at.run()


def shows_no_data(at: AppTest) -> None:
    no_exception(at)
    assert not at.metric and not at.dataframe and not at.get("plotly_chart") and not at.button
    assert not at.sidebar.selectbox, "not even the month picker"


@pytest.mark.parametrize("page", list(PAGES))
def test_a_broken_secrets_file_serves_no_page(app_env: str, secrets_file: Path, page: str) -> None:
    secrets_file.write_bytes(BROKEN["syntax error after a valid [auth]"])
    at = direct(page)
    shows_no_data(at)
    [error] = [e.value for e in at.error]
    assert "secrets file" in error and "line 8" in error and "secrets.toml" in error
    assert "s3cret" not in error


@pytest.mark.parametrize("case", [c for c in BROKEN if c != "syntax error after a valid [auth]"])
def test_every_kind_of_broken_login_configuration_fails_closed(app_env: str, secrets_file: Path, case: str) -> None:
    secrets_file.write_bytes(BROKEN[case])
    at = direct("sales")
    shows_no_data(at)
    assert len(at.error) == 1 and "secrets" in at.error[0].value


def test_a_secrets_path_that_is_a_folder_fails_closed(app_env: str, secrets_file: Path) -> None:
    secrets_file.mkdir()
    at = direct("data")
    shows_no_data(at)
    assert "is a folder" in at.error[0].value


def test_a_valid_secrets_file_with_auth_shows_the_sign_in_gate(app_env: str, secrets_file: Path) -> None:
    secrets_file.write_text(VALID_AUTH, encoding="utf-8")
    at = direct("ledger")
    no_exception(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.error


def test_no_secrets_file_runs_open(app_env: str, secrets_file: Path) -> None:
    at = direct("data")
    no_exception(at)
    assert not at.error
    assert any("Open access" in w.value for w in at.warning)
