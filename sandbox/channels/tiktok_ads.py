"""TikTok Business API v1.3 imitation, mounted at ``/tiktok_ads/open_api/v1.3``.

Contract (see api-notes section 6)
----------------------------------
* ``GET /advertiser/info/?advertiser_ids=["..."]``: name, currency, timezone.
* ``GET /campaign/get/`` and ``GET /ad/get/`` with ``advertiser_id``, ``page``,
  ``page_size`` (default 10, max 1000): ``data.list`` + ``data.page_info``.
* ``GET /report/integrated/get/`` with service_type=AUCTION, report_type=BASIC,
  data_level=AUCTION_CAMPAIGN, dimensions ["campaign_id","stat_time_day"] and
  JSON-encoded metrics; at most 30 days; rows ordered (day, campaign_id);
  ``stat_time_day`` "YYYY-MM-DD 00:00:00" in the advertiser's zone; metrics are
  strings, "-" where TikTok has no value.
* Every answer is HTTP 200 with ``{"code", "message", "request_id", "data"}``;
  ``Access-Token`` header auth (40104 missing, 40105 invalid/expired). Errors:
  40001 no permission (unknown advertiser), 40002 invalid parameter (an unknown
  or removed metric is named), 40100 rate limit, 50002 server error.
* Faults: throttle (40100), server_error (50002, or a real HTTP status with
  ``params={"status": 503}``), expired_token (40105), remove_metric (40002
  naming the metric), bad_data (dotted ``metrics.spend`` / ``dimensions.x``
  reach into report rows), stall, truncated. TikTok pages by page number, so
  there is no cursor to repeat.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import orjson

from ..world_tiktok_ads import NOT_AVAILABLE, TikTokAdvertiser, TikTokWorld, tiktok_world
from .base import Channel, Request, Response, apply_overrides, json_response

API_PREFIX = "/open_api/v1.3"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
MAX_REPORT_DAYS = 30
REPORT_DIMENSIONS = frozenset({"campaign_id", "stat_time_day"})
REPORT_METRICS = frozenset({
    "campaign_name", "spend", "impressions", "clicks", "reach", "conversion", "complete_payment",
    "total_complete_payment_rate", "cpc", "cpm", "ctr",
})
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PATHS = ("/advertiser/info/", "/campaign/get/", "/ad/get/", "/report/integrated/get/")


class TikTokError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def invalid_metrics(names: list[str]) -> TikTokError:
    return TikTokError(40002, "Please correct the information in invalid metric fields and try again. "
                              f"Invalid metric fields: {names!r}. ")


def _json_list(req: Request, name: str) -> list[str]:
    try:
        value = orjson.loads(req.params.get(name) or "null")
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise TikTokError(40002, f"{name}: Not a valid list.")
    return value


class TikTokAds(Channel):
    name = "tiktok_ads"

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}{API_PREFIX}"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"access_token": credential, "accounts": list(tiktok_world(self.sandbox.world).advertisers),
                "lookback_days": 7}

    # ------------------------------------------------------------- envelope
    def _envelope(self, req: Request, code: int, message: str, data: Any, rows: int = 0,
                  status: int = 200) -> Response:
        request_id = req.world.h.token("tiktok-request", req.target, n=10).hex()
        return json_response(status, {"code": code, "message": message, "request_id": request_id, "data": data},
                             rows=rows)

    def _error(self, req: Request, err: TikTokError) -> Response:
        return self._envelope(req, err.code, err.message, {})

    # ---------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        token = req.headers.get("Access-Token")
        if not token:
            return self._error(req, TikTokError(40104, "Access token is null, please check your parameters."))
        if token != self.token:
            return self._error(req, TikTokError(40105, "Access token is incorrect or has been revoked."))
        return None

    def _route(self, req: Request) -> str | None:
        path = req.subpath.removeprefix(API_PREFIX)
        return path if req.subpath.startswith(API_PREFIX) and path in _PATHS else None

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        route = self._route(req)
        if fault.kind == "remove_metric":
            try:
                return route == "/report/integrated/get/" and fault.params["metric"] in _json_list(req, "metrics")
            except TikTokError:
                return False
        if fault.kind == "bad_data":
            return route is not None
        return False

    def fault_response(self, fault, req: Request) -> Response:
        if fault.kind == "throttle":
            return self._error(req, TikTokError(40100, "Too many requests. Please retry in some time."))
        if fault.kind == "server_error":
            status = int(fault.params.get("status", 200))
            return self._envelope(req, 50002, "Internal service error. Please try again later.", {}, status=status)
        if fault.kind == "expired_token":
            return self._error(req, TikTokError(40105, "Access token is incorrect or has been revoked."))
        if fault.kind == "remove_metric":
            return self._error(req, invalid_metrics([fault.params["metric"]]))
        raise ValueError(fault.kind)  # pragma: no cover - FaultBook only routes terminal kinds here

    def not_found(self, req: Request) -> Response:
        return json_response(404, {"code": 40400, "message": "Not Found", "data": {}})

    def internal_error(self, req: Request) -> Response:
        return self._envelope(req, 50000, "System error.", {})

    # -------------------------------------------------------------- handlers
    def handle(self, req: Request) -> Response:
        route = self._route(req)
        if route is None or req.method != "GET":
            return self.not_found(req)
        world = tiktok_world(req.world)
        try:
            if route == "/advertiser/info/":
                return self._advertiser_info(req, world)
            advertiser = world.advertisers.get(req.params.get("advertiser_id", ""))
            if advertiser is None:
                raise TikTokError(40001, "No permission to operate advertiser "
                                         f"{req.params.get('advertiser_id')!r}.")
            if route == "/campaign/get/":
                return self._paged(req, [self._campaign(c) for c in advertiser.campaigns])
            if route == "/ad/get/":
                return self._paged(req, [self._ad(advertiser, c, ad) for c in advertiser.campaigns for ad in c.ads])
            return self._report(req, world, advertiser)
        except TikTokError as err:
            return self._error(req, err)

    def _advertiser_info(self, req: Request, world: TikTokWorld) -> Response:
        listed = []
        for advertiser_id in _json_list(req, "advertiser_ids"):
            a = world.advertisers.get(advertiser_id)
            if a is None:
                raise TikTokError(40001, f"No permission to operate advertiser {advertiser_id!r}.")
            row = {"advertiser_id": a.id, "name": a.name, "currency": a.currency, "timezone": a.timezone,
                   "display_timezone": a.timezone, "status": "STATUS_ENABLE", "company": "Northwind Outdoor"}
            apply_overrides(row, req.bad_data)
            listed.append(row)
        return self._envelope(req, 0, "OK", {"list": listed}, rows=len(listed))

    @staticmethod
    def _campaign(c) -> dict[str, Any]:
        return {"campaign_id": c.id, "campaign_name": c.name, "advertiser_id": c.advertiser_id,
                "objective_type": c.objective_type, "operation_status": c.operation_status,
                "budget_mode": "BUDGET_MODE_INFINITE", "budget": 0.0,
                "create_time": f"{c.start - dt.timedelta(days=2)} 03:12:45"}

    @staticmethod
    def _ad(a: TikTokAdvertiser, c, ad) -> dict[str, Any]:
        return {"ad_id": ad.id, "ad_name": ad.name, "campaign_id": c.id, "adgroup_id": str(int(c.id) + 50),
                "advertiser_id": a.id, "landing_page_url": ad.landing_page_url,
                "operation_status": c.operation_status}

    @staticmethod
    def _page_window(req: Request) -> tuple[int, int]:
        try:
            page = int(req.params.get("page", 1))
            size = int(req.params.get("page_size", DEFAULT_PAGE_SIZE))
        except ValueError:
            raise TikTokError(40002, "page and page_size must be integers.") from None
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise TikTokError(40002, f"page must be >= 1 and page_size between 1 and {MAX_PAGE_SIZE}.")
        return page, size

    def _paged(self, req: Request, rows: list[dict[str, Any]]) -> Response:
        page, size = self._page_window(req)
        chunk = rows[(page - 1) * size: page * size]
        for row in chunk:
            apply_overrides(row, req.bad_data)
        page_info = {"page": page, "page_size": size, "total_number": len(rows),
                     "total_page": math.ceil(len(rows) / size)}
        return self._envelope(req, 0, "OK", {"list": chunk, "page_info": page_info}, rows=len(chunk))

    def _report(self, req: Request, world: TikTokWorld, advertiser: TikTokAdvertiser) -> Response:
        p = req.params
        for name, expected in (("service_type", "AUCTION"), ("report_type", "BASIC"),
                               ("data_level", "AUCTION_CAMPAIGN")):
            if p.get(name) != expected:
                raise TikTokError(40002, f"The sandbox only serves {name}={expected} (got {p.get(name)!r}).")
        if set(_json_list(req, "dimensions")) != REPORT_DIMENSIONS:
            raise TikTokError(40002, "The sandbox only serves dimensions [\"campaign_id\", \"stat_time_day\"].")
        metrics = _json_list(req, "metrics")
        unknown = [m for m in metrics if m not in REPORT_METRICS]
        if unknown:
            raise invalid_metrics(unknown)
        start, end = (self._date(p.get(name), name) for name in ("start_date", "end_date"))
        if start > end:
            raise TikTokError(40002, "start_date must not be after end_date.")
        if (end - start).days + 1 > MAX_REPORT_DAYS:
            raise TikTokError(40002, f"The time span between start_date and end_date cannot exceed {MAX_REPORT_DAYS} days.")
        lo, hi = world.served_days(start, end)
        keys = [(dt.date.fromordinal(o), c) for o in range(lo.toordinal(), hi.toordinal() + 1)
                for c in advertiser.campaigns if c.active_on(dt.date.fromordinal(o))]
        page, size = self._page_window(req)
        rows = []
        for day, c in keys[(page - 1) * size: page * size]:
            row = {"dimensions": {"campaign_id": c.id, "stat_time_day": f"{day.isoformat()} 00:00:00"},
                   "metrics": self._metrics(world, c, day, metrics)}
            apply_overrides(row, req.bad_data)
            rows.append(row)
        page_info = {"page": page, "page_size": size, "total_number": len(keys),
                     "total_page": math.ceil(len(keys) / size)}
        return self._envelope(req, 0, "OK", {"page_info": page_info, "list": rows}, rows=len(rows))

    @staticmethod
    def _date(value: str | None, name: str) -> dt.date:
        try:
            if value and _DATE_RE.match(value):
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
        raise TikTokError(40002, f"{name}: Not a valid date (YYYY-MM-DD).")

    @staticmethod
    def _metrics(world: TikTokWorld, c, day: dt.date, wanted: list[str]) -> dict[str, str]:
        d = world.day(c, day)

        def text(value: int | None) -> str:
            return NOT_AVAILABLE if value is None else str(value)

        values = {
            "campaign_name": c.name,
            "spend": f"{d.spend:.2f}",
            "impressions": str(d.impressions),
            "clicks": str(d.clicks),
            "reach": text(d.reach),
            "conversion": text(d.conversion),
            "complete_payment": str(d.complete_payment),
            "total_complete_payment_rate": f"{d.complete_payment_value:.2f}",
            # Ratios with a zero denominator are "-" too.
            "cpc": f"{d.spend / d.clicks:.2f}" if d.clicks else NOT_AVAILABLE,
            "cpm": f"{1000 * d.spend / d.impressions:.2f}",
            "ctr": f"{100 * d.clicks / d.impressions:.2f}",
        }
        return {name: values[name] for name in wanted}
