"""Issue 18: database passwords (URL user info, ?password=, odd characters, from --db or the
environment) never reach stdout, stderr or a message; uploads never show a traceback or a
server path."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from smarketing.core.redact import register_secret, scrub
from smarketing.store import storage
from smarketing.ui import actions

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
URLS = {
    "user info": ("postgresql+psycopg://admin:hunter2-Secret@127.0.0.1:1/x", "hunter2-Secret"),
    "query string": ("postgresql+psycopg://admin@127.0.0.1:1/x?password=Qu3ry-Secret", "Qu3ry-Secret"),
    "odd characters": ("postgresql://admin:p%40ss%0Aw%20rd-Secret@127.0.0.1:1/x", "p@ss\nw rd-Secret"),
    "unsupported driver": ("mysql://root:MySQL-Secret@127.0.0.1/x?password=Other-Secret", "MySQL-Secret"),
    "not a URL": ("admin:Broken-Secret@@::", "Broken-Secret"),
}


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "smarketing", *argv], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("case", list(URLS))
def test_a_database_password_never_reaches_the_terminal(case: str) -> None:
    url, password = URLS[case]
    for done in (
        cli("--db", url, "scorecard", "--month", "2026-03"),
        cli("scorecard", "--month", "2026-03", env={"SMARKETING_DB": url}),
    ):
        assert done.returncode == 2 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
        for piece in {password, *password.split()}:
            assert piece not in done.stdout + done.stderr, done.stderr
        assert "Other-Secret" not in done.stderr


@pytest.mark.parametrize("case", list(URLS))
def test_mask_url_hides_the_password_in_every_form(case: str) -> None:
    url, password = URLS[case]
    shown = storage.mask_url(url)
    assert password not in shown and "Other-Secret" not in shown and "Qu3ry-Secret" not in shown


def test_scrub_hides_a_registered_secret_as_repr_bytes_and_url_print_it() -> None:
    secret = "tok/en+with\nbreak"
    register_secret(secret)
    for shown in (secret, repr(secret), repr(secret.encode()), "tok%2Fen%2Bwith%0Abreak"):
        assert "tok" not in scrub(f"before {shown} after").replace("***", ""), shown


@dataclass
class Upload:
    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


@pytest.mark.parametrize(
    "files",
    [
        [Upload("leads.csv", os.urandom(512))],
        [Upload("leads.xlsx", b"lead_id,segment\nL1,A\n")],
        [Upload("leads.xlsx", b"PK\x03\x04" + os.urandom(100))],
        [Upload("leads.csv", b"lead_id,mql_at\nL1,9999-01-01\n")],
        [Upload("leads.csv", b"lead_id\nL1\n"), Upload("terms.toml", b"timezone = 'Z\xfcrich'\n")],
        [Upload("leads.csv", b"lead_id\nL1\n"), Upload("terms.toml", b"[calendar\n")],
    ],
)
def test_an_upload_is_refused_in_sentences_without_a_traceback_or_a_server_path(sqlite_url: str, files) -> None:
    engine = storage.make_engine(sqlite_url)
    outcome = actions.import_uploads(engine, files)
    assert not outcome.ok and outcome.problems
    text = " ".join(outcome.problems)
    assert "Traceback" not in text and "/tmp" not in text and str(ROOT) not in text
    assert storage.data_counts(engine)["leads"] == 0
