"""Fault injection for the sandbox.

Contract
--------
A ``Fault`` describes a misbehaviour; the ``FaultBook`` arms a list of them and,
for each incoming channel request, decides which ones fire. Rules:

* Faults are evaluated in injection order.
* A fault *matches* a request when its ``channel`` is the request's channel or
  ``"*"``, ``path_contains`` (if set) is a substring of the request target
  (path plus query string), and the channel says the kind is meaningful for that
  request (e.g. ``repeat_cursor`` only for paged endpoints, ``remove_metric``
  only when the request actually asks for that metric, nothing auth-related on
  the unauthenticated FX channel). Only matching requests are counted.
* The first ``after`` matching requests pass untouched; the next ``times``
  matching requests are affected (``-1`` = forever); then the fault disarms and
  is dropped from the book.
* "Terminal" kinds (throttle, server_error, expired_token, remove_metric,
  redirect) replace the response; once one fires, later faults do not see
  the request. Modifier kinds (stall, truncated, repeat_cursor, bad_data,
  trickle, gzip_bomb, foreign_origin) stack.
* Hostile transport, for every channel: ``redirect`` answers 307 to
  ``params["to"]`` (another origin) plus the request target; ``trickle``
  sends the body one byte every ``params["seconds_per_byte"]``;
  ``gzip_bomb`` replaces the body by ``params["mib"]`` MiB of zeros, gzipped
  (about 1 KB on the wire per MiB); ``foreign_origin`` rewrites the sandbox's
  own origin in the body (Meta's ``paging.next``) to ``params["origin"]``.
* ``bad_data`` sets ``params["field"]`` to ``params["value"]`` in every row of
  the response, or, with ``params["match"]`` (e.g. ``{"idstr": "4990..."}``),
  only in the rows whose own fields equal those values: one hostile caption on
  one post, not on the hundred others of its page. Positional rows (GA4 value
  lists, YouTube report rows, the FX CSV) have no field names to match on, so
  only faults without a match reach them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = frozenset(
    {"throttle", "server_error", "stall", "expired_token", "truncated", "repeat_cursor", "remove_metric", "bad_data",
     "redirect", "trickle", "gzip_bomb", "foreign_origin"}
)
TERMINAL_KINDS = frozenset({"throttle", "server_error", "expired_token", "remove_metric", "redirect"})


@dataclass
class Fault:
    channel: str  # "meta_ads" | "ga4" | "fx" | "*" (any channel)
    kind: str
    times: int = 1  # affected matching requests, then disarm; -1 = forever
    after: int = 0  # let the first N matching requests through untouched
    path_contains: str | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if not isinstance(self.times, int) or (self.times < 1 and self.times != -1):
            raise ValueError("times must be a positive int or -1 (forever)")
        if not isinstance(self.after, int) or self.after < 0:
            raise ValueError("after must be a non-negative int")
        if self.params is None:
            self.params = {}
        if not isinstance(self.params, dict):
            raise ValueError("params must be a dict")
        if self.kind == "remove_metric" and "metric" not in self.params:
            raise ValueError("remove_metric needs params['metric']")
        if self.kind == "redirect" and "to" not in self.params:
            raise ValueError("redirect needs params['to'] (an origin such as http://127.0.0.1:8080)")
        if self.kind == "foreign_origin" and "origin" not in self.params:
            raise ValueError("foreign_origin needs params['origin'] (an origin such as http://127.0.0.1:8080)")
        if self.kind == "bad_data":
            action = self.params.get("action", "set")
            if action not in ROW_ACTIONS:
                raise ValueError(f"bad_data params['action'] must be one of {sorted(ROW_ACTIONS)}, got {action!r}")
            if action in ("set", "add") and ("field" not in self.params or "value" not in self.params):
                raise ValueError("bad_data needs params['field'] and params['value']")
            if action == "remove" and "field" not in self.params:
                raise ValueError("bad_data action 'remove' needs params['field']")
            if action in ("drop_row", "duplicate_row") and not self.params.get("match"):
                raise ValueError(f"bad_data action {action!r} needs params['match'] (which rows)")
        if self.kind == "bad_data" and not isinstance(self.params.get("match", {}), dict):
            raise ValueError("bad_data params['match'] must be a dict of field -> value")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fault:
        unknown = set(d) - {"channel", "kind", "times", "after", "path_contains", "params"}
        if unknown:
            raise ValueError(f"unknown Fault fields: {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# What bad_data does to the matching rows: set a field's value, add a field
# the API did not send before, remove the field (an API that stopped sending
# it), drop the row (a day the API skipped) or send the row twice.
ROW_ACTIONS = frozenset({"set", "add", "remove", "drop_row", "duplicate_row"})


@dataclass(frozen=True)
class BadValue:
    """One bad_data fault's change to the rows of a response: set the field
    `name` (params["field"]) to `value` in the rows that match (or another
    `action` of ROW_ACTIONS)."""

    name: str
    value: Any
    match: dict = field(default_factory=dict)  # empty: every row
    action: str = "set"

    def matches(self, row: dict) -> bool:
        return all(row.get(name) == wanted for name, wanted in self.match.items())


@dataclass
class Firing:
    """What the faults decided for one request."""

    terminal: Fault | None = None
    stall_seconds: float = 0.0
    truncate: bool = False
    repeat_cursor: bool = False
    bad_data: list[BadValue] = field(default_factory=list)
    trickle_seconds_per_byte: float = 0.0
    gzip_bomb_mib: int = 0
    foreign_origin: str | None = None
    fired: int = 0


@dataclass
class _Armed:
    fault: Fault
    seen: int = 0
    fired: int = 0


class FaultBook:
    """Thread-safe list of armed faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self.fired_total = 0

    def add(self, faults: list[Fault]) -> None:
        with self._lock:
            self._armed.extend(_Armed(f) for f in faults)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a.fault.to_dict(), seen=a.seen, fired=a.fired) for a in self._armed]

    def evaluate(self, channel: str, target: str, applies: Callable[[Fault], bool]) -> Firing:
        out = Firing()
        with self._lock:
            if not self._armed:
                return out
            spent: list[_Armed] = []
            for armed in self._armed:
                f = armed.fault
                if f.channel not in (channel, "*"):
                    continue
                if f.path_contains and f.path_contains not in target:
                    continue
                if not applies(f):
                    continue
                armed.seen += 1
                if armed.seen <= f.after:
                    continue
                armed.fired += 1
                out.fired += 1
                if f.times != -1 and armed.fired >= f.times:
                    spent.append(armed)
                if f.kind in TERMINAL_KINDS:
                    out.terminal = f
                    break
                if f.kind == "stall":
                    out.stall_seconds += float(f.params.get("seconds", 5))
                elif f.kind == "truncated":
                    out.truncate = True
                elif f.kind == "repeat_cursor":
                    out.repeat_cursor = True
                elif f.kind == "trickle":
                    out.trickle_seconds_per_byte = float(f.params.get("seconds_per_byte", 0.5))
                elif f.kind == "gzip_bomb":
                    out.gzip_bomb_mib = int(f.params.get("mib", 2048))
                elif f.kind == "foreign_origin":
                    out.foreign_origin = str(f.params["origin"])
                elif f.kind == "bad_data":
                    out.bad_data.append(BadValue(f.params.get("field", ""), f.params.get("value"),
                                                dict(f.params.get("match") or {}), f.params.get("action", "set")))
            for armed in spent:
                self._armed.remove(armed)
            self.fired_total += out.fired
        return out
