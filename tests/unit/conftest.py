"""Tiny builders for unit tests: CRM data written as New York wall-clock strings."""

from __future__ import annotations

import pandas as pd
import pytest

from smarketing.core.frames import CrmData
from smarketing.core.terms import Terms

NY = "America/New_York"


def pytest_configure(config):
    config.addinivalue_line("markers", "unit: pure-core unit tests (no I/O)")


def at(value) -> pd.Timestamp:
    """A New York wall-clock string (or an aware instant) as a UTC instant."""
    ts = pd.Timestamp(value)
    return (ts.tz_localize(NY) if ts.tzinfo is None else ts).tz_convert("UTC")


def _rows(rows, defaults: dict) -> pd.DataFrame:
    out = []
    for i, row in enumerate(rows):
        full = {k: (v(i) if callable(v) else v) for k, v in defaults.items()} | dict(row)
        out.append({k: at(v) if k.endswith("_at") and v is not None else v for k, v in full.items()})
    return pd.DataFrame(out)


def make_data(leads=(), touches=(), deals=(), owners=()) -> CrmData:
    """CrmData from lists of dicts; `*_at` values are local New York times.

    Touches default to an outbound, manual call with ids t0, t1, ...; deals to status won."""
    frames = {
        "leads": _rows(leads, {}),
        "touches": _rows(touches, {"touch_id": lambda i: f"t{i}", "kind": "call"}),
        "deals": _rows(deals, {"deal_id": lambda i: f"d{i}", "status": "won"}),
        "owners": _rows(owners, {}),
    }
    return CrmData.of(**{name: frame for name, frame in frames.items() if len(frame)})


def ny_terms(**overrides) -> Terms:
    """The DESIGN example agreement: New York, Mon-Fri 09:00-17:00, US holidays, 4 h, 5 in 10 days."""
    return Terms(timezone=NY, holidays="US", **overrides)


@pytest.fixture(name="at")
def at_fixture():
    return at


@pytest.fixture(name="make_data")
def make_data_fixture():
    return make_data


@pytest.fixture(name="ny_terms")
def ny_terms_fixture():
    return ny_terms
