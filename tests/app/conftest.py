"""AppTest fixtures: a demo database seeded at a fixed instant, pinned through the URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import seed as _seed

from smarketing.ui import loaders


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo database shared by the read-only tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'demo.db'}"
    _seed(url)
    return url


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    """A demo database of its own, for tests that write."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    _seed(url)
    return url


@pytest.fixture
def app_env(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """SMARKETING_DB points at the demo database; caches start empty."""
    monkeypatch.setenv("SMARKETING_DB", demo_url)
    loaders.refresh()
    yield demo_url
    loaders.refresh()


@pytest.fixture
def write_env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """SMARKETING_DB points at a database this test may change."""
    monkeypatch.setenv("SMARKETING_DB", fresh_url)
    loaders.refresh()
    yield fresh_url
    loaders.refresh()
