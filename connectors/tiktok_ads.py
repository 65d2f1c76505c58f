"""TikTok Business API v1.3 ads connector: channel `tiktok_ads`.

Streams (raw_tiktok_ads.*):
- advertisers:    one row per advertiser: name, currency, time zone (the report's
                  days are local to this zone, its money is in this currency).
- campaigns:      campaign_id, name, objective_type, operation_status.
- ads:            ad_id, campaign, landing_page_url and the UTM values parsed from
                  its query string (how a TikTok campaign joins GA4 sessions).
- campaign_daily: one row per campaign per advertiser-local day from
                  /report/integrated/get/ (AUCTION, BASIC, AUCTION_CAMPAIGN,
                  dimensions campaign_id + stat_time_day).

Wire quirks handled (api-notes section 6):
- Always HTTP 200: `code != 0` in the envelope is the error. 40100 is a
  throttle, 50002 a transient server error, 40105 an invalid/expired token
  (permanent: TikTok tokens are not refreshable by us), 40002 an invalid
  parameter (a removed metric is named in its message); everything else is
  permanent with code and message.
- `dimensions`/`metrics`/`advertiser_ids` are JSON-encoded arrays in the query.
- At most 30 days per report call: the window is chunked.
- Page numbers: page while `page < total_page`.
- Metrics are strings; `"-"` means "not available" (null, never zero).
- `stat_time_day` is "YYYY-MM-DD 00:00:00" in the advertiser's time zone.
- Ids are int64: kept as strings (a JSON number is converted exactly).
- Auth header `Access-Token: <token>` (not Bearer): registered with the redactor
  since the shared client only learns Bearer tokens by itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import requests

from connectors.base import MONEY, PAID_UNIONS, AccountIds, AdTotals, Fields, PaidConnector, Stream, UnionModels, Values, as_sent, date_chunks
from connectors.http import ApiClient, Dialect, PageNumberPaginator, Verdict, register_secret, retry_after

CHANNEL = "tiktok_ads"
REPORT_MAX_DAYS = 30
DEFAULT_PAGE_SIZE = 1000  # the API's maximum for report and list endpoints

THROTTLE_CODE = 40100
SERVER_ERROR_CODES = {50000, 50002}
AUTH_CODES = {40104, 40105}  # empty / invalid-or-expired access token
INVALID_PARAMETER_CODE = 40002

# Report metric -> (column, kind) (connectors.base.Fields). campaign_name is
# a "metric" in TikTok's report API, not a dimension.
REPORT_METRICS = Fields({
    **Fields.snake(("campaign_name", "spend", "impressions", "clicks", "reach", "conversion", "complete_payment"),
                   campaign_name="text", spend="decimal", conversion="decimal", complete_payment="decimal"),
    # Despite its name, the total value of complete-payment (purchase) events.
    "total_complete_payment_rate": ("complete_payment_value", "decimal"),
})


normalize_advertiser_id = AccountIds("a TikTok advertiser id", "up to 20 digits", r"[0-9]{1,20}")
# Pages 1..data.page_info.total_page of a list or report endpoint.
LIST_PAGES = PageNumberPaginator(
    total_pages=lambda body: int(((body.get("data") or {}).get("page_info") or {}).get("total_page") or 0))


class TikTokDialect(Dialect):
    """TikTok answers HTTP 200 with `{"code", "message", "request_id", "data"}`."""

    def classify(self, response: requests.Response, body: Any) -> Verdict:
        if not isinstance(body, dict) or "code" not in body:
            return super().classify(response, body)
        code, status = body.get("code"), response.status_code
        if code == 0:
            return Verdict("ok") if status < 400 else super().classify(response, body)
        message = f"{body.get('message', '')} (request_id {body.get('request_id')})"
        if code == THROTTLE_CODE:
            # TikTok does not say how long; a Retry-After from a proxy would.
            return Verdict("throttle", status, code, message, retry_after(response))
        if code in SERVER_ERROR_CODES:
            return Verdict("retry", status, code, message)
        if code in AUTH_CODES:
            return Verdict("auth", status, code, message)
        if code == INVALID_PARAMETER_CODE and "metric" in message.lower():
            message = f"the report rejected a metric (removed or renamed by TikTok?): {message}"
        return Verdict("permanent", status, code, message)


STREAMS = Stream.by_name(
    Stream.of("advertisers", [("advertiser_name", pa.string()), ("currency", pa.string()), ("timezone", pa.string()),
                              ("status", pa.string())],
              key=(), description="Advertiser facts: its currency and time zone govern the report's money and days.",
              expectations=("currency: currency",)),
    Stream.of("campaigns", [("campaign_id", pa.string()), ("campaign_name", pa.string()), ("objective_type", pa.string()),
                            ("operation_status", pa.string())],
              key=("campaign_id",), description="Campaigns of the advertiser."),
    Stream.of("ads", [("ad_id", pa.string()), ("ad_name", pa.string()), ("campaign_id", pa.string()),
                      ("landing_page_url", pa.string()), ("utm_source", pa.string()), ("utm_medium", pa.string()),
                      ("utm_campaign", pa.string())],
              key=("ad_id",), description="Ads with their landing page URL and the UTM parameters parsed from it."),
    Stream.of("campaign_daily", [("date_day", pa.date32()), ("campaign_id", pa.string()), ("campaign_name", pa.string()),
                                 ("spend", MONEY), ("impressions", pa.int64()), ("clicks", pa.int64()), ("reach", pa.int64()),
                                 ("conversion", pa.decimal128(18, 2)), ("complete_payment", pa.decimal128(18, 2)),
                                 ("complete_payment_value", MONEY)],
              key=("date_day", "campaign_id"), date_column="date_day",
              description="Campaign report per advertiser-local day (stat_time_day); '-' metrics land as null.",
              required_fields=("dimensions.stat_time_day", "metrics.spend", "metrics.impressions", "metrics.clicks"),
              every_day=True,
              expectations=("nonnegative: spend, impressions, clicks, reach, conversion, complete_payment_value",
                            "at_most: clicks <= impressions", "not_future: date_day")),
)

LIST_ENDPOINTS = {"campaigns": "/campaign/get/", "ads": "/ad/get/"}


class TikTokAdsConnector(PaidConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://business-api.tiktok.com/open_api/v1.3"
    display_name = "TikTok Ads"
    platform = "TikTok"
    dbt_unions = UnionModels(*PAID_UNIONS, intermediate=("ad_campaigns",))
    ad_totals = AdTotals(stream="campaign_daily", spend="spend", currency_stream="advertisers")
    option_types = {"page_size": int}
    normalize_account = normalize_advertiser_id

    def make_client(self) -> ApiClient:
        token = self.settings.credentials["access_token"]
        register_secret(token)  # not a Bearer header: the client would not learn it
        return ApiClient(
            CHANNEL, self.settings.base_url, TikTokDialect(), {"Access-Token": token},
            policy=self.policy, sleep=self.sleep,
        )

    @property
    def page_size(self) -> int:
        return max(1, min(DEFAULT_PAGE_SIZE, int(self.settings.options.get("page_size", DEFAULT_PAGE_SIZE))))

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream == "advertisers":
            return ((advertiser_row(r), r) for r in self._advertiser_info(account))
        if stream in LIST_ENDPOINTS:
            parse: Callable[[dict[str, Any]], dict[str, Any]] = campaign_row if stream == "campaigns" else ad_row
            return ((parse(r), r) for r in self._listed(account, LIST_ENDPOINTS[stream]))
        return ((report_row(r, values), r) for r in self._report(account, start, end))

    # ------------------------------------------------------------------ endpoints

    def _get(self, advertiser: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        body = self.client.request_json("GET", path, account=advertiser, params=params)
        return body.get("data") or {}

    def _pages(self, advertiser: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        pages = self.client.paginate("GET", path, LIST_PAGES, account=advertiser,
                                     params={**params, "page_size": self.page_size})
        for body in pages:
            yield from (body.get("data") or {}).get("list") or []

    def _advertiser_info(self, advertiser: str) -> list[dict[str, Any]]:
        params = {"advertiser_ids": _json_array([advertiser]),
                  "fields": _json_array(["advertiser_id", "name", "currency", "timezone", "status"])}
        return self._get(advertiser, "/advertiser/info/", params).get("list") or []

    def _listed(self, advertiser: str, path: str) -> Iterator[dict[str, Any]]:
        return self._pages(advertiser, path, {"advertiser_id": advertiser})

    def _report(self, advertiser: str, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
        for chunk_start, chunk_end in date_chunks(start, end, REPORT_MAX_DAYS):
            params = {
                "advertiser_id": advertiser,
                "service_type": "AUCTION",
                "report_type": "BASIC",
                "data_level": "AUCTION_CAMPAIGN",
                "dimensions": _json_array(["campaign_id", "stat_time_day"]),
                "metrics": _json_array(list(REPORT_METRICS)),
                "start_date": chunk_start.isoformat(),
                "end_date": chunk_end.isoformat(),
            }
            yield from self._pages(advertiser, "/report/integrated/get/", params)


def _json_array(items: list[str]) -> str:
    return json.dumps(items, separators=(",", ":"))


def _id(value: Any) -> str | None:
    """int64 ids as exact strings, whichever JSON type carried them."""
    return None if value in (None, "") else str(value)


def advertiser_row(record: dict[str, Any]) -> dict[str, Any]:
    return as_sent(record, "currency", "timezone", "status", advertiser_name="name")


def campaign_row(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "campaign_id": _id(record.get("campaign_id")),
        **as_sent(record, "campaign_name", "objective_type", "operation_status"),
    }


def ad_row(record: dict[str, Any]) -> dict[str, Any]:
    url = record.get("landing_page_url") or None
    utm = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if v} if url else {}
    return {
        "ad_id": _id(record.get("ad_id")),
        **as_sent(record, "ad_name"),
        "campaign_id": _id(record.get("campaign_id")),
        "landing_page_url": url,
        "utm_source": utm.get("utm_source"),
        "utm_medium": utm.get("utm_medium"),
        "utm_campaign": utm.get("utm_campaign"),
    }


def report_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    """One report row: {"dimensions": {...}, "metrics": {...}}, metrics as strings."""
    dims = record.get("dimensions") or {}
    metrics = record.get("metrics") or {}
    # "2024-05-01 00:00:00": the advertiser-local day; the time part is always midnight.
    return {
        "date_day": v.date(dims.get("stat_time_day"), "stat_time_day"),
        "campaign_id": _id(dims.get("campaign_id")),
        **v.fields(metrics, REPORT_METRICS),
    }
