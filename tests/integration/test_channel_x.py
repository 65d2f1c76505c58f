"""The x channel end to end: sandbox -> connector -> raw DuckDB tables -> dbt staging."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from connectors.http import ApiError, PaginationError, RetryPolicy
from connectors.x import STREAMS
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.landing import ensure_all_raw_tables
from sandbox import Fault, Sandbox
from sandbox.world_x import X_ACCOUNTS
from tests.integration.conftest import build_staging, quarantined

TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01)
CORE = next(a.id for a in X_ACCOUNTS if a.role == "core")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture(scope="module")
def settings(sandbox):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOCIALMART_TEST_X_TOKEN", sandbox.token)
        entry = sandbox.client_configs("${SOCIALMART_TEST_X_TOKEN}")["x"]
        return parse_settings({"channels": {"x": entry}}).channels["x"]


@pytest.fixture(scope="module")
def warehouse(sandbox, settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("x") / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        for stream in STREAMS:
            sync_stream(con, settings, stream, START, END, policy=FAST, snapshot_date=TODAY)
    return path


def test_every_stream_lands_typed_rows_for_every_account(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for stream in STREAMS:
            accounts = con.execute(f"select count(distinct account_id) from raw_x.{stream}").fetchone()[0]
            assert accounts == len(X_ACCOUNTS), stream
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_schema = 'raw_x' and table_name = 'posts'").fetchall())
        assert types["post_id"] == "VARCHAR" and types["created_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types["created_date"] == "DATE"
        low, high, big_ids = con.execute(
            "select min(created_date), max(created_date), count(*) filter (where post_id::hugeint > 9007199254740992) "
            "from raw_x.posts").fetchone()
        assert START <= low and high <= END and big_ids > 0
        kinds = {r[0] for r in con.execute("select distinct platform_content_type from raw_x.posts").fetchall()}
        assert kinds >= {"text", "photo", "video", "link"}
        snap = con.execute("select min(snapshot_date), max(snapshot_date), sum(impression_count) from raw_x.post_metrics").fetchone()
        assert snap[0] == snap[1] == TODAY and snap[2] > 0
        followers = con.execute("select min(followers_count) from raw_x.user_snapshots").fetchone()[0]
        assert followers > 1000


def test_the_account_family_reshares_the_core_account(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hub = con.execute(
            "select count(*) from raw_x.posts where account_id <> ? and reference_type = 'retweeted' "
            "and referenced_author_id = ?", [CORE, CORE]).fetchone()[0]
        back = con.execute(
            "select count(*) from raw_x.posts where account_id = ? and reference_type = 'retweeted'", [CORE]).fetchone()[0]
        resolved = con.execute(
            "select count(*) from raw_x.post_references r join raw_x.posts p on p.post_id = r.referenced_post_id "
            "where r.reference_type = 'retweeted'").fetchone()[0]
    assert hub > 20 and back > 0 and resolved > 0


def test_a_removed_metric_fails_naming_the_metric_and_the_channel(sandbox, settings, tmp_path):
    sandbox.inject(Fault("x", "remove_metric", params={"metric": "public_metrics"}))
    try:
        with duckdb.connect(str(tmp_path / "f.duckdb")) as con, pytest.raises(ApiError) as err:
            sync_stream(con, settings, "post_metrics", START, END, policy=FAST, snapshot_date=TODAY)
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "permanent" and err.value.channel == "x" and "public_metrics" in str(err.value)


def test_throttle_waits_until_the_rate_limit_reset(sandbox, settings, tmp_path):
    waits: list[float] = []
    sandbox.inject(Fault("x", "throttle", params={"seconds": 120}))
    with duckdb.connect(str(tmp_path / "f.duckdb")) as con:
        result = sync_stream(con, settings, "user_snapshots", START, END, policy=FAST, sleep=waits.append, snapshot_date=TODAY)
    assert result.rows == len(X_ACCOUNTS) and result.api["throttles"] == 1
    assert len(waits) == 1 and 115 <= waits[0] <= 122  # until x-rate-limit-reset, not a blind backoff


def test_server_errors_are_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault("x", "server_error", times=2, path_contains="/tweets"))
    with duckdb.connect(str(tmp_path / "f.duckdb")) as con:
        result = sync_stream(con, settings, "posts", START, END, policy=FAST, sleep=lambda s: None, snapshot_date=TODAY)
    assert result.rows > 0 and result.api["retries"] == 2


def test_a_repeating_next_token_is_refused(sandbox, settings, tmp_path):
    sandbox.inject(Fault("x", "repeat_cursor", times=-1, path_contains=CORE))
    try:
        with duckdb.connect(str(tmp_path / "f.duckdb")) as con, pytest.raises(PaginationError, match="repeats"):
            sync_stream(con, settings, "posts", START, END, policy=FAST, snapshot_date=TODAY)
    finally:
        sandbox.clear_faults()


def test_bad_data_is_quarantined_naming_the_column_and_truncated_bodies_are_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault("x", "truncated", path_contains="/tweets"),
                   Fault("x", "bad_data", after=1, params={"field": "public_metrics.like_count", "value": "n/a"}))
    try:
        with duckdb.connect(str(tmp_path / "f.duckdb")) as con:
            result = sync_stream(con, settings, "post_metrics", START, END, policy=FAST, sleep=lambda s: None, snapshot_date=TODAY)
            held = quarantined(con, "x", "post_metrics")
            landed = {p for (p,) in con.execute("select post_id from raw_x.post_metrics").fetchall()}
    finally:
        sandbox.clear_faults()
    # The page whose like_count reads "n/a" is held back; every other post lands.
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all("x.post_metrics" in reason and "column 'public_metrics.like_count'" in reason for reason, _ in held)
    assert all(r["public_metrics"]["like_count"] == "n/a" for r in records)
    bad = {r["id"] for r in records}
    assert len(bad) == len(held) and bad.isdisjoint(landed)
    assert len(landed) == result.rows > 0


def test_dbt_staging_builds_and_passes_its_tests(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        ensure_all_raw_tables(con)
    # Own target and log paths: other builds may share the project directory.
    done = build_staging("x", warehouse, tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Only a current total exists: it reaches the account contract on its
        # pull day, every account, and no other day is invented.
        totals = con.execute("select account_id, date_day, followers from staging.stg_x__account_daily "
                             "order by account_id").fetchall()
        snapshots = con.execute("select account_id, snapshot_date, followers_count from raw_x.user_snapshots "
                                "order by account_id").fetchall()
        assert totals == snapshots and len(totals) > 1 and all(f > 0 for _, _, f in totals)
        reposts, types = con.execute(
            "select count(*) filter (where is_repost and original_account_id is not null), count(distinct content_type) "
            "from staging.stg_x__posts").fetchone()
    assert reposts > 0 and types >= 5
