"""The one place that reads the Streamlit secrets, and fails closed.

No secrets file at all means no secrets (the app runs open, for localhost). A secrets file
that exists but cannot be read or parsed is a problem the gate stops on: it may hold an
`[auth]` section we cannot see, so serving data would fail open.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import config

_WHERE = re.compile(r"at line (\d+), column (\d+)")


@dataclass(frozen=True)
class SecretsRead:
    """The secrets as read, or the sentence that says why they cannot be."""

    values: Mapping[str, Any] = field(default_factory=dict)
    problem: str | None = None

    def table(self, name: str) -> dict[str, Any]:
        """One [table] of the secrets ({} when it is absent or not a table)."""
        section = self.values.get(name)
        return dict(section) if isinstance(section, Mapping) else {}


def read_secrets() -> SecretsRead:
    """The Streamlit secrets; a problem sentence (naming the file) when a secrets file is broken."""
    try:
        return SecretsRead(st.secrets.to_dict())
    except Exception:  # Streamlit says "not found" for a broken file too: look at the files ourselves
        pass
    for path in secrets_paths():
        problem = file_problem(path)
        if problem:
            return SecretsRead({}, problem)
    if any(path.exists() for path in secrets_paths()):
        return SecretsRead({}, "The secrets file cannot be read; fix it and reload the page.")
    return SecretsRead({})


def secrets_paths() -> list[Path]:
    """Where Streamlit looks for secrets (its `secrets.files` option)."""
    return [Path(p) for p in config.get_option("secrets.files") or []]


def file_problem(path: Path) -> str | None:
    """One sentence on why an existing secrets file cannot be used (None: absent or fine).

    The sentence names the file and the line, never a value from it."""
    if not os.path.lexists(path):
        return None
    if path.is_dir() and path.suffix.lower() == ".toml":
        return f"The secrets file {path} is a folder, not a file; replace it with a TOML file and reload the page."
    if path.is_dir():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return f"The secrets file {path} is not UTF-8 text; save it as UTF-8 and reload the page."
    except OSError as exc:
        return f"The secrets file {path} cannot be read ({exc.strerror or type(exc).__name__}); fix it and reload the page."
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _WHERE.search(str(exc))
        where = f" at line {found[1]}, column {found[2]}" if found else ""
        return f"The secrets file {path} is not valid TOML{where}; fix it and reload the page."
    return None
