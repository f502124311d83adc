"""A local fake HubSpot for tests and the benchmark: a portal model and a real HTTP server.

from smarketing.sources.demo import generate_demo
from tests.fake_hubspot import FakeHubSpot, build_portal

portal = build_portal(generate_demo(months=6))
with FakeHubSpot(portal, rate_limit=(100, 10.0)) as fake:
    env = {"HUBSPOT_API_BASE": fake.base_url, "HUBSPOT_ACCESS_TOKEN": fake.token}
    ...                      # run `python -m smarketing sync hubspot` with env
    assert fake.count(status=429) == 0
expected = portal.truth()   # what the sync must have stored
"""

from tests.fake_hubspot.portal import Portal, build_portal
from tests.fake_hubspot.server import ALL_SCOPES, FakeHubSpot, Fault

__all__ = ["ALL_SCOPES", "FakeHubSpot", "Fault", "Portal", "build_portal"]
