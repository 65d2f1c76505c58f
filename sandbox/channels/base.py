"""What a sandbox channel is: the request/response types and the base class.

Contract
--------
A channel owns one path prefix (``/<name>/...``) and speaks one vendor's
dialect. The server calls, in order:

1. ``authenticate(req)``: ``None`` if the credentials are fine, else the
   channel's own auth error response;
2. fault evaluation, asking ``applies(fault, req)`` whether a fault kind means
   anything for this request;
3. ``fault_response(fault, req)`` for a terminal fault, else ``handle(req)``
   (with ``req.repeat_cursor`` / ``req.bad_data`` set by modifier faults);
4. ``finalize(req, resp)`` to add per-channel headers (usage headers etc.).

Channels are stateless apart from counters and caches; the world is read
through ``req.world`` (a snapshot taken when the request arrived) so a test may
swap ``Sandbox.world`` between requests.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # pragma: no cover
    from email.message import Message

    from ..faults import BadValue, Fault
    from ..world import World

JSON_TYPE = "application/json; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass
class Request:
    method: str
    target: str  # raw request target: path plus "?query"
    path: str  # percent-decoded URL path
    subpath: str  # path after "/<channel>"
    query: list[tuple[str, str]]  # ordered pairs, blanks kept (used to rebuild next links)
    headers: Message
    body: bytes
    host: str  # Host header as the client sent it
    world: World
    revision: int
    repeat_cursor: bool = False
    bad_data: list[BadValue] = field(default_factory=list)

    @cached_property
    def params(self) -> dict[str, str]:
        # Last value wins, like most web frameworks (and the Graph API).
        return dict(self.query)

    def bearer_token(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    @cached_property
    def json_body(self) -> Any:
        """Parsed JSON body; raises ValueError on malformed input."""
        return orjson.loads(self.body or b"null")

    def absolute_url(self, query: list[tuple[str, str]]) -> str:
        """Same scheme/host/port/path as this request, with a new query."""
        path = urllib.parse.urlsplit(self.target).path
        return f"http://{self.host}{path}?{urllib.parse.urlencode(query)}"


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    rows: int = 0  # data rows served, for Sandbox.stats()


def json_response(status: int, obj: Any, rows: int = 0, headers: dict[str, str] | None = None) -> Response:
    return Response(status, orjson.dumps(obj), JSON_TYPE, dict(headers or {}), rows)


def text_response(status: int, text: str, content_type: str = TEXT_TYPE, rows: int = 0) -> Response:
    return Response(status, text.encode(), content_type, {}, rows)


class Channel:
    """Base class; subclasses set ``name`` and implement ``handle``."""

    name: str = ""
    # Kinds that make sense for every request of every channel.
    generic_fault_kinds = frozenset({"throttle", "server_error", "stall", "truncated",
                                     "redirect", "trickle", "gzip_bomb", "foreign_origin"})

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox

    @property
    def token(self) -> str:
        return self.sandbox.token

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}"

    def client_config(self, credential: str) -> dict[str, Any] | None:
        """This channel's entry for a socialmart.yaml that points at the sandbox.

        `credential` is the `${ENV_VAR}` reference to put wherever the real
        config holds a secret. None: the channel is not a configurable source.
        """
        return None

    def authenticate(self, req: Request) -> Response | None:
        return None

    def applies(self, fault: Fault, req: Request) -> bool:
        return fault.kind in self.generic_fault_kinds

    def fault_response(self, fault: Fault, req: Request) -> Response:
        raise NotImplementedError

    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def not_found(self, req: Request) -> Response:
        raise NotImplementedError

    def internal_error(self, req: Request) -> Response:
        return json_response(500, {"error": {"code": 500, "message": "sandbox internal error"}})

    def finalize(self, req: Request, resp: Response) -> None:
        pass


def apply_row_faults(rows: list[dict], overrides: list[BadValue]) -> list[dict]:
    """bad_data on a list of wire rows: per-row changes (apply_overrides),
    then rows dropped (`drop_row`) or sent twice (`duplicate_row`)."""
    out: list[dict] = []
    for row in rows:
        apply_overrides(row, overrides)
        actions = {o.action for o in overrides if o.matches(row)}
        if "drop_row" in actions:
            continue
        out.append(row)
        if "duplicate_row" in actions:
            out.append(dict(row))
    return out


def apply_overrides(row: dict, overrides: list[BadValue]) -> None:
    """bad_data: set ``field`` (or dotted ``parent.child``) in one wire row,
    when the row matches the fault's ``match`` (every row without one).

    ``parent.child`` reaches into a nested object (``creative.url_tags``) or
    into an action list by ``action_type`` (``actions.purchase``). Fields the
    row does not carry are left alone: the fault corrupts values, it does not
    invent columns the client did not ask for.
    """
    for override in overrides:
        if not override.matches(row) or override.action not in ("set", "add", "remove"):
            continue
        name, value = override.name, override.value
        if override.action == "add":
            row[name] = value
            continue
        if name in row:
            if override.action == "remove":
                del row[name]
            else:
                row[name] = value
            continue
        parent, _, child = name.partition(".")
        if not child or parent not in row:
            continue
        node = row[parent]
        if isinstance(node, dict) and child in node and override.action == "remove":
            del node[child]
        elif isinstance(node, dict) and child in node:
            node[child] = value
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, dict) and item.get("action_type") == child:
                    item["value"] = value
