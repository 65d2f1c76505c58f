"""tiktok_ads beyond the channel contract (test_channel_contract.py): advertisers
in their currencies, two report calls for 45 days, "-" as null, int64 ids as
strings, UTM tags through to the campaigns, small pages giving the same rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from sandbox import Fault
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, sync_channel
from tests.integration.contract import NO_CURSOR, Call, Contract

CHANNEL = "tiktok_ads"


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_reports_land_as_the_api_sent_them(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_tiktok_ads' and table_name = 'campaign_daily'").fetchall())
        assert types["date_day"] == "DATE" and types["spend"] == "DECIMAL(18,6)"
        assert types["impressions"] == "BIGINT" and types["conversion"] == "DECIMAL(18,2)"
        accounts = dict(con.execute("select account_id, currency from raw_tiktok_ads.advertisers").fetchall())
        assert accounts == {"7301234567890123401": "USD", "7301234567890123402": "CNY"}
        # 45 days in two report calls (30-day limit), every day present for both advertisers.
        days = con.execute("select count(distinct date_day), min(date_day), max(date_day) "
                           "from raw_tiktok_ads.campaign_daily").fetchone()
        assert days == (45, CHANNEL_START, CHANNEL_END)
        # "-" arrives as null, never zero: reach of the newest day, conversion of reach campaigns.
        assert con.execute("select count(*) from raw_tiktok_ads.campaign_daily "
                           "where date_day = ? and reach is null", [CHANNEL_END]).fetchone()[0] > 0
        assert con.execute("select count(*) from raw_tiktok_ads.campaign_daily "
                           "where date_day < ? and reach is null", [CHANNEL_END]).fetchone()[0] == 0
        assert con.execute("select count(*) from raw_tiktok_ads.campaign_daily where conversion is null"
                           ).fetchone()[0] > 0
        ids = [r[0] for r in con.execute("select distinct campaign_id from raw_tiktok_ads.campaign_daily").fetchall()]
        assert all(len(i) == 19 and i.isdigit() for i in ids)  # int64 ids exact, as strings
        tagged = con.execute("select count(*) from raw_tiktok_ads.ads where utm_campaign = 'spring_sale'").fetchone()[0]
        assert tagged == 2


def test_small_pages_give_the_same_rows(settings, tmp_path):
    settings.options["page_size"] = 7
    with duckdb.connect(str(tmp_path / "paged.duckdb")) as con:
        result = sync_channel(con, settings, "campaign_daily")
        assert result.api["api_calls"] > 20
        assert result.rows == con.execute("select count(distinct (account_id, campaign_id, date_day)) "
                                          "from raw_tiktok_ads.campaign_daily").fetchone()[0]


def test_staging_carries_utm_tags_and_local_spend(staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        utm = dict(con.execute("select campaign_name, utm_campaign from intermediate.int_tiktok_ads__campaigns").fetchall())
        assert utm["Spring Sale - TikTok"] == "spring_sale"
        assert utm["夏日徒步 Summer Hiking CN"] is None  # its ads carry no UTM tags
        spend = con.execute("select sum(spend_local) from staging.stg_tiktok_ads__campaign_daily "
                            "where account_id = '7301234567890123402'").fetchone()[0]
        assert isinstance(spend, Decimal) and spend > 0


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("campaign_daily", (Fault("tiktok_ads", "throttle", path_contains="/report/"),)),
    server_error=Call("campaigns", (Fault("tiktok_ads", "server_error", times=2, path_contains="/campaign/get/"),), rows=7),
    truncated=Call("ads", (Fault("tiktok_ads", "truncated", path_contains="/ad/get/"),), rows=14),
    # One report response's spend arrives as "12,5": its records are held back, the rest land.
    bad_data=Call("campaign_daily", (Fault("tiktok_ads", "bad_data", path_contains="/report/",
                                           params={"field": "metrics.spend", "value": "12,5"}),),
                  column=lambda r: "column 'spend'",
                  record_key=lambda r: (r["dimensions"]["campaign_id"],
                                        dt.date.fromisoformat(r["dimensions"]["stat_time_day"][:10])),
                  landed_keys="select campaign_id, date_day from raw_tiktok_ads.campaign_daily"),
    removed_metric=Call("campaign_daily", (Fault("tiktok_ads", "remove_metric", params={"metric": "total_complete_payment_rate"}),),
                        code=40002),
    expired_token=Call("advertisers", (Fault("tiktok_ads", "expired_token"),), code=40105),
    repeat_cursor=NO_CURSOR.format("page number"),
)
