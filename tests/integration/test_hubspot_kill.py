"""A sync SIGKILLed at random points and run again ends exactly like one clean sync.

The sync runs as `python -m smarketing --db URL sync hubspot` in a subprocess, against the
fake HubSpot served from a thread of this test process. Kill points alternate between two
random triggers: the moment the fake has answered the sync's N-th request (anywhere: during
a page fetch, a mapping, a commit, between phases) and the moment the database has gained R
rows (just after some commit, while the next pages are in flight), so kills land both before
and in the middle of the data.
Small batches (HUBSPOT_BATCH_ROWS=100) give many commits to be killed around.
"""

from __future__ import annotations

import os
import random

import pandas as pd
import pytest

from smarketing.sources.demo import generate_demo
from smarketing.store import storage
from tests.fake_hubspot import build_portal
from tests.fake_hubspot.testing import assert_same_data, fast_fake, kill_after_requests, run_cli, sync_env

pytestmark = pytest.mark.integration

NOW = pd.Timestamp("2026-05-20T15:00:00Z")
KILLS = 5


def rows_done(rows: dict[str, int], truth) -> float:
    """The share of the portal's leads, touches and deals already stored."""
    total = sum(len(truth.frame(t)) for t in ("leads", "touches", "deals"))
    return sum(rows[t] for t in ("leads", "touches", "deals")) / total


def test_sigkill_at_random_points_then_resume_equals_one_clean_sync(tmp_path):
    portal = build_portal(generate_demo(seed=5, months=1, now=NOW), multi_contact_share=0.05)
    seed = int(os.environ.get("SMARKETING_KILL_SEED", "20260520"))
    rng = random.Random(seed)
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    killed_url = f"sqlite:///{tmp_path / 'killed.db'}"
    with fast_fake(portal) as fake:
        env = sync_env(fake, portal, HUBSPOT_BATCH_ROWS="100")
        done = run_cli(clean_url, env)
        assert done.returncode == 0, done.stderr
        clean_requests = fake.count()

        truth = portal.truth()
        total_rows = len(truth.leads) + len(truth.touches) + len(truth.deals)
        points = []
        for k in range(KILLS):
            if k % 2 == 0:  # after 1-25 % more rows are stored
                target = {"rows": rng.randint(1, total_rows // 4)}
            else:  # after a tenth to a half of a clean sync's requests
                target = {"requests": rng.randint(max(2, clean_requests // 10), max(3, clean_requests // 2))}
            killed, _seen = kill_after_requests(killed_url, env, fake, **target)
            rows = storage.data_counts(storage.make_engine(killed_url))
            points.append((target, killed, rows))
        assert sum(p[1] for p in points) >= 3, points  # the sync was really cut short
        partial = [p for p in points if p[1] and 0 < rows_done(p[2], truth) < 1]
        assert len(partial) >= 2, points  # kills landed in the middle of the data, after commits

        done = run_cli(killed_url, env)
        assert done.returncode == 0, done.stderr

    clean = storage.load_data(storage.make_engine(clean_url))
    resumed = storage.load_data(storage.make_engine(killed_url))
    assert_same_data(resumed, clean)  # nothing lost, nothing doubled
    assert_same_data(resumed, portal.truth())
    engine = storage.make_engine(killed_url)
    assert {k: v for k, v in storage.all_cursors(engine).items() if k != "hubspot:last_sync"}.keys() == {
        k for k in storage.all_cursors(storage.make_engine(clean_url)) if k != "hubspot:last_sync"
    }
    loads = storage.data_loads(engine, limit=1000)
    assert (loads["status"] == "ok").all()
