"""Delivering follow-up alerts (DESIGN section 9): routing settings, messages, webhooks and SMTP.

Built like the HubSpot sync: paced, resumable, errors in one sentence. Each recipient gets one
message per run listing its leads; right after a message is delivered, its alerts are recorded
as delivered to that recipient in one transaction, so a run killed midway resends at most the
message it was sending. A failed message leaves its alerts `failed`, and the next run retries them.

Routing and credentials are deployment settings, read from environment variables, over an
optional TOML settings file named by SMARKETING_ALERTS_SETTINGS (keep it outside git):

    webhook = "https://hooks.slack.com/services/..."       # default route (SMARKETING_ALERTS_WEBHOOK)
    escalation_webhook = "https://..."                     # SMARKETING_ALERTS_ESCALATION_WEBHOOK
    escalation_email = "vp-sales@example.com"              # SMARKETING_ALERTS_ESCALATION_EMAIL
    dashboard_url = "https://smarketing.example.com"       # SMARKETING_DASHBOARD_URL: links to each lead
    pace_seconds = 1.0                                     # SMARKETING_ALERTS_PACE: pause between posts to one host
    [teams.East]
    webhook = "https://..."                                # the team's chat channel
    manager = "mia@example.com"                            # gets the team's breaches by e-mail
    [smtp]                                                 # SMARKETING_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _SECURITY
    host = "smtp.example.com"
    port = 587
    user = "alerts"
    password = "..."
    sender = "smarketing@example.com"
    security = "starttls"                                  # or "ssl" or "none" (default: starttls on 587, ssl on 465)

A webhook URL is a secret: only its host appears in output, logs and the database. SMTP
credentials never appear anywhere.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from smarketing.core.alert_rules import (
    ATTEMPTS_WARNING,
    ESCALATION,
    FIRST_TOUCH_BREACH,
    FIRST_TOUCH_WARNING,
    Route,
    Routing,
)
from smarketing.core.errors import UserError
from smarketing.outputs.digest import plain, post_text, webhook_host
from smarketing.store import alert_log

WEBHOOK_ENV = "SMARKETING_ALERTS_WEBHOOK"
SETTINGS_ENV = "SMARKETING_ALERTS_SETTINGS"
# Chat services refuse very long messages (Slack: 40,000 characters); a bigger batch is summarised.
MAX_LINES = 50
KIND_WORDS = {
    FIRST_TOUCH_WARNING: "First touch due soon",
    FIRST_TOUCH_BREACH: "First touch overdue",
    ESCALATION: "Escalation: still untouched",
    ATTEMPTS_WARNING: "Attempts behind",
}


@dataclass(frozen=True)
class Smtp:
    """An SMTP server to send alert e-mail through."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "smarketing@localhost"
    security: str = "starttls"


@dataclass(frozen=True)
class DeliverySettings:
    """Routes, the SMTP server, the dashboard's URL and the pace between posts."""

    routing: Routing = field(default_factory=Routing)
    smtp: Smtp | None = None
    dashboard_url: str | None = None
    pace_seconds: float = 1.0
    timeout: float = 10.0

    @property
    def configured(self) -> bool:
        r = self.routing
        return bool(r.default_webhook or r.team_webhooks or r.escalation_webhook or self.smtp)


def load_settings(env: Mapping[str, str] | None = None) -> DeliverySettings:
    """Routing settings from the environment over the settings file (SMARKETING_ALERTS_SETTINGS)."""
    env = os.environ if env is None else env
    file = _settings_file(env.get(SETTINGS_ENV, "").strip())
    teams = file.get("teams", {})
    if not isinstance(teams, Mapping) or not all(isinstance(t, Mapping) for t in teams.values()):
        raise UserError("[teams] in the alert settings file must hold one table per team, such as [teams.East].")
    smtp_file = file.get("smtp", {}) if isinstance(file.get("smtp", {}), Mapping) else {}

    def pick(env_name: str, key: str, table: Mapping[str, Any] = file) -> str | None:
        value = env.get(env_name, "").strip() or table.get(key)
        return str(value).strip() if value not in (None, "") else None

    default = pick(WEBHOOK_ENV, "webhook")
    escalation = pick("SMARKETING_ALERTS_ESCALATION_WEBHOOK", "escalation_webhook")
    routing = Routing(
        default_webhook=_webhook(default, None),
        team_webhooks={str(t): _webhook(str(v["webhook"]), f"team {t}") for t, v in teams.items() if v.get("webhook")},
        escalation_webhook=_webhook(escalation, "escalation"),
        email=bool(pick("SMARKETING_SMTP_HOST", "host", smtp_file)),
        managers={str(t): str(v["manager"]) for t, v in teams.items() if v.get("manager")},
        escalation_email=pick("SMARKETING_ALERTS_ESCALATION_EMAIL", "escalation_email"),
    )
    smtp = None
    host = pick("SMARKETING_SMTP_HOST", "host", smtp_file)
    if host:
        port = _number(pick("SMARKETING_SMTP_PORT", "port", smtp_file) or "587", "the SMTP port")
        security = pick("SMARKETING_SMTP_SECURITY", "security", smtp_file) or ("ssl" if port == 465 else "starttls")
        if security not in ("starttls", "ssl", "none"):
            raise UserError(f'The SMTP security setting must be "starttls", "ssl" or "none", not "{security}".')
        smtp = Smtp(
            host=host,
            port=int(port),
            user=pick("SMARKETING_SMTP_USER", "user", smtp_file),
            password=pick("SMARKETING_SMTP_PASSWORD", "password", smtp_file),
            sender=pick("SMARKETING_SMTP_FROM", "sender", smtp_file) or "smarketing@localhost",
            security=security,
        )
    pace = _number(pick("SMARKETING_ALERTS_PACE", "pace_seconds") or "1", "the alert pace (seconds)")
    dashboard = pick("SMARKETING_DASHBOARD_URL", "dashboard_url")
    return DeliverySettings(routing, smtp, dashboard.rstrip("/") if dashboard else None, pace)


def _settings_file(path: str) -> dict[str, Any]:
    if not path:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"Cannot read the alert settings file {path}: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"The alert settings file {path} is not valid TOML: {exc}.") from None


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{what[0].upper()}{what[1:]} must be a number, not '{text}'.") from None
    if value < 0:
        raise UserError(f"{what[0].upper()}{what[1:]} must be 0 or more, not {text}.")
    return value


def _webhook(url: str | None, route: str | None) -> Route | None:
    """A webhook route labelled by its host (and route name): the URL itself is a secret."""
    if not url:
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        parts = None
    name = f"the {route} webhook" if route else "the default alert webhook"
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{name[0].upper()}{name[1:]} must be an http:// or https:// URL with a host.")
    host = webhook_host(url)
    return Route("webhook", url, f"{host} ({route})" if route else host)


# -- messages ---------------------------------------------------------------------------------------


def message_lines(alerts: list[Mapping[str, Any]], tz: str, dashboard_url: str | None) -> list[str]:
    """One line per alert: kind, lead, owner, time left or how late, and the lead's link."""
    lines = []
    for a in alerts:
        left = float(a["hours_left"])
        when = f"{left:,.1f} business h left" if left >= 0 else f"{-left:,.1f} business h late"
        deadline = pd.Timestamp(a["deadline"]).tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")
        line = (
            f"• {KIND_WORDS[a['kind']]} — lead {plain(a['lead_id'])}, owner {plain(a['owner_name'])}: "
            f"{when} (deadline {deadline})"
        )
        if dashboard_url:
            query = urllib.parse.urlencode({"month": a["month"], "lead": a["lead_id"]})
            line += f" {dashboard_url}/Lead_ledger?{query}"
        lines.append(line)
    return lines


def message_text(alerts: list[Mapping[str, Any]], tz: str, dashboard_url: str | None, as_of: pd.Timestamp) -> str:
    """The whole message to one recipient."""
    stamp = pd.Timestamp(as_of).tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")
    head = f"Follow-up alerts as of {stamp}: {len(alerts)} lead alert{'s' if len(alerts) != 1 else ''}"
    lines = message_lines(alerts[:MAX_LINES], tz, dashboard_url)
    if len(alerts) > MAX_LINES:
        lines.append(f"…and {len(alerts) - MAX_LINES:,} more: see the Sales page's worklist and due-soon list.")
    return "\n".join([head, *lines])


# -- sending ------------------------------------------------------------------------------------------


def send(route: Route, text: str, settings: DeliverySettings) -> None:
    """Deliver one message to one route; a failure is a UserError of one sentence without secrets."""
    if route.channel == "webhook":
        post_text(text, route.address, timeout=settings.timeout, name="alert webhook", agent="smarketing-alerts")
        return
    if settings.smtp is None:
        raise UserError("No SMTP server is configured for alert e-mail.")
    send_email(settings.smtp, route.address, text.splitlines()[0], text, settings.timeout)


def send_email(smtp: Smtp, to: str, subject: str, body: str, timeout: float) -> None:
    """Send one plain-text e-mail; errors name the server's host only."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message.set_content(body)
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise UserError(f"The mail server at {smtp.host} did not accept the SMTP user name and password.") from None
    except smtplib.SMTPRecipientsRefused:
        raise UserError(f"The mail server at {smtp.host} refused the address {to}.") from None
    except smtplib.SMTPResponseException as exc:
        raise UserError(f"The mail server at {smtp.host} refused the message with SMTP {exc.smtp_code}.") from None
    except TimeoutError:
        raise UserError(f"The mail server at {smtp.host} did not answer within {timeout:g} seconds.") from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UserError(f"Cannot send e-mail through the mail server at {smtp.host}: {reason}.") from None


@dataclass
class Outcome:
    """How one alert fared in this run."""

    state: str
    error: str | None = None


def deliver(
    engine: Engine,
    alerts: list[dict[str, Any]],
    settings: DeliverySettings,
    *,
    tz: str,
    as_of: pd.Timestamp,
    sender: Callable[[Route, str, DeliverySettings], None] = send,
) -> dict[tuple[str, str], Outcome]:
    """Send one message per route to the alerts' pending routes, recording each right after it.

    Each alert has `routes` (the routes still owed a message) and `recipients` (every label)."""
    by_route: dict[Route, list[dict[str, Any]]] = {}
    outcomes: dict[tuple[str, str], Outcome] = {}
    for alert in alerts:
        key = (alert["lead_id"], alert["kind"])
        if not alert["routes"] and alert["recipients"]:  # every recipient had it before a run stopped
            alert_log.record_delivered(engine, [alert], alert["recipients"][0], alert_log.utc_now())
            outcomes[key] = Outcome(alert_log.SENT)
            continue
        if not alert["routes"]:
            error = "No alert route reaches this lead's recipients; set SMARKETING_ALERTS_WEBHOOK or SMTP."
            alert_log.record_failed(engine, [alert], error, alert_log.utc_now())
            outcomes[key] = Outcome(alert_log.FAILED, error)
            continue
        outcomes[key] = Outcome(alert_log.SENT)
        for route in alert["routes"]:
            by_route.setdefault(route, []).append(alert)
    last_post: dict[str, float] = {}
    for route, batch in by_route.items():
        host = route.label.split(" ")[0]
        wait = last_post.get(host, -1e9) + settings.pace_seconds - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # incoming webhooks allow about one message a second
        try:
            sender(route, message_text(batch, tz, settings.dashboard_url, as_of), settings)
        except UserError as exc:
            alert_log.record_failed(engine, batch, str(exc), alert_log.utc_now())
            for alert in batch:
                outcomes[(alert["lead_id"], alert["kind"])] = Outcome(alert_log.FAILED, str(exc))
            continue
        finally:
            last_post[host] = time.monotonic()
        alert_log.record_delivered(engine, batch, route.label, alert_log.utc_now())
    return outcomes
