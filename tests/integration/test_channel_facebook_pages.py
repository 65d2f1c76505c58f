"""facebook_pages end to end through the sandbox: sync every stream into DuckDB,
survive throttles and server errors, name a removed metric, build staging."""

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
from tests.integration.conftest import build_staging, quarantined

CHANNEL = "facebook_pages"
TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _clean_faults(sandbox):
    yield
    sandbox.clear_faults()


@pytest.fixture
def settings(sandbox, monkeypatch):
    monkeypatch.setenv("SOCIALMART_TEST_FB_TOKEN", sandbox.token)
    entry = sandbox.client_configs("${SOCIALMART_TEST_FB_TOKEN}")[CHANNEL]
    return parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]


def sync(con, settings, stream, **kwargs):
    waits: list[float] = []
    result = sync_stream(con, settings, stream, START, END, policy=FAST, sleep=waits.append,
                         snapshot_date=TODAY, progress=lambda _: None, **kwargs)
    return result, waits


def test_every_stream_lands_typed_and_staging_builds(sandbox, settings, tmp_path):
    work = tmp_path / "dbt"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "build.duckdb"
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        for stream in ("page_insights", "posts", "post_snapshots"):
            result, _ = sync(con, settings, stream)
            assert result.rows > 0, stream
        days = con.execute(
            "select count(distinct date_day), min(date_day), max(date_day), count(distinct metric) "
            "from raw_facebook_pages.page_insights").fetchone()
        assert days == (45, START, END, 7)
        assert "page_fans" not in {m for (m,) in con.execute(
            "select distinct metric from raw_facebook_pages.page_insights").fetchall()}
        types = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_facebook_pages' and table_name = 'posts'").fetchall()
        assert ("created_time", "TIMESTAMP WITH TIME ZONE") in types
        kinds = {k for (k,) in con.execute("select distinct platform_content_type from raw_facebook_pages.posts").fetchall()}
        assert kinds == {"photo", "video", "reel", "link", "status", "album", "live"}
        # Right-to-left and CJK captions arrive byte for byte.
        assert con.execute("select count(*) from raw_facebook_pages.posts where message like '%مغامرة جديدة%'").fetchone()[0] > 0
        assert con.execute("select count(*) from raw_facebook_pages.posts where message like '%春季徒步季%'").fetchone()[0] > 0
        snap = con.execute("select count(*), min(snapshot_date), count(views) from raw_facebook_pages.post_snapshots").fetchone()
        assert snap[0] > 0 and snap[1] == TODAY and snap[2] == snap[0]
        ensure_all_raw_tables(con)

    run = build_staging("facebook_pages", db, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    with duckdb.connect(str(db), read_only=True) as con:
        daily = con.execute(
            "select count(*), count(followers), count(followers_gained), count(followers_lost), "
            "bool_and(followers_gained - followers_lost = followers - lag_followers) "
            "from (select *, lag(followers) over (order by date_day) as lag_followers "
            "from staging.stg_facebook_pages__account_daily) where lag_followers is not null").fetchone()
        assert daily[0] == 44 and daily[1] == daily[2] == daily[3] == 44 and daily[4]
        content = {k for (k,) in con.execute("select distinct content_type from staging.stg_facebook_pages__posts").fetchall()}
        assert content == {"image", "video", "short_video", "link", "text", "carousel", "live"}


def test_removed_metric_is_named(sandbox, settings, tmp_path):
    # A removed metric stays removed: the fault fires on every request that asks for it.
    sandbox.inject(Fault(CHANNEL, "remove_metric", times=-1, params={"metric": "page_negative_feedback"}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync(con, settings, "page_insights")
    text = str(err.value)
    assert err.value.kind == "permanent" and "page_negative_feedback" in text and CHANNEL in text
    assert "page_follows" not in text.split("API said")[0]  # only the culprit is blamed


def test_throttle_is_waited_out(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "throttle", times=2, path_contains="/posts", params={"minutes": 3}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result, waits = sync(con, settings, "posts")
    assert result.rows > 0 and result.api["throttles"] == 2
    assert waits == [180.0, 180.0]  # estimated_time_to_regain_access, in minutes


def test_server_error_is_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "server_error", times=2, path_contains="/insights"))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result, _ = sync(con, settings, "page_insights")
    assert result.rows == 45 * 7 and result.api["retries"] == 2


def test_expired_token_fails_at_once_without_the_token(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token"))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync(con, settings, "posts")
    assert err.value.kind == "credentials" and err.value.code == 190 and sandbox.token not in str(err.value)


def test_bad_value_is_quarantined_naming_the_metric(sandbox, settings, tmp_path):
    # Every metric's value of the window's first day arrives as "12,5" (that
    # day's points end at the next local midnight, 07:00 UTC); the other days land.
    sandbox.inject(Fault(CHANNEL, "bad_data", path_contains="/insights", params={
        "field": "value", "value": "12,5", "match": {"end_time": "2026-05-02T07:00:00+0000"}}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result, _ = sync(con, settings, "page_insights")
        held = quarantined(con, CHANNEL, "page_insights")
        landed = con.execute(
            "select count(*), count(distinct date_day), count(*) filter (where date_day = ?) "
            "from raw_facebook_pages.page_insights", [START]).fetchone()
    records = [json.loads(record) for _, record in held]
    assert result.quarantined == len(held) == 7 and len({r["name"] for r in records}) == 7
    assert all("facebook_pages.page_insights" in reason and f"column '{r['name']}'" in reason
               for (reason, _), r in zip(held, records, strict=False))
    assert all(r["value"] == "12,5" for r in records)
    assert landed == (44 * 7, 44, 0) and result.rows == 44 * 7  # the bad day is held back, the rest landed


def test_truncated_and_stalled_responses_are_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "truncated", path_contains="/posts"),
                   Fault(CHANNEL, "stall", after=1, path_contains="/posts", params={"seconds": 2}))
    policy = RetryPolicy(backoff_base=0.01, read_timeout=0.5)
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result = sync_stream(con, settings, "posts", START, END, policy=policy, sleep=lambda _: None,
                             progress=lambda _: None)
        assert con.execute("select count(*), count(distinct post_id) from raw_facebook_pages.posts").fetchone() == (
            result.rows, result.rows)
    assert result.rows > 0 and result.api["retries"] == 2
