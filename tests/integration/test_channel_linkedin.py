"""linkedin through the sandbox: paid and organic streams land typed, faults surface clearly, staging builds."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from connectors.http import ApiError, RetryPolicy
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.landing import ensure_all_raw_tables
from sandbox import Fault, Sandbox
from sandbox.world_linkedin import linkedin_world
from tests.integration.conftest import build_staging, quarantined

CHANNEL = "linkedin"
TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01)
STREAMS = ("ad_accounts", "campaigns", "campaign_daily", "share_statistics", "follower_gains",
           "follower_demographics", "total_followers")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture
def entry(sandbox, monkeypatch):
    monkeypatch.setenv("LI_TOKEN", sandbox.token)
    return sandbox.client_configs("${LI_TOKEN}")[CHANNEL]


@pytest.fixture
def settings(entry):
    return parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]


def sync(con, settings, stream, sleep=lambda s: None):
    return sync_stream(con, settings, stream, START, END, policy=FAST, sleep=sleep,
                       progress=lambda m: None, snapshot_date=TODAY)


def test_every_stream_lands_typed_and_staging_builds(sandbox, settings, tmp_path):
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_all_raw_tables(con)
        for stream in STREAMS:
            assert sync(con, settings, stream).rows > 0, stream
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
        assert (lo, hi) == (START, END)
        # Organic queries end at least two days back: the window is clamped.
        assert con.execute("select max(date_day) from raw_linkedin.share_statistics").fetchone()[0] == TODAY - dt.timedelta(days=2)
        assert con.execute("select min(organic_follower_gain) < 0 and max(organic_follower_gain) > 0 "
                           "from raw_linkedin.follower_gains").fetchone()[0]
        dims = {d for (d,) in con.execute("select distinct dimension from raw_linkedin.follower_demographics").fetchall()}
        assert dims == {"country", "function", "seniority", "industry"}
        total = con.execute("select followers from raw_linkedin.total_followers").fetchone()[0]
        by_country = con.execute("select sum(organic_followers + paid_followers) from raw_linkedin.follower_demographics "
                                 "where dimension = 'country'").fetchone()[0]
        assert total == by_country

    result = build_staging("linkedin", db, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        named = con.execute("select count(*), count(campaign_name) from staging.stg_linkedin__campaign_daily").fetchone()
        assert named[0] > 0 and named[0] == named[1]
        assert con.execute("select count(*) from staging.stg_linkedin__account_daily").fetchone()[0] > 0
        # The networkSizes total reaches the account contract on its pull day
        # (no gains yet that day: the statistics end two days back).
        totals = con.execute("select date_day, followers, followers_gained from staging.stg_linkedin__account_daily "
                             "where followers is not null").fetchall()
        world = linkedin_world(sandbox.world)
        today = world.page_day(TODAY)
        assert totals == [(TODAY, world._followers_before(TODAY.toordinal()) + today["organic_gain"]
                           + today["paid_gain"], None)]


def test_removed_metric_names_metric_and_channel(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "remove_metric", params={"metric": "externalWebsiteConversions"}))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "campaign_daily")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "permanent"
    assert "linkedin" in str(err.value) and "externalWebsiteConversions" in str(err.value)


@pytest.mark.parametrize("kind", ["throttle", "server_error"])
def test_transient_faults_are_survived(sandbox, settings, tmp_path, kind):
    sandbox.inject(Fault(CHANNEL, kind, times=2, path_contains="adAnalytics"))
    waits: list[float] = []
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
            result = sync(con, settings, "campaign_daily", sleep=waits.append)
    finally:
        sandbox.clear_faults()
    assert result.rows > 0 and len(waits) == 2
    assert result.api["throttles" if kind == "throttle" else "retries"] == 2


def test_retired_version_names_version_and_config_key(entry, tmp_path):
    entry = {**entry, "linkedin_version": "202402"}
    settings = parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync(con, settings, "ad_accounts")
    assert err.value.status == 426 and "202402" in str(err.value) and "linkedin_version" in str(err.value)


def test_expired_token_is_a_credentials_failure(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token"))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "campaigns")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "credentials" and err.value.code == 65600


def test_repeated_page_token_is_refused(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "repeat_cursor", times=-1))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "campaigns")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "pagination"


def test_bad_cost_is_quarantined_naming_the_column(sandbox, settings, tmp_path):
    # One response's costs arrive as "n/a": its records are held back, the rest land.
    sandbox.inject(Fault(CHANNEL, "bad_data", params={"field": "costInLocalCurrency", "value": "n/a"}))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
            result = sync(con, settings, "campaign_daily")
            held = quarantined(con, CHANNEL, "campaign_daily")
            landed = set(con.execute("select campaign_id, date_day from raw_linkedin.campaign_daily").fetchall())
    finally:
        sandbox.clear_faults()
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all("linkedin.campaign_daily" in reason and "costInLocalCurrency" in reason for reason, _ in held)
    assert all(r["costInLocalCurrency"] == "n/a" for r in records)
    bad = {(r["pivotValues"][0].rsplit(":", 1)[1], dt.date(**r["dateRange"]["start"])) for r in records}
    assert len(bad) == len(held) and bad.isdisjoint(landed)
    assert len(landed) == result.rows > 0
