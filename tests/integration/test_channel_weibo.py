"""The weibo channel end to end: sandbox -> connector -> raw DuckDB tables -> dbt staging."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from connectors.http import ApiError, RetryPolicy
from connectors.weibo import STREAMS
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.landing import ensure_all_raw_tables
from sandbox import Fault, Sandbox
from sandbox.world_weibo import WEIBO_ACCOUNTS
from tests.integration.conftest import build_staging, quarantined

TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01)
CORE = next(a.uid for a in WEIBO_ACCOUNTS if a.role == "core")
SUBS = [a.uid for a in WEIBO_ACCOUNTS if a.role == "sub_brand"]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture(scope="module")
def settings(sandbox):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOCIALMART_TEST_WEIBO_TOKEN", sandbox.token)
        entry = sandbox.client_configs("${SOCIALMART_TEST_WEIBO_TOKEN}")["weibo"]
        return parse_settings({"channels": {"weibo": entry}}).channels["weibo"]


@pytest.fixture(scope="module")
def warehouse(sandbox, settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("weibo") / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        for stream in STREAMS:
            sync_stream(con, settings, stream, START, END, policy=FAST, snapshot_date=TODAY)
    return path


def test_every_stream_lands_typed_rows_for_every_account(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for stream in STREAMS:
            accounts = con.execute(f"select count(distinct account_id) from raw_weibo.{stream}").fetchone()[0]
            assert accounts == len(WEIBO_ACCOUNTS), stream
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_schema = 'raw_weibo' and table_name = 'posts'").fetchall())
        assert types["post_id"] == "VARCHAR" and types["created_at"] == "TIMESTAMP WITH TIME ZONE"
        low, high, big_ids, chinese = con.execute(
            "select min(created_date), max(created_date), "
            "count(*) filter (where post_id::hugeint > 9007199254740992), count(*) filter (where text like '%北风%' or text like '%#%#%') "
            "from raw_weibo.posts").fetchone()
        assert START <= low and high <= END and big_ids > 0 and chinese > 0
        # The day is China time: statuses posted before 08:00 +0800 fall on the previous UTC day.
        shifted = con.execute("select count(*) from raw_weibo.posts "
                              "where created_date <> (created_at at time zone 'UTC')::date").fetchone()[0]
        assert shifted > 0
        kinds = {r[0] for r in con.execute("select distinct platform_content_type from raw_weibo.posts").fetchall()}
        assert kinds >= {"text", "image", "video", "webpage", "article"}
        snap = con.execute("select min(snapshot_date), max(snapshot_date), sum(attitudes_count) from raw_weibo.post_snapshots").fetchone()
        assert snap[0] == snap[1] == TODAY and snap[2] > 0


def test_the_account_matrix_reposts_the_core_account(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hub = con.execute("select count(*) from raw_weibo.posts where account_id <> ? and original_author_id = ?",
                          [CORE, CORE]).fetchone()[0]
        back = con.execute(f"select count(*) from raw_weibo.posts where account_id = ? and original_author_id in ({', '.join('?' * len(SUBS))})",
                           [CORE, *SUBS]).fetchone()[0]
    assert hub > 20 and back > 0


def test_a_removed_metric_fails_naming_the_metric_and_the_channel(sandbox, settings, tmp_path):
    sandbox.inject(Fault("weibo", "remove_metric", params={"metric": "attitudes_count"}))
    try:
        with duckdb.connect(str(tmp_path / "f.duckdb")) as con, pytest.raises(ApiError) as err:
            sync_stream(con, settings, "post_snapshots", START, END, policy=FAST, snapshot_date=TODAY)
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "permanent" and err.value.channel == "weibo" and "attitudes_count" in str(err.value)


def test_throttle_in_weibo_codes_is_waited_out(sandbox, settings, tmp_path):
    waits: list[float] = []
    sandbox.inject(Fault("weibo", "throttle", params={"code": 10022}))
    with duckdb.connect(str(tmp_path / "f.duckdb")) as con:
        result = sync_stream(con, settings, "user_snapshots", START, END, policy=FAST, sleep=waits.append, snapshot_date=TODAY)
    assert result.rows == len(WEIBO_ACCOUNTS) and result.api["throttles"] == 1 and len(waits) == 1


def test_server_errors_are_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault("weibo", "server_error", times=2, path_contains="user_timeline"))
    with duckdb.connect(str(tmp_path / "f.duckdb")) as con:
        result = sync_stream(con, settings, "posts", START, END, policy=FAST, sleep=lambda s: None, snapshot_date=TODAY)
    assert result.rows > 0 and result.api["retries"] == 2


def test_an_expired_token_under_http_200_fails_fast(sandbox, settings, tmp_path):
    sandbox.inject(Fault("weibo", "expired_token"))
    try:
        with duckdb.connect(str(tmp_path / "f.duckdb")) as con, pytest.raises(ApiError) as err:
            sync_stream(con, settings, "user_snapshots", START, END, policy=FAST, sleep=lambda s: None, snapshot_date=TODAY)
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "credentials" and err.value.status == 200 and err.value.code == "21327"
    assert sandbox.token not in str(err.value)


def test_bad_data_is_quarantined_naming_the_column_and_truncated_bodies_are_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault("weibo", "truncated", path_contains="user_timeline"),
                   Fault("weibo", "bad_data", after=1, params={"field": "reposts_count", "value": "1.2万"}))
    try:
        with duckdb.connect(str(tmp_path / "f.duckdb")) as con:
            result = sync_stream(con, settings, "post_snapshots", START, END, policy=FAST, sleep=lambda s: None, snapshot_date=TODAY)
            held = quarantined(con, "weibo", "post_snapshots")
            landed = {p for (p,) in con.execute("select post_id from raw_weibo.post_snapshots").fetchall()}
    finally:
        sandbox.clear_faults()
    # The page whose reposts_count reads "1.2万" is held back; every other status lands.
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all("weibo.post_snapshots" in reason and "column 'reposts_count'" in reason for reason, _ in held)
    assert all(r["reposts_count"] == "1.2万" for r in records)
    bad = {r["idstr"] for r in records}
    assert len(bad) == len(held) and bad.isdisjoint(landed)
    assert len(landed) == result.rows > 0


def test_dbt_staging_builds_and_passes_its_tests(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        ensure_all_raw_tables(con)
    # Own target and log paths: other builds may share the project directory.
    done = build_staging("weibo", warehouse, tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Only a current total exists: it reaches the account contract on its
        # pull day, every account, and no other day is invented.
        totals = con.execute("select account_id, date_day, followers from staging.stg_weibo__account_daily "
                             "order by account_id").fetchall()
        snapshots = con.execute("select account_id, snapshot_date, followers_count from raw_weibo.user_snapshots "
                                "order by account_id").fetchall()
        assert totals == snapshots and len(totals) > 1 and all(f > 0 for _, _, f in totals)
        reposts, types = con.execute(
            "select count(*) filter (where is_repost and original_account_id is not null), count(distinct content_type) "
            "from staging.stg_weibo__posts").fetchone()
    assert reposts > 0 and types >= 6
