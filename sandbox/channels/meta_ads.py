"""Meta Marketing API (Graph API) imitation, mounted at ``/meta_ads/v{NN}.0``.

Contract (see api-notes section 1)
----------------------------------
* ``GET /act_{id}?fields=...``: the ad account node (``id`` plus requested fields).
* ``GET /act_{id}/campaigns`` and ``/act_{id}/ads``: paged edges.
* ``GET /act_{id}/insights?level=campaign&time_increment=1&time_range={...}&fields=...``:
  one row per delivering campaign per account-local day, ordered by
  (date_start, campaign_id); numbers are strings; empty ``actions`` /
  ``action_values`` keys are omitted; purchases appear under three action types.
* Paging: ``limit`` (default 25, max 5000), opaque base64 ``after``/``before``
  cursors; ``paging.next`` is an absolute URL repeating every original query
  parameter (access_token included) and is absent on the last page.
* Auth: ``access_token`` query parameter or ``Authorization: Bearer``; failures
  are HTTP 400 code 190. Errors use Graph's ``{"error": {...}}`` envelope with a
  deterministic ``fbtrace_id``. Every response carries ``X-App-Usage``,
  ``X-Business-Use-Case-Usage`` (account paths) and ``X-Ad-Account-Usage``.
* Sandbox limits: only ``level=campaign`` with ``time_increment=1`` and an
  explicit ``time_range`` is modelled; anything else is a 400 that says so
  rather than a silently different answer. No async report runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
import threading
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .. import render
from ..world import World
from ..world_meta_ads import META_HISTORY_MONTHS, AdAccount, CampaignDays
from .base import Channel, Request, Response, apply_overrides, apply_row_faults, json_response

DEFAULT_VERSION = "v21.0"
_VERSION_RE = re.compile(r"^v\d+\.0$")
_ACCOUNT_RE = re.compile(r"^act_(\d+)$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000

# Field order on the wire follows api-notes' example row.
INSIGHT_FIELDS = (
    "account_id", "account_name", "account_currency", "campaign_id", "campaign_name",
    "date_start", "date_stop", "spend", "impressions", "reach", "clicks", "cpc", "ctr", "cpm",
    "actions", "action_values",
)
_INSIGHT_FIELD_SET = frozenset(INSIGHT_FIELDS)
ACCOUNT_FIELDS = frozenset(
    {"id", "account_id", "name", "currency", "timezone_name", "timezone_offset_hours_utc", "account_status"}
)
CAMPAIGN_FIELDS = frozenset(
    {"id", "account_id", "name", "objective", "status", "effective_status", "configured_status",
     "start_time", "stop_time", "created_time"}
)
AD_FIELDS = frozenset({"id", "account_id", "name", "campaign_id", "status", "effective_status", "creative"})
CREATIVE_FIELDS = frozenset({"id", "name", "url_tags"})
ATTRIBUTION_WINDOWS = frozenset(
    {"1d_view", "7d_view", "28d_view", "1d_click", "7d_click", "28d_click", "dda", "default"}
)

_PAGED_EDGES = frozenset({"campaigns", "ads", "insights"})


class GraphError(Exception):
    """Raised inside handlers; rendered as Graph's error envelope."""

    def __init__(self, status: int, message: str, type_: str = "OAuthException", code: int = 100,
                 subcode: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.subcode, self.extra = (
            status, message, type_, code, subcode, extra)


def parse_fields(spec: str) -> list[tuple[str, list | None]]:
    """Graph field syntax: ``a,b,creative{url_tags,id}`` -> [(name, subfields|None)]."""
    pos = 0

    def parse_list() -> list[tuple[str, list | None]]:
        nonlocal pos
        items: list[tuple[str, list | None]] = []
        while pos < len(spec):
            start = pos
            while pos < len(spec) and spec[pos] not in ",{}":
                pos += 1
            name = spec[start:pos].strip()
            sub = None
            if pos < len(spec) and spec[pos] == "{":
                pos += 1
                sub = parse_list()
                if pos >= len(spec) or spec[pos] != "}":
                    raise ValueError("unbalanced braces")
                pos += 1
            if name:
                items.append((name, sub))
            elif sub is not None:
                raise ValueError("subfields without a field")
            if pos < len(spec) and spec[pos] == ",":
                pos += 1
                continue
            break
        return items

    items = parse_list()
    if pos != len(spec):
        raise ValueError("unbalanced braces")
    return items


def _flat_names(items: list[tuple[str, list | None]]) -> set[str]:
    out: set[str] = set()
    for name, sub in items:
        out.add(name)
        if sub:
            out |= _flat_names(sub)
    return out


def _encode_cursor(index: int) -> str:
    return base64.b64encode(f"sandbox:{index}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), validate=True).decode()
    prefix, _, num = raw.partition(":")
    if prefix != "sandbox":
        raise ValueError(cursor)
    return int(num)


class MetaAds(Channel):
    name = "meta_ads"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/{DEFAULT_VERSION}"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {
            "access_token": credential,
            "accounts": list(self.sandbox.world.meta_accounts),
            "lookback_days": 28,
            "conversion_action_type": "purchase",
        }

    # ---------------------------------------------------------------- routing
    @staticmethod
    def _route(req: Request) -> tuple[str, str, str] | None:
        """-> (version, node, edge) for /vNN.0/node[/edge]; edge may be ''."""
        parts = req.subpath.strip("/").split("/")
        if len(parts) not in (2, 3) or not _VERSION_RE.match(parts[0]):
            return None
        return parts[0], parts[1], parts[2] if len(parts) == 3 else ""

    @staticmethod
    def _account_number(req: Request) -> str | None:
        route = MetaAds._route(req)
        if route:
            m = _ACCOUNT_RE.match(route[1])
            if m:
                return m.group(1)
        return None

    # ------------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.params.get("access_token") == self.token or req.bearer_token() == self.token:
            return None
        return self._error(req, GraphError(
            400, "Error validating access token: The session has been invalidated", code=190, subcode=460))

    def _requested_names(self, req: Request) -> set[str]:
        try:
            return _flat_names(parse_fields(req.params.get("fields", "")))
        except ValueError:
            return set()

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        route = self._route(req)
        if fault.kind == "remove_metric":
            return fault.params["metric"] in self._requested_names(req)
        if fault.kind == "repeat_cursor":
            return bool(route) and route[2] in _PAGED_EDGES
        if fault.kind == "bad_data":
            return bool(route) and route[2] in _PAGED_EDGES | {""}
        return False

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            resp = self._error(req, GraphError(
                400, "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
                code=80004, subcode=2446079))
            minutes = math.ceil(float(p.get("minutes", 0)))  # Meta reports whole minutes
            resp.headers.update(self._usage_headers(req, throttled_minutes=minutes))
        elif fault.kind == "server_error":
            resp = self._error(req, GraphError(
                int(p.get("status", 503)), "An unexpected error has occurred. Please retry your request later.",
                code=2, is_transient=True))
        elif fault.kind == "expired_token":
            resp = self._error(req, GraphError(400, self._expired_message(req.world), code=190, subcode=463))
        elif fault.kind == "remove_metric":
            resp = self._error(req, self._invalid_field(p["metric"]))
        else:  # pragma: no cover - FaultBook only routes terminal kinds here
            raise ValueError(fault.kind)
        if "retry_after" in p:
            resp.headers["Retry-After"] = str(p["retry_after"])
        return resp

    @staticmethod
    def _expired_message(world: World) -> str:
        tz = ZoneInfo("America/Los_Angeles")
        expired = dt.datetime.combine(world.today - dt.timedelta(days=2), dt.time(9, 0), tz)
        now = dt.datetime.combine(world.today, dt.time(3, 14, 7), tz)
        fmt = "%A, %d-%b-%y %H:%M:%S %Z"
        return (f"Error validating access token: Session has expired on {expired.strftime(fmt)}. "
                f"The current time is {now.strftime(fmt)}.")

    # -------------------------------------------------------------- responses
    def _fbtrace(self, req: Request) -> str:
        return base64.urlsafe_b64encode(req.world.h.token("fbtrace", req.target, n=17)).decode().rstrip("=")

    def _error(self, req: Request, err: GraphError) -> Response:
        body: dict[str, Any] = {"message": err.message, "type": err.type, "code": err.code}
        if err.subcode is not None:
            body["error_subcode"] = err.subcode
        body.update(err.extra)
        body["fbtrace_id"] = self._fbtrace(req)
        return json_response(err.status, {"error": body})

    def not_found(self, req: Request) -> Response:
        return self._error(req, GraphError(404, f"Unknown path components: {req.subpath}", code=2500))

    def internal_error(self, req: Request) -> Response:
        return self._error(req, GraphError(500, "An unknown error occurred", code=1, is_transient=False))

    def _usage_headers(self, req: Request, throttled_minutes: int | None = None) -> dict[str, str]:
        # Low, slowly cycling percentages: realistic-looking but never high
        # enough to make a well-behaved client back off on its own. Only the
        # throttle fault reports saturation.
        number = self._account_number(req)
        with self._lock:
            n = self._calls[number or ""] = self._calls.get(number or "", 0) + 1
        if throttled_minutes is None:
            calls, cpu, total, eta = 1 + n % 9, 1 + n % 5, 1 + n % 7, 0
        else:
            calls, cpu, total, eta = 100, 100, 100, throttled_minutes
        route = self._route(req)
        headers = {
            "X-App-Usage": orjson.dumps({"call_count": calls, "total_cputime": cpu, "total_time": total}).decode(),
            "facebook-api-version": route[0] if route else DEFAULT_VERSION,
            "x-fb-trace-id": self._fbtrace(req),
        }
        if number:
            kind = "ads_insights" if route and route[2] == "insights" else "ads_management"
            headers["X-Business-Use-Case-Usage"] = orjson.dumps({number: [{
                "type": kind, "call_count": calls, "total_cputime": cpu, "total_time": total,
                "estimated_time_to_regain_access": eta}]}).decode()
            headers["X-Ad-Account-Usage"] = orjson.dumps({
                "acc_id_util_pct": float(calls), "reset_time_duration": 60 * eta,
                "ads_api_access_tier": "standard_access"}).decode()
        return headers

    def finalize(self, req: Request, resp: Response) -> None:
        if "X-App-Usage" not in resp.headers:  # the throttle fault already set saturated ones
            resp.headers.update(self._usage_headers(req))

    # --------------------------------------------------------------- handlers
    def handle(self, req: Request) -> Response:
        route = self._route(req)
        if route is None:
            return self.not_found(req)
        _, node, edge = route
        m = _ACCOUNT_RE.match(node)
        if m is None or edge not in _PAGED_EDGES | {""}:
            return self.not_found(req)
        try:
            account = req.world.meta_accounts.get(node)
            if account is None or req.method != "GET":
                verb = req.method.lower()
                raise GraphError(
                    400,
                    f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be loaded due to "
                    "missing permissions, or does not support this operation.",
                    type_="GraphMethodException", code=100, subcode=33)
            if edge == "":
                return self._account(req, account)
            if edge == "campaigns":
                return self._campaigns(req, account)
            if edge == "ads":
                return self._ads(req, account)
            return self._insights(req, account)
        except GraphError as err:
            return self._error(req, err)

    @staticmethod
    def _invalid_field(name: str) -> GraphError:
        return GraphError(
            400,
            f"(#100) {name} is not valid for fields param. please check "
            "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values")

    @staticmethod
    def _fields(req: Request, allowed: frozenset[str], node_type: str,
                default: str) -> list[tuple[str, list | None]]:
        try:
            items = parse_fields(req.params.get("fields") or default)
        except ValueError:
            raise GraphError(400, "(#100) Syntax error in the fields parameter") from None
        for name, _ in items:
            if name not in allowed:
                raise GraphError(400, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")
        return items

    def _account(self, req: Request, a: AdAccount) -> Response:
        items = self._fields(req, ACCOUNT_FIELDS, "AdAccount", "id")
        tz = ZoneInfo(a.timezone_name)
        offset = dt.datetime.combine(req.world.today, dt.time(12), tz).utcoffset().total_seconds() / 3600
        values = {"id": a.id, "account_id": a.number, "name": a.name, "currency": a.currency,
                  "timezone_name": a.timezone_name, "timezone_offset_hours_utc": offset, "account_status": 1}
        out = {"id": a.id}
        for name, _ in items:
            out[name] = values[name]
        apply_overrides(out, req.bad_data)
        return json_response(200, out)

    @staticmethod
    def _meta_time(d: dt.date, t: dt.time, tz_name: str) -> str:
        return dt.datetime.combine(d, t, ZoneInfo(tz_name)).strftime("%Y-%m-%dT%H:%M:%S%z")

    def _campaigns(self, req: Request, a: AdAccount) -> Response:
        items = self._fields(req, CAMPAIGN_FIELDS, "Campaign", "id")
        start, end = self._window(req, len(a.campaigns))
        data = []
        for c in a.campaigns[start:end]:
            values = {
                "id": c.id, "account_id": a.number, "name": c.name, "objective": c.objective,
                "status": c.status, "effective_status": c.status, "configured_status": c.status,
                "start_time": self._meta_time(c.start, dt.time(9, 0), a.timezone_name),
                "created_time": self._meta_time(c.start - dt.timedelta(days=3), dt.time(14, 23, 5), a.timezone_name),
            }
            if c.stop is not None:
                values["stop_time"] = self._meta_time(c.stop, dt.time(23, 59), a.timezone_name)
            row = {name: values[name] for name, _ in items if name in values}
            apply_overrides(row, req.bad_data)
            data.append(row)
        return self._paged(req, data, start, end, len(a.campaigns))

    def _ads(self, req: Request, a: AdAccount) -> Response:
        items = self._fields(req, AD_FIELDS, "Ad", "id")
        for name, sub in items:
            for sname, _ in sub or ():
                if name != "creative" or sname not in CREATIVE_FIELDS:
                    raise GraphError(
                        400, f"(#100) Tried accessing nonexisting field ({sname}) on node type (AdCreative)")
        ads = [(c, ad) for c in a.campaigns for ad in c.ads]
        ads.sort(key=lambda x: x[1].id)
        start, end = self._window(req, len(ads))
        data = []
        for c, ad in ads[start:end]:
            row: dict[str, Any] = {}
            for name, sub in items:
                if name == "creative":
                    creative: dict[str, Any] = {"id": ad.creative_id}  # Graph always returns the node id
                    for sname, _ in sub or ():
                        if sname == "name":
                            creative["name"] = f"{ad.name} creative"
                        elif sname == "url_tags" and ad.url_tags is not None:  # untagged: key omitted
                            creative["url_tags"] = ad.url_tags
                    row["creative"] = creative
                else:
                    row[name] = {
                        "id": ad.id, "account_id": a.number, "name": ad.name, "campaign_id": c.id,
                        "status": c.status, "effective_status": c.status,
                    }[name]
            apply_overrides(row, req.bad_data)
            data.append(row)
        return self._paged(req, data, start, end, len(ads))

    def _insights(self, req: Request, a: AdAccount) -> Response:
        world = req.world
        p = req.params
        items = self._fields_insights(req)
        if p.get("level") != "campaign":
            raise GraphError(400, f"(#100) The sandbox only serves level=campaign (got {p.get('level')!r})")
        if p.get("time_increment") != "1":
            raise GraphError(
                400, f"(#100) The sandbox only serves time_increment=1 (got {p.get('time_increment')!r})")
        since, until = self._time_range(p.get("time_range"))
        if since < world.history_start:
            raise GraphError(
                400, f"(#3018) The start date of the time range cannot be beyond {META_HISTORY_MONTHS} months "
                "from the current date", code=3018)
        windows = p.get("action_attribution_windows")
        if windows is not None:
            try:
                parsed = orjson.loads(windows)
                ok = isinstance(parsed, list) and all(w in ATTRIBUTION_WINDOWS for w in parsed)
            except orjson.JSONDecodeError:
                ok = False
            if not ok:
                raise GraphError(400, "(#100) action_attribution_windows must be a JSON list of valid windows")

        segments = world.meta_segments(a, since, until)
        total = sum(n * len(cs) for _, n, cs in segments)
        start, end = self._window(req, total)
        # Row index -> (day, campaign) by integer arithmetic within each
        # segment: the page is computed without the rows before it.
        ordinals, positions = [], []
        base = 0
        for first, n_days, campaigns in segments:
            size = n_days * len(campaigns)
            if base + size > start and base < end:
                k = len(campaigns)
                index = np.arange(max(start - base, 0), min(end - base, size))
                ordinals.append(first + index // k)
                positions.append(np.array([world.campaign_position[c.id] for c in campaigns])[index % k])
            base += size
            if base >= end:
                break
        if not ordinals:
            return self._paged(req, b"", start, end, total)
        ordinals, positions = np.concatenate(ordinals), np.concatenate(positions)
        days = world.campaign_days(positions, ordinals, req.revision)
        want = frozenset(name for name, _ in items)
        rows = render.join_rows(self._insight_rows(world, a, positions, ordinals, days, want))
        if req.bad_data:
            data = apply_row_faults(orjson.loads(b"[" + rows + b"]"), req.bad_data)
            rows = orjson.dumps(data)[1:-1]
        return self._paged(req, rows, start, end, total)

    def _fields_insights(self, req: Request) -> list[tuple[str, list | None]]:
        try:
            items = parse_fields(req.params.get("fields") or "impressions,spend")
        except ValueError:
            raise GraphError(400, "(#100) Syntax error in the fields parameter") from None
        for name, sub in items:
            if name not in _INSIGHT_FIELD_SET or sub:
                raise self._invalid_field(name)
        return items

    @staticmethod
    def _time_range(raw: str | None) -> tuple[dt.date, dt.date]:
        bad = GraphError(
            400, "(#100) param time_range must be a JSON object with since and until dates formatted YYYY-MM-DD, "
            "since <= until")
        if not raw:
            raise bad
        try:
            obj = orjson.loads(raw)
            since_s, until_s = obj["since"], obj["until"]
            if not (_DATE_RE.match(since_s) and _DATE_RE.match(until_s)):
                raise ValueError
            since, until = dt.date.fromisoformat(since_s), dt.date.fromisoformat(until_s)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise bad from None
        if since > until:
            raise bad
        return since, until

    @staticmethod
    def _insight_rows(world: World, a: AdAccount, positions: np.ndarray, ordinals: np.ndarray, cd: CampaignDays,
                      want: frozenset[str]) -> pa.Array:
        """The page's insight rows as JSON texts, in wire field order: numbers
        as strings, ratios omitted when their denominator is zero, empty
        ``actions`` / ``action_values`` omitted, purchases under three names."""
        lo = int(ordinals.min())
        dates = render.quoted([dt.date.fromordinal(o).isoformat() for o in range(lo, int(ordinals.max()) + 1)])
        date = dates.take(ordinals - lo)
        used = np.unique(positions)
        local = np.searchsorted(used, positions)
        campaigns = [world.campaign_list[p] for p in used]
        pieces: list[render.Piece] = []
        for name, value in (("account_id", a.number), ("account_name", a.name), ("account_currency", a.currency)):
            if name in want:
                pieces.append(f',"{name}":{orjson.dumps(value).decode()}')
        if "campaign_id" in want:
            pieces += [',"campaign_id":', render.quoted([c.id for c in campaigns]).take(local)]
        if "campaign_name" in want:
            pieces += [',"campaign_name":', render.quoted([c.name for c in campaigns]).take(local)]
        pieces += [',"date_start":', date, ',"date_stop":', date]
        spend = cd.spend_cents / 100
        if "spend" in want:
            pieces += [',"spend":"', render.cents(cd.spend_cents), '"']
        for name, values in (("impressions", cd.impressions), ("reach", cd.reach), ("clicks", cd.clicks)):
            if name in want:
                pieces += [f',"{name}":"', render.ints(values), '"']
        with np.errstate(divide="ignore", invalid="ignore"):
            # Graph omits ratios with a zero denominator.
            for name, numerator, denominator in (("cpc", spend, cd.clicks), ("ctr", 100.0 * cd.clicks, cd.impressions),
                                                 ("cpm", 1000.0 * spend, cd.impressions)):
                if name in want:
                    ratio = render.fixed(np.where(denominator > 0, numerator / denominator, 0.0), 6)
                    pieces.append(render.when(denominator > 0, render.concat(f',"{name}":"', ratio, '"')))
        if "actions" in want:
            entries = []
            for action_type, counts in (("link_click", cd.link_clicks), ("landing_page_view", cd.landing_page_views),
                                        ("lead", cd.leads)):
                entry = render.concat(f',{{"action_type":"{action_type}","value":"', render.ints(counts), '"}')
                entries.append(render.when(counts > 0, entry))
            # The same conversion under three names: clients must pick one.
            n = render.ints(cd.purchases)
            entries.append(render.when(cd.purchases > 0, render.concat(
                ',{"action_type":"purchase","value":"', n, '"},{"action_type":"omni_purchase","value":"', n,
                '"},{"action_type":"offsite_conversion.fb_pixel_purchase","value":"', n, '"}')))
            listed = render.concat(*entries)
            any_action = (cd.link_clicks > 0) | (cd.landing_page_views > 0) | (cd.leads > 0) | (cd.purchases > 0)
            pieces.append(render.when(any_action, render.concat(',"actions":[', pc.utf8_slice_codeunits(listed, 1), "]")))
        if "action_values" in want:
            value = render.cents(cd.purchase_value_cents)
            pieces.append(render.when(cd.purchases > 0, render.concat(
                ',"action_values":[{"action_type":"purchase","value":"', value,
                '"},{"action_type":"omni_purchase","value":"', value, '"}]')))
        rows = render.concat(*pieces)
        # Every piece leads with its comma; the row's first one goes.
        return render.concat("{", pc.utf8_slice_codeunits(rows, 1), "}")

    # ---------------------------------------------------------------- paging
    def _window(self, req: Request, total: int) -> tuple[int, int]:
        p = req.params
        try:
            limit = int(p.get("limit", DEFAULT_LIMIT))
        except ValueError:
            raise GraphError(400, "(#100) param limit must be an integer") from None
        limit = min(max(limit, 1), MAX_LIMIT)
        try:
            if p.get("after"):
                start = _decode_cursor(p["after"]) + 1
                end = start + limit
            elif p.get("before"):
                end = _decode_cursor(p["before"])
                start = end - limit
            else:
                start, end = 0, limit
        except ValueError:
            raise GraphError(400, "(#100) Invalid cursor") from None
        start = min(max(start, 0), total)
        return start, min(max(end, start), total)

    def _paged(self, req: Request, data: list | bytes, start: int, end: int, total: int) -> Response:
        """One page of an edge: rows as dicts, or as the pre-rendered inside of the JSON array."""
        if not data:
            # Graph answers an empty edge with just {"data": []}.
            return json_response(200, {"data": []})
        base_query = [(k, v) for k, v in req.query if k not in ("after", "before")]
        # repeat_cursor: point "after" at the row before this page, so following
        # next re-fetches the very same page.
        after_index = start - 1 if req.repeat_cursor else end - 1
        paging: dict[str, Any] = {"cursors": {"before": _encode_cursor(start), "after": _encode_cursor(after_index)}}
        if start > 0 and not req.repeat_cursor:
            paging["previous"] = req.absolute_url(base_query + [("before", paging["cursors"]["before"])])
        if end < total or req.repeat_cursor:
            paging["next"] = req.absolute_url(base_query + [("after", paging["cursors"]["after"])])
        if isinstance(data, bytes):
            return Response(200, render.splice({"data": None, "paging": paging}, "data", data), rows=end - start)
        return json_response(200, {"data": data, "paging": paging}, rows=len(data))
