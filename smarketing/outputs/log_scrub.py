"""One logging filter for the whole process: every registered secret is masked in each record's
message, arguments, exception and stack text before any handler writes it (the masking is
core.redact's). The CLI installs it first thing, the dashboard on every page run."""

from __future__ import annotations

import logging

from smarketing.core.redact import scrub


class ScrubSecrets(logging.Filter):
    """Rewrites a record in place: its message rendered with its arguments and scrubbed, its
    exception and stack as scrubbed text (the raw exception is dropped, so no handler formats it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: keep both, as text
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


FILTER = ScrubSecrets()


def install() -> None:
    """Put the filter on every handler there is: the root logger's, logging's last resort (what prints
    a warning when nothing is configured) and each logger's own (Streamlit's loggers have their own
    handlers and do not propagate). Idempotent, so it can run on every page run and catch new handlers."""
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.extend(logger.handlers)
    for handler in handlers:
        if handler is not None and FILTER not in handler.filters:
            handler.addFilter(FILTER)
