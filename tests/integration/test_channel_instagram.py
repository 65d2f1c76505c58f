"""instagram beyond the channel contract (test_channel_contract.py): follower
counts of the last 30 days only, every media kind, ids beyond double
precision, low-view media and stories as nulls, a bad breakdown held back by
dimension, the newest media inside the insights delay."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from connectors import CONNECTORS
from sandbox import Fault, World
from sandbox.world_instagram import instagram_world
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY, FAST, quarantined, sync_channel
from tests.integration.contract import Call, Contract

CHANNEL = "instagram"


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_insights_media_and_demographics_land_as_the_api_sent_them(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        per_metric = dict(con.execute(
            "select metric, count(*) from raw_instagram.account_insights group by metric").fetchall())
        # follower_count: the last 30 days only; the rest: every day of the window.
        assert per_metric == {"reach": 45, "views": 45, "total_interactions": 45, "follower_count": 30}
        assert con.execute("select min(date_day) from raw_instagram.account_insights "
                           "where metric = 'follower_count'").fetchone()[0] == CHANNEL_END - dt.timedelta(days=29)
        kinds = set(con.execute("select distinct media_product_type || '/' || media_type from raw_instagram.media").fetchall())
        assert {k for (k,) in kinds} == {"FEED/IMAGE", "FEED/CAROUSEL_ALBUM", "FEED/VIDEO", "REELS/VIDEO",
                                          "STORY/IMAGE", "STORY/VIDEO"}
        ids = con.execute("select media_id from raw_instagram.media").fetchall()
        assert all(len(i) >= 17 and i.isdigit() for (i,) in ids)  # beyond double precision, kept exact
        withheld = con.execute(
            "select count(*), count(reach) from raw_instagram.media_insights where insights_status = 'not_enough_viewers'"
        ).fetchone()
        assert withheld[0] > 0 and withheld[1] == 0
        story = con.execute("select count(likes), count(replies) from raw_instagram.media_insights m "
                            "join raw_instagram.media using (media_id) where media_product_type = 'STORY' "
                            "and insights_status = 'ok'").fetchone()
        assert story[0] == 0 and story[1] > 0  # stories have no likes metric: null, not 0
        demo = dict(con.execute("select dimension, sum(followers) from raw_instagram.follower_demographics "
                                "group by dimension").fetchall())
        assert set(demo) == {"age", "gender", "country"} and len(set(demo.values())) == 1


def test_staging_carries_the_follower_total_on_its_pull_day(sandbox, staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        gained = con.execute("select count(*), count(followers_gained), count(views), count(followers) "
                             "from staging.stg_instagram__account_daily").fetchone()
        # The window's 45 days, and the pull day that carries the follower total alone.
        assert gained == (46, 30, 45, 1)
        (user,) = instagram_world(sandbox.world).accounts
        followers = con.execute("select followers from staging.stg_instagram__account_daily "
                                "where account_id = ? and date_day = ?", [user, CHANNEL_TODAY]).fetchone()[0]
        assert followers == instagram_world(sandbox.world).day(user, CHANNEL_TODAY.toordinal()).followers
        content = {k for (k,) in con.execute("select distinct content_type from staging.stg_instagram__posts").fetchall()}
        assert content == {"image", "carousel", "video", "short_video", "story"}


def test_a_bad_breakdown_is_held_back_by_dimension(sandbox, settings, tmp_path):
    # One breakdown's response (one request per dimension) arrives with "n/a"
    # counts: its records are held back, the other dimensions land.
    sandbox.inject(Fault(CHANNEL, "bad_data", params={"field": "value", "value": "n/a"}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result = sync_channel(con, settings, "follower_demographics")
        held = quarantined(con, CHANNEL, "follower_demographics")
        landed = dict(con.execute("select dimension, count(*) from raw_instagram.follower_demographics "
                                  "group by dimension").fetchall())
    records = [json.loads(record) for _, record in held]
    bad = {r["dimension_keys"][0] for r in records}
    assert held and result.quarantined == len(held) and len(bad) == 1
    assert all("instagram.follower_demographics" in reason and f"column 'follower_demographics.{r['dimension_keys'][0]}'" in reason
               for (reason, _), r in zip(held, records, strict=True))
    assert all(r["value"] == "n/a" for r in records)
    assert bad.isdisjoint(landed) and set(landed) | bad == {"age", "gender", "country"}
    assert sum(landed.values()) == result.rows > 0


def test_newest_media_wait_out_the_insights_delay(sandbox, settings):
    # On 2026-06-14 the media of 2026-06-12 are inside the API's 48-hour delay.
    original = sandbox.world
    sandbox.world = World(original.seed, dt.date(2026, 6, 14))
    try:
        connector = CONNECTORS[CHANNEL](settings, policy=FAST, snapshot_date=dt.date(2026, 6, 14))
        rows = [r for b in connector.read("media_insights", settings.accounts[0], CHANNEL_START, dt.date(2026, 6, 13))
                for r in b.to_pylist()]
        connector.close()
    finally:
        sandbox.world = original
    ok = [r for r in rows if r["insights_status"] == "ok"]
    fresh = [r for r in ok if r["media_id"] in {"17900000007397790"}]  # published 2026-06-12
    assert fresh and all(r["reach"] is None and r["likes"] is None for r in fresh)  # not yet: null, never 0
    assert all(r["reach"] is not None for r in ok if r not in fresh)


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("media", (Fault("instagram", "throttle", times=2, path_contains="/media", params={"minutes": 1}),),
                  waits=[60.0, 60.0]),
    server_error=Call("media_insights", (Fault("instagram", "server_error", times=3, path_contains="/insights"),)),
    truncated=Call("media", (Fault("instagram", "truncated", path_contains="/media"),)),
    # One breakdown's response (one request per dimension) arrives with "n/a"
    # counts: its records are held back, the other dimensions land.
    bad_data=Call("follower_demographics", (Fault("instagram", "bad_data", params={"field": "value", "value": "n/a"}),),
                  # A dimension's records are held together: test_channel_instagram.py
                  column=lambda r: f"column 'follower_demographics.{r['dimension_keys'][0]}'"),
    removed_metric=Call("account_insights", (Fault("instagram", "remove_metric", params={"metric": "total_interactions"}),)),
    expired_token=Call("follower_demographics", (Fault("instagram", "expired_token"),)),
    # The API keeps handing out the cursor of the page it just served.
    repeat_cursor=Call("media", (Fault("instagram", "repeat_cursor", times=2, path_contains="/media"),)),
)
