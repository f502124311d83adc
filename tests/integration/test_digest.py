"""Review reminders: the digest text on the hand-checked sample, and posting it to a real local
HTTP server (Slack/Teams-style incoming webhook).

The sample's March 2026 (see test_cli.py): quota 6, 4 MQLs; first touch L1 met, L2 breached
(8.0 h), L3 breached (4.5 h), L4 met; attempts L1 met (converted), L2 breached, L3 met, L4
breached. Owners: Avery Stone (East) has L1 and L3, Blake Rivera (West) has L2 and L4.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from smarketing import api
from smarketing.cli import main
from smarketing.core.errors import UserError
from smarketing.outputs.digest import (
    WEBHOOK_ENV,
    digest_text,
    post_digest,
    slack_escape,
    worst_reps,
)
from smarketing.store import storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-04-30T12:00:00-04:00"
SECRET_PATH = "/services/T000/B000/XXXXSECRETXXXX?token=abc123"

# Consequences, hand-checked: March is the sample's first month with an MQL. Scores: quota 4/6 = 0.667,
# first touch 0.5/0.9 = 0.556, attempts 0.5/0.8 = 0.625; sales (0.556 + 0.625)/2 = 0.590; overall
# (0.667 + 0.556 + 0.625)/3 = 0.616. Each miss adds 1 credit.
EXPECTED = """\
SLA digest — March 2026 (live, as of 2026-04-30 12:00 EDT)
Marketing: Missed — 4 of 6 MQLs (67% of quota).
Sales first touch: Missed — 50.0% touched in time vs 90% target (2 breached, 0 pending).
Sales attempts: Missed — 50.0% reached 3 attempts vs 80% target (2 breached, 0 pending).
Weighted score: marketing 66.7%, sales 59.0%, overall 61.6%.
Credits owed: Marketing · MQL quota 1 (missed in March: +1); Sales · first touch 1 (missed in March: +1); \
Sales · attempts 1 (missed in March: +1).
No rep has 5 or more leads with a decided first touch yet.
Overdue leads (no touch, deadline passed): 0."""


@dataclass
class Webhook:
    """A local HTTP server that records what is posted and answers with `status`."""

    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if hook.delay:
                time.sleep(hook.delay)
            reply = b"ok" if hook.status < 400 else b"invalid_token"
            try:
                self.send_response(hook.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield hook
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    api.import_directory(storage.make_engine(url), SAMPLE)
    return url


def as_of(text: str = AS_OF) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


# -- the text -----------------------------------------------------------------------------------------


def test_digest_text_of_the_sample_month(db: str) -> None:
    assert api.month_digest(storage.make_engine(db), "2026-03", as_of()) == EXPECTED


def test_worst_reps_with_a_lower_threshold(db: str) -> None:
    engine = storage.make_engine(db)
    card = api.scorecard(engine, "2026-03", as_of())
    ledger, _ = api.ledger(engine, "2026-03", as_of())
    text = digest_text(card, ledger, min_leads=2)
    assert "Lowest first-touch compliance (2+ leads):\n" in text
    # Both at 1 of 2; ties go to more breaches, then the name.
    assert (
        "  1. Avery Stone (East): 50.0% of 2 leads, 1 breached\n  2. Blake Rivera (West): 50.0% of 2 leads, 1 breached"
        in text
    )
    assert "<" not in text and "&" not in text  # plain text, no markup


def test_overdue_counts_untouched_leads_past_their_deadline(db: str) -> None:
    engine = storage.make_engine(db)
    # Mon 03-09 12:30 EDT: L2 (deadline 13:00) and L3 (deadline 13:00) are untouched but still in time.
    text = api.month_digest(engine, "2026-03", as_of("2026-03-09T12:30:00-04:00"))
    assert "Overdue leads (no touch, deadline passed): 0; 2 more untouched with the deadline still running." in text
    assert "Marketing: At risk" in text or "Marketing: Behind" in text or "Marketing: On track" in text
    # 14:00: L2's deadline passed with no touch (overdue); L3 was touched late at 13:30 (breached, not overdue).
    text = api.month_digest(engine, "2026-03", as_of("2026-03-09T14:00:00-04:00"))
    assert "Overdue leads (no touch, deadline passed): 1." in text


def test_a_closed_month_digest_comes_from_its_snapshot(db: str) -> None:
    engine = storage.make_engine(db)
    card = api.scorecard(engine, "2026-03", as_of())
    card["marketing"] = {**card["marketing"], "mqls": 5, "attainment": 5 / 6}
    storage.save_snapshot(engine, "2026-03", card, as_of=as_of(), closed_by="tester", terms_version_id=None)
    text = api.month_digest(engine, "2026-03", as_of("2026-06-01T12:00:00-04:00"))
    assert text.startswith("SLA digest — March 2026 (closed, as of 2026-04-30 12:00 EDT)")
    assert "Marketing: Missed — 5 of 6 MQLs (83% of quota)." in text


def test_crm_names_stay_one_line_of_text() -> None:
    card = {
        "month": "2026-03",
        "as_of": "2026-03-20T12:00:00-04:00",
        "timezone": "America/New_York",
        "month_over": False,
        "marketing": {
            "mqls": 10,
            "quota": 20,
            "attainment": 0.5,
            "projected": 19.0,
            "required_daily_rate": 0.9,
            "status": "at_risk",
        },
        "sales": {
            "first_touch": {
                "met": 8,
                "breached": 2,
                "pending": 0,
                "compliance": 0.8,
                "target": 0.9,
                "status": "behind",
                "budget_left": -1,
            },
            "attempts": {
                "met": 0,
                "breached": 0,
                "pending": 10,
                "compliance": None,
                "target": 0.8,
                "status": "on_track",
                "budget_left": 2,
                "min_attempts": 5,
            },
            "by_owner": [
                {
                    "owner_id": "a",
                    "name": "<!channel> & co\nline two",
                    "team": "East",
                    "leads": 6,
                    "first_touch_compliance": 0.5,
                    "first_touch_breached": 3,
                },
                {
                    "owner_id": None,
                    "name": "Unassigned",
                    "leads": 9,
                    "first_touch_compliance": 0.0,
                    "first_touch_breached": 9,
                },
                {
                    "owner_id": "b",
                    "name": "Few Leads",
                    "leads": 2,
                    "first_touch_compliance": 0.0,
                    "first_touch_breached": 2,
                },
            ],
        },
    }
    text = digest_text(card, None)
    assert "  1. <!channel> & co line two (East): 50.0% of 6 leads, 3 breached" in text
    assert "Unassigned" not in text and "Few Leads" not in text
    assert "Marketing: At risk — 10 of 20 MQLs (50% of quota), projected 19 by month end, 0.9 a day needed." in text
    assert "Sales attempts: On track — — reached 5 attempts vs 80% target (0 breached, 10 pending; 2 more" in text
    # 10 pending, budget 2 → 10 − 2 = 8 of them must still be met (computed for a card without the key).
    assert "10 pending; 2 more breaches allowed). 10 leads still inside their window; 8 of them must be met" in text
    assert "Overdue" not in text  # no ledger given
    assert [r["owner_id"] for r in worst_reps(card["sales"]["by_owner"], min_leads=1)] == ["b", "a"]
    assert slack_escape(text).count("&lt;!channel&gt; &amp; co") == 1


# -- posting ------------------------------------------------------------------------------------------


def test_cli_posts_the_digest_to_the_webhook(db: str, webhook: Webhook, capsys) -> None:
    url = webhook.url + SECRET_PATH
    assert main(["--db", db, "digest", "--month", "2026-03", "--as-of", AS_OF, "--webhook", url]) == 0
    assert capsys.readouterr().out.strip() == "Digest for 2026-03 posted to 127.0.0.1."
    (request,) = webhook.requests
    assert request["path"] == SECRET_PATH
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(request["body"]) == {"text": EXPECTED}


def test_the_webhook_can_come_from_the_environment(db: str, webhook: Webhook, monkeypatch, capsys) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url + "/hook")
    assert main(["--db", db, "digest", "--month", "2026-03", "--as-of", AS_OF]) == 0
    assert len(webhook.requests) == 1 and webhook.requests[0]["path"] == "/hook"
    capsys.readouterr()
    assert main(["--db", db, "digest", "--month", "2026-03", "--as-of", AS_OF, "--no-post"]) == 0
    assert capsys.readouterr().out.strip() == EXPECTED
    assert len(webhook.requests) == 1


def test_without_a_webhook_the_digest_is_printed(db: str, capsys) -> None:
    assert main(["--db", db, "digest", "--month", "2026-03", "--as-of", AS_OF]) == 0
    assert capsys.readouterr().out.strip() == EXPECTED


def test_markup_in_crm_text_is_escaped_when_posted(webhook: Webhook) -> None:
    assert post_digest("Rep <!channel> & <http://x|y>", webhook.url + "/hook") == 200
    assert json.loads(webhook.requests[0]["body"])["text"] == "Rep &lt;!channel&gt; &amp; &lt;http://x|y&gt;"


def test_a_refusing_webhook_names_only_its_host(db: str, webhook: Webhook, capsys) -> None:
    webhook.status = 403
    with pytest.raises(UserError) as err:
        post_digest("hello", webhook.url + SECRET_PATH)
    message = str(err.value)
    assert message == "The digest webhook at 127.0.0.1 refused the message with HTTP 403."
    assert (
        main(["--db", db, "digest", "--month", "2026-03", "--as-of", AS_OF, "--webhook", webhook.url + SECRET_PATH])
        == 2
    )
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert err_lines == ["error: The digest webhook at 127.0.0.1 refused the message with HTTP 403."]


def test_a_slow_webhook_times_out(webhook: Webhook) -> None:
    webhook.delay = 2.0
    with pytest.raises(UserError, match=r"^The digest webhook at 127\.0\.0\.1 did not answer within 0\.5 seconds\.$"):
        post_digest("hello", webhook.url + SECRET_PATH, timeout=0.5)


def test_an_unreachable_webhook_is_one_sentence(webhook: Webhook) -> None:
    port = webhook.url.rsplit(":", 1)[1]
    with pytest.raises(UserError) as err:
        post_digest("hello", f"http://127.0.0.1:1{SECRET_PATH}")
    message = str(err.value)
    assert message.startswith("Cannot reach the digest webhook at 127.0.0.1: ") and message.endswith(".")
    assert "SECRET" not in message and "token" not in message and port not in message


@pytest.mark.parametrize("url", ["ftp://example.com/x", "hooks.slack.com/services/x", "http:///nohost", ""])
def test_a_webhook_must_be_an_http_url(url: str) -> None:
    with pytest.raises(UserError, match="must be an http:// or https:// URL"):
        post_digest("hello", url)
