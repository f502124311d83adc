"""Follow-up alerts end to end: a real local SMTP server (aiosmtpd) and a local webhook server.

The agreement: New York, Mon-Fri 09:00-17:00, US holidays, first touch in 4 business hours,
3 attempts in 5 business days, default [alerts] (warn at 0.75, escalate after 4 business
hours, stale after 24 hours). As of Tue 2026-05-05 11:30 EDT:
- L1 (Ana, East): MQL Mon 16:00; 1 h Mon + 2 h Tue → warning at Tue 11:00, deadline Tue 12:00.
- L2 (Ben, West): MQL Mon 10:00; deadline Mon 14:00 (21.5 wall-clock hours ago: fresh); breach,
  and escalation at Tue 10:00 (3 h Mon + 1 h Tue).
- L3 (Cal, East, inactive): MQL Mon 11:00, breached: nothing is sent.
- L4 (Ana): MQL Thu 04-30 10:00; breach at Thu 14:00, escalation at Fri 10:00: both stale.
- L5 (Ana): touched in time: nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from smarketing import api
from smarketing.core.errors import UserError
from smarketing.outputs.alert_delivery import load_settings, message_text
from smarketing.store import storage
from smarketing.store.alert_log import alert_log_rows, run_lock

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AS_OF = pd.Timestamp("2026-05-05T11:30:00-04:00").tz_convert("UTC")
SECRET = "T000/B000/XXXXSECRETXXXX"

TERMS = """\
timezone = "America/New_York"
effective_from = "2026-04"
[calendar]
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
hours = ["09:00", "17:00"]
holidays = "US"
[sales]
first_touch_hours = 4
min_attempts = 3
attempt_window_days = 5
"""
OWNERS = """owner_id,name,email,team,active
o1,Ana Avery,ana@example.com,East,true
o2,Ben Brook,ben@example.com,West,true
o3,Cal Crane,cal@example.com,East,false
"""
LEADS = """lead_id,created_at,mql_at,owner_id,segment
L1,2026-05-04T16:00:00,2026-05-04T16:00:00,o1,SMB
L2,2026-05-04T10:00:00,2026-05-04T10:00:00,o2,SMB
L3,2026-05-04T11:00:00,2026-05-04T11:00:00,o3,SMB
L4,2026-04-30T10:00:00,2026-04-30T10:00:00,o1,SMB
L5,2026-05-04T10:00:00,2026-05-04T10:00:00,o1,SMB
"""
TOUCHES = """touch_id,lead_id,owner_id,kind,occurred_at
t1,L5,o1,call,2026-05-04T11:00:00
t2,L5,o1,call,2026-05-05T10:00:00
t3,L5,o1,email,2026-05-05T10:30:00
"""


@dataclass
class Webhook:
    """A local HTTP server that records each post; answers `status`, and stalls on request `stall_on`."""

    url: str = ""
    posts: list[dict] = field(default_factory=list)
    status: int = 200
    stall_on: int | None = None


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SMARKETING_ALERTS") or name.startswith("SMARKETING_SMTP") or name.endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "SMARKETING_DASHBOARD_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            hook.posts.append({"path": self.path, "text": body["text"]})
            if hook.stall_on is not None and len(hook.posts) == hook.stall_on:
                time.sleep(60)
            try:
                self.send_response(hook.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield hook
    server.shutdown()
    server.server_close()


class Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        mail = message_from_bytes(envelope.content)
        self.messages.append({"to": envelope.rcpt_tos, "subject": mail["Subject"], "body": mail.get_payload()})
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def db(db_url: str, tmp_path: Path) -> str:
    folder = tmp_path / "crm"
    folder.mkdir()
    for name, text in {"terms.toml": TERMS, "owners.csv": OWNERS, "leads.csv": LEADS, "touches.csv": TOUCHES}.items():
        (folder / name).write_text(text)
    api.import_directory(storage.make_engine(db_url), folder)
    return db_url


def routes_env(hook: Webhook, smtp_port: int | None = None) -> dict[str, str]:
    env = {
        "SMARKETING_ALERTS_WEBHOOK": f"{hook.url}/default/{SECRET}",
        "SMARKETING_ALERTS_ESCALATION_WEBHOOK": f"{hook.url}/escalation/{SECRET}",
        "SMARKETING_ALERTS_PACE": "0",
        "SMARKETING_DASHBOARD_URL": "https://dash.example.com/",
    }
    if smtp_port:
        env |= {"SMARKETING_SMTP_HOST": "127.0.0.1", "SMARKETING_SMTP_PORT": str(smtp_port)}
        env |= {"SMARKETING_SMTP_SECURITY": "none", "SMARKETING_SMTP_FROM": "alerts@example.com"}
    return env


def settings_file(tmp_path: Path, hook: Webhook) -> str:
    path = tmp_path / "alerts.toml"
    path.write_text(
        f'[teams.East]\nwebhook = "{hook.url}/east/{SECRET}"\n\n[teams.West]\nmanager = "wes@example.com"\n'
    )
    return str(path)


def run(db: str, env: dict[str, str], as_of: pd.Timestamp = AS_OF, dry_run: bool = False) -> api.AlertRun:
    return api.run_alerts(storage.make_engine(db), as_of, dry_run=dry_run, settings=load_settings(env))


def by_key(records: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["lead_id"], r["kind"]): r for r in records}


def test_the_right_messages_reach_the_right_recipients(db, webhook, smtp, tmp_path) -> None:
    inbox, port = smtp
    env = routes_env(webhook, port) | {"SMARKETING_ALERTS_SETTINGS": settings_file(tmp_path, webhook)}
    result = run(db, env)
    records = by_key(result.records)
    assert set(records) == {
        ("L1", "first_touch_warning"),
        ("L2", "first_touch_breach"),
        ("L2", "escalation"),
        ("L4", "first_touch_breach"),
        ("L4", "escalation"),
    }
    assert records[("L1", "first_touch_warning")]["recipients"] == ["ana@example.com", "127.0.0.1 (team East)"]
    assert records[("L1", "first_touch_warning")]["trigger_at"] == "2026-05-05T11:00:00-04:00"
    assert records[("L2", "first_touch_breach")]["recipients"] == ["ben@example.com", "127.0.0.1", "wes@example.com"]
    assert records[("L2", "escalation")]["recipients"] == ["127.0.0.1 (escalation)"]
    assert {k: r["state"] for k, r in records.items()} == {
        ("L1", "first_touch_warning"): "sent",
        ("L2", "first_touch_breach"): "sent",
        ("L2", "escalation"): "sent",
        ("L4", "first_touch_breach"): "stale",
        ("L4", "escalation"): "stale",
    }
    # L3's deadline Mon 15:00 + 4 business h = Tue 11:00: breach and escalation, owner inactive.
    assert {(r["lead_id"], r["kind"]) for r in result.inactive} == {("L3", "first_touch_breach"), ("L3", "escalation")}

    posts = {p["path"].split("/")[1]: p["text"] for p in webhook.posts}
    assert sorted(posts) == ["default", "east", "escalation"]
    assert "First touch due soon — lead L1, owner Ana Avery: 0.5 business h left" in posts["east"]
    assert "https://dash.example.com/Lead_ledger?month=2026-05&amp;lead=L1" in posts["east"]
    assert "First touch overdue — lead L2, owner Ben Brook: 5.5 business h late" in posts["default"]  # 3 Mon + 2.5 Tue
    assert "Escalation: still untouched — lead L2" in posts["escalation"]
    assert all("L3" not in text and "L4" not in text for text in posts.values())

    mail = {m["to"][0]: m for m in inbox.messages}
    assert sorted(mail) == ["ana@example.com", "ben@example.com", "wes@example.com"]
    assert "lead L1" in mail["ana@example.com"]["body"] and "lead L2" not in mail["ana@example.com"]["body"]
    assert "lead L2" in mail["wes@example.com"]["body"]
    assert mail["ben@example.com"]["subject"].startswith("Follow-up alerts as of 2026-05-05 11:30 EDT")

    stored = json.dumps(alert_log_rows(storage.make_engine(db)), default=str)
    assert SECRET not in stored and "/default" not in stored
    assert SECRET not in json.dumps(result.records)


def test_a_second_run_at_the_same_instant_sends_nothing(db, webhook, smtp) -> None:
    env = routes_env(webhook, smtp[1])
    run(db, env)
    sent_posts, sent_mail = len(webhook.posts), len(smtp[0].messages)
    assert sent_posts and sent_mail
    again = run(db, env)
    assert again.records == []
    later = run(db, env, AS_OF + pd.Timedelta(minutes=5))
    assert later.records == []
    assert (len(webhook.posts), len(smtp[0].messages)) == (sent_posts, sent_mail)


def test_a_dry_run_lists_the_due_alerts_and_records_nothing(db, webhook) -> None:
    result = run(db, routes_env(webhook), dry_run=True)
    assert {r["state"] for r in result.records} == {"due", "stale"}
    assert by_key(result.records)[("L1", "first_touch_warning")]["recipients"] == ["127.0.0.1"]
    assert webhook.posts == [] and alert_log_rows(storage.make_engine(db)) == []


def test_a_webhook_answering_500_leaves_the_alert_failed_and_the_next_run_delivers_it(db, webhook, smtp) -> None:
    env = routes_env(webhook, smtp[1])
    webhook.status = 500
    first = by_key(run(db, env).records)
    assert first[("L2", "first_touch_breach")]["state"] == "failed"
    assert "127.0.0.1 refused the message with HTTP 500" in first[("L2", "first_touch_breach")]["error"]
    assert SECRET not in first[("L2", "first_touch_breach")]["error"]
    mails = len(smtp[0].messages)
    webhook.status, webhook.posts[:] = 200, []
    second = by_key(run(db, env).records)
    assert {k: r["state"] for k, r in second.items()} == {
        ("L1", "first_touch_warning"): "sent",
        ("L2", "first_touch_breach"): "sent",
        ("L2", "escalation"): "sent",
    }
    assert len(smtp[0].messages) == mails  # the e-mails had gone through: not sent twice
    assert sorted(p["path"].split("/")[1] for p in webhook.posts) == ["default", "escalation"]


def test_a_run_while_another_is_sending_sends_nothing(db, webhook) -> None:
    engine = storage.make_engine(db)
    with run_lock(engine):
        with pytest.raises(UserError, match="Another alerts run is still sending"):
            run(db, routes_env(webhook))
    assert webhook.posts == []
    assert {r["state"] for r in run(db, routes_env(webhook)).records} == {"sent", "stale"}


def test_without_any_route_a_real_run_is_refused_in_one_sentence(db) -> None:
    proc = _cli(db, {}, "alerts", "--as-of", AS_OF.isoformat())
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: No alert route is configured; set SMARKETING_ALERTS_WEBHOOK")


def _cli(db: str, env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SMARKETING_")} | env | {"SMARKETING_DB": db}
    return subprocess.run(
        [sys.executable, "-m", "smarketing", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_cli_json_has_the_documented_shape_and_names_the_inactive_owner(db, webhook) -> None:
    proc = _cli(db, routes_env(webhook), "alerts", "--as-of", AS_OF.isoformat(), "--dry-run", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert {"lead_id", "owner_id", "kind", "trigger_at", "recipients", "state"} <= set(records[0])
    assert "owner is inactive (o3)" in proc.stderr


def test_a_run_killed_midway_then_rerun_delivers_everything_with_at_most_one_duplicate(db, webhook, tmp_path) -> None:
    env = routes_env(webhook) | {"SMARKETING_ALERTS_SETTINGS": settings_file(tmp_path, webhook)}
    webhook.stall_on = 2
    full = {k: v for k, v in os.environ.items() if not k.startswith("SMARKETING_")} | env | {"SMARKETING_DB": db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "smarketing", "alerts", "--as-of", AS_OF.isoformat()],
        cwd=ROOT,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(webhook.posts) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(webhook.posts) == 2, "the run reached its second message"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    webhook.stall_on = None
    rerun = _cli(db, env, "alerts", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert rerun.returncode == 0, rerun.stderr
    messages = [(p["path"].split("/")[1], line) for p in webhook.posts for line in p["text"].splitlines()[1:]]
    expected = {
        ("east", "L1"),
        ("default", "L2"),
        ("escalation", "L2"),
    }
    got = [(route, line.split("lead ")[1].split(",")[0]) for route, line in messages]
    assert set(got) == expected
    assert len(got) - len(set(got)) <= 1
    rows = {(r["lead_id"], r["kind"]): r["state"] for r in alert_log_rows(storage.make_engine(db))}
    assert rows[("L1", "first_touch_warning")] == rows[("L2", "first_touch_breach")] == "sent"


def test_the_every_loop_survives_a_failed_round_and_stops_on_sigterm(db) -> None:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SMARKETING_")}
    full |= {"SMARKETING_DB": db, "SMARKETING_ALERTS_WEBHOOK": "http://127.0.0.1:9/x", "SMARKETING_ALERTS_PACE": "x"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "smarketing", "alerts", "--every", "0.2s"],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert err.count("error: The alert pace (seconds) must be a number, not 'x'.") >= 2
    assert err.rstrip().endswith("Stopped.")


# -- settings --------------------------------------------------------------------------------------


def test_settings_come_from_the_environment_over_the_file_and_label_webhooks_by_host(tmp_path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(
        'webhook = "https://file.example.com/x/secret"\ndashboard_url = "https://dash.example.com/"\n'
        '[teams.East]\nwebhook = "https://east.example.com/hook/secret"\nmanager = "mia@example.com"\n'
        '[smtp]\nhost = "smtp.example.com"\nport = 465\npassword = "hunter2"\n'
    )
    env = {"SMARKETING_ALERTS_SETTINGS": str(path), "SMARKETING_ALERTS_WEBHOOK": "https://env.example.com/y/secret"}
    settings = load_settings(env)
    assert settings.routing.default_webhook.label == "env.example.com"
    assert settings.routing.team_webhooks["East"].label == "east.example.com (team East)"
    assert settings.routing.managers == {"East": "mia@example.com"}
    assert settings.smtp.security == "ssl" and settings.dashboard_url == "https://dash.example.com"
    assert "hunter2" not in repr(settings.smtp)


@pytest.mark.parametrize(
    "env, words",
    [
        ({"SMARKETING_ALERTS_WEBHOOK": "hooks.example.com/secret"}, "The default alert webhook must be an http://"),
        ({"SMARKETING_SMTP_HOST": "m", "SMARKETING_SMTP_SECURITY": "tls"}, 'must be "starttls", "ssl" or "none"'),
        ({"SMARKETING_ALERTS_SETTINGS": "/nonexistent/alerts.toml"}, "Cannot read the alert settings file"),
    ],
)
def test_a_bad_setting_is_one_sentence(env, words) -> None:
    with pytest.raises(UserError, match=re.escape(words)):
        load_settings(env)
    assert "secret" not in words


def test_a_message_lists_fifty_leads_and_counts_the_rest() -> None:
    alert = {
        "kind": "first_touch_breach",
        "owner_name": "Ana <!channel>\nAvery",
        "hours_left": -2.25,
        "deadline": AS_OF,
        "month": "2026-05",
    }
    text = message_text([{**alert, "lead_id": f"L{i}"} for i in range(51)], "America/New_York", None, AS_OF)
    lines = text.splitlines()
    assert lines[0] == "Follow-up alerts as of 2026-05-05 11:30 EDT: 51 lead alerts"
    assert lines[1] == (
        "• First touch overdue — lead L0, owner Ana <!channel> Avery: 2.2 business h late (deadline 2026-05-05 11:30 EDT)"
    )
    assert len(lines) == 52 and lines[-1].startswith("…and 1 more")
