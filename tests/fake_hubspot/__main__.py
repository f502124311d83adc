"""`python -m tests.fake_hubspot [--months N] [--leads N] [--rate 100/10] [--search-rate 5/1] [--leads-object]`:
serve a generated fake portal until interrupted; prints the environment to point a sync at it.
With --leads-object the sales decisions live in Lead objects (HUBSPOT_ACCEPTANCE_SOURCE=leads_object)."""

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
    parser.add_argument("--leads-object", action="store_true", help="decisions in Lead objects, not the lead status")
    args = parser.parse_args()
    data = generate_demo(seed=args.seed, months=args.months, n_leads=args.leads)
    portal = build_portal(data, leads_object=args.leads_object)
    with FakeHubSpot(portal, rate_limit=_rate(args.rate), search_rate_limit=_rate(args.search_rate)) as fake:
        print(f"export HUBSPOT_API_BASE={fake.base_url}")
        print(f"export HUBSPOT_ACCESS_TOKEN={fake.token}")
        print(f"export HUBSPOT_SEGMENT_PROPERTY={portal.segment_property}")
        print(f"export HUBSPOT_DISQUALIFIED_PROPERTY={portal.disqualified_property}")
        if args.leads_object:
            print("export HUBSPOT_ACCEPTANCE_SOURCE=leads_object")
        else:
            print(f"export HUBSPOT_REJECTION_REASON_PROPERTY={portal.reason_property}")
        print(end="", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
