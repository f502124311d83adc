"""HubSpot sync (DESIGN "HubSpot mapping"): `run_sync(engine, settings)` and `last_sync(engine)`.

Modules: settings (environment, scopes, secret scrubbing), ratelimit (rolling-window
pacing), client (the configured hubspot-api-client and its errors), mapping (records to
canonical frames, pure), store (deletions and the sync lock), sync (the resumable job),
bench (the request-rate benchmark against the local fake HubSpot).
"""

from smarketing.sources.hubspot.settings import HubSpotSettings, RateLimit, settings_from_env
from smarketing.sources.hubspot.sync import SyncReport, TerminalProgress, last_sync, run_sync

__all__ = [
    "HubSpotSettings",
    "RateLimit",
    "SyncReport",
    "TerminalProgress",
    "last_sync",
    "run_sync",
    "settings_from_env",
]
