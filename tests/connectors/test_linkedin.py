"""linkedin contract tests on payloads shaped as api-notes section 5 shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.http import ApiClient, ApiError, RetryPolicy
from connectors.linkedin import (
    AD_METRICS,
    MAX_ELEMENTS,
    MAX_FIELDS,
    LinkedinConnector,
    LinkedinDialect,
    ad_row,
    campaign_row,
    day_of_epoch_ms,
    days_per_call,
    demographic_rows,
    field_chunks,
    follower_gain_row,
    normalize_ad_account_id,
    normalize_organization_id,
    share_row,
)

FAST = RetryPolicy(max_retries=2, read_timeout=2, connect_timeout=2)
TODAY = dt.date(2026, 6, 15)


def values(stream: str) -> Values:
    return Values("linkedin", stream)


def connector(url: str, clock, accounts=("502840441",), **options) -> LinkedinConnector:
    settings = ChannelSettings("linkedin", url, list(accounts), {"access_token": "li-secret-token"},
                               options={"organizations": ["2414183"], **options})
    return LinkedinConnector(settings, policy=FAST, sleep=clock, snapshot_date=TODAY)


# ------------------------------------------------------------------------------------------- parsing

AD_ELEMENT = {"pivotValues": ["urn:li:sponsoredCampaign:123456789"],
              "dateRange": {"start": {"year": 2024, "month": 5, "day": 1}, "end": {"year": 2024, "month": 5, "day": 1}},
              "impressions": 10234, "clicks": 87, "costInLocalCurrency": "214.532184", "externalWebsiteConversions": 4}


def test_ad_analytics_element_from_api_notes():
    row = ad_row(AD_ELEMENT, values("campaign_daily"))
    assert row["date_day"] == dt.date(2024, 5, 1) and row["campaign_id"] == "123456789"
    assert row["cost_in_local_currency"] == Decimal("214.532184")  # a string on the wire
    assert row["impressions"] == 10234 and row["external_website_conversions"] == 4
    assert row["likes"] is None  # not requested or not reported: null, never 0


def test_bad_cost_string_names_channel_stream_and_column():
    with pytest.raises(ParseError) as err:
        ad_row({**AD_ELEMENT, "costInLocalCurrency": "n/a"}, values("campaign_daily"))
    assert "linkedin.campaign_daily" in str(err.value) and "costInLocalCurrency" in str(err.value)


def test_pivot_that_is_not_a_campaign_is_refused():
    with pytest.raises(ParseError):
        ad_row({**AD_ELEMENT, "pivotValues": ["urn:li:sponsoredCreative:1"]}, values("campaign_daily"))


def test_int64_ids_keep_their_precision():
    big = 2**53 + 1  # a float would round it
    row = campaign_row({"id": big, "name": "Spring", "objectiveType": "WEBSITE_VISIT", "status": "ACTIVE",
                        "campaignGroup": "urn:li:sponsoredCampaignGroup:600000001",
                        "runSchedule": {"start": 1714521600000}}, values("campaigns"))
    assert row["campaign_id"] == str(big) and row["campaign_group_id"] == "600000001"
    assert row["start_time"] == dt.datetime(2024, 5, 1, tzinfo=dt.UTC) and row["end_time"] is None


@pytest.mark.parametrize("millis, day", [(1714521600000, dt.date(2024, 5, 1)),
                                         (1714604399999, dt.date(2024, 5, 1)),  # 22:59:59 UTC: still May 1
                                         (1714608000000, dt.date(2024, 5, 2))])
def test_epoch_millisecond_days_are_utc(millis, day):
    assert day_of_epoch_ms(millis, values("share_statistics"), "timeRange.start") == day


def test_share_statistics_element():
    element = {"organizationalEntity": "urn:li:organization:2414183",
               "timeRange": {"start": 1714521600000, "end": 1714608000000},
               "totalShareStatistics": {"impressionCount": 1200, "uniqueImpressionsCount": 800, "clickCount": 30,
                                        "likeCount": 12, "commentCount": 2, "shareCount": 1, "engagement": 0.0375}}
    row = share_row(element, "2414183", values("share_statistics"))
    assert row == {"date_day": dt.date(2024, 5, 1), "organization_id": "2414183", "impressions": 1200,
                   "unique_impressions": 800, "clicks": 30, "likes": 12, "comments": 2, "shares": 1,
                   "engagement_rate": 0.0375}


def test_follower_gains_may_be_negative():
    element = {"timeRange": {"start": 1714521600000, "end": 1714608000000},
               "followerGains": {"organicFollowerGain": -3, "paidFollowerGain": 2}}
    row = follower_gain_row(element, "2414183", values("follower_gains"))
    assert (row["organic_follower_gain"], row["paid_follower_gain"]) == (-3, 2)


def test_lifetime_demographics_facets():
    element = {"followerCountsByGeoCountry": [{"geo": "urn:li:geo:103644278",
                                               "followerCounts": {"organicFollowerCount": 900, "paidFollowerCount": 40}}],
               "followerCountsBySeniority": [{"seniority": "urn:li:seniority:3",
                                              "followerCounts": {"organicFollowerCount": 300, "paidFollowerCount": 0}}]}
    rows = [row for row, _ in demographic_rows(element, "2414183", TODAY, values("follower_demographics"))]
    assert [(r["dimension"], r["bucket"], r["organic_followers"], r["paid_followers"]) for r in rows] == [
        ("country", "urn:li:geo:103644278", 900, 40), ("seniority", "urn:li:seniority:3", 300, 0)]


def test_field_chunks_respect_the_twenty_field_limit():
    chunks = field_chunks(list(AD_METRICS))
    assert len(chunks) > 1 and all(len(c) + 2 <= MAX_FIELDS for c in chunks)
    assert [m for c in chunks for m in c] == list(AD_METRICS)


@pytest.mark.parametrize("campaigns", [1, 7, 400, 15_000, 40_000])
def test_date_ranges_stay_under_the_truncation_cap(campaigns):
    days = days_per_call(campaigns)
    assert days >= 1 and (days * campaigns < MAX_ELEMENTS or days == 1)


@pytest.mark.parametrize("raw", ["50284;0441", "502840441 OR 1=1", "$(id)", "", "act_123", "12a"])
def test_malformed_ids_are_refused(raw):
    with pytest.raises(ValueError, match="LinkedIn"):
        normalize_ad_account_id(raw)
    with pytest.raises(ValueError, match="LinkedIn"):
        normalize_organization_id(raw)


def test_urn_spellings_normalize_to_digits():
    assert normalize_ad_account_id("urn:li:sponsoredAccount:502840441") == "502840441"
    assert normalize_organization_id(" urn:li:organization:2414183 ") == "2414183"


def test_organic_window_is_clamped(scripted, clock):
    li = connector(scripted.url, clock)
    assert li.organic_window(dt.date(2025, 1, 1), dt.date(2026, 6, 14)) == (dt.date(2025, 6, 16), dt.date(2026, 6, 13))
    assert li.organic_window(dt.date(2026, 5, 1), dt.date(2026, 5, 31)) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))


# ------------------------------------------------------------------------------- dialect over real HTTP


def client(scripted, clock, version="202510") -> ApiClient:
    return ApiClient("linkedin", scripted.url, LinkedinDialect(version), policy=FAST, sleep=clock)


def test_throttle_101(scripted, clock):
    scripted.add(429, {"serviceErrorCode": 101, "message": "Resource level throttle limit for calls to this resource "
                       "is reached.", "status": 429}, {"Retry-After": "4"})
    scripted.add(200, {"elements": []})
    c = client(scripted, clock)
    assert c.request_json("GET", "/adAnalytics") == {"elements": []}
    assert clock.waits == [4.0] and c.stats.throttles == 1


def test_invalid_token_65600(scripted, clock):
    scripted.add(401, {"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401})
    with pytest.raises(ApiError) as err:
        client(scripted, clock).request_json("GET", "/adAccounts/1")
    assert err.value.kind == "credentials" and err.value.code == 65600 and clock.waits == []


def test_retired_version_names_version_and_config_key(scripted, clock):
    scripted.add(426, {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20250201 is not active"})
    with pytest.raises(ApiError) as err:
        client(scripted, clock, "202502").request_json("GET", "/adAccounts/1")
    assert err.value.kind == "permanent" and "202502" in str(err.value)
    assert "channels.linkedin.linkedin_version" in str(err.value)


def test_invalid_field_names_the_metric(scripted, clock):
    scripted.add(400, {"status": 400, "code": "ILLEGAL_ARGUMENT", "serviceErrorCode": 100,
                       "message": "Invalid fields requested: externalWebsiteConversions"})
    with pytest.raises(ApiError) as err:
        client(scripted, clock).request_json("GET", "/adAnalytics", account="1")
    assert err.value.kind == "permanent" and "externalWebsiteConversions" in str(err.value)
    assert str(err.value).startswith("linkedin")


def test_server_errors_are_retried(scripted, clock):
    scripted.add(500, {"status": 500, "message": "Internal Server Error"})
    scripted.add(200, {"elements": []})
    c = client(scripted, clock)
    c.request_json("GET", "/adAnalytics")
    assert c.stats.retries == 1


# --------------------------------------------------------------------------- streams over real HTTP


def test_ad_analytics_rest_li_query_field_chunks_and_merge(scripted, clock):
    scripted.add(200, {"elements": [{"id": 123456789, "name": "Spring Sale"}], "metadata": {}})
    chunks = field_chunks(list(AD_METRICS))
    for chunk in chunks:
        scripted.add(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": [
            {"pivotValues": AD_ELEMENT["pivotValues"], "dateRange": AD_ELEMENT["dateRange"],
             **{m: ("1.5" if m in ("costInLocalCurrency", "costInUsd", "conversionValueInLocalCurrency") else 3)
                for m in chunk}}]})
    li = connector(scripted.url, clock)
    batches = list(li.read("campaign_daily", "502840441", dt.date(2024, 5, 1), dt.date(2024, 5, 7)))
    rows = batches[0].to_pylist()
    assert len(rows) == 1 and rows[0]["impressions"] == 3 and rows[0]["sends"] == 3
    assert rows[0]["cost_in_local_currency"] == Decimal("1.5")
    analytics = [r for r in scripted.requests if r["path"].startswith("/adAnalytics")]
    assert len(analytics) == len(chunks)
    path = analytics[0]["path"]
    assert "dateRange=(start:(year:2024,month:5,day:1),end:(year:2024,month:5,day:7))" in path
    assert "accounts=List(urn%3Ali%3AsponsoredAccount%3A502840441)" in path
    for request in analytics:
        fields = parse_qs(urlsplit(request["path"]).query)["fields"][0].split(",")
        assert len(fields) <= MAX_FIELDS and fields[:2] == ["dateRange", "pivotValues"]
    headers = analytics[0]["headers"]
    assert headers["LinkedIn-Version"] == "202510" and headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert headers["Authorization"] == "Bearer li-secret-token"


def test_a_response_at_the_truncation_cap_is_refused(scripted, clock):
    scripted.add(200, {"elements": [{"id": 1}], "metadata": {}})
    scripted.add(200, {"elements": [AD_ELEMENT] * MAX_ELEMENTS})
    li = connector(scripted.url, clock)
    with pytest.raises(ApiError, match="truncation"):
        list(li.read("campaign_daily", "502840441", dt.date(2024, 5, 1), dt.date(2024, 5, 1)))


def test_organic_streams_are_pulled_once_under_the_first_account(scripted, clock):
    scripted.add(200, {"firstDegreeSize": 12345})
    li = connector(scripted.url, clock, accounts=("502840441", "502840442"))
    first = list(li.read("total_followers", "502840441", TODAY, TODAY))
    second = list(li.read("total_followers", "502840442", TODAY, TODAY))
    assert first[0].to_pylist()[0]["followers"] == 12345 and second == []
    assert scripted.requests[0]["path"] == "/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER"


def test_share_statistics_time_intervals_in_epoch_ms(scripted, clock):
    scripted.add(200, {"elements": []})
    li = connector(scripted.url, clock)
    list(li.read("share_statistics", "502840441", dt.date(2026, 5, 1), dt.date(2026, 6, 14)))
    path = scripted.requests[0]["path"]
    # 2026-05-01T00:00Z, and 2026-06-14T00:00Z: the exclusive end after the last day the clamp allows (06-13).
    start, end = 1777593600000, 1781395200000
    assert f"timeIntervals=(timeRange:(start:{start},end:{end}),timeGranularityType:DAY)" in path
    assert "organizationalEntity=urn%3Ali%3Aorganization%3A2414183" in path
