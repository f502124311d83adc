"""Review reminders: a short plain-text summary of a month for a chat channel, and posting it.

`digest_text` is pure (a scorecard dict and its lead ledger in, text out). `post_digest`
sends the text to an incoming webhook as JSON `{"text": ...}`, the shape both Slack and
Microsoft Teams (incoming webhooks and Workflows) accept, with the standard library only.

Decisions worth knowing:
- CRM text (owner names, teams) stays text: control characters and line breaks are
  flattened, and when posting, `&`, `<` and `>` are escaped as Slack asks so that a name
  such as `<!channel>` cannot mention a whole channel or become a link.
- The webhook URL is a secret (Slack and Teams put the token in its path), so an error
  names only its host, never the path or query string.
- "Worst reps" are the owners with the lowest first-touch compliance among those with at
  least `min_leads` leads (ties: more breaches first); unassigned leads are not a rep.
- "Overdue leads" are leads with no first touch whose first-touch deadline has passed.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pandas as pd

from smarketing.core.consequences import COMMITMENT_LABELS
from smarketing.core.errors import UserError
from smarketing.core.evidence import NO_ACTIVITIES, pending_note, plural, projection_note
from smarketing.outputs.exports import status_words

MIN_LEADS = 5
WORST = 3
WEBHOOK_ENV = "SMARKETING_DIGEST_WEBHOOK"


def digest_text(
    card: dict, ledger: pd.DataFrame | list[dict] | None = None, *, min_leads: int = MIN_LEADS, worst: int = WORST
) -> str:
    """A short chat-friendly summary: both sides' status, the worst reps, the overdue leads."""
    tz = card.get("timezone") or "UTC"
    mkt = card.get("marketing") or {}
    sales = card.get("sales") or {}
    ft, att = sales.get("first_touch") or {}, sales.get("attempts") or {}
    month = pd.Period(card["month"], freq="M").strftime("%B %Y")
    closed = bool(card.get("closed") or card.get("closed_at"))
    state = "closed" if closed else "live"
    lines = [f"SLA digest — {month} ({state}, as of {_local(card.get('as_of'), tz)})"]

    quota = mkt.get("quota")
    if quota is None:
        line = f"Marketing: {plural(mkt.get('mqls'), 'MQL')} (no quota set)."
    elif mkt.get("status") == "not_started":
        line = f"Marketing: Not started — the quota is {plural(quota, 'MQL')}."
    else:
        line = (
            f"Marketing: {status_words(mkt.get('status'))} — {num(mkt.get('mqls'))} of {plural(quota, 'MQL')} "
            f"({pct(mkt.get('attainment'), 0)} of quota)"
        )
        if not card.get("month_over") and mkt.get("projected") is not None:
            line += f", projected {num(mkt.get('projected'))} by month end"
            if mkt.get("required_daily_rate"):
                line += f", {num(mkt.get('required_daily_rate'), 1)} a day needed"
        line += "."
    lines.append(line)
    projection = projection_note(mkt) if quota is not None else None
    if projection:
        lines.append(f"  {projection}")
    if ft.get("status") == "no_activity_data":
        lines.append(f"Sales: {NO_ACTIVITIES}")
        return "\n".join(lines)
    lines.append(_commitment_line("Sales first touch", ft, "touched in time"))
    lines.append(_commitment_line("Sales attempts", att, f"reached {att.get('min_attempts', '?')} attempts"))
    if sales.get("acceptance"):
        lines.append(_commitment_line("Sales acceptance", sales["acceptance"], "accepted or rejected in time"))
    if mkt.get("quality_status"):
        lines.append(
            f"Lead quality: {status_words(mkt.get('quality_status'))} — {num(mkt.get('rejected'))} of "
            f"{num(mkt.get('mqls_total'))} MQLs rejected by sales ({pct(mkt.get('rejection_rate'))}; "
            f"at most {pct(mkt.get('max_rejection_rate'), 0)})."
        )

    lines += consequence_lines(card.get("consequences"))

    reps = worst_reps(sales.get("by_owner") or [], min_leads=min_leads, count=worst)
    if reps:
        lines.append(f"Lowest first-touch compliance ({min_leads}+ leads):")
        for i, rep in enumerate(reps, start=1):
            team = f" ({plain(rep['team'])})" if rep.get("team") else " (no team)"
            lines.append(
                f"  {i}. {plain(rep.get('name') or rep.get('owner_id'))}{team}: "
                f"{pct(rep.get('first_touch_compliance'))} of {plural(rep.get('leads'), 'lead')}, "
                f"{rep.get('first_touch_breached', 0)} breached"
            )
    else:
        lines.append(f"No rep has {min_leads} or more leads with a decided first touch yet.")

    if ledger is not None:
        frame = ledger if isinstance(ledger, pd.DataFrame) else pd.DataFrame.from_records(ledger)
        overdue, running = overdue_counts(frame)
        line = f"Overdue leads (no touch, deadline passed): {overdue}"
        if running:
            line += f"; {running} more untouched with the deadline still running"
        lines.append(line + ".")
    return "\n".join(lines)


def consequence_lines(csq: dict | None) -> list[str]:
    """The weighted scores (with the month before), the critical commitments and the credits owed."""
    if not csq:
        return []
    trend = csq.get("trend") or []
    before = trend[-2] if len(trend) > 1 else {}
    scores = []
    for side in ("marketing", "sales", "overall"):
        value = csq["score"].get(side)
        text = f"{side} {pct(value)}" if value is not None else f"{side} not final"
        if value is not None and before.get(side) is not None:
            text += f" (was {pct(before[side])})"
        scores.append(text)
    lines = ["Weighted score: " + ", ".join(scores) + "."]
    settings = csq.get("settings") or {}
    critical = [COMMITMENT_LABELS.get(c["commitment"], c["commitment"]) for c in csq["by_commitment"] if c["critical"]]
    if critical:
        lines.append(
            f"Critical ({settings.get('critical_misses')}+ misses in the last "
            f"{settings.get('critical_window_months')} finished months), renegotiate: {', '.join(critical)}."
        )
    owed = [
        f"{COMMITMENT_LABELS.get(c['commitment'], c['commitment'])} {c['credits']} ({c['credit_history_text']})"
        for c in csq["by_commitment"]
        if c["credits"]
    ]
    if owed:
        lines.append("Credits owed: " + "; ".join(owed) + ".")
    return lines


def _commitment_line(name: str, part: dict, meaning: str) -> str:
    if not part or part.get("status") == "no_data":
        return f"{name}: No data — no MQLs yet."
    text = (
        f"{name}: {status_words(part.get('status'))} — {pct(part.get('compliance'))} {meaning} vs "
        f"{pct(part.get('target'), 0)} target ({part.get('breached', 0)} breached, {part.get('pending', 0)} pending"
    )
    budget = part.get("budget_left")
    if budget is not None and part.get("pending"):
        text += (
            f"; {budget} more breach{'es' if budget != 1 else ''} allowed"
            if budget >= 0
            else f"; {-budget} over the allowance"
        )
    text += ")."
    pending = pending_note(part)
    return f"{text} {pending}" if pending else text


def worst_reps(by_owner: list[dict], *, min_leads: int = MIN_LEADS, count: int = WORST) -> list[dict]:
    """The reps with the lowest first-touch compliance among those with at least min_leads leads."""
    eligible = [
        o
        for o in by_owner
        if o.get("owner_id") and (o.get("leads") or 0) >= min_leads and o.get("first_touch_compliance") is not None
    ]
    eligible.sort(
        key=lambda o: (o["first_touch_compliance"], -(o.get("first_touch_breached") or 0), str(o.get("name") or ""))
    )
    return eligible[:count]


def overdue_counts(ledger: pd.DataFrame) -> tuple[int, int]:
    """(untouched leads past their first-touch deadline, untouched leads still within it)."""
    if ledger is None or not len(ledger):
        return 0, 0
    untouched = ledger["first_touch_at"].isna()
    breached = ledger["first_touch_status"] == "breached"
    return int((untouched & breached).sum()), int((untouched & ~breached).sum())


def plain(value: Any) -> str:
    """CRM text as one plain line: control characters and line breaks become spaces."""
    text = "" if value is None else str(value)
    return re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", text)).strip()


def pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * float(value):.{digits}f}%"


def num(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{float(value):,.{digits}f}"


def _local(instant: Any, tz: str) -> str:
    if not instant:
        return "—"
    stamp = pd.Timestamp(instant)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


# -- posting ---------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Escape the three characters Slack treats as control sequences in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_host(url: str) -> str:
    """The host of a webhook URL, the only part of it safe to show."""
    try:
        return urllib.parse.urlsplit(url).hostname or "(no host)"
    except ValueError:
        return "(unreadable URL)"


def post_digest(text: str, webhook_url: str, timeout: float = 10) -> int:
    """POST {"text": text} as JSON to a Slack/Teams-compatible incoming webhook; the HTTP status."""
    return post_text(text, webhook_url, timeout=timeout, name="digest webhook", agent="smarketing-digest")


def post_text(text: str, webhook_url: str, *, timeout: float = 10, name: str, agent: str) -> int:
    """POST {"text": text} to a webhook; a refusal or network error is a UserError naming `name` and
    the host only."""
    host = webhook_host(webhook_url)
    try:
        parts = urllib.parse.urlsplit(webhook_url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"The {name} must be an http:// or https:// URL with a host.")
    body = json.dumps({"text": slack_escape(text)}).encode("utf-8")
    request = urllib.request.Request(
        webhook_url.strip(),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": agent},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(2048)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise UserError(f"The {name} at {host} refused the message with HTTP {exc.code}.") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise UserError(f"The {name} at {host} did not answer within {timeout:g} seconds.") from None
        raise UserError(f"Cannot reach the {name} at {host}: {_reason(reason)}.") from None
    except TimeoutError:
        raise UserError(f"The {name} at {host} did not answer within {timeout:g} seconds.") from None
    except OSError as exc:
        raise UserError(f"Cannot reach the {name} at {host}: {_reason(exc)}.") from None


def _reason(reason: Any) -> str:
    """A network error's reason without anything from the URL."""
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.rstrip(".")
    return (str(reason) or type(reason).__name__).rstrip(".")


__all__ = [
    "digest_text",
    "overdue_counts",
    "plain",
    "post_digest",
    "post_text",
    "slack_escape",
    "webhook_host",
    "worst_reps",
]
