"""`python -m tests.fake_hubspot [--months N] [--leads N] [--rate 100/10] [--search-rate 5/1]`:
serve a generated fake portal until interrupted; prints the environment to point a sync at it."""

from __future__ import annotations

import argparse
import time

from smarketing.sources.demo import generate_demo
from tests.fake_hubspot import FakeHubSpot, build_portal


def _rate(text: str) -> tuple[int, float] | None:
    if text.lower() == "none":
        return None
    count, _, seconds = text.partition("/")
    return int(count), float(seconds or 1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_hubspot")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--leads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", default="100/10", help="requests/seconds, or none")
    parser.add_argument("--search-rate", default="5/1", help="search requests/seconds, or none")
    args = parser.parse_args()
    portal = build_portal(generate_demo(seed=args.seed, months=args.months, n_leads=args.leads))
    with FakeHubSpot(portal, rate_limit=_rate(args.rate), search_rate_limit=_rate(args.search_rate)) as fake:
        print(f"export HUBSPOT_API_BASE={fake.base_url}")
        print(f"export HUBSPOT_ACCESS_TOKEN={fake.token}")
        print(f"export HUBSPOT_SEGMENT_PROPERTY={portal.segment_property}")
        print(f"export HUBSPOT_DISQUALIFIED_PROPERTY={portal.disqualified_property}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
