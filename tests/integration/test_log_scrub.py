"""Issue 18: one logging filter masks every registered secret in any log record (message, arguments,
exception traceback, stack), on the root logger's handlers, logging's last resort and Streamlit's
own loggers; the CLI installs it before any command runs."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smarketing.core.redact import register_secret
from smarketing.outputs import log_scrub

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# A line break, quotes, a backslash, a percent sign, non-ASCII and URL-ish characters.
SECRET = "Tok3n-first-line\nsecond-line:ü%s&'\"\\x=1"
LINES = SECRET.split("\n")


def leaked(text: str) -> list[str]:
    """The pieces of the secret that appear in the text."""
    return [piece for piece in (SECRET, *LINES, repr(SECRET)[1:-1]) if piece in text]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A handler on the root logger writing to a buffer, with the filter installed as the app does."""
    register_secret(SECRET)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    log_scrub.install()
    yield out
    root.removeHandler(handler)


def log_everything(log: logging.Logger) -> None:
    """The secret as the message, as an argument, in an exception's traceback and with a stack."""
    log.warning("token in the message: " + SECRET)
    log.warning("token as an argument: %s / %r", SECRET, SECRET)
    try:
        raise RuntimeError(f"HubSpot refused {SECRET!r}: {SECRET}")
    except RuntimeError:
        log.exception("sync failed")
    log.error("with the stack %s", SECRET, stack_info=True)


def test_a_registered_secret_is_masked_in_message_args_and_traceback(captured: io.StringIO) -> None:
    log_everything(logging.getLogger("smarketing.probe"))
    text = captured.getvalue()
    assert "Traceback (most recent call last)" in text and "RuntimeError: HubSpot refused" in text
    assert "token as an argument: *** / '***'" in text and "Stack (most recent call last)" in text
    assert text.count("***") >= 6
    assert not leaked(text), text


def test_without_the_filter_the_same_records_would_leak() -> None:
    """The probe shows the secret through a handler without the filter (so the test above can fail)."""
    register_secret(SECRET)
    out = io.StringIO()
    log = logging.getLogger("smarketing.unfiltered_probe")
    log.propagate = False
    log.addHandler(logging.StreamHandler(out))
    try:
        log_everything(log)
    finally:
        log.handlers.clear()
    assert leaked(out.getvalue())


def test_streamlit_loggers_with_their_own_handlers_are_masked(captured: io.StringIO) -> None:
    from streamlit.logger import get_logger

    log = get_logger("streamlit.smarketing_probe")  # its own handler, no propagation
    out = io.StringIO()
    log.streamlit_console_handler.setStream(out)
    log_scrub.install()
    log_everything(log)
    assert "sync failed" in out.getvalue()
    assert not leaked(out.getvalue()), out.getvalue()


def test_installing_twice_adds_the_filter_once(captured: io.StringIO) -> None:
    log_scrub.install()
    log_scrub.install()
    handler = logging.getLogger().handlers[-1]
    assert handler.filters.count(log_scrub.FILTER) == 1


def test_a_message_whose_arguments_do_not_fit_is_still_masked(captured: io.StringIO) -> None:
    logging.getLogger("smarketing.probe").warning("two %s %s but one", SECRET)
    assert "two" in captured.getvalue() and not leaked(captured.getvalue())


PROBE = """
import logging, sys
from smarketing import cli
from smarketing.core.redact import register_secret

secret = sys.stdin.read()
register_secret(secret)
real = cli.COMMANDS["terms"]

def leaky(args):
    log = logging.getLogger("smarketing.probe")
    log.warning("token in the message " + secret)
    log.warning("token as an argument %s", secret)
    try:
        raise RuntimeError(f"refused {secret!r}")
    except RuntimeError:
        log.exception("sync failed")
    return real(args)

cli.COMMANDS["terms"] = leaky
sys.exit(cli.main(sys.argv[1:]))
"""


def test_the_cli_masks_what_any_module_logs(tmp_path: Path) -> None:
    """python -m smarketing's entry (cli.main) installs the filter: logging's last resort prints
    warnings to stderr with the secret masked, and the command still runs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SMARKETING_DB": f"sqlite:///{tmp_path / 'probe.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "terms", "export"],
        input=SECRET,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "token in the message ***" in done.stderr and "RuntimeError: refused" in done.stderr
    assert done.stdout.strip(), "the real command ran and printed the terms"
    assert not leaked(done.stdout + done.stderr), done.stderr
