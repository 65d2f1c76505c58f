"""LinkedIn Marketing API connector: channel `linkedin` (paid and organic).

Config: `accounts` are sponsored ad account ids (digits); option
`organizations` lists organization (company page) ids for the organic streams;
option `linkedin_version` is the `LinkedIn-Version: YYYYMM` header.

Paid streams (one pull per ad account):
- ad_accounts:    name, currency, status, type, the organization it belongs to.
- campaigns:      id, name, objective, type, status, schedule
                  (`/adAccounts/{id}/adCampaigns?q=search`, pageToken paging).
- campaign_daily: `adAnalytics` pivot=CAMPAIGN, timeGranularity=DAILY; one row
                  per UTC day x campaign (LinkedIn reports ad analytics in UTC).
Organic streams (organizations are not ad accounts: every configured
organization is pulled once per sync, under the FIRST configured ad account,
which is the raw `account_id`; `organization_id` is a column of its own):
- share_statistics:      `organizationalEntityShareStatistics`, DAY intervals.
- follower_gains:        `organizationalEntityFollowerStatistics`, DAY intervals
                         (organicFollowerGain is net and may be negative),
                         pulled through the snapshot date
                         (`Stream.through_snapshot_date`) so the gains back-cast
                         total_followers.
- follower_demographics: lifetime follower counts by country, function,
                         seniority and industry (snapshot=True).
- total_followers:       `networkSizes` firstDegreeSize (snapshot=True).

Wire quirks handled (api-notes section 5): Rest.li 2.0 query syntax
(`dateRange=(start:(year:..)..)`, `accounts=List(urn%3Ali%3A...)`) whose `():,`
must stay unencoded, so those query strings are built here and not by
`requests`; at most 20 fields per adAnalytics call (fields are requested in
chunks and merged by (day, campaign)); no paging and SILENT truncation at
15,000 elements (date ranges are split so that days x campaigns stays under
it, and a response at the cap is refused); `costInLocalCurrency` and
`conversionValueInLocalCurrency` are strings; ids are int64 JSON numbers (kept
exact, stored as strings); organic time ranges are epoch milliseconds and may
start at most 12 months back and end at least 2 days back (clamped, with a
warning). Errors: 429 serviceErrorCode 101 throttle, 401 65600 credentials,
426 NONEXISTENT_VERSION names the version and the config key.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pyarrow as pa
import requests

from connectors.base import EPOCH_MS, PAID_UNIONS, AccountIds, AdTotals, Connector, Fields, ParseError, Stream, UnionModels, Values, as_sent, date_chunks
from connectors.http import ApiClient, ApiError, Dialect, TokenPaginator, Verdict, retry_after

log = logging.getLogger("socialmart.linkedin")

CHANNEL = "linkedin"
DEFAULT_VERSION = "202510"
VERSION_OPTION = "linkedin_version"
VERSION = re.compile(r"^[0-9]{6}$")
MAX_FIELDS = 20  # adAnalytics refuses more fields per call
MAX_ELEMENTS = 15_000  # adAnalytics truncates (silently) beyond this
CAMPAIGN_PAGE_SIZE = 100
ORGANIC_MIN_AGE_DAYS = 2
_UNKNOWN_FIELDS = re.compile(r"Invalid fields? requested: ([A-Za-z0-9_, ]+)")

# adAnalytics metrics (connectors.base.Fields), in the columns' order.
AD_METRICS = Fields.snake((
    "impressions", "clicks", "landingPageClicks", "costInLocalCurrency", "costInUsd", "externalWebsiteConversions",
    "conversionValueInLocalCurrency", "oneClickLeads", "likes", "comments", "shares", "follows", "reactions",
    "totalEngagements", "videoViews", "videoCompletions", "otherEngagements", "companyPageClicks", "opens", "sends",
), costInLocalCurrency="decimal", costInUsd="decimal", conversionValueInLocalCurrency="decimal")
AD_KEY_FIELDS = ("dateRange", "pivotValues")
SHARE_METRICS = Fields({
    "impressionCount": ("impressions", "int"),
    "uniqueImpressionsCount": ("unique_impressions", "int"),
    "clickCount": ("clicks", "int"),
    "likeCount": ("likes", "int"),
    "commentCount": ("comments", "int"),
    "shareCount": ("shares", "int"),
    "engagement": ("engagement_rate", "float"),
})
FOLLOWER_GAINS = Fields({
    "organicFollowerGain": ("organic_follower_gain", "int"),
    "paidFollowerGain": ("paid_follower_gain", "int"),
})
FOLLOWER_COUNTS = Fields({
    "organicFollowerCount": ("organic_followers", "int"),
    "paidFollowerCount": ("paid_followers", "int"),
})
DEMOGRAPHIC_FACETS = {
    "followerCountsByGeoCountry": ("country", "geo"),
    "followerCountsByFunction": ("function", "function"),
    "followerCountsBySeniority": ("seniority", "seniority"),
    "followerCountsByIndustry": ("industry", "industry"),
}


normalize_ad_account_id = AccountIds("a LinkedIn sponsored ad account id", "digits", r"[0-9]{1,20}",
                                     accepted_prefix="urn:li:sponsoredAccount:")
normalize_organization_id = AccountIds("a LinkedIn organization id", "digits", r"[0-9]{1,20}",
                                       accepted_prefix="urn:li:organization:")
CAMPAIGN_PAGES = TokenPaginator(next_token=lambda body: (body.get("metadata") or {}).get("nextPageToken"))


class LinkedinDialect(Dialect):
    """LinkedIn's envelope: {"status", "serviceErrorCode", "code", "message"}."""

    def __init__(self, version: str) -> None:
        self.version = version

    def classify(self, response: requests.Response, body: Any) -> Verdict:
        status = response.status_code
        if status < 400:
            return Verdict("ok")
        if not isinstance(body, dict):
            return super().classify(response, body)
        service_code = body.get("serviceErrorCode")
        code = service_code if service_code is not None else body.get("code")
        message = str(body.get("message", ""))
        if status == 429 or service_code == 101:
            return Verdict("throttle", status, code, message, retry_after(response))
        if status == 401 or service_code == 65600:
            return Verdict("auth", status, code, message)
        if status == 426 or body.get("code") == "NONEXISTENT_VERSION":
            return Verdict(
                "permanent", status, body.get("code"),
                f"LinkedIn-Version {self.version} is not active ({message}); set channels.{CHANNEL}.{VERSION_OPTION} "
                "to a current YYYYMM version",
            )
        unknown = _UNKNOWN_FIELDS.search(message)
        if unknown:
            return Verdict(
                "permanent", status, code,
                f"LinkedIn rejects metric(s) {unknown.group(1).strip()} (removed or renamed): {message}",
            )
        if status >= 500:
            return Verdict("retry", status, code, message, retry_after(response))
        return Verdict("permanent", status, code, message)


STREAMS = Stream.by_name(
    Stream.of("ad_accounts", [("account_name", pa.string()), ("currency", pa.string()), ("status", pa.string()),
                              ("account_type", pa.string()), ("organization_urn", pa.string())],
              key=(), description="Sponsored ad account facts; its currency is the currency of every local amount.",
              expectations=("currency: currency",)),
    Stream.of("campaigns", [("campaign_id", pa.string()), ("campaign_name", pa.string()), ("objective", pa.string()),
                            ("campaign_type", pa.string()), ("status", pa.string()), ("campaign_group_id", pa.string()),
                            ("start_time", pa.timestamp("ms", tz="UTC")), ("end_time", pa.timestamp("ms", tz="UTC"))],
              key=("campaign_id",), description="Campaigns of the sponsored ad account."),
    Stream.of("campaign_daily", [("date_day", pa.date32()), ("campaign_id", pa.string()), *AD_METRICS.columns()],
              key=("date_day", "campaign_id"), date_column="date_day",
              description="adAnalytics per UTC day and campaign (pivot=CAMPAIGN, timeGranularity=DAILY).",
              required_fields=("dateRange", "impressions", "clicks", "costInLocalCurrency"), every_day=True,
              expectations=("nonnegative: cost_in_local_currency, impressions, clicks, external_website_conversions",
                            "at_most: clicks <= impressions", "not_future: date_day")),
    Stream.of("share_statistics", [("date_day", pa.date32()), ("organization_id", pa.string()), *SHARE_METRICS.columns()],
              key=("organization_id", "date_day"), date_column="date_day",
              description="Organization page share statistics per UTC day.",
              required_fields=("totalShareStatistics.impressionCount", "totalShareStatistics.clickCount"), every_day=True),
    # Net gains back-cast the total_followers snapshot.
    Stream.of("follower_gains", [("date_day", pa.date32()), ("organization_id", pa.string()), *FOLLOWER_GAINS.columns()],
              key=("organization_id", "date_day"), date_column="date_day",
              description="Net follower gains of the organization page per UTC day (organic may be negative).",
              required_fields=("followerGains.organicFollowerGain", "followerGains.paidFollowerGain"), every_day=True,
              through_snapshot_date=True),
    Stream.snapshots("follower_demographics", [("organization_id", pa.string()), ("dimension", pa.string()),
                                               ("bucket", pa.string()), *FOLLOWER_COUNTS.columns()],
                     key=("organization_id", "dimension", "bucket"),
                     description="Lifetime followers by country, function, seniority and industry, one snapshot per pull day."),
    Stream.snapshots("total_followers", [("organization_id", pa.string()), ("followers", pa.int64())],
                     key=("organization_id",),
                     description="Total followers of the organization page (networkSizes firstDegreeSize), one snapshot per pull day."),
)
ORGANIC_STREAMS = frozenset({"share_statistics", "follower_gains", "follower_demographics", "total_followers"})


def restli_date_range(start: dt.date, end: dt.date) -> str:
    return (f"(start:(year:{start.year},month:{start.month},day:{start.day}),"
            f"end:(year:{end.year},month:{end.month},day:{end.day}))")


def urn(kind: str, identifier: str) -> str:
    """A URN as a Rest.li query value: its colons encoded, unlike the syntax around it."""
    return quote(f"urn:li:{kind}:{identifier}", safe="")


def epoch_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def day_of_epoch_ms(value: Any, v: Values, column: str) -> dt.date | None:
    """The UTC day of epoch milliseconds; None when missing or unreadable
    (the row is then quarantined for its missing date)."""
    instant = v.timestamp(value, column, EPOCH_MS)
    return instant.date() if instant else None


def field_chunks(metrics: list[str], size: int = MAX_FIELDS) -> list[list[str]]:
    """Metric lists that, with the key fields every chunk repeats, stay within `size` fields."""
    room = size - len(AD_KEY_FIELDS)
    return [metrics[i:i + room] for i in range(0, len(metrics), room)]


def days_per_call(n_campaigns: int) -> int:
    """The longest range whose days x campaigns cannot reach the truncation cap."""
    return max(1, (MAX_ELEMENTS - 1) // max(1, n_campaigns))


class LinkedinConnector(Connector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://api.linkedin.com/rest"
    kind = "paid_and_organic"
    display_name = "LinkedIn"
    platform = "LinkedIn"
    day_timezone = "UTC"
    dbt_unions = UnionModels(*PAID_UNIONS, "account_daily", "follower_demographics")
    engagements_basis = "account_daily"
    ad_totals = AdTotals(stream="campaign_daily", spend="cost_in_local_currency", currency_stream="ad_accounts")
    # Organization statistics end at least 2 days back (see above).
    expected_lag_days = 2
    option_types = {"organizations": list, VERSION_OPTION: str}
    normalize_account = normalize_ad_account_id

    @property
    def version(self) -> str:
        version = str(self.settings.options.get(VERSION_OPTION, DEFAULT_VERSION))
        if not VERSION.match(version):
            raise ValueError(f"channels.{CHANNEL}.{VERSION_OPTION} must be YYYYMM, got {version!r}")
        return version

    @property
    def organizations(self) -> list[str]:
        return [normalize_organization_id(o) for o in self.settings.options.get("organizations", [])]

    def make_client(self) -> ApiClient:
        token = self.settings.credentials["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        return ApiClient(CHANNEL, self.settings.base_url, LinkedinDialect(self.version), headers,
                         policy=self.policy, sleep=self.sleep)

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream in ORGANIC_STREAMS:
            return self._organic(stream, account, start, end, values)
        if stream == "ad_accounts":
            body = self.client.request_json("GET", f"/adAccounts/{account}", account=account)
            return iter([(ad_account_row(body), body)])
        if stream == "campaigns":
            return ((campaign_row(c, values), c) for c in self._campaigns(account))
        return self._campaign_daily(account, start, end, values)

    # --------------------------------------------------------------------- paid

    def _campaigns(self, account: str) -> Iterator[dict[str, Any]]:
        params = {"q": "search", "pageSize": CAMPAIGN_PAGE_SIZE}
        for page in self.client.paginate("GET", f"/adAccounts/{account}/adCampaigns", CAMPAIGN_PAGES,
                                         account=account, params=params):
            yield from page.get("elements") or []

    def _campaign_daily(self, account: str, start: dt.date, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        n_campaigns = sum(1 for _ in self._campaigns(account))
        if not n_campaigns:
            return
        for chunk_start, chunk_end in date_chunks(start, end, days_per_call(n_campaigns)):
            merged: dict[tuple[str, str], dict[str, Any]] = {}
            for fields in field_chunks(list(AD_METRICS)):
                for element in self._analytics(account, chunk_start, chunk_end, fields):
                    key = (orjson_key(element.get("dateRange")), tuple(element.get("pivotValues") or ()))
                    merged.setdefault(key, {}).update(element)
            for key in sorted(merged):  # a stable order, read before any value is parsed
                yield ad_row(merged[key], v), merged[key]

    def _analytics(self, account: str, start: dt.date, end: dt.date, fields: list[str]) -> list[dict[str, Any]]:
        # Built by hand: requests would percent-encode the Rest.li syntax.
        query = "&".join([
            "q=analytics", "pivot=CAMPAIGN", "timeGranularity=DAILY",
            f"dateRange={restli_date_range(start, end)}",
            f"accounts=List({urn('sponsoredAccount', account)})",
            f"fields={','.join((*AD_KEY_FIELDS, *fields))}",
        ])
        body = self.client.request_json("GET", f"/adAnalytics?{query}", account=account)
        elements = body.get("elements") or []
        if len(elements) >= MAX_ELEMENTS:
            raise ApiError(CHANNEL, account, "GET /adAnalytics", 200, None,
                           f"{len(elements)} elements for {start}..{end}: the response hit the truncation cap")
        return elements

    # ------------------------------------------------------------------ organic

    def organic_window(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
        """Clamp to what time-bound organic queries accept, relative to the pull day."""
        today = self.snapshot_date
        earliest = _one_year_before(today) + dt.timedelta(days=1)
        latest = today - dt.timedelta(days=ORGANIC_MIN_AGE_DAYS)
        clamped = max(start, earliest), min(end, latest)
        # A clamped end is routine (follower gains are asked up to the pull
        # day; the newest days come with a later pull); a clamped start loses data.
        if clamped[0] != start:
            log.warning("%s organic statistics: window %s..%s clamped to %s..%s (start at most 12 months back, "
                        "end at least %d days back)", CHANNEL, start, end, *clamped, ORGANIC_MIN_AGE_DAYS)
        return clamped

    def _organic(self, stream: str, account: str, start: dt.date, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        # Organizations are no ad account's: pulling them under the first one
        # alone lands each organization once per sync.
        if account != normalize_ad_account_id(self.settings.accounts[0]):
            return
        for organization in self.organizations:
            if stream == "total_followers":
                path = f"/networkSizes/{urn('organization', organization)}"
                body = self.client.request_json("GET", f"{path}?edgeType=COMPANY_FOLLOWED_BY_MEMBER", account=account)
                row = {"snapshot_date": self.snapshot_date, "organization_id": organization,
                       "followers": v.int(body.get("firstDegreeSize"), "firstDegreeSize")}
                yield row, body
            elif stream == "follower_demographics":
                for element in self._statistics("organizationalEntityFollowerStatistics", account, organization):
                    yield from demographic_rows(element, organization, self.snapshot_date, v)
            else:
                lo, hi = self.organic_window(start, end)
                if lo > hi:
                    continue
                endpoint = ("organizationalEntityShareStatistics" if stream == "share_statistics"
                            else "organizationalEntityFollowerStatistics")
                parse = share_row if stream == "share_statistics" else follower_gain_row
                for element in self._statistics(endpoint, account, organization, (lo, hi)):
                    yield parse(element, organization, v), element

    def _statistics(self, endpoint: str, account: str, organization: str,
                    window: tuple[dt.date, dt.date] | None = None) -> list[dict[str, Any]]:
        query = f"q=organizationalEntity&organizationalEntity={urn('organization', organization)}"
        if window is not None:
            lo, hi = window
            # End is exclusive: midnight UTC after the last day.
            query += (f"&timeIntervals=(timeRange:(start:{epoch_ms(lo)},end:{epoch_ms(hi + dt.timedelta(days=1))}),"
                      "timeGranularityType:DAY)")
        return self.client.request_json("GET", f"/{endpoint}?{query}", account=account).get("elements") or []


def _one_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def orjson_key(value: Any) -> str:
    """A hashable spelling of a JSON value (dateRange objects key the merge)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def ad_day(record: dict[str, Any], v: Values) -> dt.date | None:
    start = (record.get("dateRange") or {}).get("start") or {}
    try:
        return dt.date(int(start["year"]), int(start["month"]), int(start["day"]))
    except (KeyError, TypeError, ValueError):
        v.unparseable("dateRange.start", start, "not a {year, month, day} date")
        return None


def campaign_id(record: dict[str, Any], v: Values) -> str:
    pivots = record.get("pivotValues") or []
    prefix = "urn:li:sponsoredCampaign:"
    if len(pivots) != 1 or not str(pivots[0]).startswith(prefix):
        raise ParseError(v.channel, v.stream, "pivotValues", pivots, "not one sponsoredCampaign URN")
    return str(pivots[0])[len(prefix):]


def ad_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    return {"date_day": ad_day(record, v), "campaign_id": campaign_id(record, v), **v.fields(record, AD_METRICS)}


def ad_account_row(body: dict[str, Any]) -> dict[str, Any]:
    return as_sent(body, "currency", "status", account_name="name", account_type="type", organization_urn="reference")


def _urn_id(value: Any) -> str | None:
    return str(value).rsplit(":", 1)[-1] if value else None


def campaign_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    schedule = record.get("runSchedule") or {}
    return {
        "campaign_id": str(record.get("id")),  # an int64 on the wire: never through a float
        **as_sent(record, "status", campaign_name="name", objective="objectiveType", campaign_type="type"),
        "campaign_group_id": _urn_id(record.get("campaignGroup")),
        "start_time": v.timestamp(schedule.get("start"), "runSchedule.start", EPOCH_MS),
        "end_time": v.timestamp(schedule.get("end"), "runSchedule.end", EPOCH_MS),
    }


def _element_day(element: dict[str, Any], v: Values) -> dt.date:
    return day_of_epoch_ms(((element.get("timeRange") or {}).get("start")), v, "timeRange.start")


def share_row(element: dict[str, Any], organization: str, v: Values) -> dict[str, Any]:
    stats = element.get("totalShareStatistics") or {}
    return {"date_day": _element_day(element, v), "organization_id": organization,
            **v.fields(stats, SHARE_METRICS, "totalShareStatistics.")}


def follower_gain_row(element: dict[str, Any], organization: str, v: Values) -> dict[str, Any]:
    gains = element.get("followerGains") or {}
    return {"date_day": _element_day(element, v), "organization_id": organization,
            **v.fields(gains, FOLLOWER_GAINS, "followerGains.")}


def demographic_rows(element: dict[str, Any], organization: str, snapshot_date: dt.date,
                     v: Values) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for facet, (dimension, bucket_key) in DEMOGRAPHIC_FACETS.items():
        for entry in element.get(facet) or []:
            row = {"snapshot_date": snapshot_date, "organization_id": organization, "dimension": dimension,
                   "bucket": entry.get(bucket_key), **v.fields(entry.get("followerCounts") or {}, FOLLOWER_COUNTS, f"{facet}.")}
            yield row, {"facet": facet, **entry}

