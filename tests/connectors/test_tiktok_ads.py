"""tiktok_ads contract: payloads shaped as api-notes section 6 shows them, over real loopback HTTP."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.http import ApiError, RetryPolicy
from connectors.tiktok_ads import REPORT_METRICS, TikTokAdsConnector, ad_row, normalize_advertiser_id, report_row

FAST = RetryPolicy(max_retries=3, read_timeout=2, connect_timeout=2)
TOKEN = "tt-secret-token-123"
ADVERTISER = "7301234567890123402"

# The api-notes example row, verbatim.
NOTES_ROW = {"dimensions": {"campaign_id": "1790000000000001", "stat_time_day": "2024-05-01 00:00:00"},
             "metrics": {"spend": "12.34", "impressions": "1034", "clicks": "21", "reach": "-", "conversion": "3",
                         "campaign_name": "Spring"}}


def envelope(data: dict, code: int = 0, message: str = "OK") -> dict:
    return {"code": code, "message": message, "request_id": "2024050112345601", "data": data}


def report_page(rows: list[dict], page: int, total_page: int, total_number: int) -> dict:
    return envelope({"page_info": {"page": page, "page_size": 1000, "total_number": total_number,
                                   "total_page": total_page}, "list": rows})


def connector(url: str, clock=None, **options) -> TikTokAdsConnector:
    settings = ChannelSettings("tiktok_ads", url, [ADVERTISER], {"access_token": TOKEN}, 7, options)
    return TikTokAdsConnector(settings, policy=FAST, sleep=clock or (lambda s: None))


def query(request: dict) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request["path"]).query).items()}


def rows_of(conn: TikTokAdsConnector, stream: str, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 1)) -> list[dict]:
    return [r for b in conn.read(stream, ADVERTISER, start, end) for r in b.to_pylist()]


# ------------------------------------------------------------------ parsing


def test_notes_row_strings_are_typed_and_dash_is_null():
    row = report_row(NOTES_ROW, Values("tiktok_ads", "campaign_daily"))
    assert row["date_day"] == dt.date(2024, 5, 1)  # the advertiser-local day, never shifted to UTC
    assert row["campaign_id"] == "1790000000000001" and row["campaign_name"] == "Spring"
    assert row["spend"] == Decimal("12.34") and row["impressions"] == 1034 and row["clicks"] == 21
    assert row["reach"] is None  # "-": not available, not zero
    assert row["conversion"] == Decimal("3")
    # metrics the row does not carry are null too
    assert row["complete_payment"] is None and row["complete_payment_value"] is None


def test_every_dash_metric_is_null_never_zero():
    record = {"dimensions": NOTES_ROW["dimensions"], "metrics": {m: "-" for m in REPORT_METRICS}}
    row = report_row(record, Values("tiktok_ads", "campaign_daily"))
    assert all(row[column] is None for column, _ in REPORT_METRICS.values())


def test_int64_ids_stay_exact_whatever_the_json_type():
    # A JSON number beyond 2**53 would lose digits in a float-based parser.
    record = orjson.loads(b'{"dimensions":{"campaign_id":1790000000000000123,"stat_time_day":"2024-05-01 00:00:00"},'
                          b'"metrics":{"spend":"1.00"}}')
    assert report_row(record, Values("tiktok_ads", "campaign_daily"))["campaign_id"] == "1790000000000000123"


def test_unparseable_metric_names_channel_stream_and_metric():
    bad = {"dimensions": NOTES_ROW["dimensions"], "metrics": {**NOTES_ROW["metrics"], "spend": "12,34"}}
    with pytest.raises(ParseError, match=r"tiktok_ads\.campaign_daily: column 'spend'"):
        report_row(bad, Values("tiktok_ads", "campaign_daily"))


def test_landing_page_url_gives_utm_values_and_missing_url_gives_nulls():
    tagged = ad_row({"ad_id": 1790000000000000101, "campaign_id": "1790000000000000100",
                     "landing_page_url": "https://shop.example/c/spring?utm_source=tiktok&utm_medium=paid_social&utm_campaign=spring_sale"})
    assert (tagged["utm_source"], tagged["utm_medium"], tagged["utm_campaign"]) == ("tiktok", "paid_social", "spring_sale")
    assert tagged["ad_id"] == "1790000000000000101"
    for url in (None, "", "https://shop.example/c/spring"):
        untagged = ad_row({"ad_id": "2", "campaign_id": "9", "landing_page_url": url})
        assert untagged["utm_campaign"] is None and untagged["utm_source"] is None


@pytest.mark.parametrize("raw", ["7301234567890123402", " 123 "])
def test_advertiser_ids_normalize(raw):
    assert normalize_advertiser_id(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["123; DROP TABLE x", "$(rm -rf /)", "12a", "", "1" * 21, "123'--"])
def test_advertiser_ids_refuse_metacharacters(raw):
    with pytest.raises(ValueError, match="TikTok advertiser id"):
        normalize_advertiser_id(raw)


# ------------------------------------------------------------- over HTTP


def test_access_token_header_not_bearer_and_advertiser_ids_json(scripted):
    scripted.add(200, envelope({"list": [{"advertiser_id": ADVERTISER, "name": "NW China", "currency": "CNY",
                                          "timezone": "Asia/Shanghai", "status": "STATUS_ENABLE"}]}))
    rows = rows_of(connector(scripted.url), "advertisers")
    assert rows[0]["currency"] == "CNY" and rows[0]["timezone"] == "Asia/Shanghai"
    request = scripted.requests[0]
    assert request["headers"]["Access-Token"] == TOKEN and "Authorization" not in request["headers"]
    assert json.loads(query(request)["advertiser_ids"]) == [ADVERTISER]


def test_report_is_chunked_to_30_days_and_paged_while_page_below_total(scripted):
    row = lambda day: {"dimensions": {"campaign_id": "1790000000000001", "stat_time_day": f"{day} 00:00:00"},  # noqa: E731
                       "metrics": {"spend": "1.00", "impressions": "10", "clicks": "1", "reach": "5"}}
    scripted.add(200, report_page([row("2024-05-01")], 1, 2, 2))
    scripted.add(200, report_page([row("2024-05-30")], 2, 2, 2))
    scripted.add(200, report_page([row("2024-06-14")], 1, 1, 1))
    rows = rows_of(connector(scripted.url), "campaign_daily", dt.date(2024, 5, 1), dt.date(2024, 6, 14))
    assert [r["date_day"] for r in rows] == [dt.date(2024, 5, 1), dt.date(2024, 5, 30), dt.date(2024, 6, 14)]
    calls = [query(r) for r in scripted.requests]
    assert [(c["start_date"], c["end_date"], c["page"]) for c in calls] == [
        ("2024-05-01", "2024-05-30", "1"), ("2024-05-01", "2024-05-30", "2"), ("2024-05-31", "2024-06-14", "1")]
    first = calls[0]
    assert json.loads(first["dimensions"]) == ["campaign_id", "stat_time_day"]
    assert json.loads(first["metrics"]) == list(REPORT_METRICS)
    assert (first["service_type"], first["report_type"], first["data_level"]) == ("AUCTION", "BASIC", "AUCTION_CAMPAIGN")


def test_empty_report_is_one_call_and_no_rows(scripted):
    scripted.add(200, report_page([], 1, 0, 0))
    assert rows_of(connector(scripted.url), "campaign_daily") == []
    assert len(scripted.requests) == 1


def test_campaigns_are_paged(scripted):
    campaign = lambda i: {"campaign_id": f"17900000000000{i:02d}", "campaign_name": f"C{i}",  # noqa: E731
                          "objective_type": "TRAFFIC", "operation_status": "ENABLE"}
    scripted.add(200, envelope({"list": [campaign(1), campaign(2)],
                                "page_info": {"page": 1, "page_size": 2, "total_number": 3, "total_page": 2}}))
    scripted.add(200, envelope({"list": [campaign(3)],
                                "page_info": {"page": 2, "page_size": 2, "total_number": 3, "total_page": 2}}))
    rows = rows_of(connector(scripted.url, page_size=2), "campaigns")
    assert [r["campaign_name"] for r in rows] == ["C1", "C2", "C3"]
    assert [query(r)["page_size"] for r in scripted.requests] == ["2", "2"]


# ------------------------------------------------------------------ dialect


def test_code_40100_under_http_200_is_a_throttle(scripted, clock):
    scripted.add(200, envelope({}, 40100, "Too many requests. Please retry in some time."))
    scripted.add(200, report_page([NOTES_ROW], 1, 1, 1))
    conn = connector(scripted.url, clock)
    assert len(rows_of(conn, "campaign_daily")) == 1
    assert conn.client.stats.throttles == 1 and len(clock.waits) == 1 and clock.waits[0] >= 1.0


def test_code_50002_is_retried(scripted, clock):
    scripted.add(200, envelope({}, 50002, "Internal service error."))
    scripted.add(200, report_page([NOTES_ROW], 1, 1, 1))
    conn = connector(scripted.url, clock)
    assert len(rows_of(conn, "campaign_daily")) == 1 and conn.client.stats.retries == 1


def test_code_40105_is_a_credentials_failure_without_retry_or_token(scripted, clock):
    scripted.add(200, envelope({}, 40105, "Access token is incorrect or has been revoked."))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url, clock), "campaign_daily")
    assert err.value.kind == "credentials" and err.value.code == 40105
    assert len(scripted.requests) == 1 and clock.waits == []
    assert TOKEN not in str(err.value) and "tiktok_ads" in str(err.value) and ADVERTISER in str(err.value)


def test_invalid_metric_is_permanent_and_names_metric_and_channel(scripted, clock):
    scripted.add(200, envelope({}, 40002, "Please correct the information in invalid metric fields and try again. "
                                          "Invalid metric fields: ['total_complete_payment_rate']. "))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url, clock), "campaign_daily")
    assert err.value.kind == "permanent" and len(scripted.requests) == 1
    assert "tiktok_ads" in str(err.value) and "total_complete_payment_rate" in str(err.value)


def test_other_codes_are_permanent_with_code_and_message(scripted, clock):
    scripted.add(200, envelope({}, 40001, "No permission to operate advertiser."))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url, clock), "campaigns")
    assert err.value.kind == "permanent" and "40001" in str(err.value) and "No permission" in str(err.value)
