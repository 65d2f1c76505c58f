"""tiktok_ads end to end through the sandbox: every stream into raw tables, faults, dbt staging."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pytest

from connectors.http import ApiError, RetryPolicy
from connectors.tiktok_ads import STREAMS
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.landing import ensure_all_raw_tables
from sandbox import Fault, Sandbox
from tests.integration.conftest import build_staging, quarantined

CHANNEL = "tiktok_ads"
TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01, read_timeout=5)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


def channel_settings(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    """The sandbox's own socialmart.yaml entry, parsed like a real configuration."""
    monkeypatch.setenv("TIKTOK_TOKEN", sandbox.token)
    entry = sandbox.client_configs("${TIKTOK_TOKEN}")[CHANNEL]
    return parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]


@pytest.fixture
def settings(sandbox, monkeypatch):
    return channel_settings(sandbox, monkeypatch)


@pytest.fixture(autouse=True)
def _clear_faults(sandbox):
    yield
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def synced(sandbox, tmp_path_factory):
    """Every stream of every configured advertiser, landed in one DuckDB file."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = channel_settings(sandbox, monkeypatch)
    path = tmp_path_factory.mktemp("tiktok") / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        results = {name: sync_stream(con, settings, name, START, END, policy=FAST) for name in STREAMS}
    return path, results


def test_every_stream_lands_typed_rows(synced):
    path, results = synced
    assert all(r.rows > 0 for r in results.values()), {n: r.rows for n, r in results.items()}
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
        assert days == (45, START, END)
        # "-" arrives as null, never zero: reach of the newest day, conversion of reach campaigns.
        assert con.execute("select count(*) from raw_tiktok_ads.campaign_daily "
                           "where date_day = ? and reach is null", [END]).fetchone()[0] > 0
        assert con.execute("select count(*) from raw_tiktok_ads.campaign_daily "
                           "where date_day < ? and reach is null", [END]).fetchone()[0] == 0
        assert con.execute("select count(*) from raw_tiktok_ads.campaign_daily where conversion is null"
                           ).fetchone()[0] > 0
        ids = [r[0] for r in con.execute("select distinct campaign_id from raw_tiktok_ads.campaign_daily").fetchall()]
        assert all(len(i) == 19 and i.isdigit() for i in ids)  # int64 ids exact, as strings
        tagged = con.execute("select count(*) from raw_tiktok_ads.ads where utm_campaign = 'spring_sale'").fetchone()[0]
        assert tagged == 2


def test_small_pages_give_the_same_rows(sandbox, settings, tmp_path):
    settings.options["page_size"] = 7
    with duckdb.connect(str(tmp_path / "paged.duckdb")) as con:
        result = sync_stream(con, settings, "campaign_daily", START, END, policy=FAST)
        assert result.api["api_calls"] > 20
        assert result.rows == con.execute("select count(distinct (account_id, campaign_id, date_day)) "
                                          "from raw_tiktok_ads.campaign_daily").fetchone()[0]


def test_removed_metric_names_metric_and_channel(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "remove_metric", params={"metric": "total_complete_payment_rate"}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_stream(con, settings, "campaign_daily", START, END, policy=FAST)
    assert err.value.kind == "permanent" and err.value.code == 40002
    assert "tiktok_ads" in str(err.value) and "total_complete_payment_rate" in str(err.value)


def test_throttle_is_waited_out(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "throttle", path_contains="/report/"))
    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        result = sync_stream(con, settings, "campaign_daily", START, END, policy=FAST)
    assert result.rows > 0 and result.api["throttles"] == 1


def test_server_error_is_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "server_error", times=2, path_contains="/campaign/get/"))
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        result = sync_stream(con, settings, "campaigns", START, END, policy=FAST)
    assert result.rows == 7 and result.api["retries"] == 2


def test_invalid_token_is_a_credentials_failure(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token"))
    with duckdb.connect(str(tmp_path / "e.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_stream(con, settings, "advertisers", START, END, policy=FAST)
    assert err.value.kind == "credentials" and err.value.code == 40105
    assert sandbox.token not in str(err.value)


def test_dbt_staging_builds(synced, tmp_path):
    path, _ = synced
    with duckdb.connect(str(path)) as con:
        ensure_all_raw_tables(con)
    proc = build_staging("tiktok_ads", path, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with duckdb.connect(str(path), read_only=True) as con:
        utm = dict(con.execute("select campaign_name, utm_campaign from intermediate.int_tiktok_ads__campaigns").fetchall())
        assert utm["Spring Sale - TikTok"] == "spring_sale"
        assert utm["夏日徒步 Summer Hiking CN"] is None  # its ads carry no UTM tags
        spend = con.execute("select sum(spend_local) from staging.stg_tiktok_ads__campaign_daily "
                            "where account_id = '7301234567890123402'").fetchone()[0]
        assert isinstance(spend, Decimal) and spend > 0


def test_bad_spend_is_quarantined_naming_the_metric(sandbox, settings, tmp_path):
    # One report response's spend arrives as "12,5": its records are held back, the rest land.
    sandbox.inject(Fault(CHANNEL, "bad_data", path_contains="/report/", params={"field": "metrics.spend", "value": "12,5"}))
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        result = sync_stream(con, settings, "campaign_daily", START, END, policy=FAST)
        held = quarantined(con, CHANNEL, "campaign_daily")
        landed = set(con.execute("select campaign_id, date_day from raw_tiktok_ads.campaign_daily").fetchall())
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all("tiktok_ads.campaign_daily" in reason and "column 'spend'" in reason for reason, _ in held)
    assert all(r["metrics"]["spend"] == "12,5" for r in records)
    bad = {(r["dimensions"]["campaign_id"], dt.date.fromisoformat(r["dimensions"]["stat_time_day"][:10])) for r in records}
    assert len(bad) == len(held) and bad.isdisjoint(landed)
    assert len(landed) == result.rows > 0


def test_truncated_body_is_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "truncated", path_contains="/ad/get/"))
    with duckdb.connect(str(tmp_path / "tr.duckdb")) as con:
        result = sync_stream(con, settings, "ads", START, END, policy=FAST)
    assert result.rows == 14 and result.api["retries"] == 1
