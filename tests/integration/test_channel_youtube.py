"""youtube through the sandbox: every stream lands typed, faults surface clearly, staging builds."""

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
from sandbox.world_youtube import ANALYTICS_LAG_DAYS, YoutubeWorld
from tests.integration.conftest import build_staging, quarantined

CHANNEL = "youtube"
TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture
def settings(sandbox, monkeypatch):
    monkeypatch.setenv("YT_TOKEN", sandbox.token)
    entry = sandbox.client_configs("${YT_TOKEN}")[CHANNEL]
    return parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]


def sync(con, settings, stream, **kwargs):
    return sync_stream(con, settings, stream, START, END, policy=FAST, sleep=lambda s: None,
                       progress=lambda m: None, snapshot_date=TODAY, **kwargs)


def test_every_stream_lands_typed_and_staging_builds(sandbox, settings, tmp_path):
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_all_raw_tables(con)
        for stream in ("channel_daily", "video_daily", "videos", "video_statistics", "channel_statistics"):
            assert sync(con, settings, stream).rows > 0, stream
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'raw_youtube' "
            "and table_name = 'channel_daily'").fetchall())
        assert types["date_day"] == "DATE" and types["views"] == "BIGINT" and types["subscribers_lost"] == "BIGINT"
        lo, hi, days = con.execute("select min(date_day), max(date_day), count(*) from raw_youtube.channel_daily").fetchone()
        # The newest days are missing until complete: the window's end is not served yet.
        assert lo == START and hi < END and days == (hi - lo).days + 1
        kinds = {k for (k,) in con.execute("select distinct content_type from raw_youtube.videos").fetchall()}
        assert kinds == {"video", "short_video", "live"}
        assert con.execute("select count(*) from raw_youtube.video_statistics where views is null").fetchone()[0] == 0
        assert con.execute("select bool_or(likes is null) from raw_youtube.video_statistics").fetchone()[0]
        assert con.execute("select count(distinct snapshot_date) from raw_youtube.video_statistics").fetchone()[0] == 1
        gained, lost = con.execute("select sum(subscribers_gained), sum(subscribers_lost) from raw_youtube.channel_daily").fetchone()
        assert gained > lost > 0
        # Re-syncing the same window replaces it.
        before = con.execute("select count(*) from raw_youtube.video_daily").fetchone()[0]
        sync(con, settings, "video_daily")
        assert con.execute("select count(*) from raw_youtube.video_daily").fetchone()[0] == before

    result = build_staging("youtube", db, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_youtube__posts").fetchone()[0] > 0
        # The Data API's subscriber total reaches the account contract on its
        # pull day, a day the Analytics report does not reach yet.
        totals = con.execute("select date_day, followers, views from staging.stg_youtube__account_daily "
                             "where followers is not null").fetchall()
    assert totals == [(TODAY, YoutubeWorld(sandbox.world).subscribers_on(TODAY), None)]


def test_a_past_window_also_lands_the_subscriber_changes_up_to_the_snapshot_day(settings, tmp_path):
    # A backfill of a past week run today: back-casting today's total to that
    # week needs every day's gains and losses since, and they land with it.
    week_start, week_end = START, START + dt.timedelta(days=6)
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result = sync_stream(con, settings, "channel_daily", week_start, week_end, policy=FAST, sleep=lambda s: None,
                             progress=lambda m: None, snapshot_date=TODAY)
        lo, hi, days = con.execute("select min(date_day), max(date_day), count(*) from raw_youtube.channel_daily").fetchone()
        window = con.execute("select window_start, window_end from _socialmart.sync_state_pending "
                             "where stream = 'channel_daily'").fetchone()
    # Analytics serves up to its lag; the landed window reaches the snapshot day.
    newest = TODAY - dt.timedelta(days=ANALYTICS_LAG_DAYS + 1)
    assert (lo, hi, days) == (week_start, newest, (newest - week_start).days + 1)
    assert window == (week_start, TODAY) and (result.start, result.end) == (week_start, TODAY)


def test_removed_metric_names_metric_and_channel(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "remove_metric", params={"metric": "shares"}))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "channel_daily")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "permanent"
    assert "youtube" in str(err.value) and "'shares'" in str(err.value)


@pytest.mark.parametrize("kind", ["throttle", "server_error"])
def test_transient_faults_are_survived(sandbox, settings, tmp_path, kind):
    sandbox.inject(Fault(CHANNEL, kind, times=2))
    waits: list[float] = []
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
            result = sync_stream(con, settings, "videos", START, END, policy=FAST, sleep=waits.append,
                                 progress=lambda m: None, snapshot_date=TODAY)
    finally:
        sandbox.clear_faults()
    assert result.rows > 0 and len(waits) == 2
    assert result.api["throttles" if kind == "throttle" else "retries"] == 2


def test_daily_quota_is_permanent_and_says_so(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "throttle", params={"daily": True}))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "videos")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "permanent" and "DAILY" in str(err.value)


def test_repeated_page_token_is_refused(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "repeat_cursor", times=-1))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "videos")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "pagination"


def test_bad_statistics_value_is_quarantined_naming_the_column(sandbox, settings, tmp_path):
    # One page of videos arrives with viewCount "lots": those videos are held back, the rest land.
    sandbox.inject(Fault(CHANNEL, "bad_data", params={"field": "statistics.viewCount", "value": "lots"}))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
            result = sync(con, settings, "video_statistics")
            held = quarantined(con, CHANNEL, "video_statistics")
            landed = {v for (v,) in con.execute("select video_id from raw_youtube.video_statistics").fetchall()}
    finally:
        sandbox.clear_faults()
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all("youtube.video_statistics" in reason and "statistics.viewCount" in reason for reason, _ in held)
    assert all(r["statistics"]["viewCount"] == "lots" for r in records)
    bad = {r["id"] for r in records}
    assert len(bad) == len(held) and bad.isdisjoint(landed)
    assert len(landed) == result.rows > 0


def test_expired_token_is_a_credentials_failure(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token"))
    try:
        with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
            sync(con, settings, "channel_daily")
    finally:
        sandbox.clear_faults()
    assert err.value.kind == "credentials" and err.value.status == 401
