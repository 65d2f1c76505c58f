"""youtube beyond the channel contract (test_channel_contract.py): Analytics
days missing until complete, every video kind, lifetime statistics
snapshotted once, subscriber changes landed up to the snapshot day, the Data
API's total in staging, the daily quota."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from connectors.http import ApiError
from sandbox import Fault
from sandbox.world_youtube import ANALYTICS_LAG_DAYS, YoutubeWorld
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY, sync_channel
from tests.integration.contract import Call, Contract

CHANNEL = "youtube"


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_analytics_and_data_api_streams_land_as_the_api_sent_them(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'raw_youtube' "
            "and table_name = 'channel_daily'").fetchall())
        assert types["date_day"] == "DATE" and types["views"] == "BIGINT" and types["subscribers_lost"] == "BIGINT"
        lo, hi, days = con.execute("select min(date_day), max(date_day), count(*) from raw_youtube.channel_daily").fetchone()
        # The newest days are missing until complete: the window's end is not served yet.
        assert lo == CHANNEL_START and hi < CHANNEL_END and days == (hi - lo).days + 1
        kinds = {k for (k,) in con.execute("select distinct content_type from raw_youtube.videos").fetchall()}
        assert kinds == {"video", "short_video", "live"}
        assert con.execute("select count(*) from raw_youtube.video_statistics where views is null").fetchone()[0] == 0
        assert con.execute("select bool_or(likes is null) from raw_youtube.video_statistics").fetchone()[0]
        assert con.execute("select count(distinct snapshot_date) from raw_youtube.video_statistics").fetchone()[0] == 1
        gained, lost = con.execute("select sum(subscribers_gained), sum(subscribers_lost) from raw_youtube.channel_daily").fetchone()
        assert gained > lost > 0


def test_staging_carries_the_subscriber_total_on_its_pull_day(sandbox, staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_youtube__posts").fetchone()[0] > 0
        # The Data API's subscriber total reaches the account contract on its
        # pull day, a day the Analytics report does not reach yet.
        totals = con.execute("select date_day, followers, views from staging.stg_youtube__account_daily "
                             "where followers is not null").fetchall()
    assert totals == [(CHANNEL_TODAY, YoutubeWorld(sandbox.world).subscribers_on(CHANNEL_TODAY), None)]


def test_a_past_window_also_lands_the_subscriber_changes_up_to_the_snapshot_day(settings, tmp_path):
    # A backfill of a past week run today: back-casting today's total to that
    # week needs every day's gains and losses since, and they land with it.
    week_start, week_end = CHANNEL_START, CHANNEL_START + dt.timedelta(days=6)
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result = sync_channel(con, settings, "channel_daily", start=week_start, end=week_end)
        lo, hi, days = con.execute("select min(date_day), max(date_day), count(*) from raw_youtube.channel_daily").fetchone()
        window = con.execute("select window_start, window_end from _socialmart.sync_state_pending "
                             "where stream = 'channel_daily'").fetchone()
    # Analytics serves up to its lag; the landed window reaches the snapshot day.
    newest = CHANNEL_TODAY - dt.timedelta(days=ANALYTICS_LAG_DAYS + 1)
    assert (lo, hi, days) == (week_start, newest, (newest - week_start).days + 1)
    assert window == (week_start, CHANNEL_TODAY) and (result.start, result.end) == (week_start, CHANNEL_TODAY)


def test_daily_quota_is_permanent_and_says_so(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "throttle", params={"daily": True}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_channel(con, settings, "videos")
    assert err.value.kind == "permanent" and "DAILY" in str(err.value)


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("videos", (Fault("youtube", "throttle", times=2),)),
    server_error=Call("videos", (Fault("youtube", "server_error", times=2),)),
    truncated=Call("videos", (Fault("youtube", "truncated"),)),
    # One page of videos arrives with viewCount "lots": those videos are held back, the rest land.
    bad_data=Call("video_statistics", (Fault("youtube", "bad_data", params={"field": "statistics.viewCount", "value": "lots"}),),
                  column=lambda r: "statistics.viewCount", record_key=lambda r: r["id"],
                  landed_keys="select video_id from raw_youtube.video_statistics"),
    removed_metric=Call("channel_daily", (Fault("youtube", "remove_metric", params={"metric": "shares"}),), says=("'shares'",)),
    expired_token=Call("channel_daily", (Fault("youtube", "expired_token"),), status=401),
    repeat_cursor=Call("videos", (Fault("youtube", "repeat_cursor", times=-1),)),
)
