"""The official hubspot-api-client, configured for an unattended sync.

How the client is set up (hubspot-api-client 12):
- `hubspot.Client.create(access_token=..., host=..., retry=...)`: the client's default API
  factory (`hubspot.discovery.discovery_base.DiscoveryBase._default_api_factory`) copies
  every keyword onto the `Configuration` of each API package it builds (`crm.contacts`,
  `crm.deals`, `crm.owners`, `crm.pipelines`, `crm.associations.v4`, `crm.objects.calls` ...),
  so `host` (whose setter also clears `server_index`) points every package at
  HUBSPOT_API_BASE and `retry` becomes each package's `Configuration.retries`, which its REST
  client hands to urllib3's PoolManager.
- Retries (`HubSpotRetry`, a urllib3 `Retry`): every method including POST (search and
  batch reads are read-only), on 429, 500, 502, 503, 504 and connection/read errors, with
  exponential back-off and jitter, honouring `Retry-After`; a 429 whose body names the
  DAILY policy is not retried. After the last retry the response is returned (not a
  MaxRetryError) so the client raises its ApiException with HubSpot's body.
- Pacing: each package's PoolManager gets connection-pool classes whose `_make_request`
  first asks the `RateLimiter`, so every HTTP attempt, retries included, is paced.
- Timeouts: every call passes `_request_timeout=(connect, read)`; the pools also replace a
  missing timeout with the same pair.
- Errors: the ApiException classes differ per package, so they are recognised by shape
  (status, body) and turned into one-sentence `HubSpotError`s (a UserError) with the
  token scrubbed.

API objects are built once and cached (the discovery properties build a new ApiClient,
and a new connection pool, on every access).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hubspot
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from smarketing.core.errors import UserError
from smarketing.sources.hubspot.ratelimit import RateLimiter
from smarketing.sources.hubspot.settings import SCOPES, HubSpotSettings, scrub

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


# -- errors ------------------------------------------------------------------------------


class HubSpotError(UserError):
    """A HubSpot problem explained in one sentence (the token is scrubbed from it)."""

    kind = "request"

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None):
        super().__init__(scrub(message))
        self.status = status
        if kind:
            self.kind = kind


class HubSpotAuthError(HubSpotError):
    kind = "auth"


class HubSpotScopeError(HubSpotError):
    kind = "scope"


class HubSpotDailyLimit(HubSpotError):
    kind = "daily"


# -- retries and pacing ------------------------------------------------------------------


@dataclass
class CallStats:
    """What happened on the wire: attempts, statuses, retries, 429s by policy."""

    attempts: int = 0
    retries: int = 0
    throttled: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    policies: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int, policy: str | None) -> None:
        with self._lock:
            self.attempts += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 429:
                self.throttled += 1
                key = policy or "unknown"
                self.policies[key] = self.policies.get(key, 0) + 1


def _policy(response: Any) -> str | None:
    """The policyName of a 429 body (None when there is none)."""
    try:
        body = json.loads(response.data or b"{}")
    except (ValueError, TypeError):
        return None
    return body.get("policyName") if isinstance(body, dict) else None


class HubSpotRetry(Retry):
    """urllib3 Retry for HubSpot: back-off from the first retry, no retry of a DAILY 429."""

    def __init__(self, *args: Any, stats: CallStats | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stats = stats

    def new(self, **kw: Any) -> HubSpotRetry:
        retry = super().new(**kw)
        retry.stats = self.stats
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[override]
        if response is not None and response.status == 429 and _policy(response) == "DAILY":
            raise MaxRetryError(_pool, url or "", ResponseError("HubSpot's DAILY limit is used up"))
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.stats is not None:
            with self.stats._lock:
                self.stats.retries += 1
        log.info("retrying %s %s after %s", method, urlsplit(url or "").path, error or getattr(response, "status", "?"))
        return retry

    def get_backoff_time(self) -> float:
        errors = len(self.history)
        if errors == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (errors - 1))
        if self.backoff_jitter:
            value += random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))


class _PacedPool:
    """Mixin for urllib3 connection pools: pace every attempt, count every response, default timeout."""

    hub: HubSpotClient

    def urlopen(self, method, url, *args, **kw):  # type: ignore[no-untyped-def]
        if len(args) < 6 and kw.get("timeout") is None:
            kw["timeout"] = self.hub.urllib3_timeout
        return super().urlopen(method, url, *args, **kw)  # type: ignore[misc]

    def _make_request(self, conn, method, url, *args, **kw):  # type: ignore[no-untyped-def]
        ticket = self.hub.limiter.acquire(search=urlsplit(url).path.rstrip("/").endswith("/search"))
        try:
            response = super()._make_request(conn, method, url, *args, **kw)  # type: ignore[misc]
        finally:
            self.hub.limiter.release(ticket)  # answered (or failed): HubSpot has counted it by now
        self.hub.stats.count(response.status, _policy(response) if response.status == 429 else None)
        return response


# -- records -----------------------------------------------------------------------------


@dataclass
class Record:
    """One CRM object as the sync needs it."""

    id: str
    properties: dict[str, Any]
    associations: dict[str, list[str]] = field(default_factory=dict)
    incomplete: set[str] = field(default_factory=set)
    archived: bool = False
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Stage:
    """A deal pipeline stage's metadata."""

    pipeline_id: str
    stage_id: str
    label: str
    is_closed: bool | None
    probability: float | None


OBJECT_PATHS: dict[str, tuple[str, ...]] = {
    "contacts": ("crm", "contacts"),
    "deals": ("crm", "deals"),
    "calls": ("crm", "objects", "calls"),
    "emails": ("crm", "objects", "emails"),
    "meetings": ("crm", "objects", "meetings"),
    "notes": ("crm", "objects", "notes"),
    "tasks": ("crm", "objects", "tasks"),
    "communications": ("crm", "objects", "communications"),
    "leads": ("crm", "objects", "leads"),  # the typed Leads API of hubspot-api-client 12
}
_CONTACT_KEYS = ("contacts", "contact", "0-1")
# HubSpot reads at most 50 records a call when property history is asked for.
HISTORY_BATCH = 50

_LIMITERS: dict[tuple, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(settings: HubSpotSettings) -> RateLimiter:
    """One limiter per app (API base and token) and limits in this process, so that syncs run
    one after another (the dashboard's button, tests) share HubSpot's rolling windows."""
    fingerprint = hashlib.sha256(settings.access_token.encode()).hexdigest()[:16]
    key = (settings.api_base, fingerprint, settings.rate_limit, settings.search_rate_limit)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = RateLimiter(settings.rate_limit, settings.search_rate_limit)
        return limiter


class HubSpotClient:
    """Typed, paced, retried calls to the few HubSpot endpoints the sync uses."""

    def __init__(self, settings: HubSpotSettings, limiter: RateLimiter | None = None):
        self.settings = settings
        self.limiter = limiter or shared_limiter(settings)
        self.stats = CallStats()
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.urllib3_timeout = Timeout(connect=settings.connect_timeout, read=settings.read_timeout)
        retry = HubSpotRetry(
            total=settings.max_retries,
            connect=settings.max_retries,
            read=settings.max_retries,
            status=settings.max_retries,
            other=0,
            redirect=0,
            allowed_methods=None,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=settings.backoff_factor,
            backoff_max=30.0,
            backoff_jitter=settings.backoff_factor / 2,
            respect_retry_after_header=True,
            retry_after_max=120.0,
            raise_on_status=False,
            raise_on_redirect=False,
            stats=self.stats,
        )
        self.hub = hubspot.Client.create(access_token=settings.access_token, host=settings.api_base, retry=retry)
        self._pool_classes = {
            "http": type("PacedHTTPConnectionPool", (_PacedPool, HTTPConnectionPool), {"hub": self}),
            "https": type("PacedHTTPSConnectionPool", (_PacedPool, HTTPSConnectionPool), {"hub": self}),
        }
        self._apis: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------

    def api(self, *path: str) -> Any:
        """The cached API object at a discovery path, e.g. api("crm", "contacts", "basic_api")."""
        with self._lock:
            found = self._apis.get(path)
            if found is None:
                found = self.hub
                for name in path:
                    found = getattr(found, name)
                pool_manager = found.api_client.rest_client.pool_manager
                pool_manager.pool_classes_by_scheme = dict(self._pool_classes)
                pool_manager.clear()
                self._apis[path] = found
        return found

    def call(self, what: str, scope: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one API method with the timeout, turning failures into HubSpotErrors."""
        kwargs.setdefault("_request_timeout", self.timeout)
        try:
            return fn(*args, **kwargs)
        except MaxRetryError as exc:
            raise self._network_error(what, exc.reason) from None
        except Urllib3Error as exc:
            raise self._network_error(what, exc) from None
        except Exception as exc:
            if getattr(exc, "status", None) is not None and hasattr(exc, "body"):
                raise self.explain(exc, what, scope) from None
            raise

    def _network_error(self, what: str, reason: Any) -> HubSpotError:
        text = str(reason).split(": ", 1)[-1] if reason else "no answer"
        return HubSpotError(
            f"Cannot reach HubSpot at {self.settings.api_base} to {what} ({text.strip().rstrip('.')}) even after "
            f"{self.settings.max_retries} retries; everything read before was saved, so run the sync again later.",
            kind="network",
        )

    def explain(self, exc: Any, what: str, scope: str) -> HubSpotError:
        """One sentence for a failed call, naming the missing scope or the limit."""
        status = int(getattr(exc, "status", 0) or 0)
        body = _json(getattr(exc, "body", None))
        category = body.get("category") or body.get("errorType") or ""
        message = str(body.get("message") or getattr(exc, "reason", "") or "").strip().rstrip(".")
        if status == 401:
            return HubSpotAuthError(
                f"HubSpot refused the access token ({category or 'HTTP 401'}) while trying to {what}: set "
                "HUBSPOT_ACCESS_TOKEN to a current private-app access token.",
                status=status,
            )
        if status == 403:
            missing = _required_scopes(body) or [scope]
            names = ", ".join(missing)
            noun = "scope" if len(missing) == 1 else "scopes"
            return HubSpotScopeError(
                f"The HubSpot private app is missing the {noun} {names} needed to {what}; add {names} under the "
                "app's Scopes tab in HubSpot and run the sync again.",
                status=status,
            )
        if status == 429:
            policy = body.get("policyName") or "unknown policy"
            if policy == "DAILY":
                return HubSpotDailyLimit(
                    "HubSpot's daily API limit for this account is used up (policy DAILY); the sync stopped "
                    "after saving everything read so far and resumes from there when you run it after the "
                    "limit resets at midnight in the account's time zone.",
                    status=status,
                )
            return HubSpotError(
                f"HubSpot kept answering 429 Too Many Requests ({policy}) while trying to {what}, even after "
                f"{self.settings.max_retries} retries; another app may share this account's limit, so lower "
                "HUBSPOT_RATE_LIMIT and run the sync again.",
                status=status,
                kind="rate",
            )
        if status >= 500:
            return HubSpotError(
                f"HubSpot answered {status} {getattr(exc, 'reason', '') or ''} while trying to {what}, even after "
                f"{self.settings.max_retries} retries; everything read before was saved, so run the sync again later.",
                status=status,
                kind="server",
            )
        if status == 0:
            return HubSpotError(
                f"Cannot talk to HubSpot at {self.settings.api_base} to {what}: {message}.", kind="network"
            )
        return HubSpotError(f"HubSpot rejected the request to {what} ({status} {category}: {message}).", status=status)

    # -- endpoints -----------------------------------------------------------------------
    # Bodies are read as JSON (`_preload_content=False`): the generated models' deserializer
    # parses every createdAt/updatedAt with dateutil, which costs more than the request.

    def fetch(self, what: str, scope: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run one API method and return its JSON body as a dict."""
        response = self.call(what, scope, fn, *args, _preload_content=False, **kwargs)
        try:
            data = response.data
        finally:
            response.release_conn()
        try:
            body = json.loads(data or b"{}")
        except ValueError:
            raise HubSpotError(f"HubSpot answered something that is not JSON while trying to {what}.") from None
        return body if isinstance(body, dict) else {}

    def owners(self, *, archived: bool) -> list[dict[str, Any]]:
        """Every owner (active or archived) as plain dicts with their teams."""
        api = self.api("crm", "owners", "owners_api")
        out: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.fetch(
                "read owners",
                SCOPES["owners"],
                api.get_page,
                limit=100,
                after=after,
                archived=True if archived else None,
            )  # None: not sent (Python would send "False")
            for owner in page.get("results") or []:
                teams = [
                    {"id": str(t.get("id")), "name": t.get("name"), "primary": bool(t.get("primary"))}
                    for t in owner.get("teams") or []
                ]
                out.append(
                    {
                        "id": str(owner["id"]),
                        "first_name": owner.get("firstName"),
                        "last_name": owner.get("lastName"),
                        "email": owner.get("email"),
                        "archived": bool(owner.get("archived")) or archived,
                        "teams": teams,
                    }
                )
            after = _next_after(page)
            if not after:
                return out

    def deal_stages(self) -> list[Stage]:
        """Every deal pipeline stage with its closed flag and probability."""
        api = self.api("crm", "pipelines", "pipelines_api")
        result = self.fetch("read deal pipelines", SCOPES["pipelines"], api.get_all, "deals")
        stages = []
        for pipeline in result.get("results") or []:
            for stage in pipeline.get("stages") or []:
                meta = stage.get("metadata") or {}
                closed = meta.get("isClosed")
                try:
                    probability = float(meta["probability"]) if meta.get("probability") not in (None, "") else None
                except (TypeError, ValueError):
                    probability = None
                stages.append(
                    Stage(
                        str(pipeline.get("id")),
                        str(stage.get("id")),
                        stage.get("label") or "",
                        None if closed is None else str(closed).lower() == "true",
                        probability,
                    )
                )
        return stages

    def list_page(
        self,
        object_type: str,
        *,
        after: str | None,
        properties: list[str],
        associations: list[str] | None = None,
        archived: bool = False,
        history: list[str] | None = None,
    ) -> tuple[list[Record], str | None]:
        """One page of the list endpoint (ordered by id) and the next `after` (None: last page);
        with `history`, those properties' histories too (HubSpot then lists at most 50 a page)."""
        api = self.api(*OBJECT_PATHS[object_type], "basic_api")
        what = f"list {'archived ' if archived else ''}{object_type}"
        limit = min(self.settings.list_page_size, HISTORY_BATCH) if history else self.settings.list_page_size
        page = self.fetch(
            what,
            SCOPES[object_type],
            api.get_page,
            limit=limit,
            after=after,
            properties=properties,
            properties_with_history=history or None,
            associations=associations or None,
            archived=True if archived else None,
        )
        records = [_record(obj, archived) for obj in page.get("results") or []]
        return records, _next_after(page)

    def search_page(
        self, object_type: str, *, filter_groups: list[dict], sort: str, properties: list[str]
    ) -> tuple[list[Record], int]:
        """The first page (up to 200 records) of a search, ascending by `sort`, and its total."""
        package = _package(object_type)
        request = package.PublicObjectSearchRequest(
            filter_groups=[
                package.FilterGroup(filters=[package.Filter(**f) for f in group["filters"]]) for group in filter_groups
            ],
            sorts=[{"propertyName": sort, "direction": "ASCENDING"}],
            properties=properties,
            limit=self.settings.search_page_size,
        )
        api = self.api(*OBJECT_PATHS[object_type], "search_api")
        page = self.fetch(f"search {object_type}", SCOPES[object_type], api.do_search, request)
        return [_record(obj, False) for obj in page.get("results") or []], int(page.get("total") or 0)

    def read_records(
        self, object_type: str, ids: list[str], properties: list[str], history: list[str] | None = None
    ) -> list[Record]:
        """Some records by id (batch read, HISTORY_BATCH a call when history is asked for, else 100),
        with those properties and the history of `history`; ids deleted meanwhile are left out."""
        if not ids:
            return []
        package = _package(object_type)
        api = self.api(*OBJECT_PATHS[object_type], "batch_api")
        what = f"read the {', '.join(history)} history of {object_type}" if history else f"read {object_type}"
        size = HISTORY_BATCH if history else 100
        out: list[Record] = []
        for start in range(0, len(ids), size):
            request = package.BatchReadInputSimplePublicObjectId(
                inputs=[package.SimplePublicObjectId(id=i) for i in ids[start : start + size]],
                properties=properties,
                properties_with_history=history or [],
            )
            result = self.fetch(what, SCOPES[object_type], api.read, request)
            # records deleted meanwhile come back under "errors" (HTTP 207)
            out.extend(_record(obj, False) for obj in result.get("results") or [])
        return out

    def histories(self, object_type: str, ids: list[str], properties: list[str]) -> dict[str, dict[str, list[dict]]]:
        """Each record's history of some properties: {id: {property: [{"value", "timestamp"}, ...]}}."""
        if not properties:
            return {}
        return {r.id: r.history for r in self.read_records(object_type, ids, ["hs_object_id"], properties)}

    def contact_associations(self, object_type: str, ids: list[str]) -> dict[str, list[str]]:
        """The associated contact ids of each object (v4 batch read; all pages)."""
        if not ids:
            return {}
        v4 = importlib.import_module("hubspot.crm.associations.v4")
        api = self.api("crm", "associations", "v4", "batch_api")
        what = f"read the contacts of {object_type}"
        out: dict[str, list[str]] = {i: [] for i in ids}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            request = v4.BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[v4.PublicFetchAssociationsBatchRequest(id=i) for i in chunk]
            )
            result = self.fetch(what, SCOPES[object_type], api.get_page, object_type, "contacts", request)
            # ids without any association come back under "errors" (HTTP 207): no contacts
            for item in result.get("results") or []:
                key = str((item.get("from") or {}).get("id"))
                out.setdefault(key, []).extend(str(t.get("toObjectId")) for t in item.get("to") or [])
                after = _next_after(item)
                if after:
                    out[key].extend(self._more_contacts(object_type, key, after))
        return {k: _unique(v) for k, v in out.items()}

    def all_contacts_of(self, object_type: str, object_id: str) -> list[str]:
        """Every contact associated with one object (v4 per-object read, all pages)."""
        return _unique(self._more_contacts(object_type, object_id, None))

    def _more_contacts(self, object_type: str, object_id: str, after: str | None) -> Iterator[str]:
        api = self.api("crm", "associations", "v4", "basic_api")
        while True:
            page = self.fetch(
                f"read the contacts of {object_type}",
                SCOPES[object_type],
                api.get_page,
                object_type,
                object_id,
                "contacts",
                after=after,
                limit=500,
            )
            yield from (str(r.get("toObjectId")) for r in page.get("results") or [])
            after = _next_after(page)
            if not after:
                return


# -- helpers -----------------------------------------------------------------------------


def _package(object_type: str) -> Any:
    """The API package of an object type (its models: PublicObjectSearchRequest, Filter...)."""
    return importlib.import_module("hubspot." + ".".join(OBJECT_PATHS[object_type]))


def _record(obj: dict[str, Any], archived: bool) -> Record:
    """A Record from a SimplePublicObject(WithAssociations) JSON body."""
    associations: dict[str, list[str]] = {}
    incomplete: set[str] = set()
    for key, collection in (obj.get("associations") or {}).items():
        name = "contacts" if key in _CONTACT_KEYS else key
        ids = [str(a.get("id")) for a in (collection or {}).get("results") or []]
        associations[name] = _unique(associations.get(name, []) + ids)
        if _next_after(collection or {}):
            incomplete.add(name)
    return Record(
        id=str(obj["id"]),
        properties=dict(obj.get("properties") or {}),
        associations=associations,
        incomplete=incomplete,
        archived=bool(obj.get("archived")) or archived,
        history=dict(obj.get("propertiesWithHistory") or {}),
    )


def _next_after(page: dict[str, Any]) -> str | None:
    after = ((page.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after not in (None, "") else None


def _unique(ids: Any) -> list[str]:
    return list(dict.fromkeys(ids))


def _json(body: Any) -> dict:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    try:
        value = json.loads(body) if body else {}
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _required_scopes(body: dict) -> list[str]:
    """Scope names a 403 body lists (HubSpot puts them in errors[].context or context)."""
    found: list[str] = []
    contexts = [body.get("context") or {}] + [
        e.get("context") or {} for e in body.get("errors") or [] if isinstance(e, dict)
    ]
    for context in contexts:
        for key in ("requiredGranularScopes", "requiredScopes", "missingScopes"):
            values = context.get(key) if isinstance(context, dict) else None
            if isinstance(values, list):
                found.extend(str(v) for v in values)
    return _unique(found)
