"""A verdict's evidence in words (DESIGN section 8), shared by the dashboard, reports, digest and CLI.

Pure text from a scorecard's parts: how much of an early projection is the recent months'
average, how many pending leads must still be met, and why follow-up cannot be judged.
"""

from __future__ import annotations

from smarketing.core.marketing import PRIOR_WEIGHT

NO_ACTIVITIES = "This data has no activities; follow-up cannot be measured."
UNKNOWN = "unknown"


def plural(n: int | float | None, noun: str, plural_form: str | None = None) -> str:
    """'1 MQL', '2 MQLs', '1,204 leads' (a missing count reads '—')."""
    if n is None:
        return f"— {plural_form or noun + 's'}"
    whole = round(n)
    return f"{whole:,} {noun if whole == 1 else plural_form or noun + 's'}"


def prior_part(marketing: dict) -> float | None:
    """The part of `projected` that comes from `prior`: (1 − f) × prior × w / (f + w)."""
    prior, fraction = marketing.get("prior"), marketing.get("elapsed_fraction")
    if prior is None or fraction is None:
        return None
    return (1 - fraction) * prior * PRIOR_WEIGHT / (fraction + PRIOR_WEIGHT)


def projection_note(marketing: dict) -> str | None:
    """How much of a running month's projection comes from recent months (None once it is over)."""
    fraction, projected, part = marketing.get("elapsed_fraction"), marketing.get("projected"), prior_part(marketing)
    if part is None or projected is None or fraction is None or fraction >= 1:
        return None
    basis = (
        f"the last three months' average of {plural(marketing['prior'], 'MQL')} a month"
        if marketing.get("prior_source") == "recent_months"
        else f"the quota of {plural(marketing['prior'], 'MQL')} (no MQLs in the last three months)"
    )
    if marketing.get("status") == "not_started":
        return f"The month has not started: the projection of {round(projected):,} is {basis}."
    share = part / projected if projected else 1.0
    return (
        f"{share:.0%} of the projection of {round(projected):,} comes from {basis}; "
        f"{fraction:.0%} of the month has gone, and the month's own pace counts more each day."
    )


def pending_note(part: dict) -> str | None:
    """'171 leads still inside their window; 112 of them must be met to keep 80%.' (None: none pending)."""
    pending, needed, budget = part.get("pending") or 0, part.get("needed_of_pending"), part.get("budget_left")
    if part.get("status") == "no_activity_data" or not pending or budget is None:
        return None
    if needed is None:  # a snapshot frozen before needed_of_pending existed
        needed = max(0, pending - budget)
    target = f"{part.get('target', 0):.0%}"
    head = f"{plural(pending, 'lead')} still inside their window"
    if needed > pending:
        return f"{head}; {target} is out of reach even if every one of them is met."
    if needed == 0:
        return f"{head}; {target} holds even if none of them is met."
    return f"{head}; {needed:,} of them must be met to keep {target}."


def is_empty_month(card: dict) -> bool:
    """Nothing to judge yet: no MQL of the month and no deal won in it."""
    return not card["marketing"].get("mqls_total", card["marketing"].get("mqls")) and not card["funnel"].get(
        "won_deals"
    )


def evidence_notes(card: dict) -> list[str]:
    """Every sentence a scorecard's verdicts need beside them, in reading order."""
    notes = []
    projection = projection_note(card["marketing"])
    if projection:
        notes.append(f"Marketing: {projection}")
    sales = card["sales"]
    if sales["first_touch"].get("status") == "no_activity_data":
        notes.append(f"Sales: {NO_ACTIVITIES}")
    else:
        for name, key in (("First touch", "first_touch"), ("Attempts", "attempts")):
            pending = pending_note(sales[key])
            if pending:
                notes.append(f"{name}: {pending}")
    funnel = card["funnel"]
    without = funnel.get("won_deals_without_amount") or 0
    if funnel.get("won_revenue") is None and funnel.get("won_deals"):
        notes.append(f"Revenue: {UNKNOWN}; no won deal of the month has an amount.")
    elif without:
        notes.append(f"Revenue: from known amounts only; {plural(without, 'won deal')} without an amount.")
    return notes
