"""Sales side (DESIGN section 5): the per-lead follow-up ledger and its summaries.

Everything is a pure function of frames, terms and an `as_of` instant. Comparisons
against deadlines are made on int64 nanoseconds so that a touch exactly at the deadline
is met, with no floating-point doubt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from smarketing.core.acceptance import lead_acceptance
from smarketing.core.calendar import DEFAULT_CALENDAR_NAME, NAT_NS, NS_PER_HOUR, CalendarMix, from_ns, to_ns
from smarketing.core.exclusions import excluded_mask, exclusion_reasons
from smarketing.core.frames import QUALIFYING_KINDS, CrmData
from smarketing.core.months import local_month, month_bounds, month_codes
from smarketing.core.terms import Terms

MET, BREACHED, PENDING, EXCLUDED = "met", "breached", "pending", "excluded"
# The commitments a lead can leave, in the order `excluded_from` lists them.
EXCLUDABLE = ("mql_quota", "first_touch", "attempts", "acceptance")
_NEVER = np.iinfo(np.int64).max
# Tolerance when flooring (1 - r) × n: 10% of 10 leads is 1 breach, not 0.999… → 0.
_FLOOR_TOLERANCE = 1e-9


def lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """values[key] for each key (missing where absent), positionally aligned with `keys`."""
    return pd.Series(values.reindex(keys.to_numpy()).array, index=keys.index)


def mqls_as_of(leads: pd.DataFrame, as_of: pd.Timestamp, month: str | None, tz: str) -> pd.DataFrame:
    """Leads that became MQLs by as_of (and, when a month is given, within that local month)."""
    return leads.loc[mql_mask(leads, as_of, month, tz)]


def mql_mask(leads: pd.DataFrame, as_of: pd.Timestamp, month: str | None, tz: str) -> np.ndarray:
    """Which leads mqls_as_of keeps."""
    keep = leads["mql_at"].notna() & (leads["mql_at"] <= as_of)
    if month is not None:
        start, end = month_bounds(month, tz)
        keep &= (leads["mql_at"] >= start) & (leads["mql_at"] < end)
    return keep.to_numpy(dtype=bool)


def mqls_by_month(leads: pd.DataFrame, as_of: pd.Timestamp, months: list[str], tz: str) -> dict[str, pd.DataFrame]:
    """mqls_as_of of each month, in one pass: every month's rows in their order in `leads`."""
    months = list(dict.fromkeys(months))
    code = month_codes(leads["mql_at"], months, tz)
    code[~(leads["mql_at"].notna() & (leads["mql_at"] <= as_of)).to_numpy(dtype=bool)] = -1
    rows = np.flatnonzero(code >= 0)
    ordered = rows[np.argsort(code[rows], kind="stable")]
    ends = np.cumsum(np.bincount(code[rows], minlength=len(months)))
    return {m: _rows_of(leads, ordered[end - n : end]) for m, end, n in zip(months, ends, np.diff(ends, prepend=0))}


def _rows_of(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """frame.take(rows) for increasing rows; a slice, not a copy, when they are consecutive (a frame in
    time order, as stored: a million-lead ledger split by month is not copied whole)."""
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1:
        return frame.iloc[rows[0] : rows[-1] + 1]
    return frame.take(rows)


def is_follow_up(touches: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Touches of a kind that counts (call/email/meeting), by a person, not inbound, by as_of."""
    return (
        (touches["occurred_at"] <= as_of)
        & ~touches["automated"]
        & touches["kind"].isin(QUALIFYING_KINDS)
        & (touches["direction"] != "inbound")
    ).to_numpy(dtype=bool)


def qualifying_touches(touches: pd.DataFrame, mql_at: pd.Series, as_of: pd.Timestamp) -> pd.DataFrame:
    """Touches that count as follow-up: is_follow_up and not before the lead's MQL.
    `mql_at` is indexed by lead_id."""
    t = touches.loc[is_follow_up(touches, as_of), ["lead_id", "occurred_at"]]
    lead_mql = lookup(mql_at, t["lead_id"])
    return t.loc[(lead_mql.notna() & (t["occurred_at"] >= lead_mql)).to_numpy(dtype=bool)]


def touch_positions(data: CrmData, rows: np.ndarray, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """(position in `rows`, occurred_at ns) of every qualifying touch of the leads at `rows` of data.leads.

    Ids are matched once per load (CrmData.touch_lead_rows); everything after works on integer positions."""
    follow_up = is_follow_up(data.touches, as_of)
    ledger_row = np.full(len(data.leads) + 1, -1, dtype=np.intp)  # lead row -1 (unknown lead) → -1
    ledger_row[rows] = np.arange(len(rows))
    pos = ledger_row[data.touch_lead_rows()[follow_up]]
    occurred = to_ns(data.touches["occurred_at"])[follow_up]
    known = pos >= 0
    pos, occurred = pos[known], occurred[known]
    after_mql = occurred >= to_ns(data.leads["mql_at"])[rows][pos]
    return pos[after_mql], occurred[after_mql]


def clock_start(leads: pd.DataFrame, terms: Terms, as_of: pd.Timestamp) -> np.ndarray:
    """When each lead's follow-up clock starts (int64 ns): the MQL, or the later of MQL and
    assignment with clock_starts = "assignment". An assignment after as_of is not yet known."""
    mql = to_ns(leads["mql_at"])
    if terms.clock_starts != "assignment":
        return mql
    assigned = to_ns(leads["assigned_at"])
    known = (assigned != NAT_NS) & (assigned <= as_of.value)
    return np.where(known, np.maximum(mql, assigned), mql)


def lead_calendars(leads: pd.DataFrame, owners: pd.DataFrame, terms: Terms) -> np.ndarray:
    """The calendar name each lead's clock runs on: calendar_by_segment[segment], else
    calendar_by_team[team of the lead's owner], else `default` ([calendar])."""
    names = np.full(len(leads), DEFAULT_CALENDAR_NAME, dtype=object)
    if terms.calendar_by_team and len(owners):
        teams = owners.drop_duplicates("owner_id").set_index("owner_id")["team"]
        by_team = lookup(teams, leads["owner_id"]).map(terms.calendar_by_team).to_numpy(dtype=object)
        names = np.where(pd.notna(by_team), by_team, names)
    if terms.calendar_by_segment:
        by_segment = leads["segment"].map(terms.calendar_by_segment).to_numpy(dtype=object)
        names = np.where(pd.notna(by_segment), by_segment, names)
    return names


def lead_ledger(data: CrmData, terms: Terms, as_of: pd.Timestamp, month: str | None = None) -> pd.DataFrame:
    """One row per MQL (of `month`, or all) with its clock, deadlines, touches and statuses, each
    lead's business time on its own calendar (see lead_calendars).

    A lead rejected by its acceptance deadline, or with an approved exclusion, is `excluded`
    from those commitments; its clock, deadlines and touches are still shown."""
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    rows = np.flatnonzero(mql_mask(data.leads, as_of, month, terms.timezone))
    leads = data.leads.take(rows).reset_index(drop=True)
    now = as_of.as_unit("ns").value
    calendar = lead_calendars(leads, data.owners, terms)
    cal = CalendarMix(terms.calendars_by_name, calendar)

    start = clock_start(leads, terms, as_of)
    # A handful of segments: each one's allowance looked up once.
    codes, segments = pd.factorize(leads["segment"], use_na_sentinel=False)
    ft_hours = np.array([terms.first_touch_hours_for(s) for s in segments], dtype="float64")[codes]
    ft_deadline = cal.deadline_ns(start, ft_hours)
    window_end = cal.deadline_ns(start, terms.attempt_window_days * cal.daily_hours())

    touch_lead, touch_ns = touch_positions(data, rows, as_of)
    first = np.full(len(leads), _NEVER, dtype="int64")
    np.minimum.at(first, touch_lead, touch_ns)
    ft_at = np.where(first == _NEVER, NAT_NS, first)
    has_touch = ft_at != NAT_NS
    response_ns = cal.business_ns(start, ft_at)
    allowed_ns = np.round(ft_hours * NS_PER_HOUR).astype("int64")

    ft_status = np.full(len(leads), PENDING, dtype=object)
    ft_status[has_touch & (response_ns <= allowed_ns)] = MET
    ft_status[has_touch & (response_ns > allowed_ns)] = BREACHED
    ft_status[~has_touch & (now > ft_deadline)] = BREACHED

    cutoff = np.minimum(window_end, now)
    attempts = np.bincount(touch_lead[touch_ns <= cutoff[touch_lead]], minlength=len(leads))
    converted_at = _conversion(data, rows, as_of)
    converted = (converted_at != NAT_NS) & (converted_at <= cutoff)
    att_met = (attempts >= terms.min_attempts) | converted
    att_status = np.full(len(leads), PENDING, dtype=object)
    att_status[now > window_end] = BREACHED
    att_status[att_met] = MET

    mql = to_ns(leads["mql_at"])
    assigned = to_ns(leads["assigned_at"])
    assigned = np.where((assigned != NAT_NS) & (assigned <= now), assigned, NAT_NS)
    handover = np.where(assigned != NAT_NS, np.maximum(mql, assigned), mql)
    overdue_ns = np.where(~has_touch & (now > ft_deadline), cal.business_ns(ft_deadline, np.int64(now)), 0)

    acc = lead_acceptance(leads, start, ft_at, terms, now, cal)
    left = {c: excluded_mask(leads["lead_id"], data.exclusions, c, as_of) for c in EXCLUDABLE}
    left["first_touch"] |= acc.rejected_in_time
    left["attempts"] |= acc.rejected_in_time
    if terms.acceptance_hours is None:
        left["acceptance"][:] = False
    ft_status[left["first_touch"]] = EXCLUDED
    att_status = np.where(left["attempts"], EXCLUDED, att_status)
    acc.status[left["acceptance"]] = EXCLUDED
    rejection_reason = leads["rejection_reason"].where(acc.rejected_at != NAT_NS)
    reasons = exclusion_reasons(leads["lead_id"], data.exclusions, as_of)
    reasons = reasons.where(reasons.notna(), rejection_reason.where(acc.rejected_in_time))

    # copy=False: every column is built here for this frame alone (a million-row ledger copied is a third of its cost).
    return pd.DataFrame(
        copy=False,
        data={
            "lead_id": leads["lead_id"],
            "owner_id": leads["owner_id"],
            "segment": leads["segment"],
            "source": leads["source"],
            "month": local_month(leads["mql_at"], terms.timezone),
            "calendar": texts_of(*cal.factorized),
            "calendar_timezone": texts_of(*cal.timezone_codes()),
            "mql_at": leads["mql_at"],
            "assigned_at": from_ns(assigned),
            "clock_start": from_ns(start),
            "first_touch_hours_allowed": ft_hours,
            "first_touch_deadline": from_ns(ft_deadline),
            "first_touch_at": from_ns(ft_at),
            "response_hours": _hours(response_ns),
            "first_touch_status": ft_status,  # object arrays of str: the same str column as .astype(str), faster
            "attempts": attempts,
            "attempts_deadline": from_ns(window_end),
            "converted_at": from_ns(converted_at),
            "attempts_status": att_status,
            "routing_delay_hours": _hours(cal.business_ns(mql, assigned)),
            "rep_delay_hours": _hours(cal.business_ns(handover, ft_at)),
            "overdue_hours": overdue_ns / NS_PER_HOUR,
            "accepted_at": from_ns(acc.accepted_at),
            "rejected_at": from_ns(acc.rejected_at),
            "rejection_reason": rejection_reason,
            "acceptance_decided_at": from_ns(acc.decided_at),
            "acceptance_deadline": from_ns(acc.deadline),
            "acceptance_status": acc.status,
            "excluded_from": _excluded_from(left, len(leads)),
            "exclusion_reason": reasons,
        },
    )


def texts_of(codes: np.ndarray, distinct: Sequence[str]) -> pd.Series:
    """distinct[codes], a few distinct strings, as the str column .astype(str) makes of the strings,
    built from the distinct values (a million strings converted one by one cost ten times more)."""
    return pd.Series(pd.array(np.asarray(distinct, dtype=object), dtype="str").take(codes))


def _excluded_from(left: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per lead, the commitments it left, comma-separated ('' when none)."""
    code = np.zeros(n, dtype=np.intp)
    for bit, commitment in enumerate(EXCLUDABLE):
        code |= np.asarray(left[commitment], dtype=bool).astype(np.intp) << bit
    # Each of the 2^4 combinations is spelled once, then picked per lead.
    spelled = [
        ",".join(c for bit, c in enumerate(EXCLUDABLE) if combo >> bit & 1) for combo in range(2 ** len(EXCLUDABLE))
    ]
    return np.array(spelled, dtype=object)[code]


def _hours(ns: np.ndarray) -> np.ndarray:
    return np.where(ns == NAT_NS, np.nan, ns / NS_PER_HOUR)


def _conversion(data: CrmData, rows: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
    """Earliest of sql_at, customer_at and a deal's created_at per lead at `rows` of data.leads (int64 ns)."""
    deal_lead = data.deal_lead_rows()
    created = to_ns(data.deals["created_at"])
    dated = (deal_lead >= 0) & (created != NAT_NS)
    first_deal = np.full(len(data.leads), _NEVER, dtype="int64")
    np.minimum.at(first_deal, deal_lead[dated], created[dated])
    candidates = np.vstack(
        [
            to_ns(data.leads["sql_at"])[rows],
            to_ns(data.leads["customer_at"])[rows],
            np.where(first_deal == _NEVER, NAT_NS, first_deal)[rows],
        ]
    )
    unknown = (candidates == NAT_NS) | (candidates > as_of.value)  # later data is not known yet
    earliest = np.where(unknown, _NEVER, candidates).min(axis=0)
    return np.where(earliest == _NEVER, NAT_NS, earliest)


# -- summaries ------------------------------------------------------------------------------


NO_ACTIVITY_DATA = "no_activity_data"


def commitment_status(
    met: int,
    breached: int,
    pending: int,
    target: float,
    month_over: bool,
    *,
    measurable: bool = True,
    excluded: int = 0,
) -> dict:
    """Counts, compliance, breach budget and status of one sales commitment (DESIGN section 5).

    `needed_of_pending` is how many pending leads must still be met to keep the target (more
    than `pending`: out of reach). Not `measurable` (the source has no activities at all):
    status no_activity_data, and compliance, budget and need are null, since nothing can be judged.
    `excluded` leads are reported beside the counts and judged in none of them."""
    n = met + breached + pending
    compliance = met / (met + breached) if met + breached else None
    allowed = math.floor((1 - target) * n + _FLOOR_TOLERANCE)
    budget_left = allowed - breached
    needed = max(0, pending - budget_left)
    if not measurable:
        return {
            "met": met,
            "breached": breached,
            "pending": pending,
            "leads": n,
            "compliance": None,
            "target": target,
            "allowed_breaches": allowed,
            "budget_left": None,
            "needed_of_pending": None,
            "status": NO_ACTIVITY_DATA,
            "excluded": excluded,
        }
    if n == 0:
        status = "no_data"
    elif month_over and pending == 0:
        status = "met" if compliance is not None and compliance >= target else "missed"
    elif budget_left < 0:
        status = "behind"
    elif breached > 0 and breached >= 0.75 * allowed:
        status = "at_risk"
    else:
        status = "on_track"
    return {
        "met": met,
        "breached": breached,
        "pending": pending,
        "leads": n,
        "compliance": compliance,
        "target": target,
        "allowed_breaches": allowed,
        "budget_left": budget_left,
        "needed_of_pending": needed,
        "status": status,
        "excluded": excluded,
    }


def status_counts(statuses: pd.Series) -> tuple[int, int, int]:
    """(met, breached, pending) counts of a status column."""
    counts = statuses.value_counts()
    return int(counts.get(MET, 0)), int(counts.get(BREACHED, 0)), int(counts.get(PENDING, 0))


def excluded_count(statuses: pd.Series) -> int:
    """How many leads of a status column were left out of the commitment."""
    return int((statuses == EXCLUDED).sum())


def percentile(values: pd.Series, q: float) -> float | None:
    """numpy's default (linear) percentile of the non-missing values; None when there are none."""
    v = values.dropna().to_numpy(dtype="float64")
    return float(np.percentile(v, q)) if len(v) else None


def first_touch_summary(ledger: pd.DataFrame, terms: Terms, month_over: bool, *, has_touches: bool = True) -> dict:
    statuses = ledger["first_touch_status"]
    summary = commitment_status(
        *status_counts(statuses),
        terms.first_touch_target,
        month_over,
        measurable=has_touches,
        excluded=excluded_count(statuses),
    )
    ledger = ledger.loc[(statuses != EXCLUDED).to_numpy()]
    summary["median_hours"] = percentile(ledger["response_hours"], 50)
    summary["p90_hours"] = percentile(ledger["response_hours"], 90)
    summary["target_hours"] = (
        terms.first_touch_hours if not isinstance(terms.first_touch_hours, dict) else dict(terms.first_touch_hours)
    )
    summary["routing_delay_median_hours"] = percentile(ledger["routing_delay_hours"], 50)
    summary["rep_delay_median_hours"] = percentile(ledger["rep_delay_hours"], 50)
    summary["routing_delay_mean_hours"] = _mean(ledger["routing_delay_hours"])
    summary["rep_delay_mean_hours"] = _mean(ledger["rep_delay_hours"])
    summary["untouched"] = int(ledger["first_touch_at"].isna().sum())
    return summary


def attempts_summary(ledger: pd.DataFrame, terms: Terms, month_over: bool, *, has_touches: bool = True) -> dict:
    statuses = ledger["attempts_status"]
    summary = commitment_status(
        *status_counts(statuses),
        terms.attempts_target,
        month_over,
        measurable=has_touches,
        excluded=excluded_count(statuses),
    )
    summary["min_attempts"] = terms.min_attempts
    summary["window_days"] = terms.attempt_window_days
    summary["converted"] = int(ledger["converted_at"].notna().sum())
    return summary


def acceptance_summary(ledger: pd.DataFrame, terms: Terms, month_over: bool) -> dict | None:
    """The acceptance commitment (None without acceptance_hours): counts, budget, status."""
    if terms.acceptance_hours is None:
        return None
    statuses = ledger["acceptance_status"]
    summary = commitment_status(
        *status_counts(statuses), terms.acceptance_target, month_over, excluded=excluded_count(statuses)
    )
    summary["target_hours"] = terms.acceptance_hours
    summary["touch_accepts"] = terms.touch_accepts
    summary["accepted"] = int(ledger["accepted_at"].notna().sum())
    summary["rejected"] = int(ledger["rejected_at"].notna().sum())
    summary["rejected_in_time"] = int(
        (ledger["rejected_at"].notna() & (ledger["rejected_at"] <= ledger["acceptance_deadline"])).sum()
    )
    return summary


def _mean(values: pd.Series) -> float | None:
    v = values.dropna()
    return float(v.mean()) if len(v) else None


def owner_summary(ledger: pd.DataFrame, owners: pd.DataFrame) -> list[dict]:
    """Per owner (the lead's owner_id): both commitments' counts, compliance and response times."""
    key = ledger["owner_id"].fillna("").rename("owner")
    codes, owner_ids = pd.factorize(key, sort=True)  # the owners in groupby's order
    counts = {side: _counts_by(codes, len(owner_ids), ledger[f"{side}_status"]) for side in ("first_touch", "attempts")}
    acceptance = None
    if ledger["acceptance_status"].notna().any():
        acceptance = _counts_by(codes, len(owner_ids), ledger["acceptance_status"])
    judged = ledger["first_touch_status"] != EXCLUDED
    hours = ledger[["response_hours", "routing_delay_hours", "rep_delay_hours"]].where(judged, axis=0).groupby(key)
    medians, p90 = hours.quantile(0.5), hours.quantile(0.9)
    untouched = (ledger["first_touch_at"].isna() & judged).groupby(key).sum()
    names = owners.drop_duplicates("owner_id").set_index("owner_id")
    rows = []
    for at_owner, owner_id in enumerate(owner_ids):
        ft, at = counts["first_touch"][at_owner], counts["attempts"][at_owner]
        known = owner_id in names.index
        rows.append(
            {
                "owner_id": owner_id or None,
                "name": (_text(names.at[owner_id, "name"]) if known else None) or (owner_id or "Unassigned"),
                "team": _text(names.at[owner_id, "team"]) if known else None,
                "active": bool(names.at[owner_id, "active"]) if known else None,
                "leads": sum(ft.values()),
                "first_touch_met": int(ft[MET]),
                "first_touch_breached": int(ft[BREACHED]),
                "first_touch_pending": int(ft[PENDING]),
                "first_touch_excluded": int(ft[EXCLUDED]),
                "first_touch_compliance": _share(ft[MET], ft[BREACHED]),
                "median_hours": _number(medians.at[owner_id, "response_hours"]),
                "p90_hours": _number(p90.at[owner_id, "response_hours"]),
                "attempts_met": int(at[MET]),
                "attempts_breached": int(at[BREACHED]),
                "attempts_pending": int(at[PENDING]),
                "attempts_excluded": int(at[EXCLUDED]),
                "attempts_compliance": _share(at[MET], at[BREACHED]),
                "routing_delay_median_hours": _number(medians.at[owner_id, "routing_delay_hours"]),
                "rep_delay_median_hours": _number(medians.at[owner_id, "rep_delay_hours"]),
                "untouched": int(untouched.get(owner_id, 0)),
            }
        )
        if acceptance is not None:
            acc = acceptance[at_owner]
            rows[-1].update(
                {
                    "acceptance_met": int(acc[MET]),
                    "acceptance_breached": int(acc[BREACHED]),
                    "acceptance_pending": int(acc[PENDING]),
                    "acceptance_compliance": _share(acc[MET], acc[BREACHED]),
                }
            )
    rows.sort(key=lambda r: (-r["leads"], r["owner_id"] or ""))
    return rows


def _counts_by(codes: np.ndarray, owners: int, statuses: pd.Series) -> list[dict[str, int]]:
    """Per owner code, how many of its leads have each status (met, breached, pending, excluded)."""
    columns = {
        status: np.bincount(codes[(statuses == status).to_numpy(dtype=bool)], minlength=owners)
        for status in (MET, BREACHED, PENDING, EXCLUDED)
    }
    return [{status: int(n[owner]) for status, n in columns.items()} for owner in range(owners)]


def _share(met: int, breached: int) -> float | None:
    """met / (met + breached), None when both are 0."""
    return int(met) / int(met + breached) if met + breached else None


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def overdue_worklist(ledger: pd.DataFrame) -> pd.DataFrame:
    """Leads with no first touch whose deadline has passed or is still running, most overdue first."""
    untouched = ledger.loc[ledger["first_touch_at"].isna() & (ledger["first_touch_status"] != EXCLUDED)].copy()
    untouched["is_breached"] = untouched["first_touch_status"] == BREACHED
    return (
        untouched.sort_values(["is_breached", "overdue_hours", "first_touch_deadline"], ascending=[False, False, True])
        .drop(columns="is_breached")
        .reset_index(drop=True)
    )


# -- one lead's touches, explained -------------------------------------------------------------
# The rule of qualifying_touches restated touch by touch, in words, for the lead ledger page
# (settling disputes). Tests check both agree on every touch.

VERDICT_COLUMNS = [
    "touch_id",
    "occurred_at",
    "kind",
    "direction",
    "automated",
    "owner_id",
    "counts",
    "attempt",
    "why",
]


def touch_reasons(touch: pd.Series, mql_at: pd.Timestamp, as_of: pd.Timestamp) -> list[str]:
    """Every reason a touch does not count (empty: it counts), in the words of the rule."""
    reasons = []
    if touch["occurred_at"] > as_of:
        reasons.append("after the time shown")
    if touch["kind"] not in QUALIFYING_KINDS:
        reasons.append(f"not a call/email/meeting ({touch['kind']})")
    if bool(touch["automated"]):
        reasons.append("automated")
    if touch["direction"] == "inbound":
        reasons.append("inbound")
    if pd.isna(mql_at) or touch["occurred_at"] < mql_at:
        reasons.append("before MQL")
    return reasons


def touch_verdicts(touches: pd.DataFrame, lead: pd.Series, terms: Terms, as_of: pd.Timestamp) -> pd.DataFrame:
    """The lead's touches, oldest first, with whether each counted and why.

    `lead` is the lead's ledger row (mql_at, attempts_deadline, first_touch_at). A counting
    touch is numbered as an attempt while it is inside the attempt window and not after as_of.
    """
    own = touches.loc[touches["lead_id"] == lead["lead_id"]].sort_values(["occurred_at", "touch_id"])
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    window_end = lead.get("attempts_deadline")
    cutoff = as_of if pd.isna(window_end) else min(as_of, window_end)
    rows, attempt, seen_first = [], 0, False
    for _, touch in own.iterrows():
        reasons = touch_reasons(touch, lead["mql_at"], as_of)
        counts = not reasons
        number = None
        if counts and touch["occurred_at"] <= cutoff:
            attempt += 1
            number = attempt
        first = counts and not seen_first
        seen_first = seen_first or counts
        rows.append(
            {
                **{c: touch.get(c) for c in VERDICT_COLUMNS[:6]},
                "counts": counts,
                "attempt": number,
                "why": _why(reasons, number, first, terms.min_attempts),
            }
        )
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def _why(reasons: list[str], attempt: int | None, first: bool, min_attempts: int) -> str:
    """One line: the reasons against, or what the touch counted for."""
    if reasons:
        return "; ".join(reasons)
    if attempt is None:
        late = "qualifying, but after the attempt window closed"
        return f"first touch; {late}" if first else late
    label = f"attempt {attempt} of {min_attempts}"
    return f"first touch; {label}" if first else label
