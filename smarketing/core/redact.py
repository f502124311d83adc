"""The one registry of secrets and the one function that hides them from any text we show.

Sources register a secret (a HubSpot token, a database password) when they read it; every
message, log line and traceback that leaves the program goes through `scrub`.
"""

from __future__ import annotations

import re
from typing import Any

_SECRETS: set[str] = set()
MIN_PIECE = 8
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bpat-[a-z0-9]+-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(access_token=)[^&\s'\"]+"),
    re.compile(r"(?i)(password=)[^&\s'\"]+?(?=$|[&\s'\"]|:(?:\s|$))"),
    re.compile(r"(?i)(://[^/@:\s]*:)[^@/\s]+(?=@)"),
)


def register_secret(value: str | None) -> None:
    """Remember a secret so that scrub() hides it wherever it would be shown: as it is, as
    repr(), bytes and URLs print it, and each of its lines (a traceback may show one line)."""
    if not value or len(value) < 4:
        return
    forms = {value, repr(value)[1:-1], repr(value.encode("utf-8", "backslashreplace"))[2:-1], _percent_encoded(value)}
    _SECRETS.update(form for form in forms if len(form) >= 4)
    # Pieces only when long enough not to hide ordinary words ("pat-na1") in every message.
    _SECRETS.update(piece for piece in value.split() if len(piece) >= MIN_PIECE)


def _percent_encoded(value: str) -> str:
    """The value as a URL carries it (every byte but unreserved ones as %XX)."""
    unreserved = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return "".join(chr(b) if b in unreserved else f"%{b:02X}" for b in value.encode("utf-8"))


def scrub(text: Any) -> str:
    """The text with every registered secret and anything shaped like a token or password replaced by ***."""
    out = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        out = out.replace(secret, "***")
    for pattern in _PATTERNS:
        out = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", out)
    return out
