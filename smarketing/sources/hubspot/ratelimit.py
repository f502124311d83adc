"""Client-side pacing of HubSpot requests: a rolling-window limiter per HubSpot policy.

HubSpot counts requests in a rolling window (TEN_SECONDLY_ROLLING: 100-190 per 10 s per
app; search: 5 per second). A classic token bucket with capacity b and rate r lets
b + r*W requests into some window of W seconds, so to stay under a rolling limit N it must
give up throughput (b + r*W <= N). This limiter is the token bucket whose tokens are the
last N requests themselves: a request holds its token while in flight and for W seconds
after its response arrived. A new request may go only when fewer than N tokens are held.

Why the response time and not the send time: HubSpot counts a request when it arrives,
somewhere between our send and our receipt of the answer. If request j is sent at least W
after request j-N was *answered*, then it also arrives at least W after j-N arrived,
whatever the network or the scheduler did in between. Counting send times instead lets
jitter squeeze N+1 arrivals into one window (observed under load). The price is one
round trip per window (a 30 ms answer costs 0.3 % of a 10 s window).

Every HTTP attempt, retries included, passes through `acquire`/`release` in the connection
pool of the HubSpot client (see client.py), so nothing bypasses the pacing.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smarketing.sources.hubspot.settings import RateLimit


class RollingWindow:
    """At most `limit.requests` requests in flight or answered in the last `limit.seconds + margin` seconds."""

    def __init__(self, limit: RateLimit, margin: float = 0.005):
        self.limit = limit
        self.span = limit.seconds + margin
        self.answered: list[float] = []  # sorted answer times
        self.in_flight = 0

    def wait_time(self, now: float) -> float | None:
        """Seconds until one more request fits: 0 now, None when only an answer can free a slot."""
        cut = bisect.bisect_right(self.answered, now - self.span)
        if cut:
            del self.answered[:cut]
        if self.in_flight + len(self.answered) < self.limit.requests:
            return 0.0
        if not self.answered:
            return None
        return self.answered[0] + self.span - now

    def take(self) -> None:
        self.in_flight += 1

    def give_back(self, now: float) -> None:
        self.in_flight -= 1
        bisect.insort(self.answered, now)


@dataclass
class PacingStats:
    """What the limiter saw: requests, waits, and each request's send time (monotonic)."""

    requests: int = 0
    search_requests: int = 0
    waited_seconds: float = 0.0
    waits: int = 0
    sent_at: list[float] = field(default_factory=list)
    search_sent_at: list[float] = field(default_factory=list)


@dataclass
class Ticket:
    """A request's hold on the windows, released when its answer arrived."""

    search: bool
    released: bool = False


class RateLimiter:
    """Paces every request through the overall window, and search requests also through theirs."""

    def __init__(
        self,
        overall: RateLimit,
        search: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.005,
    ):
        self.overall = RollingWindow(overall, margin)
        self.search = RollingWindow(search, margin)
        self.clock = clock
        self.stats = PacingStats()
        self._cond = threading.Condition()

    def acquire(self, *, search: bool = False) -> Ticket:
        """Block until the request may be sent; pass the ticket to release() once answered."""
        waited = 0.0
        with self._cond:
            while True:
                now = self.clock()
                delays = [self.overall.wait_time(now)]
                if search:
                    delays.append(self.search.wait_time(now))
                if all(d == 0.0 for d in delays):
                    break
                timed = [d for d in delays if d]  # a release wakes us early; None: only a release can
                started = self.clock()
                self._cond.wait(timeout=max(max(timed), 0.0005) if timed else None)
                waited += self.clock() - started
            self.overall.take()
            if search:
                self.search.take()
            self.stats.requests += 1
            self.stats.sent_at.append(now)
            if search:
                self.stats.search_requests += 1
                self.stats.search_sent_at.append(now)
            if waited:
                self.stats.waited_seconds += waited
                self.stats.waits += 1
        return Ticket(search)

    def release(self, ticket: Ticket) -> None:
        """The request was answered (or failed): its slot counts for one more window from now."""
        with self._cond:
            if ticket.released:
                return
            ticket.released = True
            now = self.clock()
            self.overall.give_back(now)
            if ticket.search:
                self.search.give_back(now)
            self._cond.notify_all()


def busiest_window(times: list[float], seconds: float) -> int:
    """The most events in any window of `seconds` (for reports and tests)."""
    best, start = 0, 0
    ordered = sorted(times)
    for end, t in enumerate(ordered):
        while ordered[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best
