"""The month bundle is a shared resource (loaders.month_bundle): no page may change it.

Every bundle the pages are handed is copied the first time it comes out of the cache (cleared
first, so that copy is what was built); after every page has been drawn, with and without a lead
filter, each bundle must still equal its copy."""

from __future__ import annotations

import copy
import json
from dataclasses import fields

import pandas as pd
import pytest
from app_helpers import PAGES, no_exception, open_page

from smarketing.core.frames import ALL_TABLES
from smarketing.ui import loaders

pytestmark = pytest.mark.app

EVERY_PAGE = {**PAGES, "review": "pages/7_Executive_review.py"}


Handed = dict[int, tuple[loaders.MonthBundle, loaders.MonthBundle]]


@pytest.fixture
def handed_out(app_env: str, monkeypatch: pytest.MonkeyPatch) -> Handed:
    """id → (the bundle pages got, a copy taken when it first left the cache)."""
    cached, seen = loaders.month_bundle, {}

    def recording(*args, **kwargs):
        bundle = cached(*args, **kwargs)
        seen.setdefault(id(bundle), (bundle, copy.deepcopy(bundle)))
        return bundle

    recording.clear = cached.clear  # loaders.refresh() still empties the real cache
    monkeypatch.setattr(loaders, "month_bundle", recording)
    return seen


def _same_bundle(actual: loaders.MonthBundle, expected: loaders.MonthBundle) -> None:
    assert _text(actual.card) == _text(expected.card)
    pd.testing.assert_frame_equal(actual.ledger, expected.ledger, check_exact=True)
    pd.testing.assert_frame_equal(actual.daily, expected.daily, check_exact=True)
    for table in ALL_TABLES:
        pd.testing.assert_frame_equal(getattr(actual.data, table), getattr(expected.data, table), check_exact=True)
    plain = [f.name for f in fields(loaders.MonthBundle) if f.name not in ("card", "ledger", "daily", "data")]
    assert [getattr(actual, n) for n in plain] == [getattr(expected, n) for n in plain]


def _text(card: dict) -> str:
    return json.dumps(card, sort_keys=True, default=str)


def test_no_page_changes_the_shared_month_bundle(handed_out: Handed) -> None:
    for name in EVERY_PAGE:
        with pytest.MonkeyPatch.context() as patched:
            patched.setitem(PAGES, name, EVERY_PAGE[name])
            no_exception(open_page(name))
    bundle = next(iter(handed_out.values()))[0]
    owner, segment = bundle.ledger["owner_id"].dropna().iloc[0], bundle.ledger["segment"].iloc[0]
    for name in ("home", "marketing", "sales", "ledger"):
        no_exception(open_page(name, owner=str(owner), segment=str(segment), first_touch="breached"))
    no_exception(open_page("ledger", lead=str(bundle.ledger["lead_id"].iloc[0])))
    assert handed_out
    for actual, pristine in handed_out.values():
        _same_bundle(actual, pristine)
