"""LinkedIn Marketing API imitation, mounted at ``/linkedin/rest``.

Contract (see api-notes section 5)
----------------------------------
* Every call needs ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` (a
  version is active for 12 months; older or future ones answer HTTP 426
  NONEXISTENT_VERSION) and ``X-Restli-Protocol-Version: 2.0.0``.
* ``GET /adAccounts/{id}``; ``GET /adAccounts/{id}/adCampaigns?q=search&pageSize&pageToken``
  (``metadata.nextPageToken``); ``GET /adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY
  &dateRange=(start:(year:..,month:..,day:..),end:(..))&accounts=List(urn%3Ali%3AsponsoredAccount%3A..)&fields=..``:
  Rest.li syntax whose ``():,`` must arrive unencoded (and the URNs inside
  ``List(...)`` encoded), at most 20 fields, elements per UTC day x campaign,
  cost and conversion value as strings, no paging and a silent cut at 15,000
  elements.
* Organic: ``/organizationalEntityShareStatistics`` and
  ``/organizationalEntityFollowerStatistics`` with
  ``timeIntervals=(timeRange:(start:<ms>,end:<ms>),timeGranularityType:DAY)``
  (start at most 12 months back, last day at least 2 days back, else 400);
  follower statistics without ``timeIntervals`` give lifetime counts by
  country, function, seniority and industry; ``/networkSizes/urn:li:organization:{id}
  ?edgeType=COMPANY_FOLLOWED_BY_MEMBER`` gives ``firstDegreeSize``.
* Errors: ``{"status", "serviceErrorCode", "code", "message"}``. Faults:
  throttle (429 serviceErrorCode 101), server_error, stall, truncated,
  expired_token (401 65600), remove_metric (400 "Invalid fields requested: x"
  on adAnalytics), bad_data (an element field, dotted for nested statistics),
  repeat_cursor (adCampaigns pages).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from ..world_linkedin import LiAccount, LinkedinWorld, linkedin_world
from .base import Channel, Request, Response, apply_overrides, json_response

MAX_FIELDS = 20
MAX_ELEMENTS = 15_000
VERSION_LIFETIME_MONTHS = 12
AD_FIELDS = frozenset({
    "dateRange", "pivotValues", "impressions", "clicks", "landingPageClicks", "costInLocalCurrency", "costInUsd",
    "externalWebsiteConversions", "conversionValueInLocalCurrency", "oneClickLeads", "likes", "comments", "shares",
    "follows", "reactions", "totalEngagements", "videoViews", "videoCompletions", "otherEngagements",
    "companyPageClicks", "opens", "sends",
})
_STRING_FIELDS = frozenset({"costInLocalCurrency", "costInUsd", "conversionValueInLocalCurrency"})
_DATE_RANGE = re.compile(r"^\(start:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\),"
                         r"end:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)\)$")
_INTERVALS = re.compile(r"^\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:DAY\)$")
_ACCOUNTS = re.compile(r"^List\(urn:li:sponsoredAccount:(\d+)\)$")
_VERSION = re.compile(r"^(\d{4})(\d{2})$")
_ENCODED_SYNTAX = re.compile(r"%28|%29|%2C", re.IGNORECASE)
_CAMPAIGN_PAGE = 100


class LinkedinError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, service_code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.service_code = status, message, code, service_code

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.service_code is not None:
            out["serviceErrorCode"] = self.service_code
        if self.code is not None:
            out["code"] = self.code
        return out


def _illegal(message: str) -> LinkedinError:
    return LinkedinError(400, message, "ILLEGAL_ARGUMENT", 100)


INVALID_TOKEN = LinkedinError(401, "Invalid access token", None, 65600)


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date()


def _one_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _page_token(index: int) -> str:
    return base64.urlsafe_b64encode(f"li:{index}".encode()).decode()


class Linkedin(Channel):
    name = "linkedin"

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/rest"

    def client_config(self, credential: str) -> dict[str, Any]:
        li = self._li(self.sandbox.world)
        recent = li.world.today - dt.timedelta(days=60)
        return {
            "access_token": credential,
            "accounts": list(li.accounts),
            "organizations": [li.organization_id],
            "linkedin_version": f"{recent.year}{recent.month:02d}",
            "lookback_days": 7,
        }

    def _li(self, world: Any) -> LinkedinWorld:
        return linkedin_world(world)

    # ------------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.bearer_token() != self.token:
            return json_response(401, INVALID_TOKEN.body())
        version = req.headers.get("LinkedIn-Version") or ""
        m = _VERSION.match(version)
        if m is None:
            return json_response(400, LinkedinError(400, "A version must be present. Please specify a version by "
                                                    "adding the LinkedIn-Version header.", "VERSION_MISSING").body())
        today = req.world.today
        age = (today.year - int(m.group(1))) * 12 + today.month - int(m.group(2))
        if not 0 <= age < VERSION_LIFETIME_MONTHS:
            return json_response(426, LinkedinError(426, f"Requested version {version}01 is not active",
                                                    "NONEXISTENT_VERSION").body())
        if req.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return json_response(400, _illegal("This resource needs X-Restli-Protocol-Version: 2.0.0").body())
        return None

    def _fields(self, req: Request) -> list[str]:
        return [f for f in req.params.get("fields", "").split(",") if f]

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        if fault.kind == "remove_metric":
            return req.subpath == "/rest/adAnalytics" and fault.params["metric"] in self._fields(req)
        if fault.kind == "repeat_cursor":
            return req.subpath.endswith("/adCampaigns")
        if fault.kind == "bad_data":
            return req.subpath in ("/rest/adAnalytics", "/rest/organizationalEntityShareStatistics",
                                   "/rest/organizationalEntityFollowerStatistics")
        return False

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            err = LinkedinError(429, "Resource level throttle limit for calls to this resource is reached.", None, 101)
        elif fault.kind == "server_error":
            err = LinkedinError(int(p.get("status", 500)), "Internal Server Error", "INTERNAL_SERVER_ERROR")
        elif fault.kind == "expired_token":
            err = INVALID_TOKEN
        elif fault.kind == "remove_metric":
            err = _illegal(f"Invalid fields requested: {p['metric']}")
        else:  # pragma: no cover - FaultBook only routes terminal kinds here
            raise ValueError(fault.kind)
        resp = json_response(err.status, err.body())
        if "retry_after" in p:
            resp.headers["Retry-After"] = str(p["retry_after"])
        return resp

    def not_found(self, req: Request) -> Response:
        return json_response(404, LinkedinError(404, f"No resource at {req.subpath}", "NOT_FOUND").body())

    def internal_error(self, req: Request) -> Response:
        return json_response(500, LinkedinError(500, "Internal Server Error", "INTERNAL_SERVER_ERROR").body())

    # ---------------------------------------------------------------- handler
    def handle(self, req: Request) -> Response:
        if req.method != "GET":
            return self.not_found(req)
        li = self._li(req.world)
        parts = req.subpath.strip("/").split("/")
        try:
            if parts[:2] == ["rest", "adAccounts"] and len(parts) in (3, 4):
                account = li.accounts.get(parts[2])
                if account is None:
                    raise LinkedinError(404, f"Ad account {parts[2]} not found", "NOT_FOUND")
                if len(parts) == 3:
                    return json_response(200, self._account_node(li, account), rows=1)
                if parts[3] == "adCampaigns":
                    return self._campaigns(req, account)
            elif req.subpath == "/rest/adAnalytics":
                return self._analytics(req, li)
            elif req.subpath == "/rest/organizationalEntityShareStatistics":
                return self._share_statistics(req, li)
            elif req.subpath == "/rest/organizationalEntityFollowerStatistics":
                return self._follower_statistics(req, li)
            elif req.subpath == f"/rest/networkSizes/urn:li:organization:{li.organization_id}":
                if req.params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
                    raise _illegal("edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
                return json_response(200, {"firstDegreeSize": li.total_followers()}, rows=1)
            return self.not_found(req)
        except LinkedinError as err:
            return json_response(err.status, err.body())

    @staticmethod
    def _account_node(li: LinkedinWorld, account: LiAccount) -> dict[str, Any]:
        return {"id": int(account.id), "name": account.name, "currency": account.currency, "status": "ACTIVE",
                "type": "BUSINESS", "reference": f"urn:li:organization:{li.organization_id}", "test": False,
                "notifiedOnCampaignOptimization": False, "servingStatuses": ["RUNNABLE"]}

    def _campaigns(self, req: Request, account: LiAccount) -> Response:
        if req.params.get("q") != "search":
            raise _illegal("adCampaigns needs q=search")
        try:
            size = int(req.params.get("pageSize", _CAMPAIGN_PAGE))
            first = (int(base64.urlsafe_b64decode(req.params["pageToken"]).decode().removeprefix("li:"))
                     if req.params.get("pageToken") else 0)
        except (ValueError, UnicodeDecodeError):
            raise _illegal("Invalid pageSize or pageToken") from None
        if not 1 <= size <= 1000:
            raise _illegal("pageSize must be between 1 and 1000")
        page = account.campaigns[first:first + size]
        elements = [{
            "id": int(c.id), "name": c.name, "account": f"urn:li:sponsoredAccount:{account.id}",
            "campaignGroup": f"urn:li:sponsoredCampaignGroup:{c.group_id}", "objectiveType": c.objective,
            "type": c.type, "status": c.status, "costType": "CPM", "format": "STANDARD_UPDATE",
            "dailyBudget": {"amount": f"{c.base_spend * 1.2:.2f}", "currencyCode": account.currency},
            "runSchedule": {"start": _ms(c.start), **({"end": _ms(c.end + dt.timedelta(days=1))} if c.end else {})},
        } for c in page]
        metadata: dict[str, Any] = {}
        if req.repeat_cursor:
            metadata["nextPageToken"] = req.params.get("pageToken") or _page_token(0)
        elif first + size < len(account.campaigns):
            metadata["nextPageToken"] = _page_token(first + size)
        return json_response(200, {"paging": {"start": first, "count": size, "links": []},
                                   "elements": elements, "metadata": metadata}, rows=len(elements))

    @staticmethod
    def _raw_query(req: Request) -> str:
        return req.target.partition("?")[2]

    def _rest_li_value(self, req: Request, name: str, pattern: re.Pattern[str]) -> re.Match[str]:
        """A Rest.li parameter: its syntax characters must not have been percent-encoded."""
        raw = next((part.partition("=")[2] for part in self._raw_query(req).split("&")
                    if part.partition("=")[0] == name), None)
        if raw is None:
            raise _illegal(f"Missing required parameter {name}")
        if _ENCODED_SYNTAX.search(raw):
            raise _illegal(f"Invalid Rest.li syntax in {name}: the characters ():, must not be percent-encoded")
        m = pattern.match(req.params[name])
        if m is None:
            raise _illegal(f"Invalid value for {name}: {req.params[name]}")
        return m

    def _analytics(self, req: Request, li: LinkedinWorld) -> Response:
        p = req.params
        if (p.get("q"), p.get("pivot"), p.get("timeGranularity")) != ("analytics", "CAMPAIGN", "DAILY"):
            raise _illegal("The sandbox serves q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY")
        y1, m1, d1, y2, m2, d2 = (int(x) for x in self._rest_li_value(req, "dateRange", _DATE_RANGE).groups())
        try:
            start, end = dt.date(y1, m1, d1), dt.date(y2, m2, d2)
        except ValueError:
            raise _illegal("Invalid dateRange") from None
        if "List(urn%3Ali%3AsponsoredAccount%3A" not in self._raw_query(req):
            raise _illegal("accounts must be List(<encoded sponsoredAccount URN>)")
        account = li.accounts.get(self._rest_li_value(req, "accounts", _ACCOUNTS).group(1))
        if account is None:
            raise LinkedinError(403, "Not enough permissions to access the ad account", "ACCESS_DENIED")
        fields = self._fields(req)
        if len(fields) > MAX_FIELDS:
            raise _illegal(f"Too many fields requested: {len(fields)} (at most {MAX_FIELDS})")
        unknown = [f for f in fields if f not in AD_FIELDS]
        if unknown:
            raise _illegal(f"Invalid fields requested: {', '.join(unknown)}")
        elements = []
        day = start
        while day <= min(end, li.world.today - dt.timedelta(days=1)) and len(elements) < MAX_ELEMENTS:
            for c in account.campaigns:
                cd = li.campaign_day(c, day)
                if cd is None:
                    continue
                element: dict[str, Any] = {}
                if "pivotValues" in fields:
                    element["pivotValues"] = [f"urn:li:sponsoredCampaign:{c.id}"]
                if "dateRange" in fields:
                    ymd = {"year": day.year, "month": day.month, "day": day.day}
                    element["dateRange"] = {"start": ymd, "end": dict(ymd)}
                for name in fields:
                    if name in cd:
                        element[name] = f"{cd[name]:.6f}" if name in _STRING_FIELDS else cd[name]
                if req.bad_data:
                    apply_overrides(element, req.bad_data)
                elements.append(element)
            day += dt.timedelta(days=1)
        elements = elements[:MAX_ELEMENTS]  # LinkedIn cuts here without saying so
        return json_response(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements},
                             rows=len(elements))

    def _organization(self, req: Request, li: LinkedinWorld) -> str:
        if req.params.get("q") != "organizationalEntity":
            raise _illegal("q=organizationalEntity is required")
        entity = req.params.get("organizationalEntity")
        if entity != f"urn:li:organization:{li.organization_id}":
            raise LinkedinError(403, f"Not enough permissions to access: {entity}", "ACCESS_DENIED")
        return entity

    def _days(self, req: Request, li: LinkedinWorld) -> list[dt.date]:
        start_ms, end_ms = (int(x) for x in self._rest_li_value(req, "timeIntervals", _INTERVALS).groups())
        today = li.world.today
        if start_ms < _ms(_one_year_before(today)):
            raise _illegal("The start of timeRange must be within the past 12 months")
        if end_ms > _ms(today - dt.timedelta(days=1)) or end_ms <= start_ms:
            raise _illegal("The timeRange must end at least 2 days ago and after its start")
        first, last = _day(start_ms), _day(end_ms - 1)
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]

    def _share_statistics(self, req: Request, li: LinkedinWorld) -> Response:
        entity = self._organization(req, li)
        elements = []
        for day in self._days(req, li):
            d = li.page_day(day)
            engaged = d["clicks"] + d["likes"] + d["comments"] + d["shares"]
            element = {
                "organizationalEntity": entity,
                "timeRange": {"start": _ms(day), "end": _ms(day + dt.timedelta(days=1))},
                "totalShareStatistics": {
                    "uniqueImpressionsCount": d["unique_impressions"], "shareCount": d["shares"],
                    "engagement": engaged / d["impressions"] if d["impressions"] else 0.0,
                    "clickCount": d["clicks"], "likeCount": d["likes"], "impressionCount": d["impressions"],
                    "commentCount": d["comments"],
                },
            }
            if req.bad_data:
                apply_overrides(element, req.bad_data)
            elements.append(element)
        return json_response(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements},
                             rows=len(elements))

    def _follower_statistics(self, req: Request, li: LinkedinWorld) -> Response:
        entity = self._organization(req, li)
        if "timeIntervals" not in req.params:
            element: dict[str, Any] = {"organizationalEntity": entity}
            for facet, buckets in li.demographics().items():
                key = {"followerCountsByGeoCountry": "geo", "followerCountsByFunction": "function",
                       "followerCountsBySeniority": "seniority", "followerCountsByIndustry": "industry"}[facet]
                element[facet] = [{key: bucket, "followerCounts": {"organicFollowerCount": o, "paidFollowerCount": p}}
                                  for bucket, o, p in buckets]
            elements = [element]
        else:
            elements = []
            for day in self._days(req, li):
                d = li.page_day(day)
                elements.append({
                    "organizationalEntity": entity,
                    "timeRange": {"start": _ms(day), "end": _ms(day + dt.timedelta(days=1))},
                    "followerGains": {"organicFollowerGain": d["organic_gain"], "paidFollowerGain": d["paid_gain"]},
                })
        if req.bad_data:
            for element in elements:
                apply_overrides(element, req.bad_data)
        return json_response(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements},
                             rows=len(elements))
