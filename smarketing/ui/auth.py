"""The login gate: with an `[auth]` section in .streamlit/secrets.toml every page needs st.login.

Without `[auth]` the app is open (meant for localhost) and the Data page says so. The gate
fails closed: a secrets file that cannot be read, or an `[auth]` that is not a usable table,
serves no page at all, only the sentence that says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from smarketing.ui.fmt import md_escape
from smarketing.ui.secrets import SecretsRead, read_secrets


@dataclass(frozen=True)
class AuthStatus:
    """Whether login is configured, and who is signed in."""

    configured: bool
    logged_in: bool
    user: str | None
    providers: tuple[str, ...]
    problem: str | None = None


def auth_problem(secrets: SecretsRead) -> str | None:
    """Why the login configuration cannot be trusted (None: absent or usable)."""
    if secrets.problem:
        return secrets.problem
    if "auth" not in secrets.values:
        return None
    section = secrets.values["auth"]
    if not isinstance(section, Mapping) or not len(section):
        return "The [auth] section of the secrets file is empty or not a table; fix it and reload the page."
    return None


def providers(section: Mapping) -> tuple[str, ...]:
    """Named providers ([auth.google], ...); empty when [auth] itself holds the client settings."""
    return tuple(k for k, v in section.items() if isinstance(v, Mapping))


def auth_status() -> AuthStatus:
    """The current session's auth status."""
    secrets = read_secrets()
    problem = auth_problem(secrets)
    if problem:
        return AuthStatus(True, False, None, (), problem)
    section = secrets.values.get("auth")
    if section is None:
        return AuthStatus(False, False, None, ())
    user = st.user.to_dict() if hasattr(st.user, "to_dict") else dict(st.user)
    logged_in = bool(user.get("is_logged_in", False))
    who = user.get("email") or user.get("name") if logged_in else None
    return AuthStatus(True, logged_in, str(who) if who else None, providers(section))


def require_login(status: AuthStatus) -> None:
    """Show the sign-in gate and stop the page unless auth is off or the user is signed in; a
    broken configuration stops every page with its one sentence."""
    if status.problem:
        st.error(md_escape(status.problem), icon=":material/lock:")
        st.stop()
    if not status.configured or status.logged_in:
        return
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.title(":material/handshake: smarketing")
        st.subheader(":material/lock: Sign in to see the scorecards")
        st.write("This dashboard shows your company's CRM data, so it is only open to signed-in users.")
        names = status.providers or (None,)
        for name in names:
            label = f"Sign in with {name.title()}" if name else "Sign in"
            st.button(
                label,
                key=f"login_{name or 'default'}",
                type="primary",
                icon=":material/login:",
                on_click=st.login,
                args=(name,) if name else (),
            )
    st.stop()


def user_box(status: AuthStatus) -> None:
    """Who is signed in, with a sign-out button (sidebar)."""
    if not status.configured:
        return
    if status.user:
        st.sidebar.text(f"Signed in as {status.user}")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout, key="logout")
