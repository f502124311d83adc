"""HubSpot sync settings: where they come from, what they mean, and the secret they hold.

Environment variables (the Streamlit secrets table `[hubspot]` may hold the same keys in
lower case without the prefix, for example `access_token`; the environment wins):

| variable | meaning | default |
|---|---|---|
| HUBSPOT_ACCESS_TOKEN | private-app access token (required) | — |
| HUBSPOT_API_BASE | API base URL | https://api.hubapi.com |
| HUBSPOT_SEGMENT_PROPERTY | contact property holding the segment (empty: segment `all`) | — |
| HUBSPOT_ACTIVITY_TYPES | activity objects to pull, comma separated (calls, emails, meetings, notes, tasks, communications) | calls,emails,meetings,notes,tasks |
| HUBSPOT_DISQUALIFIED_PROPERTY | contact date property that holds leads.disqualified_at | — |
| HUBSPOT_LEAD_STATUS_PROPERTY | contact property whose history gives accepted_at / rejected_at (`none`: not read) | hs_lead_status |
| HUBSPOT_ACCEPTED_STATUSES | its values that mean sales accepted the lead, comma separated | OPEN,IN_PROGRESS,CONNECTED,OPEN_DEAL |
| HUBSPOT_REJECTED_STATUSES | its values that mean sales rejected the lead | UNQUALIFIED |
| HUBSPOT_REJECTION_REASON_PROPERTY | contact property holding the rejection reason | — |
| HUBSPOT_ACCEPTANCE_SOURCE | where accepted_at / rejected_at / rejection_reason come from: `contact_property` (the lead-status history above) or `leads_object` (HubSpot's Leads object, below; the four lead-status settings above are then not read) | contact_property |
| HUBSPOT_LEAD_ACCEPTED_STAGES | with `leads_object`: lead pipeline stages (`hs_pipeline_stage` ids) that mean sales accepted the lead, comma separated | attempting-stage-id,connected-stage-id,qualified-stage-id |
| HUBSPOT_LEAD_REJECTED_STAGES | with `leads_object`: lead pipeline stages that mean sales rejected it | unqualified-stage-id |
| HUBSPOT_LEAD_REASON_PROPERTY | with `leads_object`: lead property holding the rejection reason (`none`: no reason) | hs_lead_disqualification_reason |
| HUBSPOT_AUTOMATED_SOURCES | `hs_engagement_source` values that make a touch automated | AUTOMATION_PLATFORM,WORKFLOWS,PRIMARY_AUTOMATION,AUTOMATION_JOURNEY,SEQUENCES,BOT |
| HUBSPOT_RATE_LIMIT | requests per seconds, all endpoints (`N/S`) | 100/10 |
| HUBSPOT_SEARCH_RATE_LIMIT | search requests per seconds (`N/S`) | 5/1 |
| HUBSPOT_TIMEOUT | connect and read timeout of every call, seconds | 10 and 60 (`10,60`) |
| HUBSPOT_MAX_RETRIES | retries of one call on 429, 5xx and connection errors | 6 |
| HUBSPOT_BATCH_ROWS | records per committed batch | 1000 |
| HUBSPOT_OVERLAP_SECONDS | how far before the stored cursor each run starts reading | 300 |
| HUBSPOT_PARALLEL_TYPES | object types synced side by side | 3 |

Private-app scopes the sync needs (HubSpot: Settings → Integrations → Private apps →
Scopes): `crm.objects.owners.read` (owners and teams), `crm.objects.contacts.read`
(contacts, and calls, meetings, notes, tasks and communications, which HubSpot files
under contacts), `crm.objects.deals.read` (deals and their pipelines), `sales-email-read`
(the emails activity object), and with HUBSPOT_ACCEPTANCE_SOURCE=leads_object also
`crm.objects.leads.read` (the Leads object). A missing scope stops the sync with a sentence
naming it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from smarketing.core.errors import UserError
from smarketing.core.redact import register_secret, scrub

DEFAULT_API_BASE = "https://api.hubapi.com"
ACTIVITY_TYPES = ("calls", "emails", "meetings", "notes", "tasks", "communications")
DEFAULT_ACTIVITY_TYPES = ("calls", "emails", "meetings", "notes", "tasks")
DEFAULT_LEAD_STATUS_PROPERTY = "hs_lead_status"
DEFAULT_ACCEPTED_STATUSES = ("OPEN", "IN_PROGRESS", "CONNECTED", "OPEN_DEAL")
DEFAULT_REJECTED_STATUSES = ("UNQUALIFIED",)
ACCEPTANCE_SOURCES = ("contact_property", "leads_object")
# HubSpot's default lead pipeline: new, attempting, connected, qualified, unqualified. A rep
# who attempts or connects is working the lead (like the OPEN / IN_PROGRESS / CONNECTED
# lead statuses), so those stages accept it; unqualified rejects it.
DEFAULT_LEAD_ACCEPTED_STAGES = ("attempting-stage-id", "connected-stage-id", "qualified-stage-id")
DEFAULT_LEAD_REJECTED_STAGES = ("unqualified-stage-id",)
DEFAULT_LEAD_REASON_PROPERTY = "hs_lead_disqualification_reason"
DEFAULT_AUTOMATED_SOURCES = (
    "AUTOMATION_PLATFORM",
    "WORKFLOWS",
    "PRIMARY_AUTOMATION",
    "AUTOMATION_JOURNEY",
    "SEQUENCES",
    "BOT",
)

# The scope each object type needs, for explaining a 403.
SCOPES: dict[str, str] = {
    "owners": "crm.objects.owners.read",
    "contacts": "crm.objects.contacts.read",
    "deals": "crm.objects.deals.read",
    "pipelines": "crm.objects.deals.read",
    "calls": "crm.objects.contacts.read",
    "meetings": "crm.objects.contacts.read",
    "notes": "crm.objects.contacts.read",
    "tasks": "crm.objects.contacts.read",
    "communications": "crm.objects.contacts.read",
    "emails": "sales-email-read",
    "leads": "crm.objects.leads.read",
}
REQUIRED_SCOPES = ("crm.objects.owners.read", "crm.objects.contacts.read", "crm.objects.deals.read", "sales-email-read")

# A private-app token is printable ASCII without spaces; anything else would end in an HTTP header.
_TOKEN_TEXT = re.compile(r"[!-~]+")


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` requests in any `seconds` seconds."""

    requests: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def __str__(self) -> str:
        return f"{self.requests}/{self.seconds:g}"


@dataclass(frozen=True)
class HubSpotSettings:
    """Everything a HubSpot sync needs; the token is never shown (repr hides it)."""

    access_token: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    segment_property: str | None = None
    activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES
    disqualified_property: str | None = None
    lead_status_property: str | None = DEFAULT_LEAD_STATUS_PROPERTY
    accepted_statuses: tuple[str, ...] = DEFAULT_ACCEPTED_STATUSES
    rejected_statuses: tuple[str, ...] = DEFAULT_REJECTED_STATUSES
    rejection_reason_property: str | None = None
    acceptance_source: str = "contact_property"
    lead_accepted_stages: tuple[str, ...] = DEFAULT_LEAD_ACCEPTED_STAGES
    lead_rejected_stages: tuple[str, ...] = DEFAULT_LEAD_REJECTED_STAGES
    lead_reason_property: str | None = DEFAULT_LEAD_REASON_PROPERTY
    automated_sources: tuple[str, ...] = DEFAULT_AUTOMATED_SOURCES
    rate_limit: RateLimit = RateLimit(100, 10.0)
    search_rate_limit: RateLimit = RateLimit(5, 1.0)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 6
    backoff_factor: float = 0.5
    batch_rows: int = 1000
    overlap_seconds: float = 300.0
    list_page_size: int = 100
    search_page_size: int = 200
    parallel_types: int = 3

    def __post_init__(self) -> None:
        register_secret(self.access_token)
        if self.acceptance_source not in ACCEPTANCE_SOURCES:
            raise UserError(_bad_acceptance_source(self.acceptance_source))

    @property
    def leads_object(self) -> bool:
        """accepted_at / rejected_at / rejection_reason come from HubSpot's Leads object."""
        return self.acceptance_source == "leads_object"

    def with_(self, **changes: Any) -> HubSpotSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def settings_from_env(
    env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> HubSpotSettings:
    """Settings from HUBSPOT_* variables, falling back to a Streamlit `[hubspot]` secrets table."""
    env = os.environ if env is None else env
    secrets = dict(secrets or {})

    def get(name: str) -> str | None:
        value = env.get(f"HUBSPOT_{name.upper()}")
        if value is None or not str(value).strip():
            value = secrets.get(name.lower())
        return None if value is None or not str(value).strip() else str(value).strip()

    token = get("access_token")
    if not token:
        raise UserError(
            "Set HUBSPOT_ACCESS_TOKEN to a HubSpot private-app access token (or access_token in the "
            "[hubspot] table of the Streamlit secrets) before syncing."
        )
    register_secret(token)
    if not _TOKEN_TEXT.fullmatch(token):
        raise UserError(
            f"The HubSpot access token ({len(token)} characters, not shown) holds a line break, a space or another "
            "character a token cannot have; copy it again as one line from HubSpot's private app settings."
        )
    base = (get("api_base") or DEFAULT_API_BASE).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base):
        raise UserError(f"HUBSPOT_API_BASE '{scrub(base)}' is not an http(s) URL such as {DEFAULT_API_BASE}.")
    types = _activity_types(get("activity_types"))
    connect, read = _timeouts(get("timeout"))
    return HubSpotSettings(
        access_token=token,
        api_base=base,
        segment_property=get("segment_property"),
        activity_types=types,
        disqualified_property=get("disqualified_property"),
        lead_status_property=_optional_name(get("lead_status_property"), DEFAULT_LEAD_STATUS_PROPERTY),
        accepted_statuses=_names(get("accepted_statuses") or ",".join(DEFAULT_ACCEPTED_STATUSES)),
        rejected_statuses=_names(get("rejected_statuses") or ",".join(DEFAULT_REJECTED_STATUSES)),
        rejection_reason_property=get("rejection_reason_property"),
        acceptance_source=_acceptance_source(get("acceptance_source")),
        lead_accepted_stages=_names(get("lead_accepted_stages") or ",".join(DEFAULT_LEAD_ACCEPTED_STAGES)),
        lead_rejected_stages=_names(get("lead_rejected_stages") or ",".join(DEFAULT_LEAD_REJECTED_STAGES)),
        lead_reason_property=_optional_name(get("lead_reason_property"), DEFAULT_LEAD_REASON_PROPERTY),
        automated_sources=_names(get("automated_sources")) if get("automated_sources") else DEFAULT_AUTOMATED_SOURCES,
        rate_limit=_rate(get("rate_limit"), "HUBSPOT_RATE_LIMIT", RateLimit(100, 10.0)),
        search_rate_limit=_rate(get("search_rate_limit"), "HUBSPOT_SEARCH_RATE_LIMIT", RateLimit(5, 1.0)),
        connect_timeout=connect,
        read_timeout=read,
        max_retries=_int(get("max_retries"), "HUBSPOT_MAX_RETRIES", 6, 0, 20),
        batch_rows=_int(get("batch_rows"), "HUBSPOT_BATCH_ROWS", 1000, 1, 100_000),
        overlap_seconds=float(_int(get("overlap_seconds"), "HUBSPOT_OVERLAP_SECONDS", 300, 0, 7 * 86400)),
        parallel_types=_int(get("parallel_types"), "HUBSPOT_PARALLEL_TYPES", 3, 1, 8),
    )


def _optional_name(text: str | None, default: str) -> str | None:
    """A property name; unset gives the default, `none` turns the feature off."""
    if text is None:
        return default
    return None if text.lower() == "none" else text


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))


def _activity_types(text: str | None) -> tuple[str, ...]:
    if text is None:
        return DEFAULT_ACTIVITY_TYPES
    names = tuple(n.lower() for n in _names(text))
    unknown = [n for n in names if n not in ACTIVITY_TYPES]
    if unknown:
        raise UserError(
            f"HUBSPOT_ACTIVITY_TYPES names '{unknown[0]}', which is not one of {', '.join(ACTIVITY_TYPES)}."
        )
    return names


def _acceptance_source(text: str | None) -> str:
    if text is None:
        return "contact_property"
    value = text.strip().lower()
    if value not in ACCEPTANCE_SOURCES:
        raise UserError(_bad_acceptance_source(text))
    return value


def _bad_acceptance_source(text: str) -> str:
    return (
        f"HUBSPOT_ACCEPTANCE_SOURCE '{scrub(text)}' is neither contact_property (the contacts' lead-status "
        "history) nor leads_object (HubSpot's Leads object)."
    )


def _rate(text: str | None, name: str, default: RateLimit) -> RateLimit:
    if text is None:
        return default
    match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+(?:\.\d+)?)\s*s?)?\s*", text)
    if not match or int(match.group(1)) < 1 or (match.group(2) and float(match.group(2)) <= 0):
        raise UserError(f"{name} '{text}' is not a rate such as 100/10 (requests per seconds).")
    return RateLimit(int(match.group(1)), float(match.group(2) or 1))


def _timeouts(text: str | None) -> tuple[float, float]:
    if text is None:
        return 10.0, 60.0
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or any(v <= 0 for v in values):
        raise UserError(f"HUBSPOT_TIMEOUT '{text}' is not a number of seconds such as 30 or 10,60 (connect, read).")
    return (values[0], values[-1])


def _int(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise UserError(f"{name} '{text}' must be a whole number from {low} to {high}.")
    return value
