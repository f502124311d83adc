"""The Data page's HubSpot panel (smarketing.ui.hubspot_panel) in Streamlit's AppTest, syncing the fake."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from smarketing.sources.demo import generate_demo
from tests.fake_hubspot import build_portal
from tests.fake_hubspot.testing import assert_db_matches, fast_fake

pytestmark = pytest.mark.integration

SCRIPT = """
from smarketing.store import storage
from smarketing.ui.hubspot_panel import render_sync_panel
render_sync_panel(storage.make_engine({url!r}), "America/New_York")
"""


def test_sync_now_button_syncs_and_shows_the_last_sync(sqlite_url, monkeypatch):
    portal = build_portal(generate_demo(seed=11, months=1, now=pd.Timestamp("2026-05-20T15:00:00Z")))
    with fast_fake(portal) as fake:
        for key, value in {
            "HUBSPOT_ACCESS_TOKEN": fake.token,
            "HUBSPOT_API_BASE": fake.base_url,
            "HUBSPOT_SEGMENT_PROPERTY": portal.segment_property,
            "HUBSPOT_DISQUALIFIED_PROPERTY": portal.disqualified_property,
            "HUBSPOT_REJECTION_REASON_PROPERTY": portal.reason_property,
            "HUBSPOT_RATE_LIMIT": "5000/1",
            "HUBSPOT_SEARCH_RATE_LIMIT": "1000/1",
        }.items():
            monkeypatch.setenv(key, value)
        app = AppTest.from_string(SCRIPT.format(url=sqlite_url), default_timeout=120)
        app.run()
        assert not app.exception
        assert any("No HubSpot sync has run" in t.value for t in app.text)
        assert fake.token not in str(app)
        app.button(key="hubspot_sync_now").click().run()
        assert not app.exception and not app.error
        assert app.success[0].value.startswith("HubSpot sync ok")
        assert [m.value for m in app.metric if m.label == "Status"] == ["ok"]
        assert fake.token not in str(app)

        fake.revoke_scope("crm.objects.deals.read")
        app.button(key="hubspot_sync_now").click().run()
        assert "crm.objects.deals.read" in app.error[0].value
    assert_db_matches(sqlite_url, portal.truth())
