"""The HubSpot request-rate benchmark: a real sync against the local fake HubSpot at HubSpot's limits.

`measure_sync_rate()` generates a demo portal, serves it with tests/fake_hubspot (which
enforces the rolling windows itself and answers 429 past them), runs a backfill (list
endpoints: bound by the overall 100 / 10 s) and then an incremental sync of a bulk edit
(search endpoints: bound by search's 5 / s and the overall limit), and reports per phase
the requests per second HubSpot would have counted, against the limit:

    {"limit": "100/10", "search_limit": "5/1", "throttled": 0, "phases": [
      {"phase": "backfill", "requests": 381, "full_windows": [100, 99, 100], "utilisation": 0.997,
       "busiest_window": 100, "search_utilisation": ..., ...}, {"phase": "incremental", ...}]}

`utilisation` is the mean number of requests per complete window (10 s, counted at the
fake's door, as HubSpot counts) over the window's limit; `search_utilisation` the same for
search requests and their 1 s windows. A plain requests/seconds figure is also given, but
a rolling window lets a short run spend its first window's burst twice, so it flatters
short runs. The sync runs as a subprocess (`python -m smarketing sync hubspot`), as it would
against HubSpot. It needs the repository's tests/ folder (the fake lives there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from smarketing.core.errors import UserError
from smarketing.sources.hubspot.ratelimit import busiest_window
from smarketing.sources.hubspot.settings import RateLimit


def measure_sync_rate(
    *,
    months: int = 12,
    seed: int = 7,
    rate: RateLimit = RateLimit(100, 10.0),
    search_rate: RateLimit = RateLimit(5, 1.0),
    modify_emails: int = 8000,
    latency: float = 0.0,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Sync a fake portal at the given limits; report requests per second against them.

    `latency` adds that many seconds to every answer of the fake (HubSpot's own answer
    times are typically 0.1-0.3 s); a limiter that is safe against jitter can use at most
    N / (W + latency) of a window, which matters for search's 1-second window.
    """
    try:
        from tests.fake_hubspot import FakeHubSpot, build_portal
    except ImportError:
        raise UserError(
            "The HubSpot benchmark needs the repository's tests/fake_hubspot; run it from the project folder."
        ) from None
    from smarketing.sources.demo import generate_demo
    from smarketing.sources.hubspot.sync import last_sync
    from smarketing.store import storage

    portal = build_portal(generate_demo(seed=seed, months=months))
    with (
        tempfile.TemporaryDirectory(prefix="smarketing-bench-") as folder,
        FakeHubSpot(
            portal,
            rate_limit=(rate.requests, rate.seconds),
            search_rate_limit=(search_rate.requests, search_rate.seconds),
            latency=latency,
        ) as fake,
    ):
        url = db_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = storage.make_engine(url)
        storage.delete_all_data(engine)
        env = {
            **os.environ,
            "HUBSPOT_ACCESS_TOKEN": fake.token,
            "HUBSPOT_API_BASE": fake.base_url,
            "HUBSPOT_SEGMENT_PROPERTY": portal.segment_property,
            "HUBSPOT_DISQUALIFIED_PROPERTY": portal.disqualified_property,
            "HUBSPOT_RATE_LIMIT": str(rate),
            "HUBSPOT_SEARCH_RATE_LIMIT": str(search_rate),
        }
        root = Path(__file__).resolve().parents[3]
        phases = []
        for phase in ("backfill", "incremental"):
            if phase == "incremental":
                portal.modify_contacts()
                emails = list(portal.objects["emails"])[:modify_emails]
                stamp = int(time.time() * 1000)
                with portal.lock:
                    for k, email_id in enumerate(emails):
                        portal.objects["emails"][email_id].stamp_modified(stamp - len(emails) + k)
                    portal._changed()
            fake.reset_log()
            # the sync runs in its own process, as it would against HubSpot (no GIL shared with the fake)
            done = subprocess.run(
                [sys.executable, "-m", "smarketing", "--db", url, "sync", "hubspot"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if done.returncode != 0:
                raise UserError(f"The benchmark sync failed: {done.stderr.strip().splitlines()[-1:]}")
            phases.append(_phase(phase, list(fake.log), last_sync(engine) or {}, rate, search_rate))
        throttled = sum(p["throttled"] for p in phases)
        engine.dispose()
    return {
        "limit": str(rate),
        "search_limit": str(search_rate),
        "latency": latency,
        "throttled": throttled,
        "phases": phases,
    }


def window_counts(times: list[float], seconds: float) -> list[int]:
    """Events in each complete, consecutive window of `seconds` from the first event on."""
    if not times:
        return []
    ordered = sorted(times)
    start, end = ordered[0], ordered[-1]
    full = int((end - start) // seconds)
    counts = [0] * full
    for t in ordered:
        k = int((t - start) // seconds)
        if k < full:
            counts[k] += 1
    return counts


def _phase(
    name: str, log: list[tuple[float, str, str, int]], report: dict[str, Any], rate: RateLimit, search_rate: RateLimit
) -> dict[str, Any]:
    times = sorted(t for t, _, _, _ in log)
    search = sorted(t for t, _, p, _ in log if p.rstrip("/").endswith("/search"))
    seconds = (times[-1] - times[0]) if len(times) > 1 else 0.0
    windows = window_counts(times, rate.seconds)
    search_windows = window_counts(search, search_rate.seconds)
    mean = sum(windows) / len(windows) if windows else None
    search_mean = sum(search_windows) / len(search_windows) if search_windows else None
    return {
        "phase": name,
        "requests": len(times),
        "search_requests": len(search),
        "seconds": round(seconds, 2),
        "requests_per_second": round(len(times) / seconds, 3) if seconds else None,
        "limit_per_second": rate.per_second,
        "full_windows": windows,
        "utilisation": round(mean / rate.requests, 3) if mean is not None else None,
        "busiest_window": busiest_window(times, rate.seconds),
        "window_limit": rate.requests,
        "search_limit_per_second": search_rate.per_second,
        "search_full_windows": len(search_windows),
        "search_requests_per_second": round(search_mean / search_rate.seconds, 3) if search_mean is not None else None,
        "search_utilisation": round(search_mean / search_rate.requests, 3) if search_mean is not None else None,
        "busiest_search_window": busiest_window(search, search_rate.seconds),
        "throttled": sum(1 for *_, status in log if status == 429),
        "sync_seconds": report.get("seconds"),
        "records": sum((report.get("fetched") or {}).values()),
    }
