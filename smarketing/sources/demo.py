"""Deterministic demo data: a realistic B2B CRM in the canonical frames (DESIGN section 2).

`generate_demo(seed=7, months=18, now=...)` invents a company that sells in three segments
(Enterprise, Mid-Market, SMB) with twelve reps on three teams, and returns its owners,
leads, touches and deals as a `CrmData`. The same seed and the same `now` always give the
same frames; nothing happens after `now`. Everything is generated with numpy arrays (no
Python loop runs per lead), so a million leads take seconds.

How the story is built, month by month (k = months back from the month of `now`):

* Marketing volume = segment quota × seasonality (summer dip, Q4 push, December holidays)
  × a little per-segment noise; months with a multiplier below 1 are the missed ones.
  MQLs arrive on a 15-minute grid weighted by local hour, weekday, US holidays and the
  Christmas week, so most arrive in business hours and a few in evenings and weekends.
* The month in progress is built for its pacing statuses, whatever the day of the month:
  the count of MQLs so far is chosen against `elapsed_fraction × quota` so that the total
  projects between `at_risk_ratio × quota` and quota (at_risk), Enterprise projects above
  its quota while staying one below it (on_track; met only in the month's last day or so),
  Mid-Market projects below 90 % of its quota (behind) and SMB takes the rest (on_track).
  On the first day of a month, before a full MQL is expected, no integer count can
  guarantee this.
* Sales response quality is set per month as an exact number of breaches, computed with the
  agreement's business calendar so that the scorecard's counts are exactly the designed ones:
  first touch misses its 90 % target when k % 3 == 2 (else ~94 %), attempts miss their 80 %
  target when k % 4 == 1 (else ~87 %). Breaches go preferably to two slow responders.
  In the month in progress, first-touch breaches use up exactly the allowed budget (at_risk
  as soon as one breach is allowed, on_track before), and attempts breaches exceed theirs
  (behind) once enough ten-day windows have closed for that to be plausible (at most 65 %
  of the closed windows breached: from about the 25th); before that they run at the
  month's base rate (on_track).

With `n_leads=N` exactly N leads are spread over the months in proportion to the same
monthly volume (the statuses then follow from N, not from the quotas).

Other choices: 8 % of the leads never become MQLs; instants are whole seconds; ids are
numeric strings as in HubSpot (owners 710001xx, leads from 10000001 in order of creation,
deals from 40000001, touches from 50000001 in time order); a lead's touches are owned by
its rep (automated e-mails by nobody). Only leads of the generated months exist, so won
revenue ramps up over the first three or four months (no pipeline from before the data).
The random stream depends on `now` too: another `now` gives another (equally shaped) history.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from smarketing.core.calendar import NAT_NS, NS_PER_HOUR, NS_PER_SECOND, from_ns, holiday_dates
from smarketing.core.frames import DEAL_STATUSES, DIRECTIONS, TOUCH_KINDS, CrmData, normalize
from smarketing.core.months import add_months, month_bounds, month_of
from smarketing.core.terms import Terms, parse_terms_toml

DEMO_TERMS_TOML = """\
# The demo company's agreement between marketing and sales.
timezone = "America/New_York"

[calendar]
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = ["09:00", "17:00"]
holidays = "US"

[marketing]
mql_quota = 420
segment_quotas = { Enterprise = 50, Mid-Market = 130, SMB = 240 }
at_risk_ratio = 0.9

[sales]
clock_starts = "mql"
first_touch_hours = { Enterprise = 2, Mid-Market = 4, SMB = 8 }
first_touch_target = 0.9
min_attempts = 5
attempt_window_days = 10
attempts_target = 0.8

[targets]
revenue_goal = 1600000
marketing_share = 0.6
lookback_months = 6
cohort_lag_months = 2
carry_forward_shortfall = false
"""

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
SOURCES = ("Organic Search", "Paid Search", "Paid Social", "Events", "Referrals", "Email Marketing", "Direct")
TEAMS = ("East", "West", "Enterprise")
PIPELINE = "default"

NS_MINUTE = 60 * NS_PER_SECOND
NS_DAY = 24 * NS_PER_HOUR

# MQL volume by calendar month, relative to the quota (summer dip, Q4 push, December).
SEASONALITY = {
    1: 1.03,
    2: 1.06,
    3: 1.11,
    4: 1.05,
    5: 1.04,
    6: 0.93,
    7: 0.85,
    8: 0.82,
    9: 1.07,
    10: 1.12,
    11: 1.08,
    12: 0.80,
}
NON_MQL_SHARE = 0.08  # leads that never become MQLs, relative to all leads

# Per segment: source mix, funnel rates, deal sizes and cycles.
_REJECTION_REASONS = ("duplicate", "student", "competitor", "no budget", "wrong country")
_REASON_MIX = (0.3, 0.25, 0.1, 0.25, 0.1)
_SOURCE_MIX = {
    #               Organic Paid  Social Events Referr Email  Direct
    "Enterprise": (0.16, 0.08, 0.04, 0.26, 0.20, 0.10, 0.16),
    "Mid-Market": (0.24, 0.18, 0.10, 0.12, 0.10, 0.14, 0.12),
    "SMB": (0.26, 0.28, 0.20, 0.02, 0.04, 0.10, 0.10),
}
_SOURCE_QUALITY = np.array([1.0, 0.9, 0.65, 1.2, 1.6, 0.85, 1.1])  # SQL propensity by source
_SQL_RATE = np.array([0.42, 0.31, 0.22])  # MQL -> SQL
_SQL_LAG_DAYS = np.array([12.0, 8.0, 4.0])  # median MQL -> SQL, days
_DEAL_RATE = np.array([0.90, 0.85, 0.80])  # SQL -> deal
_WIN_RATE = np.array([0.42, 0.36, 0.33])  # deal -> won
_AMOUNT = np.array([[65_000, 40_000, 120_000, 500], [22_000, 10_000, 45_000, 100], [6_500, 3_000, 12_000, 50]])
_CYCLE_DAYS = np.array([[75, 30, 180], [40, 14, 100], [18, 5, 45]])  # median, min, max
_STALLED_SHARE = 0.04  # deals left open past their close date
_NO_LEAD_DEALS = 0.03  # deals with no lead (sales-sourced), relative to lead deals

# Local hour of day weights for MQL arrivals (0..23), and day weights.
_HOUR_WEIGHT = np.array(
    [
        0.04,
        0.03,
        0.03,
        0.03,
        0.04,
        0.06,
        0.12,
        0.3,
        0.8,
        1.5,
        1.7,
        1.6,
        1.2,
        1.5,
        1.6,
        1.5,
        1.3,
        0.8,
        0.5,
        0.45,
        0.4,
        0.3,
        0.15,
        0.08,
    ]
)
_WEEKEND_WEIGHT = 0.14
_HOLIDAY_WEIGHT = 0.1
_XMAS_WEEK_WEIGHT = 0.45

# The sales team: (first, last, team, slow responder, availability).
# availability: None = always; ("until", k) = left k months ago (inactive);
# ("from", k) = joined k months ago.
_REPS = (
    ("Maya", "Patel", "Enterprise", False, None),
    ("Daniel", "Okafor", "Enterprise", False, None),
    ("Sofia", "Lindqvist", "Enterprise", False, None),
    ("James", "Carter", "East", False, None),
    ("Priya", "Raman", "East", False, None),
    ("Ethan", "Brooks", "East", True, None),
    ("Olivia", "Chen", "East", False, None),
    ("Marcus", "Reed", "East", False, ("until", 6)),
    ("Lucia", "Fernandez", "West", False, None),
    ("Noah", "Kim", "West", True, None),
    ("Hannah", "Weiss", "West", False, None),
    ("Diego", "Alvarez", "West", False, ("from", 4)),
)
_OWNER_ID_BASE = 71_000_100
_LEAD_ID_BASE = 10_000_001
_DEAL_ID_BASE = 40_000_001
_TOUCH_ID_BASE = 50_000_001

CALL, EMAIL, MEETING, NOTE, TASK, OTHER = (
    TOUCH_KINDS.index(k) for k in ("call", "email", "meeting", "note", "task", "other")
)
OPEN, WON, LOST = (DEAL_STATUSES.index(s) for s in ("open", "won", "lost"))


def demo_terms() -> Terms:
    """The demo agreement (`DEMO_TERMS_TOML`) as Terms."""
    return parse_terms_toml(DEMO_TERMS_TOML)[0]


def generate_demo(
    *,
    seed: int = 7,
    months: int = 18,
    now: pd.Timestamp | None = None,
    n_leads: int | None = None,
) -> CrmData:
    """Realistic CRM data for `months` local months ending in the month of `now`, nothing after `now`.

    With n_leads=None the MQL volume follows the demo quotas (~8k leads for 18 months);
    with n_leads=N exactly N leads are generated. Same seed and now give identical frames.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if n_leads is not None and n_leads < 0:
        raise ValueError("n_leads must be 0 or more")
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    return _Generator(demo_terms(), seed, months, now, n_leads).run()


# -- the generator ------------------------------------------------------------------------


class _Generator:
    def __init__(self, terms: Terms, seed: int, months: int, now: pd.Timestamp, n_leads: int | None):
        self.terms = terms
        self.cal = terms.calendar
        self.tz = terms.timezone
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 20_260_101]))
        # Acceptance draws come from their own stream, so version 1's data stays the same.
        self.acceptance_rng = np.random.default_rng(np.random.SeedSequence([seed, 20_261_201]))
        self.now = now
        self.now_ns = int(now.as_unit("ns").value)
        self.n_leads = n_leads
        current = month_of(now, self.tz)
        self.months = [add_months(current, -(months - 1 - i)) for i in range(months)]
        self.k = np.arange(months)[::-1]  # months back from the current one
        bounds = [month_bounds(m, self.tz) for m in self.months]
        self.m_start = np.array([b[0].value for b in bounds], dtype="int64")
        self.m_end = np.array([b[1].value for b in bounds], dtype="int64")
        self.elapsed = float(np.clip((self.now_ns - self.m_start[-1]) / (self.m_end[-1] - self.m_start[-1]), 0, 1))
        self.seg_quota = np.array([terms.segment_quotas[s] for s in SEGMENTS], dtype=float)
        self.ft_hours = np.array([terms.first_touch_hours_for(s) for s in SEGMENTS])
        self.window_hours = float(terms.attempt_window_hours)
        years = (int(pd.Timestamp(self.m_start[0]).year) - 1, int(now.year) + 1)
        self.holidays = (
            np.array(sorted(holiday_dates(terms.holidays, *years)), dtype="datetime64[D]")
            if terms.holidays
            else np.array([], dtype="datetime64[D]")
        )

    # -- orchestration ------------------------------------------------------------------
    def run(self) -> CrmData:
        counts = self._mql_counts()
        self._leads_base(counts)
        self._owners_for_leads()
        self._routing()
        self._designate()
        self._first_touch_times()
        self._conversion()
        self._attempt_counts()
        touches = self._touches()
        deals = self._deals()
        self._disqualification()
        non_mql = self._non_mql_leads(int(counts.sum()))
        touches += non_mql.pop("touches")
        deals_nolead = self._deals_without_lead(len(deals["amount"]))
        return self._assemble(touches, deals, deals_nolead, non_mql)

    # -- volume ---------------------------------------------------------------------------
    def _month_volume(self) -> np.ndarray:
        """Relative MQL volume [month, segment] before noise."""
        cal_month = np.array([int(m[5:]) for m in self.months])
        season = np.array([SEASONALITY[c] for c in cal_month])
        noise = self.rng.uniform(0.96, 1.04, size=(len(self.months), len(SEGMENTS)))
        return season[:, None] * noise

    def _mql_counts(self) -> np.ndarray:
        """MQL counts per [month, segment]."""
        volume = self._month_volume()
        quota = self.seg_quota
        if self.n_leads is not None:
            n_mql = self.n_leads - int(round(self.n_leads * NON_MQL_SHARE))
            weight = volume * quota
            weight[-1] *= self.elapsed
            if weight.sum() <= 0:
                weight[:] = 1.0
            return _largest_remainder(weight.ravel() / weight.sum() * n_mql).reshape(weight.shape)
        counts = np.rint(volume * quota).astype("int64")
        counts[-1] = self._current_counts()
        return counts

    def _current_counts(self) -> np.ndarray:
        """Month-to-date MQLs per segment: total at_risk, Enterprise on_track, Mid-Market behind."""
        ef = self.elapsed
        ratio = self.terms.at_risk_ratio
        expected = ef * self.seg_quota
        total_expected = expected.sum()
        low, high = math.ceil(ratio * total_expected - 1e-9), math.ceil(total_expected - 1e-9) - 1
        target = int(round((1 + ratio) / 2 * total_expected))
        total = int(np.clip(target, low, high)) if low <= high else target
        ent = math.ceil(expected[0] * 1.08 - 1e-9)
        if ent >= self.seg_quota[0]:  # stay below quota (on_track, not yet met)
            ent = max(math.ceil(expected[0] - 1e-9), int(self.seg_quota[0]) - 1)
        mid = math.floor(expected[1] * 0.8)
        smb = max(total - ent - mid, 0)
        return np.array([ent, mid, smb], dtype="int64")

    def _leads_base(self, counts: np.ndarray) -> None:
        """One row per MQL: month, segment, mql instant, source."""
        rng = self.rng
        n_months = len(self.months)
        flat = counts.ravel()
        self.month = np.repeat(np.repeat(np.arange(n_months), len(SEGMENTS)), flat)
        self.seg = np.repeat(np.tile(np.arange(len(SEGMENTS)), n_months), flat)
        self.n = n = len(self.month)
        mql = np.empty(n, dtype="int64")
        for m in range(n_months):
            rows = np.flatnonzero(self.month == m)
            stop = min(int(self.m_end[m]), self.now_ns + 1)
            mql[rows] = self._arrivals(int(self.m_start[m]), stop, len(rows))
        self.mql = mql
        self.source = _pick_rows(rng, np.array([_SOURCE_MIX[s] for s in SEGMENTS]), self.seg)
        # created_at: a third are created as they qualify (demo request), the rest earlier.
        lag = np.where(
            rng.random(n) < 0.33,
            rng.uniform(5, 600, n) * NS_PER_SECOND,
            np.minimum(rng.lognormal(np.log(12), 1.1, n), 400) * NS_DAY,
        ).astype("int64")
        self.created = mql - _floor_seconds(lag)

    def _arrivals(self, start_ns: int, stop_ns: int, n: int) -> np.ndarray:
        """n instants in [start, stop) following local hour / weekday / holiday weights."""
        if n == 0 or stop_ns <= start_ns:
            return np.full(n, start_ns, dtype="int64")[:n]
        slot = 15 * NS_MINUTE
        edges = np.arange(start_ns, stop_ns, slot, dtype="int64")
        lengths = np.minimum(edges + slot, stop_ns) - edges
        local = pd.DatetimeIndex(edges.view("M8[ns]")).tz_localize("UTC").tz_convert(self.tz)
        day = local.tz_localize(None).values.astype("datetime64[D]")
        weight = _HOUR_WEIGHT[local.hour] * (lengths / slot)
        weight = weight * np.where(local.day_of_week >= 5, _WEEKEND_WEIGHT, 1.0)
        weight = weight * np.where(np.isin(day, self.holidays), _HOLIDAY_WEIGHT, 1.0)
        xmas = (local.month == 12) & (local.day >= 24) | (local.month == 1) & (local.day == 1)
        weight = weight * np.where(xmas, _XMAS_WEEK_WEIGHT, 1.0)
        cum = np.cumsum(weight)
        idx = np.searchsorted(cum, self.rng.random(n) * cum[-1], side="right")
        idx = np.minimum(idx, len(edges) - 1)
        return _floor_seconds(edges[idx] + (self.rng.random(n) * lengths[idx]).astype("int64"))

    # -- owners and routing ---------------------------------------------------------------
    def _availability(self) -> np.ndarray:
        """[month, rep] True where the rep takes leads that month."""
        avail = np.ones((len(self.months), len(_REPS)), dtype=bool)
        for r, rep in enumerate(_REPS):
            if rep[4] is None:
                continue
            kind, k0 = rep[4]
            avail[:, r] = self.k >= k0 if kind == "until" else self.k <= k0
        return avail

    def _owners_for_leads(self) -> None:
        avail = self._availability()
        team = np.array([TEAMS.index(r[2]) for r in _REPS])
        owner = np.empty(self.n, dtype="int64")
        enterprise = self.seg == 0
        for is_ent in (True, False):
            rows = np.flatnonzero(enterprise == is_ent)
            in_group = (team == 2) if is_ent else (team != 2)
            probs = (avail & in_group[None, :]).astype(float)
            probs /= probs.sum(axis=1, keepdims=True)
            owner[rows] = _pick_rows(self.rng, probs, self.month[rows])
        self.owner = owner
        self.slow = np.array([r[3] for r in _REPS])[owner]

    def _routing(self) -> None:
        """assigned_at: before the MQL, instantly by workflow, or by hand some time later."""
        rng, n = self.rng, self.n
        u = rng.random(n)
        before = u < 0.12
        instant = (u >= 0.12) & (u < 0.60)
        manual = u >= 0.60
        gap = np.maximum(self.mql - self.created, 0)
        assigned = np.where(before, self.created + (rng.random(n) * gap).astype("int64"), 0)
        assigned = np.where(instant, self.mql + rng.uniform(5, 180, n).astype("int64") * NS_PER_SECOND, assigned)
        # Manual routing: business hours after the MQL (met leads get it well inside their SLA).
        self.route_hours = np.minimum(rng.lognormal(np.log(0.3), 0.9, n), 6.0)
        self.manual = manual
        self.assigned = assigned
        self.assign_before = before

    def _finish_routing(self, hours_cap: np.ndarray) -> None:
        """Place manual assignments once the first-touch design is known."""
        rh = np.where(self.manual, np.minimum(self.route_hours, hours_cap), 0.0)
        manual_at = self.cal.deadline_ns(self._ts(self.mql), rh)
        self.assigned = np.where(self.manual, manual_at, self.assigned)
        clock = np.maximum(self.assigned, self.mql)
        self.route_business = np.where(
            self.assigned > self.mql, self.cal.business_hours(self._ts(self.mql), self._ts(clock)), 0.0
        )

    # -- SLA design -----------------------------------------------------------------------
    def _designate(self) -> None:
        """Which leads breach first touch (late or never touched) and attempts, per month exactly."""
        rng, n = self.rng, self.n
        m_count = np.bincount(self.month, minlength=len(self.months))
        ft_target = self.terms.first_touch_target
        at_target = self.terms.attempts_target
        k = self.k
        ft_rate = np.where(k % 3 == 2, rng.uniform(0.81, 0.86, len(k)), rng.uniform(0.925, 0.96, len(k)))
        at_rate = np.where(k % 4 == 1, rng.uniform(0.66, 0.74, len(k)), rng.uniform(0.84, 0.90, len(k)))

        self.H = self.ft_hours[self.seg]
        mql_ts = self._ts(self.mql)
        self.ft_deadline = self.cal.deadline_ns(mql_ts, self.H)
        self.window_end = self.cal.deadline_ns(mql_ts, self.window_hours)
        current = self.month == len(self.months) - 1
        ft_elig = ~current | (self.ft_deadline < self.now_ns)
        at_elig = ~current | (self.window_end < self.now_ns)

        ft_breaches = np.rint((1 - ft_rate) * m_count).astype("int64")
        n_cur = m_count[-1]
        allowed_ft = math.floor((1 - ft_target) * n_cur + 1e-9)
        ft_breaches[-1] = allowed_ft  # at_risk: budget used up
        ft_w = np.where(self.slow, 10.0, 1.0)
        self.ft_breach = _select_exact(rng, self.month, ft_elig, ft_breaches, ft_w)
        self.never = self.ft_breach & (rng.random(n) < np.where(self.slow, 0.2, 0.35))

        at_breaches = np.rint((1 - at_rate) * m_count).astype("int64")
        allowed_at = math.floor((1 - at_target) * n_cur + 1e-9)
        eligible_now = int(at_elig[current].sum())
        behind = allowed_at + 1 + int(0.02 * n_cur)
        at_breaches[-1] = behind if behind <= 0.65 * eligible_now else round((1 - at_rate[-1]) * eligible_now)
        at_w = np.where(self.slow, 4.0, 1.0) * np.where(self.ft_breach, 2.0, 1.0)
        at_w = np.where(self.never, np.inf, at_w)  # never touched: always
        forced = np.bincount(self.month[self.never & at_elig], minlength=len(self.months))
        self.at_breach = _select_exact(rng, self.month, at_elig, np.maximum(at_breaches, forced), at_w)
        self.at_breach |= self.never

    def _first_touch_times(self) -> None:
        """First qualifying touch: in time for met leads, late for breaches, none for never-touched."""
        rng, n, H = self.rng, self.n, self.H
        late = self.ft_breach & ~self.never
        # Routing: met leads are routed within 40 % of their SLA; some late ones were stuck in routing.
        stuck = late & (rng.random(n) < 0.2)
        cap = np.where(self.ft_breach, np.inf, 0.4 * H)
        self.route_hours = np.where(stuck, rng.uniform(0.8, 2.5, n) * H, self.route_hours)
        self.manual = self.manual | stuck
        self._finish_routing(cap)

        r_a = self.route_business
        u = np.where(self.slow, rng.beta(3.0, 1.3, n), rng.beta(1.3, 2.5, n))
        r_met = r_a + u * (H - r_a) * 0.97
        f = np.where(self.slow, 2.0 + rng.lognormal(np.log(3.0), 0.6, n), 1.15 + rng.lognormal(np.log(0.8), 0.8, n))
        r_late = np.minimum(np.maximum(f * H, r_a + rng.uniform(0.2, 2.0, n)), 0.75 * self.window_hours)
        r_late = np.maximum(r_late, 1.1 * H)
        r0 = np.where(late, r_late, r_met)
        first = self.cal.deadline_ns(self._ts(self.mql), r0)
        # A share of met leads get an immediate reply (also evenings), minutes after routing.
        clock = np.maximum(self.mql, self.assigned)
        eager = (
            ~self.ft_breach & (clock - self.mql <= 5 * NS_MINUTE) & (rng.random(n) < np.where(self.slow, 0.02, 0.12))
        )
        eager_at = clock + (np.minimum(rng.exponential(20, n), 75) * NS_MINUTE).astype("int64")
        first = np.where(eager, eager_at, first)
        r0 = np.where(eager, self.cal.business_hours(self._ts(self.mql), self._ts(first)), r0)
        self.first = np.where(self.never, NAT_NS, first)
        self.r0 = np.where(self.never, np.nan, r0)

    def _conversion(self) -> None:
        """Planned sql_at (before truncation at now)."""
        rng, n = self.rng, self.n
        p = _SQL_RATE[self.seg] * _SOURCE_QUALITY[self.source]
        p = p * np.where(self.at_breach, 0.55, 1.0) * np.where(self.never, 0.25, 1.0)
        sql = rng.random(n) < np.minimum(p, 0.95)
        lag = (rng.lognormal(np.log(_SQL_LAG_DAYS[self.seg]), 0.7) * NS_DAY).astype("int64")
        sql_at = self.mql + lag
        touched = ~self.never
        after_first = self.first + (rng.uniform(0.5, 30, n) * NS_PER_HOUR).astype("int64")
        sql_at = np.where(touched, np.maximum(sql_at, after_first), sql_at)
        after_window = self.window_end + (rng.uniform(0.2, 15, n) * NS_DAY).astype("int64")
        sql_at = np.where(self.at_breach, np.maximum(sql_at, after_window), sql_at)
        self.sql = np.where(sql, sql_at, NAT_NS)

    def _attempt_counts(self) -> None:
        """Qualifying touches inside the attempt window (incl. the first) and after it."""
        rng, n = self.rng, self.n
        met = ~self.at_breach
        extra = _pick_rows(rng, np.where(self.slow[:, None], [[0.85, 0.12, 0.03]], [[0.5, 0.32, 0.18]]), np.arange(n))
        k_met = self.terms.min_attempts + extra
        k_short = 1 + _pick_rows(rng, np.array([[0.28, 0.3, 0.25, 0.17]]), np.zeros(n, dtype="int64"))
        k_short = np.minimum(k_short, self.terms.min_attempts - 1)
        converted_early = met & (self.sql != NAT_NS) & (self.sql <= self.window_end) & (rng.random(n) < 0.5)
        k_in = np.where(met, np.where(converted_early, k_short, k_met), k_short)
        self.k_in = np.where(self.never, 0, k_in)
        self.k_after = np.where(self.never, 0, rng.poisson(np.where(met, 0.3, 0.5)))

    # -- touches ----------------------------------------------------------------------------
    def _touches(self) -> list[dict]:
        """Every touch on an MQL: qualifying attempts plus automated, inbound, notes, tasks."""
        rng = self.rng
        parts = []
        touched = np.flatnonzero(~self.never)
        # First touches.
        kind = _pick_rows(
            rng, np.array([[0.5, 0.44, 0.06], [0.52, 0.46, 0.02]]), (self.seg[touched] != 0).astype("int64")
        )
        parts.append(self._part(touched, self.first[touched], kind, self.owner[touched]))
        # Follow-ups inside the window: front-loaded spread between the first touch and the window end.
        lead = np.repeat(np.arange(self.n), np.maximum(self.k_in - 1, 0))
        if len(lead):
            frac = _spread(rng, np.maximum(self.k_in - 1, 0)) ** 1.25
            r = self.r0[lead] + (0.98 * self.window_hours - self.r0[lead]) * frac
            r = np.maximum(r, self.r0[lead] + 0.05)
            at = self._evening_shift(self.cal.deadline_ns(self._ts(self.mql[lead]), r), cap=self.window_end[lead])
            kind = _pick_rows(
                rng, np.array([[0.42, 0.44, 0.14], [0.46, 0.46, 0.08]]), (self.seg[lead] != 0).astype("int64")
            )
            parts.append(self._part(lead, at, kind, self.owner[lead]))
        # Follow-ups after the window.
        lead = np.repeat(np.arange(self.n), self.k_after)
        if len(lead):
            r = self.window_hours + 0.2 + rng.uniform(0, 60, len(lead))
            at = self._evening_shift(self.cal.deadline_ns(self._ts(self.mql[lead]), r), cap=None)
            kind = _pick_rows(rng, np.array([[0.45, 0.45, 0.10]]), np.zeros(len(lead), dtype="int64"))
            parts.append(self._part(lead, at, kind, self.owner[lead]))
        # Automated marketing emails: nurture before the MQL and sequences after it.
        lead = np.repeat(np.arange(self.n), rng.poisson(0.7, self.n))
        if len(lead):
            pre = (rng.random(len(lead)) < 0.5) & (self.mql[lead] - self.created[lead] > NS_PER_HOUR)
            span = np.maximum(self.mql[lead] - self.created[lead] - NS_PER_HOUR, 0)
            at = np.where(
                pre,
                self.created[lead] + (rng.random(len(lead)) * span).astype("int64"),
                self.mql[lead] + (rng.uniform(0.5, 20 * 24, len(lead)) * NS_PER_HOUR).astype("int64"),
            )
            parts.append(self._part(lead, at, np.full(len(lead), EMAIL), np.full(len(lead), -1), automated=True))
        # Inbound replies and calls from the lead after the first touch.
        lead = np.repeat(touched, rng.poisson(0.22, len(touched)))
        if len(lead):
            at = self.first[lead] + (rng.lognormal(np.log(20), 1.0, len(lead)) * NS_PER_HOUR).astype("int64")
            kind = np.where(rng.random(len(lead)) < 0.7, EMAIL, CALL)
            parts.append(self._part(lead, at, kind, self.owner[lead], inbound=True))
        # Notes and tasks logged by the rep around the attempts.
        lead = np.repeat(touched, rng.poisson(0.3, len(touched)))
        if len(lead):
            span = self.window_end[lead] - self.first[lead]
            offset = (rng.random(len(lead)) ** 2 * span).astype("int64")
            at = self.first[lead] + offset + (rng.uniform(1, 30, len(lead)) * NS_MINUTE).astype("int64")
            kind = np.where(rng.random(len(lead)) < 0.6, NOTE, np.where(rng.random(len(lead)) < 0.95, TASK, OTHER))
            parts.append(self._part(lead, at, kind, self.owner[lead]))
        # Prospecting before the MQL by an already assigned rep (does not count: before the clock).
        lead = np.flatnonzero(
            self.assign_before & (self.mql - self.assigned > 2 * NS_PER_HOUR) & (rng.random(self.n) < 0.3)
        )
        if len(lead):
            span = self.mql[lead] - self.assigned[lead] - NS_PER_HOUR
            at = self.assigned[lead] + (rng.random(len(lead)) * span).astype("int64")
            kind = np.where(rng.random(len(lead)) < 0.5, CALL, EMAIL)
            parts.append(self._part(lead, at, kind, self.owner[lead]))
        return parts

    def _evening_shift(self, at: np.ndarray, cap: np.ndarray | None) -> np.ndarray:
        """Move ~7 % of touches 1-4 wall-clock hours later (evening e-mails), unless that passes `cap`."""
        moved = self.rng.random(len(at)) < 0.07
        shift = np.where(moved, self.rng.uniform(1, 4, len(at)) * NS_PER_HOUR, 0).astype("int64")
        out = at + shift
        return out if cap is None else np.where(out < cap, out, at)

    @staticmethod
    def _part(lead, at, kind, owner, *, automated=False, inbound=False) -> dict:
        n = len(lead)
        return {
            "lead": np.asarray(lead, dtype="int64"),
            "at": np.asarray(at, dtype="int64"),
            "kind": np.asarray(kind, dtype="int64"),
            "owner": np.asarray(owner, dtype="int64"),
            "automated": np.full(n, automated),
            "inbound": np.full(n, inbound),
        }

    # -- deals ------------------------------------------------------------------------------
    def _deals(self) -> dict:
        """Deals for SQL leads: created after the SQL, won / lost / open with amount and close date."""
        rng = self.rng
        has_sql = self.sql != NAT_NS
        lead = np.flatnonzero(has_sql & (rng.random(self.n) < _DEAL_RATE[self.seg]))
        seg = self.seg[lead]
        created = self.sql[lead] + (np.minimum(rng.lognormal(np.log(1.5), 0.8, len(lead)), 20) * NS_DAY).astype("int64")
        won = rng.random(len(lead)) < _WIN_RATE[seg] * np.sqrt(_SOURCE_QUALITY[self.source[lead]])
        deal = self._deal_values(seg, created, won)
        # Customers: leads whose deal was won (as of now).
        cust = np.full(self.n, NAT_NS, dtype="int64")
        won_now = (deal["status"] == WON) & (deal["closed"] != NAT_NS) & (deal["closed"] <= self.now_ns)
        cust[lead[won_now]] = deal["closed"][won_now]
        self.customer = cust
        deal["lead"] = lead
        deal["owner"] = self.owner[lead]
        return deal

    def _deal_values(self, seg: np.ndarray, created: np.ndarray, won: np.ndarray) -> dict:
        rng, n = self.rng, len(seg)
        median, low, high, step = (_AMOUNT[seg, i] for i in range(4))
        amount = np.clip(median * rng.lognormal(0, 0.35, n), low, high)
        amount = np.round(amount / step) * step
        c_med, c_low, c_high = (_CYCLE_DAYS[seg, i] for i in range(3))
        cycle = np.clip(c_med * rng.lognormal(0, 0.45, n) * np.where(won, 1.0, 0.8), c_low, c_high)
        closed = created + (cycle * NS_DAY).astype("int64")
        stalled = rng.random(n) < _STALLED_SHARE
        status = np.where(won, WON, LOST)
        is_open = stalled | (closed > self.now_ns)
        status = np.where(is_open, OPEN, status)
        closed = np.where(is_open, NAT_NS, closed)
        return {"amount": amount, "created": created, "closed": closed, "status": status}

    def _deals_without_lead(self, n_lead_deals: int) -> dict:
        """A few sales-sourced deals that have no lead."""
        rng = self.rng
        n = int(round(n_lead_deals * _NO_LEAD_DEALS))
        start = int(self.m_start[0])
        created = start + (rng.random(n) * (self.now_ns - start)).astype("int64")
        seg = _pick_rows(rng, np.array([[0.3, 0.45, 0.25]]), np.zeros(n, dtype="int64"))
        deal = self._deal_values(seg, created, rng.random(n) < 0.45)
        month = np.clip(np.searchsorted(self.m_start, created, side="right") - 1, 0, len(self.months) - 1)
        avail = self._availability()
        deal["owner"] = _pick_rows(rng, avail / avail.sum(axis=1, keepdims=True), month)
        deal["lead"] = np.full(n, -1, dtype="int64")
        return deal

    def _disqualification(self) -> None:
        """About half of the MQLs that never reach SQL are disqualified after a while."""
        rng, n = self.rng, self.n
        dq = (self.sql == NAT_NS) & (rng.random(n) < 0.5)
        base = np.where(self.first != NAT_NS, self.first, self.mql)
        at = base + (np.minimum(rng.lognormal(np.log(10), 0.8, n), 90) * NS_DAY).astype("int64")
        self.disq = np.where(dq, at, NAT_NS)

    # -- leads that never qualified ---------------------------------------------------------
    def _non_mql_leads(self, n_mql: int) -> dict:
        rng = self.rng
        if self.n_leads is not None:
            n = self.n_leads - n_mql
        else:
            n = int(round(n_mql * NON_MQL_SHARE / (1 - NON_MQL_SHARE)))
        start = int(self.m_start[0])
        created = start + (rng.random(n) * (self.now_ns - start)).astype("int64")
        seg = _pick_rows(rng, np.array([[0.08, 0.3, 0.62]]), np.zeros(n, dtype="int64"))
        source = _pick_rows(rng, np.array([_SOURCE_MIX[s] for s in SEGMENTS]), seg)
        owner = np.full(n, -1, dtype="int64")
        has_owner = rng.random(n) < 0.25
        month = np.clip(np.searchsorted(self.m_start, created, side="right") - 1, 0, len(self.months) - 1)
        avail = self._availability()
        owner = np.where(has_owner, _pick_rows(rng, avail / avail.sum(axis=1, keepdims=True), month), owner)
        lead = np.repeat(np.arange(n), rng.poisson(1.5, n))
        at = created[lead] + (rng.uniform(0.1, 60, len(lead)) * NS_DAY).astype("int64")
        touches = [self._part(lead + self.n, at, np.full(len(lead), EMAIL), np.full(len(lead), -1), automated=True)]
        return {"n": n, "created": created, "seg": seg, "source": source, "owner": owner, "touches": touches}

    def _acceptance(self, mql: np.ndarray, cut: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sales' accept/reject decision per lead: about 7 % of MQLs rejected with a reason a few
        hours after the MQL, most others accepted within hours (wall clock), some never decided."""
        rng, n = self.acceptance_rng, len(mql)
        is_mql = mql != NAT_NS
        draw = rng.random(n)
        after = (rng.exponential(3.0, n) * NS_PER_HOUR).astype("int64") + 10 * NS_MINUTE
        rejected = cut(np.where(is_mql & (draw < 0.07), mql + after, NAT_NS))
        accepted = cut(np.where(is_mql & (draw >= 0.07) & (draw < 0.9), mql + after, NAT_NS))
        reasons = np.array(_REJECTION_REASONS, dtype=object)[rng.choice(len(_REJECTION_REASONS), n, p=_REASON_MIX)]
        return accepted, rejected, np.where(rejected != NAT_NS, reasons, None)

    # -- assembly ---------------------------------------------------------------------------
    def _assemble(self, touch_parts: list[dict], deals: dict, deals_nolead: dict, non_mql: dict) -> CrmData:
        now = self.now_ns
        n_all = self.n + non_mql["n"]

        def cut(values: np.ndarray) -> np.ndarray:
            """Instants by now, to the whole second (flooring keeps every designed inequality)."""
            return _floor_seconds(np.where((values != NAT_NS) & (values <= now), values, NAT_NS))

        # Touches (only those that happened by now).
        t = {
            key: np.concatenate([p[key] for p in touch_parts]) if touch_parts else np.array([], dtype="int64")
            for key in ("lead", "at", "kind", "owner", "automated", "inbound")
        }
        keep = t["at"] <= now
        t = {key: v[keep] for key, v in t.items()}
        t["at"] = cut(t["at"])
        order = np.argsort(t["at"], kind="stable")
        t = {key: v[order] for key, v in t.items()}

        # Leads (MQLs first, then the others), ids in order of creation.
        created = cut(np.concatenate([self.created, non_mql["created"]]))
        mql = np.concatenate([self.mql, np.full(non_mql["n"], NAT_NS)])
        assigned = cut(np.concatenate([self.assigned, np.where(non_mql["owner"] >= 0, non_mql["created"], NAT_NS)]))
        owner = np.concatenate([np.where(self.assigned <= now, self.owner, -1), non_mql["owner"]])
        sql = np.concatenate([cut(self.sql), np.full(non_mql["n"], NAT_NS)])
        customer = np.concatenate([cut(self.customer), np.full(non_mql["n"], NAT_NS)])
        disq = np.concatenate([cut(self.disq), np.full(non_mql["n"], NAT_NS)])
        seg = np.concatenate([self.seg, non_mql["seg"]])
        source = np.concatenate([self.source, non_mql["source"]])

        # Deals (created by now).
        d = {
            key: np.concatenate([deals[key], deals_nolead[key]])
            for key in ("lead", "owner", "amount", "created", "closed", "status")
        }
        keep = d["created"] <= now
        d = {key: v[keep] for key, v in d.items()}
        d["created"], d["closed"] = cut(d["created"]), cut(d["closed"])
        d["status"] = np.where(d["closed"] == NAT_NS, OPEN, d["status"])
        order = np.lexsort((d["amount"], d["created"]))
        d = {key: v[order] for key, v in d.items()}

        # updated_at: the latest activity on the lead, by now.
        latest = np.maximum.reduce([created, mql, assigned, sql, customer, disq])
        if len(t["lead"]):
            np.maximum.at(latest, t["lead"], t["at"])
        with_lead = d["lead"] >= 0
        if with_lead.any():
            np.maximum.at(latest, d["lead"][with_lead], np.maximum(d["created"], d["closed"])[with_lead])
        updated = cut(np.minimum(latest + (self.rng.uniform(0, 30, n_all) * NS_MINUTE).astype("int64"), now))

        accepted, rejected, reason = self._acceptance(mql, cut)

        lead_order = np.argsort(created, kind="stable")
        lead_rank = np.empty(n_all, dtype="int64")
        lead_rank[lead_order] = np.arange(n_all)
        lead_ids = _id_strings(_LEAD_ID_BASE, n_all)  # by rank
        owner_ids = pa.array([str(_OWNER_ID_BASE + i) for i in range(len(_REPS))])

        o = lead_order
        leads = pd.DataFrame(
            {
                "lead_id": _text(lead_ids),
                "created_at": from_ns(created[o]),
                "mql_at": from_ns(mql[o]),
                "assigned_at": from_ns(assigned[o]),
                "sql_at": from_ns(sql[o]),
                "customer_at": from_ns(customer[o]),
                "disqualified_at": from_ns(disq[o]),
                "segment": _text(_take(pa.array(SEGMENTS), seg[o])),
                "source": _text(_take(pa.array(SOURCES), source[o])),
                "owner_id": _text(_take(owner_ids, owner[o])),
                "updated_at": from_ns(updated[o]),
                "accepted_at": from_ns(accepted[o]),
                "rejected_at": from_ns(rejected[o]),
                "rejection_reason": _text(pa.array(reason[o], type=pa.string())),
            }
        )
        touches = pd.DataFrame(
            {
                "touch_id": _text(_id_strings(_TOUCH_ID_BASE, len(t["lead"]))),
                "lead_id": _text(_take(lead_ids, lead_rank[t["lead"]])),
                "owner_id": _text(_take(owner_ids, t["owner"])),
                "kind": _text(_take(pa.array(TOUCH_KINDS), t["kind"])),
                "occurred_at": from_ns(t["at"]),
                "automated": t["automated"].astype(bool),
                "direction": _text(_take(pa.array(DIRECTIONS), t["inbound"].astype("int64"))),
            }
        )
        deal_leads = np.where(d["lead"] >= 0, lead_rank[np.maximum(d["lead"], 0)], -1)
        deals_frame = pd.DataFrame(
            {
                "deal_id": _text(_id_strings(_DEAL_ID_BASE, len(d["lead"]))),
                "lead_id": _text(_take(lead_ids, deal_leads)),
                "owner_id": _text(_take(owner_ids, d["owner"])),
                "amount": d["amount"].astype("float64"),
                "created_at": from_ns(d["created"]),
                "closed_at": from_ns(d["closed"]),
                "status": _text(_take(pa.array(DEAL_STATUSES), d["status"])),
                "pipeline": _text(pa.array(np.full(len(d["lead"]), PIPELINE, dtype=object), type=pa.string())),
            }
        )
        owners = pd.DataFrame(
            {
                "owner_id": owner_ids.to_pylist(),
                "name": [f"{r[0]} {r[1]}" for r in _REPS],
                "email": [f"{r[0].lower()}.{r[1].lower()}@example.com" for r in _REPS],
                "team": [r[2] for r in _REPS],
                "active": [not (r[4] and r[4][0] == "until") for r in _REPS],
            }
        )
        # The big frames are built in canonical dtypes directly (normalize() is slow on
        # millions of rows and would change nothing; the tests check that).
        return CrmData(owners=normalize("owners", owners), leads=leads, touches=touches, deals=deals_frame)

    @staticmethod
    def _ts(ns: np.ndarray) -> np.ndarray:
        """int64 ns as datetime64[ns] (what the calendar functions accept)."""
        return np.asarray(ns, dtype="int64").view("M8[ns]")


# -- vectorized helpers ---------------------------------------------------------------------


def _largest_remainder(values: np.ndarray) -> np.ndarray:
    """Round non-negative values to integers keeping their (rounded) total."""
    floor = np.floor(values).astype("int64")
    short = int(round(values.sum())) - int(floor.sum())
    if short > 0:
        floor[np.argsort(-(values - floor), kind="stable")[:short]] += 1
    return floor


def _pick_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each i, a category drawn from the distribution probs[rows[i]]."""
    probs = np.asarray(probs, dtype=float)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(rows))
    c = cum[rows]
    return np.minimum((u[:, None] >= c).sum(axis=1), probs.shape[1] - 1).astype("int64")


def _select_exact(rng, group, eligible, counts, weights) -> np.ndarray:
    """In each group g pick min(counts[g], eligible rows in g) eligible rows, favouring heavy weights."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        key = rng.exponential(size=n) / weights
        key = key / (1.0 + key)  # same order, in [0, 1)
    key = np.where(np.isinf(weights), -0.5, key)  # infinite weight: picked first
    key = np.where(eligible, key, 2.0)  # never picked
    order = np.argsort(group * 4.0 + key, kind="stable")
    g = group[order]
    rank = np.arange(n) - np.searchsorted(g, g, side="left")
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = (rank < counts[g]) & eligible[order]
    return chosen


def _spread(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """For groups of the given sizes, sorted fractions in (0, 1) per group (uniform spacings)."""
    c1 = counts + 1
    e = rng.exponential(size=int(c1.sum()))
    cs = np.cumsum(e)
    ends = np.cumsum(c1) - 1
    before = np.concatenate([[0.0], cs[ends[:-1]]])
    within = cs - np.repeat(before, c1)
    total = np.repeat(within[ends], c1)
    keep = np.ones(len(e), dtype=bool)
    keep[ends] = False
    return (within / total)[keep]


def _floor_seconds(ns: np.ndarray) -> np.ndarray:
    """int64 ns instants floored to the whole second (NAT_NS kept)."""
    ns = np.asarray(ns, dtype="int64")
    return np.where(ns != NAT_NS, ns - ns % NS_PER_SECOND, NAT_NS)


def _id_strings(base: int, n: int) -> pa.Array:
    """n numeric id strings from base (like HubSpot's ids)."""
    return pa.array(np.arange(base, base + n, dtype="int64")).cast(pa.string())


def _take(values: pa.Array, index: np.ndarray) -> pa.Array:
    """values[index] as an arrow array, null where index < 0."""
    index = np.asarray(index, dtype="int64")
    return values.take(pa.array(index, mask=index < 0))


def _text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as the canonical pandas "string" array."""
    return pd.array(values, dtype="string")


__all__ = ["DEMO_TERMS_TOML", "SEGMENTS", "SOURCES", "demo_terms", "generate_demo"]
