"""With [auth] in the secrets every page, opened directly in a fresh session, shows only the login gate."""

from __future__ import annotations

import pytest
from app_helpers import AS_OF, DASHBOARD, MONTH, PAGES, ROOT, TIMEOUT, metrics, no_exception
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.app

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "smarketing-test",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
}


def direct(page: str, user: dict, secrets: dict) -> AppTest:
    """A page opened by URL in a new session (its own script is the entry), month in the URL."""
    path = DASHBOARD if PAGES[page] is None else str(ROOT / PAGES[page])
    at = AppTest.from_file(path, default_timeout=TIMEOUT)
    at.secrets = secrets
    at.user = user
    at.query_params = {"month": MONTH, "as_of": AS_OF}
    return at.run()


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_shows_only_the_gate(app_env: str, page: str) -> None:
    at = direct(page, {"is_logged_in": False}, {"auth": AUTH})
    no_exception(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart") and not at.info
    assert not at.sidebar.selectbox, "not even the month picker"
    assert any("Sign in" in s.value for s in at.subheader)


def test_named_providers_get_a_button_each(app_env: str) -> None:
    secrets = {
        "auth": {
            "redirect_uri": AUTH["redirect_uri"],
            "cookie_secret": "x",
            "google": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")},
            "microsoft": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")},
        }
    }
    at = direct("sales", {"is_logged_in": False}, secrets)
    assert sorted(b.label for b in at.button) == ["Sign in with Google", "Sign in with Microsoft"]
    assert not at.metric


def test_signed_in_user_sees_data_and_the_data_page_says_so(app_env: str) -> None:
    user = {"is_logged_in": True, "email": "director@example.com", "name": "Dana"}
    at = direct("home", user, {"auth": AUTH})
    no_exception(at)
    assert "MQLs delivered" in metrics(at)
    assert any("director@example.com" in t.value for t in at.sidebar.text)
    at = direct("data", user, {"auth": AUTH})
    assert any("Sign-in required" in s.value for s in at.success)


def test_secrets_without_auth_run_open(app_env: str) -> None:
    at = direct("data", {}, {"hubspot": {"token": "x"}})
    no_exception(at)
    assert "Leads" in metrics(at)
    assert any("Open access" in w.value for w in at.warning)
