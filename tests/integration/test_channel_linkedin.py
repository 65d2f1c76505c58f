"""linkedin beyond the channel contract (test_channel_contract.py): ad accounts
in their currencies, field chunks merged, organic windows clamped, follower
totals that match their breakdown and reach staging, a retired API version
named with its config key."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from connectors.http import ApiError
from sandbox import Fault
from sandbox.world_linkedin import linkedin_world
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY, channel_settings, sync_channel
from tests.integration.contract import Call, Contract

CHANNEL = "linkedin"


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_paid_and_organic_streams_land_as_the_api_sent_them(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        currencies = dict(con.execute("select account_id, currency from raw_linkedin.ad_accounts").fetchall())
        assert currencies == {"508123456": "USD", "508123457": "GBP"}
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'raw_linkedin' "
            "and table_name = 'campaign_daily'").fetchall())
        assert types["cost_in_local_currency"] == "DECIMAL(18,6)" and types["date_day"] == "DATE"
        # Both field chunks were merged into one row per (day, campaign).
        assert con.execute("select count(*) from raw_linkedin.campaign_daily where impressions is null "
                           "or sends is null").fetchone()[0] == 0
        lo, hi = con.execute("select min(date_day), max(date_day) from raw_linkedin.campaign_daily").fetchone()
        assert (lo, hi) == (CHANNEL_START, CHANNEL_END)
        # Organic queries end at least two days back: the window is clamped.
        assert con.execute("select max(date_day) from raw_linkedin.share_statistics").fetchone()[0] == CHANNEL_TODAY - dt.timedelta(days=2)
        assert con.execute("select min(organic_follower_gain) < 0 and max(organic_follower_gain) > 0 "
                           "from raw_linkedin.follower_gains").fetchone()[0]
        dims = {d for (d,) in con.execute("select distinct dimension from raw_linkedin.follower_demographics").fetchall()}
        assert dims == {"country", "function", "seniority", "industry"}
        total = con.execute("select followers from raw_linkedin.total_followers").fetchone()[0]
        by_country = con.execute("select sum(organic_followers + paid_followers) from raw_linkedin.follower_demographics "
                                 "where dimension = 'country'").fetchone()[0]
        assert total == by_country


def test_staging_names_campaigns_and_carries_the_follower_total_on_its_pull_day(sandbox, staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        named = con.execute("select count(*), count(campaign_name) from staging.stg_linkedin__campaign_daily").fetchone()
        assert named[0] > 0 and named[0] == named[1]
        assert con.execute("select count(*) from staging.stg_linkedin__account_daily").fetchone()[0] > 0
        # The networkSizes total reaches the account contract on its pull day
        # (no gains yet that day: the statistics end two days back).
        totals = con.execute("select date_day, followers, followers_gained from staging.stg_linkedin__account_daily "
                             "where followers is not null").fetchall()
        world = linkedin_world(sandbox.world)
        today = world.page_day(CHANNEL_TODAY)
        assert totals == [(CHANNEL_TODAY, world._followers_before(CHANNEL_TODAY.toordinal()) + today["organic_gain"]
                           + today["paid_gain"], None)]


def test_retired_version_names_version_and_config_key(sandbox, tmp_path):
    settings = channel_settings(sandbox, CHANNEL, linkedin_version="202402")
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_channel(con, settings, "ad_accounts")
    assert err.value.status == 426 and "202402" in str(err.value) and "linkedin_version" in str(err.value)


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("campaign_daily", (Fault("linkedin", "throttle", times=2, path_contains="adAnalytics"),)),
    server_error=Call("campaign_daily", (Fault("linkedin", "server_error", times=2, path_contains="adAnalytics"),)),
    truncated=Call("campaigns", (Fault("linkedin", "truncated"),)),
    # One response's costs arrive as "n/a": its records are held back, the rest land.
    bad_data=Call("campaign_daily", (Fault("linkedin", "bad_data", params={"field": "costInLocalCurrency", "value": "n/a"}),),
                  column=lambda r: "costInLocalCurrency",
                  record_key=lambda r: (r["pivotValues"][0].rsplit(":", 1)[1], dt.date(**r["dateRange"]["start"])),
                  landed_keys="select campaign_id, date_day from raw_linkedin.campaign_daily"),
    removed_metric=Call("campaign_daily", (Fault("linkedin", "remove_metric", params={"metric": "externalWebsiteConversions"}),)),
    expired_token=Call("campaigns", (Fault("linkedin", "expired_token"),), code=65600),
    repeat_cursor=Call("campaigns", (Fault("linkedin", "repeat_cursor", times=-1),)),
)
