"""facebook_pages beyond the channel contract (test_channel_contract.py): the
Page's metrics and post kinds, captions byte for byte, followers that add up
in staging, a removed metric that blames only itself, a bad day held back whole."""

from __future__ import annotations

import json

import duckdb
import pytest

from connectors.http import ApiError
from sandbox import Fault
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY, quarantined, sync_channel
from tests.integration.contract import Call, Contract

CHANNEL = "facebook_pages"


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_the_page_insights_posts_and_snapshots_land_as_the_api_sent_them(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        days = con.execute(
            "select count(distinct date_day), min(date_day), max(date_day), count(distinct metric) "
            "from raw_facebook_pages.page_insights").fetchone()
        assert days == (45, CHANNEL_START, CHANNEL_END, 7)
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
        assert snap[0] > 0 and snap[1] == CHANNEL_TODAY and snap[2] == snap[0]


def test_staging_followers_add_up_and_content_types_conform(staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        daily = con.execute(
            "select count(*), count(followers), count(followers_gained), count(followers_lost), "
            "bool_and(followers_gained - followers_lost = followers - lag_followers) "
            "from (select *, lag(followers) over (order by date_day) as lag_followers "
            "from staging.stg_facebook_pages__account_daily) where lag_followers is not null").fetchone()
        assert daily[0] == 44 and daily[1] == daily[2] == daily[3] == 44 and daily[4]
        content = {k for (k,) in con.execute("select distinct content_type from staging.stg_facebook_pages__posts").fetchall()}
        assert content == {"image", "video", "short_video", "link", "text", "carousel", "live"}


def test_a_removed_metric_blames_only_itself(sandbox, settings, tmp_path):
    # A removed metric stays removed: the fault fires on every request that asks for it.
    sandbox.inject(Fault(CHANNEL, "remove_metric", times=-1, params={"metric": "page_negative_feedback"}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_channel(con, settings, "page_insights")
    text = str(err.value)
    assert err.value.kind == "permanent" and "page_negative_feedback" in text and CHANNEL in text
    assert "page_follows" not in text.split("API said")[0]  # only the culprit is blamed


def test_a_bad_day_is_held_back_whole(sandbox, settings, tmp_path):
    # Every metric's value of the window's first day arrives as "12,5" (that
    # day's points end at the next local midnight, 07:00 UTC); the other days land.
    sandbox.inject(Fault(CHANNEL, "bad_data", path_contains="/insights", params={
        "field": "value", "value": "12,5", "match": {"end_time": "2026-05-02T07:00:00+0000"}}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result = sync_channel(con, settings, "page_insights")
        held = quarantined(con, CHANNEL, "page_insights")
        landed = con.execute(
            "select count(*), count(distinct date_day), count(*) filter (where date_day = ?) "
            "from raw_facebook_pages.page_insights", [CHANNEL_START]).fetchone()
    records = [json.loads(record) for _, record in held]
    assert result.quarantined == len(held) == 7 and len({r["name"] for r in records}) == 7
    assert all("facebook_pages.page_insights" in reason and f"column '{r['name']}'" in reason
               for (reason, _), r in zip(held, records, strict=True))
    assert all(r["value"] == "12,5" for r in records)
    assert landed == (44 * 7, 44, 0) and result.rows == 44 * 7  # the bad day is held back, the rest landed


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    # estimated_time_to_regain_access, in minutes
    throttle=Call("posts", (Fault("facebook_pages", "throttle", times=2, path_contains="/posts", params={"minutes": 3}),),
                  waits=[180.0, 180.0]),
    server_error=Call("page_insights", (Fault("facebook_pages", "server_error", times=2, path_contains="/insights"),),
                      rows=45 * 7),
    truncated=Call("posts", (Fault("facebook_pages", "truncated", path_contains="/posts"),
                             Fault("facebook_pages", "stall", after=1, path_contains="/posts", params={"seconds": 2})),
                   read_timeout=0.5),
    # Every metric's value of the window's first day arrives as "12,5" (that
    # day's points end at the next local midnight, 07:00 UTC); the other days land.
    bad_data=Call("page_insights", (Fault("facebook_pages", "bad_data", path_contains="/insights", params={
        "field": "value", "value": "12,5", "match": {"end_time": "2026-05-02T07:00:00+0000"}}),),
        column=lambda r: f"column '{r['name']}'", record_key=lambda r: (r["name"], CHANNEL_START),
        landed_keys="select metric, date_day from raw_facebook_pages.page_insights"),
    # A removed metric stays removed: the fault fires on every request that asks for it.
    removed_metric=Call("page_insights", (Fault("facebook_pages", "remove_metric", times=-1,
                                                params={"metric": "page_negative_feedback"}),)),
    expired_token=Call("posts", (Fault("facebook_pages", "expired_token"),), code=190),
    repeat_cursor=Call("posts", (Fault("facebook_pages", "repeat_cursor", times=-1),)),
)
