"""The dashboard's consequences loader gives api.month_scorecard's consequences (issue 17: it
reuses the month's cached card instead of computing it again)."""

from __future__ import annotations

import pandas as pd

from smarketing import api
from smarketing.sources.demo import DEMO_TERMS_TOML, generate_demo
from smarketing.store import storage
from smarketing.ui import loaders

NOW = pd.Timestamp("2026-11-22T15:00:00Z")


def test_consequences_loader_equals_the_api_for_open_and_closed_months(sqlite_url: str) -> None:
    engine = storage.make_engine(sqlite_url)
    storage.save_terms_version(engine, DEMO_TERMS_TOML, "2026-03")
    storage.save_data(engine, generate_demo(seed=4, months=9, now=NOW, n_leads=3000), source="test")
    api.close_month(engine, "2026-08", as_of=NOW, closed_by="test", force=True)
    token = loaders.data_token.__wrapped__(sqlite_url)
    for month in ("2026-08", "2026-10", "2026-11"):
        expected = api.month_scorecard(engine, month, NOW)["consequences"]
        assert loaders.consequences.__wrapped__(sqlite_url, month, NOW.isoformat(), token) == expected, month


def test_trend_cards_take_the_month_on_screen_from_its_bundle_and_equal_the_api(sqlite_url: str) -> None:
    engine = storage.make_engine(sqlite_url)
    storage.save_terms_version(engine, DEMO_TERMS_TOML, "2026-03")
    storage.save_data(engine, generate_demo(seed=4, months=9, now=NOW, n_leads=3000), source="test")
    api.close_month(engine, "2026-08", as_of=NOW, closed_by="test", force=True)
    token, first = loaders.data_token.__wrapped__(sqlite_url), api.data_months(engine)[0]
    loaders.refresh()
    closed = {"2026-08": {**storage.load_snapshot(engine, "2026-08"), "frozen": True}}
    for month in ("2026-08", "2026-10", "2026-11"):
        months = loaders.trend_months(month, first)
        live = api.scorecards(engine, months, NOW)
        expected = {m: closed.get(m, live[m]) for m in months}
        assert loaders.trend_cards.__wrapped__(sqlite_url, month, NOW.isoformat(), token, first) == expected, month
    loaders.refresh()


def test_consequences_score_only_the_months_before_the_pages_trend_cards(sqlite_url: str, monkeypatch) -> None:
    engine = storage.make_engine(sqlite_url)
    storage.save_terms_version(engine, DEMO_TERMS_TOML, "2025-06")
    storage.save_data(engine, generate_demo(seed=5, months=16, now=NOW, n_leads=3000), source="test")
    token, first = loaders.data_token.__wrapped__(sqlite_url), api.data_months(engine)[0]
    expected = api.month_scorecard(engine, "2026-11", NOW)["consequences"]
    scored: list[tuple[list[str], dict]] = []
    score = api.closed_or_live_cards
    monkeypatch.setattr(
        api, "closed_or_live_cards", lambda *args, **kw: scored.append((list(args[1]), kw)) or score(*args, **kw)
    )
    loaders.refresh()
    got = loaders.consequences.__wrapped__(sqlite_url, "2026-11", NOW.isoformat(), token, first_month=first)
    assert got == expected
    window = loaders.trend_months("2026-11", first)
    before = [m for m in api.data_months(engine) if m < window[0]]
    assert len(before) >= 3
    # The trend cards once (the eleven months before the month on screen), then only the months before them.
    assert scored == [(window[:-1], {}), (before, {"commitments_only": True})]
    loaders.refresh()
