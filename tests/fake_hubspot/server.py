"""A local fake of HubSpot's CRM API over real HTTP (ThreadingHTTPServer on 127.0.0.1).

Endpoints, with HubSpot's documented JSON shapes:
- GET  /crm/v3/owners/                      owners with teams; limit (≤500), after, archived
- GET  /crm/v3/pipelines/deals              deal pipelines and stage metadata
- GET  /crm/v3/objects/{type}               list by id; limit (≤100; ≤50 with propertiesWithHistory),
                                            after, properties, propertiesWithHistory,
                                            associations (inline, paged past `inline_limit`), archived
- GET  /crm/v3/objects/{type}/{id}          one object
- POST /crm/v3/objects/{type}/search        filterGroups (≤5, ≤6 filters each, ≤18 in all), sorts,
                                            properties, limit (≤200), after; 400 past 10,000 results
- POST /crm/v3/objects/{type}/batch/read    inputs (≤100; ≤50 with propertiesWithHistory), properties,
                                            propertiesWithHistory; 207 with errors for unknown ids
- GET  /crm/v4/objects/{from}/{id}/associations/{to}          paged (limit ≤500)
- POST /crm/v4/associations/{from}/{to}/batch/read            inputs (≤1000); 207 with errors for
                                                              ids without associations
Types: contacts, deals, calls, emails, meetings, notes, tasks, communications, leads (HubSpot's
Lead object: hs_pipeline_stage with its history, hs_lead_disqualification_reason, and the
lead -> contact association, inline with `associations=contacts` or through the v4 reads).

Limits and faults:
- `Authorization: Bearer <token>` must match, else 401 (INVALID_AUTHENTICATION); a scope
  the fake was not granted gives 403 MISSING_SCOPES naming it (`revoke_scope`).
- A rolling window per policy (all requests; search requests), counted at arrival:
  past it, 429 with `{"status": "error", "errorType": "RATE_LIMIT", "policyName":
  "TEN_SECONDLY_ROLLING" | "SECONDLY", ...}`; `daily_limit` gives 429 DAILY once used up.
- `fail(status=502, times=3, path="/search")`, `fail(disconnect=True)`,
  `fail(status=429, policy="DAILY")`: injected faults, matched in order.
Everything answered is logged in `log` (arrival time, method, path, status).
"""

from __future__ import annotations

import bisect
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_hubspot.portal import ASSOCIATION_TYPE_IDS, Obj, Portal, iso, tie_key

OBJECT_TYPES = ("contacts", "deals", "calls", "emails", "meetings", "notes", "tasks", "communications", "leads")
SCOPE_OF = {
    "contacts": "crm.objects.contacts.read",
    "deals": "crm.objects.deals.read",
    "calls": "crm.objects.contacts.read",
    "meetings": "crm.objects.contacts.read",
    "notes": "crm.objects.contacts.read",
    "tasks": "crm.objects.contacts.read",
    "communications": "crm.objects.contacts.read",
    "emails": "sales-email-read",
    "owners": "crm.objects.owners.read",
    "leads": "crm.objects.leads.read",
}
ALL_SCOPES = frozenset(SCOPE_OF.values())
DATE_PROPS = {
    "createdate",
    "lastmodifieddate",
    "hs_lastmodifieddate",
    "hs_timestamp",
    "hs_createdate",
    "closedate",
    "hubspot_owner_assigneddate",
    "hs_lifecyclestage_marketingqualifiedlead_date",
    "hs_lifecyclestage_salesqualifiedlead_date",
    "hs_lifecyclestage_customer_date",
}
NUMBER_PROPS = {"hs_object_id", "amount"}
SEARCH_CAP = 10_000
SINGULAR = {
    "contacts": "contact",
    "deals": "deal",
    "calls": "call",
    "emails": "email",
    "meetings": "meeting",
    "notes": "note",
    "tasks": "task",
    "communications": "communication",
    "leads": "lead",
}


class HubSpotHTTPError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Fault:
    status: int | None = None
    policy: str | None = None
    disconnect: bool = False
    times: int | None = 1  # None: every matching request
    path: str | None = None  # substring of the path
    method: str | None = None
    delay: float = 0.0


def _error(status: int, message: str, category: str, **extra: Any) -> HubSpotHTTPError:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}
    return HubSpotHTTPError(status, body)


class FakeHubSpot:
    """The server and its knobs; use as a context manager or start()/stop()."""

    def __init__(
        self,
        portal: Portal,
        *,
        token: str = "pat-na1-11111111-2222-3333-4444-555555555555",
        scopes: frozenset[str] | set[str] = ALL_SCOPES,
        rate_limit: tuple[int, float] | None = (100, 10.0),
        search_rate_limit: tuple[int, float] | None = (5, 1.0),
        daily_limit: int | None = None,
        inline_limit: int = 100,
        latency: float = 0.0,
    ):
        self.portal = portal
        self.token = token
        self.scopes = set(scopes)
        self.rate_limit = rate_limit
        self.search_rate_limit = search_rate_limit
        self.daily_limit = daily_limit
        self.inline_limit = inline_limit
        self.latency = latency
        self.faults: list[Fault] = []
        self.log: list[tuple[float, str, str, int]] = []
        self.requests_today = 0
        self._window: deque[float] = deque()
        self._search_window: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-hubspot", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHubSpot:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- knobs -----------------------------------------------------------------------------

    def fail(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def revoke_scope(self, scope: str) -> None:
        self.scopes.discard(scope)

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    def count(self, status: int | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, _, p, s in self.log if (status is None or s == status) and (path is None or path in p))

    # -- request pipeline --------------------------------------------------------------------

    def _admit(self, method: str, path: str, headers: Any) -> Fault | None:
        """Faults, auth, limits; raises the HubSpot error to answer, or returns a disconnect fault."""
        now = time.monotonic()
        with self._lock:
            for fault in self.faults:
                if fault.times == 0:
                    continue
                if (fault.path and fault.path not in path) or (fault.method and fault.method != method):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.disconnect:
                    return fault
                if fault.status == 429:
                    raise self._rate_error(fault.policy or "TEN_SECONDLY_ROLLING")
                if fault.status:
                    raise HubSpotHTTPError(
                        fault.status,
                        {
                            "status": "error",
                            "message": "Bad Gateway" if fault.status == 502 else "Internal error",
                            "correlationId": str(uuid.uuid4()),
                        },
                    )
        if headers.get("Authorization", "") != f"Bearer {self.token}":
            raise _error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        search = path.rstrip("/").endswith("/search")
        with self._lock:
            self.requests_today += 1
            if self.daily_limit is not None and self.requests_today > self.daily_limit:
                raise self._rate_error("DAILY")
            for limit, window, name in (
                (self.rate_limit, self._window, "TEN_SECONDLY_ROLLING"),
                (self.search_rate_limit if search else None, self._search_window, "SECONDLY"),
            ):
                if limit is None:
                    continue
                while window and window[0] <= now - limit[1]:
                    window.popleft()
                window.append(now)
                if len(window) > limit[0]:
                    raise self._rate_error(name)
        return None

    def _rate_error(self, policy: str) -> HubSpotHTTPError:
        message = (
            "You have reached your daily limit."
            if policy == "DAILY"
            else f"You have reached your {policy.lower()} limit."
        )
        body = {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "requestId": uuid.uuid4().hex,
        }
        return HubSpotHTTPError(429, body)

    def _need(self, *object_types: str) -> None:
        for object_type in object_types:
            scope = SCOPE_OF[object_type]
            if scope not in self.scopes:
                raise _error(
                    403,
                    "This app hasn't been granted all required scopes to make this call. Read more about "
                    "required scopes here: https://developers.hubspot.com/scopes.",
                    "MISSING_SCOPES",
                    errors=[
                        {
                            "message": "One or more of the following scopes are required.",
                            "context": {"requiredGranularScopes": [scope]},
                        }
                    ],
                    links={"scopes": "https://developers.hubspot.com/scopes"},
                )

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        path, query = url.path, parse_qs(url.query)
        routes = (
            ("GET", r"/crm/v3/owners/?", self.owners),
            ("GET", r"/crm/v3/pipelines/(deals)", self.pipelines),
            ("GET", r"/crm/v3/objects/(\w+)", self.list_objects),
            ("GET", r"/crm/v3/objects/(\w+)/(\d+)", self.get_object),
            ("POST", r"/crm/v3/objects/(\w+)/search", self.search),
            ("POST", r"/crm/v3/objects/(\w+)/batch/read", self.batch_read),
            ("GET", r"/crm/v4/objects/(\w+)/(\d+)/associations/(\w+)", self.v4_list),
            ("POST", r"/crm/v4/associations/(\w+)/(\w+)/batch/read", self.v4_batch),
        )
        for verb, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                for name in match.groups():
                    if not name.isdigit() and name not in OBJECT_TYPES and name != "deals":
                        raise _error(400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR")
                payload = json.loads(body or b"{}") if method == "POST" else {}
                with self.portal.lock:
                    return fn(*match.groups(), query=query, payload=payload)
        raise _error(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")

    # -- endpoints -------------------------------------------------------------------------------

    def owners(self, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need("owners")
        limit = _limit(query, 100, 500)
        archived = _flag(query, "archived")
        owners = sorted(
            (o for o in self.portal.owners.values() if o["archived"] == archived), key=lambda o: int(o["id"])
        )
        start = _after_index([int(o["id"]) for o in owners], query)
        page = owners[start : start + limit]
        results = [
            {
                "id": o["id"],
                "email": o["email"],
                "type": "PERSON",
                "firstName": o["first"],
                "lastName": o["last"],
                "userId": o["user_id"],
                "userIdIncludingInactive": o["user_id"],
                "createdAt": "2021-03-01T09:00:00.000Z",
                "updatedAt": "2025-01-02T09:00:00.000Z",
                "archived": o["archived"],
                "teams": o["teams"],
            }
            for o in page
        ]
        return 200, {"results": results, **_paging(owners, start, limit, lambda o: o["id"], "/crm/v3/owners/")}

    def pipelines(self, object_type: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need("deals")
        return 200, {"results": self.portal.pipelines}

    def list_objects(self, object_type: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need(object_type)
        history = _props(query, "propertiesWithHistory")
        limit = min(_limit(query, 10, 100), 50 if history else 100)
        archived = _flag(query, "archived")
        props = _props(query)
        wanted = [a for a in _props(query, "associations")]
        for other in wanted:
            if other in OBJECT_TYPES:
                self._need(other)
        ids = self.portal.sorted_ids(object_type)
        start = _after_index(ids, query)
        objects = self.portal.objects[object_type]
        results, position = [], start
        while position < len(ids) and len(results) < limit:
            obj = objects[str(ids[position])]
            position += 1
            if obj.archived == archived:
                results.append(self._render(obj, props, wanted, history))
        body: dict[str, Any] = {"results": results}
        if position < len(ids):
            body["paging"] = {
                "next": {
                    "after": str(ids[position]),
                    "link": f"{self.base_url}/crm/v3/objects/{object_type}?after={ids[position]}",
                }
            }
        return 200, body

    def get_object(self, object_type: str, object_id: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need(object_type)
        obj = self.portal.objects[object_type].get(object_id)
        if obj is None or obj.archived != _flag(query, "archived"):
            raise _error(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
        return 200, self._render(obj, _props(query), _props(query, "associations"))

    def search(self, object_type: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need(object_type)
        limit = int(payload.get("limit") or 10)
        after = int(payload.get("after") or 0)
        groups = payload.get("filterGroups") or []
        if limit > 200 or limit < 0:
            raise _error(400, f"limit must be at most 200 but was {limit}", "VALIDATION_ERROR")
        if (
            len(groups) > 5
            or any(len(g.get("filters") or []) > 6 for g in groups)
            or sum(len(g.get("filters") or []) for g in groups) > 18
        ):
            raise _error(
                400, "Too many filter groups or filters (at most 5 groups of 6 filters, 18 in all)", "VALIDATION_ERROR"
            )
        if after + limit > SEARCH_CAP:
            raise _error(
                400,
                "There was a problem with the request: the search API returns at most 10,000 results per query.",
                "VALIDATION_ERROR",
            )
        matches, ordered = self._matches(object_type, groups)
        sorts = payload.get("sorts") or []
        modified = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        if not (ordered and _ascending_by(sorts, modified)):
            matches = self._sort(matches, sorts)
        page = matches[after : after + limit]
        props = payload.get("properties") or []
        body: dict[str, Any] = {"total": len(matches), "results": [self._render(o, props, []) for o in page]}
        if after + limit < len(matches):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return 200, body

    def batch_read(self, object_type: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need(object_type)
        inputs = payload.get("inputs") or []
        history = payload.get("propertiesWithHistory") or []
        if len(inputs) > (50 if history else 100):
            raise _error(400, f"Batch read accepts at most {50 if history else 100} inputs", "VALIDATION_ERROR")
        props = payload.get("properties") or []
        objects = self.portal.objects[object_type]
        found, missing = [], []
        for item in inputs:
            obj = objects.get(str(item.get("id")))
            (
                found.append(self._render(obj, props, [], history))
                if obj and not obj.archived
                else missing.append(str(item.get("id")))
            )
        body = _batch_envelope(found)
        if missing:
            body["numErrors"] = len(missing)
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {object_type} objects",
                    "context": {"ids": missing},
                    "links": {},
                    "errors": [],
                }
            ]
            return 207, body
        return 200, body

    def v4_list(self, from_type: str, object_id: str, to_type: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need(from_type, to_type)
        limit = _limit(query, 500, 500)
        ids = self._associated(from_type, object_id, to_type)
        start = _after_index([int(i) for i in ids], query)
        page = ids[start : start + limit]
        body: dict[str, Any] = {"results": [self._v4_to(from_type, to_type, i) for i in page]}
        if start + limit < len(ids):
            body["paging"] = {"next": {"after": ids[start + limit], "link": None}}
        return 200, body

    def v4_batch(self, from_type: str, to_type: str, *, query: dict, payload: dict) -> tuple[int, dict]:
        self._need(from_type, to_type)
        inputs = payload.get("inputs") or []
        if len(inputs) > 1000:
            raise _error(400, "Batch read accepts at most 1000 inputs", "VALIDATION_ERROR")
        results, errors = [], []
        for item in inputs:
            object_id = str(item.get("id"))
            ids = self._associated(from_type, object_id, to_type)
            if not ids:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        "context": {"fromObjectId": [object_id]},
                        "links": {},
                        "errors": [],
                        "message": f"No {to_type} is associated with {SINGULAR[from_type]} {object_id}.",
                    }
                )
                continue
            shown = ids[: self.inline_limit]
            entry: dict[str, Any] = {
                "from": {"id": object_id},
                "to": [self._v4_to(from_type, to_type, i) for i in shown],
            }
            if len(ids) > self.inline_limit:
                entry["paging"] = {"next": {"after": ids[self.inline_limit], "link": None}}
            results.append(entry)
        body = _batch_envelope(results)
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
            return 207, body
        return 200, body

    # -- helpers ---------------------------------------------------------------------------------

    def _associated(self, from_type: str, object_id: str, to_type: str) -> list[str]:
        source = self.portal.objects[from_type].get(object_id)
        if source is None or source.archived:
            return []
        if to_type == "contacts":
            return sorted(self.portal.associated_contacts(from_type, object_id), key=int)
        if from_type == "contacts":
            return self.portal.associated_objects(object_id, to_type)
        return []

    @staticmethod
    def _v4_to(from_type: str, to_type: str, other_id: str) -> dict[str, Any]:
        kind = from_type if from_type != "contacts" else to_type
        type_id = ASSOCIATION_TYPE_IDS.get(kind, 1)
        return {
            "toObjectId": int(other_id),
            "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}],
        }

    def _render(
        self, obj: Obj, props: list[str], associations: list[str], history: list[str] | None = None
    ) -> dict[str, Any]:
        defaults = [
            "hs_object_id",
            "createdate" if obj.object_type == "contacts" else "hs_createdate",
            obj.modified_prop,
        ]
        values = {"hs_object_id": obj.id, **obj.props}
        out = {name: values.get(name) for name in dict.fromkeys([*defaults, *props])}
        if obj.object_type != "contacts":
            out.setdefault("hs_createdate", obj.props.get("hs_createdate") or iso(obj.created_ms))
        body: dict[str, Any] = {
            "id": obj.id,
            "properties": out,
            "createdAt": iso(obj.created_ms),
            "updatedAt": iso(obj.modified_ms),
            "archived": obj.archived,
        }
        if obj.archived:
            body["archivedAt"] = iso(obj.archived_ms)
        if history:
            body["propertiesWithHistory"] = {name: self._history(obj, name) for name in history}
        assoc = {}
        for other in associations:
            ids = self._associated(obj.object_type, obj.id, other)
            if not ids:
                continue
            label = f"{SINGULAR.get(obj.object_type, obj.object_type)}_to_{SINGULAR.get(other, other)}"
            shown = ids[: self.inline_limit]
            entry: dict[str, Any] = {"results": [{"id": i, "type": label} for i in shown]}
            if len(ids) > self.inline_limit:
                entry["paging"] = {"next": {"after": ids[self.inline_limit], "link": None}}
            assoc[other] = entry
        if assoc:
            body["associations"] = assoc
        return body

    def _history(self, obj: Obj, name: str) -> list[dict[str, Any]]:
        """A property's history in HubSpot's shape: newest first, each with who changed it."""
        owner = self.portal.owners.get(str(obj.props.get("hubspot_owner_id")))
        user = owner["user_id"] if owner else None
        return [
            {
                "value": value,
                "timestamp": iso(stamp),
                "sourceType": "CRM_UI",
                "sourceId": f"userId:{user}" if user else None,
                "updatedByUserId": user,
            }
            for value, stamp in sorted(obj.history.get(name, []), key=lambda entry: -entry[1])
        ]

    def _matches(self, object_type: str, groups: list[dict]) -> tuple[list[Obj], bool]:
        """Objects matching any filter group, and whether they are already in modified-date order."""
        objects = self.portal.objects[object_type]
        if not groups:
            return [o for o in objects.values() if not o.archived], False
        found: dict[str, Obj] = {}
        ordered = len(groups) == 1
        for group in groups:
            filters = group.get("filters") or []
            candidates, from_index = self._candidates(object_type, filters)
            ordered = ordered and from_index
            for obj in candidates:
                if obj.id not in found and all(_test(obj, f) for f in filters):
                    found[obj.id] = obj
        return list(found.values()), ordered

    def _candidates(self, object_type: str, filters: list[dict]) -> tuple[list[Obj], bool]:
        """Narrow with the modified-date index when a filter bounds it from below or pins it
        (the candidates then come in search order: by modified date, ties scrambled)."""
        objects = self.portal.objects[object_type]
        modified = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        for f in filters:
            if f.get("propertyName") == modified and f.get("operator") in ("GT", "GTE", "EQ"):
                value = _as_ms(f.get("value"))
                if value is None:
                    continue
                stamps, ids = self.portal.modified_index(object_type)
                start = (
                    bisect.bisect_right(stamps, value) if f["operator"] == "GT" else bisect.bisect_left(stamps, value)
                )
                end = bisect.bisect_right(stamps, value) if f["operator"] == "EQ" else len(stamps)
                return [objects[i] for i in ids[start:end]], True
        return [o for o in objects.values() if not o.archived], False

    @staticmethod
    def _sort(objects: list[Obj], sorts: list[Any]) -> list[Obj]:
        # ties come out in a scrambled (but repeatable) order: HubSpot promises no tie order
        ordered = sorted(objects, key=lambda o: tie_key(o.id))
        if not sorts:
            return sorted(ordered, key=lambda o: int(o.id))
        spec = sorts[0]
        if isinstance(spec, str):
            name, descending = spec.lstrip("-"), spec.startswith("-")
        else:
            name, descending = spec.get("propertyName"), str(spec.get("direction", "ASCENDING")).upper() == "DESCENDING"
        return sorted(ordered, key=lambda o: _sort_key(_value(o, name), name), reverse=descending)


# -- value helpers ---------------------------------------------------------------------------------


def _ascending_by(sorts: list[Any], name: str) -> bool:
    if len(sorts) != 1:
        return False
    spec = sorts[0]
    if isinstance(spec, str):
        return spec == name
    return spec.get("propertyName") == name and str(spec.get("direction", "ASCENDING")).upper() == "ASCENDING"


def _value(obj: Obj, name: str) -> Any:
    if name == "hs_object_id":
        return obj.id
    if name == obj.modified_prop:
        return obj.modified_ms
    return obj.props.get(name)


def _as_ms(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _typed(value: Any, name: str) -> Any:
    if value is None or value == "":
        return None
    if name in DATE_PROPS or name.endswith("_date"):
        return _as_ms(value)
    if name in NUMBER_PROPS:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return str(value)


def _sort_key(value: Any, name: str) -> tuple:
    typed = _typed(value, name)
    return (typed is None, typed if typed is not None else 0)


def _test(obj: Obj, f: dict) -> bool:
    name, op = f.get("propertyName"), str(f.get("operator", "EQ")).upper()
    value = _typed(_value(obj, name), name)
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NOT_HAS_PROPERTY":
        return value is None
    if op in ("IN", "NOT_IN"):
        wanted = {_typed(v, name) for v in f.get("values") or []}
        return (value in wanted) == (op == "IN")
    target = _typed(f.get("value"), name)
    if op == "NEQ":
        return value != target
    if value is None or target is None:
        return False
    if op == "EQ":
        return value == target
    if op == "BETWEEN":
        high = _typed(f.get("highValue"), name)
        return high is not None and target <= value <= high
    return {"LT": value < target, "LTE": value <= target, "GT": value > target, "GTE": value >= target}.get(op, False)


def _limit(query: dict, default: int, maximum: int) -> int:
    try:
        value = int((query.get("limit") or [default])[0])
    except ValueError:
        raise _error(400, "limit must be a number", "VALIDATION_ERROR") from None
    return max(1, min(value, maximum))


def _flag(query: dict, name: str) -> bool:
    return str((query.get(name) or ["false"])[0]).lower() == "true"


def _props(query: dict, name: str = "properties") -> list[str]:
    values = []
    for raw in query.get(name) or []:
        values.extend(p.strip() for p in raw.split(",") if p.strip())
    return list(dict.fromkeys(values))


def _after_index(ids: list[int], query: dict) -> int:
    after = (query.get("after") or [None])[0]
    if not after:
        return 0
    try:
        return bisect.bisect_left(ids, int(after))
    except ValueError:
        raise _error(400, f"Invalid after token {after}", "VALIDATION_ERROR") from None


def _paging(items: list, start: int, limit: int, key: Any, path: str) -> dict:
    if start + limit < len(items):
        nxt = key(items[start + limit])
        return {"paging": {"next": {"after": str(nxt), "link": f"{path}?after={nxt}"}}}
    return {}


def _batch_envelope(results: list) -> dict[str, Any]:
    stamp = iso(int(time.time() * 1000))
    return {"status": "COMPLETE", "results": results, "requestedAt": stamp, "startedAt": stamp, "completedAt": stamp}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed sync) is not an error of the fake."""
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeHubSpot

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.fake
        path = urlsplit(self.path).path
        try:
            fault = fake._admit(method, path, self.headers)
            if fault is not None and fault.disconnect:
                with fake._lock:
                    fake.log.append((arrived, method, path, 0))
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fake.latency:
                time.sleep(fake.latency)
            status, payload = fake.handle(method, self.path, self.headers, body)
            headers: dict[str, str] = {}
        except HubSpotHTTPError as exc:
            status, payload, headers = exc.status, exc.body, exc.headers
        except Exception as exc:  # a bug in the fake: answer like HubSpot's 500
            status, payload, headers = (
                500,
                {"status": "error", "message": f"internal error: {exc}", "correlationId": str(uuid.uuid4())},
                {},
            )
        with fake._lock:
            fake.log.append((arrived, method, path, status))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if fake.rate_limit:
            self.send_header("X-HubSpot-RateLimit-Max", str(fake.rate_limit[0]))
            self.send_header("X-HubSpot-RateLimit-Interval-Milliseconds", str(int(fake.rate_limit[1] * 1000)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
