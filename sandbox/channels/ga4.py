"""Google Analytics 4 Data API imitation, mounted at ``/ga4/v1beta``.

Contract (see api-notes section 7)
----------------------------------
* ``POST /properties/{id}:runReport`` with one ``dateRanges`` entry, any subset
  of the dimensions date, sessionSource, sessionMedium, sessionCampaignName,
  landingPage (any order) and metrics sessions, engagedSessions, bounceRate,
  keyEvents, totalRevenue. Unrequested dimensions are aggregated away;
  ``bounceRate`` is recomputed from the summed sessions/engagedSessions.
* Response: ``dimensionHeaders``, ``metricHeaders`` (typed), ``rows`` (values are
  strings, ``date`` is YYYYMMDD), ``rowCount`` (size of the full result),
  ``metadata``, ``propertyQuota`` when asked, ``kind``. Empty lists are omitted,
  as proto3 JSON does: no rows -> neither ``rows`` nor ``rowCount``.
* Rows are sorted by the requested dimension values (in request order) so
  ``offset``/``limit`` paging is stable. ``limit`` defaults to 10000, is capped
  at 250000.
* ``propertyQuota`` is a function of the request alone (consumed = this
  request's cost, remaining = limit - cost) so identical requests get
  byte-identical bodies.
* Errors use Google's ``{"error": {"code", "message", "status"}}`` envelope:
  401 UNAUTHENTICATED, 403 PERMISSION_DENIED (unknown property), 400
  INVALID_ARGUMENT, 429 RESOURCE_EXHAUSTED, 5xx UNAVAILABLE/INTERNAL.
* Sandbox limits: filters, orderBys, comparisons and multiple date ranges are
  rejected with INVALID_ARGUMENT rather than silently ignored.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .. import render
from ..faults import BadValue
from ..world_ga4 import Ga4Property
from .base import Channel, Request, Response, apply_overrides, json_response

API_VERSION = "v1beta"
_ROUTE_RE = re.compile(r"^/v1beta/properties/([^/:]+):runReport$")
_DAYS_AGO_RE = re.compile(r"^(\d+)daysAgo$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

DIMENSIONS = ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "landingPage")
METRIC_TYPES = {
    "sessions": "TYPE_INTEGER",
    "engagedSessions": "TYPE_INTEGER",
    "bounceRate": "TYPE_FLOAT",
    "keyEvents": "TYPE_FLOAT",
    "totalRevenue": "TYPE_CURRENCY",
}
DEFAULT_LIMIT = 10000
MAX_LIMIT = 250000
_KNOWN_KEYS = frozenset({"property", "dateRanges", "dimensions", "metrics", "limit", "offset",
                         "returnPropertyQuota", "keepEmptyRows", "currencyCode"})
_UNSUPPORTED_KEYS = frozenset({"dimensionFilter", "metricFilter", "orderBys", "cohortSpec", "comparisons",
                               "metricAggregations"})
_SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
# Paging re-asks the same report: the last two results are kept (as Arrow
# tables, ~50 bytes a row), older ones recomputed on demand.
_REPORT_CACHE_SIZE = 2


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


def invalid_metric(name: str) -> ApiError:
    return _invalid(f"Field {name} is not a valid metric. For a list of valid dimensions and metrics, "
                    f"see {_SCHEMA_URL} ")


def _error_body(err: ApiError) -> dict[str, Any]:
    return {"error": {"code": err.code, "message": err.message, "status": err.status}}


class Ga4(Channel):
    name = "ga4"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._cache: OrderedDict[tuple, tuple[pa.Table, int, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/{API_VERSION}"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"access_token": credential, "accounts": list(self.sandbox.world.ga4_properties), "lookback_days": 3}

    # ------------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.bearer_token() == self.token:
            return None
        return json_response(401, _error_body(ApiError(
            401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")))

    def _requested_metrics(self, req: Request) -> list[str]:
        try:
            body = req.json_body
            return [m.get("name") for m in body.get("metrics", []) if isinstance(m, dict)]
        except (ValueError, AttributeError, TypeError):
            return []

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        if fault.kind == "remove_metric":
            return fault.params["metric"] in self._requested_metrics(req)
        if fault.kind == "bad_data":
            return bool(_ROUTE_RE.match(req.subpath))
        return False  # repeat_cursor: GA4 pages by offset, there is no cursor to repeat

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            err = ApiError(429, "Exhausted property tokens per hour.", "RESOURCE_EXHAUSTED")
        elif fault.kind == "server_error":
            status = int(p.get("status", 503))
            err = (ApiError(status, "Internal error encountered.", "INTERNAL") if status == 500
                   else ApiError(status, "The service is currently unavailable.", "UNAVAILABLE"))
        elif fault.kind == "expired_token":
            err = ApiError(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        elif fault.kind == "remove_metric":
            err = invalid_metric(p["metric"])
        else:  # pragma: no cover
            raise ValueError(fault.kind)
        resp = json_response(err.code, _error_body(err))
        if "retry_after" in p:
            resp.headers["Retry-After"] = str(p["retry_after"])
        return resp

    def not_found(self, req: Request) -> Response:
        return json_response(404, _error_body(ApiError(404, "Requested entity was not found.", "NOT_FOUND")))

    def internal_error(self, req: Request) -> Response:
        return json_response(500, _error_body(ApiError(500, "Internal error encountered.", "INTERNAL")))

    # ---------------------------------------------------------------- handler
    def handle(self, req: Request) -> Response:
        m = _ROUTE_RE.match(req.subpath)
        if m is None or req.method != "POST":
            return self.not_found(req)
        try:
            prop = req.world.ga4_properties.get(m.group(1))
            if prop is None:
                raise ApiError(403, "User does not have sufficient permissions for this property. To learn more "
                               "about Property ID, see https://developers.google.com/analytics/devguides/"
                               "reporting/data/v1/property-id.", "PERMISSION_DENIED")
            return self._run_report(req, prop)
        except ApiError as err:
            return json_response(err.code, _error_body(err))

    def _parse_date(self, req: Request, value: Any, field: str) -> dt.date:
        today = req.world.today
        if value == "today":
            return today
        if value == "yesterday":
            return today - dt.timedelta(days=1)
        if isinstance(value, str):
            m = _DAYS_AGO_RE.match(value)
            if m:
                return today - dt.timedelta(days=int(m.group(1)))
            if _DATE_RE.match(value):
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    pass
        raise _invalid(f"Invalid {field}: {value!r}. Use YYYY-MM-DD, NdaysAgo, yesterday, or today.")

    @staticmethod
    def _int_field(body: dict, name: str, default: int) -> int:
        # int64 fields arrive as JSON numbers or (proto3 JSON) numeric strings.
        raw = body.get(name, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise _invalid(f"Invalid value for {name}: {raw!r}") from None
        if value < 0:
            raise _invalid(f"{name} must be non-negative, got {value}.")
        return value

    def _run_report(self, req: Request, prop: Ga4Property) -> Response:
        try:
            body = req.json_body
        except ValueError:
            raise _invalid("Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise _invalid("Invalid JSON payload received. Expected an object.")
        for key in body:
            if key in _UNSUPPORTED_KEYS:
                raise _invalid(f"{key} is not supported by the socialmart sandbox.")
            if key not in _KNOWN_KEYS:
                raise _invalid(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')

        ranges = body.get("dateRanges")
        if not isinstance(ranges, list) or len(ranges) != 1 or not isinstance(ranges[0], dict):
            raise _invalid("The sandbox requires exactly one entry in dateRanges.")
        start = self._parse_date(req, ranges[0].get("startDate"), "startDate")
        end = self._parse_date(req, ranges[0].get("endDate"), "endDate")
        if start > end:
            raise _invalid(f"Invalid date range: startDate {start} is after endDate {end}.")

        dims = [d.get("name") if isinstance(d, dict) else d for d in body.get("dimensions") or []]
        for d in dims:
            if d not in DIMENSIONS:
                raise _invalid(f"Field {d} is not a valid dimension. For a list of valid dimensions and metrics, "
                               f"see {_SCHEMA_URL} ")
        if len(set(dims)) != len(dims):
            raise _invalid("Duplicate dimension names are not allowed.")
        metrics = [m.get("name") if isinstance(m, dict) else m for m in body.get("metrics") or []]
        for name in metrics:
            if name not in METRIC_TYPES:
                raise invalid_metric(name)
        if not dims and not metrics:
            raise _invalid("A report needs at least one dimension or metric.")
        limit = self._int_field(body, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT  # proto3: 0 means unset
        limit = min(limit, MAX_LIMIT)
        offset = self._int_field(body, "offset", 0)

        result, n_days = self._aggregate(req, prop, start, end, tuple(dims))
        page = result.slice(offset, limit) if offset < result.num_rows else result.slice(0, 0)
        rows = render.join_rows(self._report_rows(page, dims, metrics)) if page.num_rows else b""
        if rows and req.bad_data:
            data = orjson.loads(b"[" + rows + b"]")
            for row in data:
                self._override(row, dims, metrics, req.bad_data)
            rows = orjson.dumps(data)[1:-1]

        out: dict[str, Any] = {}
        if dims:
            out["dimensionHeaders"] = [{"name": d} for d in dims]
        if metrics:
            out["metricHeaders"] = [{"name": name, "type": METRIC_TYPES[name]} for name in metrics]
        if rows:
            out["rows"] = None  # spliced in below, pre-rendered
        if result.num_rows:
            out["rowCount"] = result.num_rows
        out["metadata"] = {"currencyCode": prop.currency, "timeZone": prop.time_zone}
        if body.get("returnPropertyQuota"):
            cost = 1 + n_days // 30 + result.num_rows // 1000
            out["propertyQuota"] = {
                "tokensPerDay": {"consumed": cost, "remaining": 200000 - cost},
                "tokensPerHour": {"consumed": cost, "remaining": 40000 - cost},
                "concurrentRequests": {"remaining": 10},
                "serverErrorsPerProjectPerHour": {"remaining": 10},
                "potentiallyThresholdedRequestsPerHour": {"remaining": 120},
                "tokensPerProjectPerHour": {"consumed": cost, "remaining": 14000 - cost},
            }
        out["kind"] = "analyticsData#runReport"
        if not rows:
            return json_response(200, out)
        return Response(200, render.splice(out, "rows", rows), rows=page.num_rows)

    @staticmethod
    def _report_rows(page: pa.Table, dims: list[str], metrics: list[str]) -> pa.Array:
        """The page's rows as JSON texts: values through the headers' order, all strings."""
        parts: list[render.Piece] = []
        if dims:
            parts.append('{"dimensionValues":[')
            for i, name in enumerate(dims):
                encoded = pc.dictionary_encode(page.column(name)).combine_chunks()
                values = render.quoted(encoded.dictionary.to_pylist()).take(encoded.indices)
                parts += ['{"value":' if i == 0 else ',{"value":', values, "}"]
            parts.append("]")
        if metrics:
            parts.append(',"metricValues":[' if dims else '{"metricValues":[')
            sessions = page.column("sessions").to_numpy()
            engaged = page.column("engagedSessions").to_numpy()
            key_events = page.column("keyEvents").to_numpy()
            revenue = page.column("revenue_cents").to_numpy()
            for i, name in enumerate(metrics):
                text = _metric_text(name, sessions, engaged, key_events, revenue)
                parts += ['{"value":"' if i == 0 else ',{"value":"', text, '"}']
            parts.append("]")
        parts.append("}")
        return render.concat(*parts)

    @staticmethod
    def _override(row: dict, dims: list[str], metrics: list[str], overrides: list[BadValue]) -> None:
        for override in overrides:
            if override.name in dims and not override.match:
                row["dimensionValues"][dims.index(override.name)]["value"] = override.value
            elif override.name in metrics and not override.match:
                row["metricValues"][metrics.index(override.name)]["value"] = override.value
            else:
                apply_overrides(row, [override])

    def _aggregate(self, req: Request, prop: Ga4Property, start: dt.date, end: dt.date,
                   dims: tuple[str, ...]) -> tuple[pa.Table, int]:
        """Full, sorted result for (property, range, dimensions) at this revision:
        the requested dimensions and the summed measures.

        Paging through a report re-asks the same question with a new offset;
        the small LRU makes every page after the first a slice.
        """
        world = req.world
        key = (id(world), prop.id, start, end, dims, req.revision)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[2] is world:
                self._cache.move_to_end(key)
                return hit[0], hit[1]
        lo, hi = max(start, world.history_start), min(end, world.last_day)
        n_days = max(0, (hi - lo).days + 1)
        rows = world.ga4_rows(prop, start, end, req.revision)
        measures = ["sessions", "engagedSessions", "keyEvents", "revenue_cents"]
        if rows.num_rows == 0:
            result = rows.select([*dims, *measures])
        else:
            summed = rows.group_by(list(dims), use_threads=False).aggregate([(m, "sum") for m in measures])
            result = summed.rename_columns([c.removesuffix("_sum") for c in summed.column_names])
            if dims:
                result = result.sort_by([(d, "ascending") for d in dims])
            result = result.select([*dims, *measures])
        with self._cache_lock:
            self._cache[key] = (result, n_days, world)
            while len(self._cache) > _REPORT_CACHE_SIZE:
                self._cache.popitem(last=False)
        return result, n_days


def _metric_text(name: str, sessions: np.ndarray, engaged: np.ndarray, key_events: np.ndarray,
                 revenue_cents: np.ndarray) -> pa.Array:
    """One metric column as GA4 writes it (every value a string)."""
    if name == "sessions":
        return render.ints(sessions)
    if name == "engagedSessions":
        return render.ints(engaged)
    if name == "bounceRate":
        # Recomputed from the summed sessions, never averaged.
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = render.fixed(np.where(sessions > 0, 1.0 - engaged / sessions, 0.0), 4)
        return pc.if_else(pa.array(sessions > 0), rate, pa.scalar("0", pa.string()))
    if name == "keyEvents":
        # keyEvents is TYPE_FLOAT: GA4 renders it both as "17" and "3.0". We emit
        # both spellings (small counts with ".0") so clients have to parse floats.
        counts = render.ints(key_events)
        return pc.if_else(pa.array(key_events < 10), render.concat(counts, ".0"), counts)
    if name == "totalRevenue":
        # f"{r:.2f}" without trailing zeros: "12.5", "3", "0".
        whole, fraction = render.ints(revenue_cents // 100), revenue_cents % 100
        tenths = render.concat(whole, ".", render.ints(fraction // 10))
        hundredths = render.concat(whole, ".", pc.utf8_lpad(render.ints(fraction), 2, "0"))
        return pc.if_else(pa.array(fraction == 0), whole,
                          pc.if_else(pa.array(fraction % 10 == 0), tenths, hundredths))
    raise ValueError(name)
