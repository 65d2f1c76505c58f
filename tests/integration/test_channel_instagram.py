"""instagram end to end through the sandbox: sync every stream into DuckDB,
survive throttles and server errors, name a removed metric, keep low-view
media as nulls, build staging."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from connectors import CONNECTORS
from connectors.http import ApiError, RetryPolicy
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.landing import ensure_all_raw_tables
from sandbox import Fault, Sandbox, World
from sandbox.world_instagram import instagram_world
from tests.integration.conftest import build_staging, quarantined

CHANNEL = "instagram"
TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01)
STREAMS = ("account_insights", "user_snapshots", "follower_demographics", "media", "media_insights")


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
    monkeypatch.setenv("SOCIALMART_TEST_IG_TOKEN", sandbox.token)
    entry = sandbox.client_configs("${SOCIALMART_TEST_IG_TOKEN}")[CHANNEL]
    return parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]


def sync(con, settings, stream):
    waits: list[float] = []
    result = sync_stream(con, settings, stream, START, END, policy=FAST, sleep=waits.append,
                         snapshot_date=TODAY, progress=lambda _: None)
    return result, waits


def test_every_stream_lands_typed_and_staging_builds(sandbox, settings, tmp_path):
    work = tmp_path / "dbt"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "build.duckdb"
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        for stream in STREAMS:
            result, _ = sync(con, settings, stream)
            assert result.rows > 0, stream
        per_metric = dict(con.execute(
            "select metric, count(*) from raw_instagram.account_insights group by metric").fetchall())
        # follower_count: the last 30 days only; the rest: every day of the window.
        assert per_metric == {"reach": 45, "views": 45, "total_interactions": 45, "follower_count": 30}
        assert con.execute("select min(date_day) from raw_instagram.account_insights "
                           "where metric = 'follower_count'").fetchone()[0] == END - dt.timedelta(days=29)
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
        ensure_all_raw_tables(con)

    run = build_staging("instagram", db, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    with duckdb.connect(str(db), read_only=True) as con:
        gained = con.execute("select count(*), count(followers_gained), count(views), count(followers) "
                             "from staging.stg_instagram__account_daily").fetchone()
        # The window's 45 days, and the pull day that carries the follower total alone.
        assert gained == (46, 30, 45, 1)
        (user,) = instagram_world(sandbox.world).accounts
        followers = con.execute("select followers from staging.stg_instagram__account_daily "
                                "where account_id = ? and date_day = ?", [user, TODAY]).fetchone()[0]
        assert followers == instagram_world(sandbox.world).day(user, TODAY.toordinal()).followers
        content = {k for (k,) in con.execute("select distinct content_type from staging.stg_instagram__posts").fetchall()}
        assert content == {"image", "carousel", "video", "short_video", "story"}


def test_removed_metric_is_named(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "remove_metric", params={"metric": "total_interactions"}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync(con, settings, "account_insights")
    text = str(err.value)
    assert err.value.kind == "permanent" and "total_interactions" in text and CHANNEL in text


def test_throttle_is_waited_out(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "throttle", times=2, path_contains="/media", params={"minutes": 1}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result, waits = sync(con, settings, "media")
    assert result.rows > 0 and result.api["throttles"] == 2 and waits == [60.0, 60.0]


def test_server_error_is_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "server_error", times=3, path_contains="/insights"))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result, _ = sync(con, settings, "media_insights")
    assert result.rows > 0 and result.api["retries"] == 3


def test_repeating_cursor_is_refused(sandbox, settings, tmp_path):
    # The API keeps handing out the cursor of the page it just served.
    sandbox.inject(Fault(CHANNEL, "repeat_cursor", times=2, path_contains="/media"))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError, match="repeat"):
        sync(con, settings, "media")


def test_expired_token_fails_at_once_without_the_token(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token"))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con, pytest.raises(ApiError) as err:
        sync(con, settings, "follower_demographics")
    assert err.value.kind == "credentials" and sandbox.token not in str(err.value)


def test_bad_value_is_quarantined_naming_the_column(sandbox, settings, tmp_path):
    # One breakdown's response (one request per dimension) arrives with "n/a"
    # counts: its records are held back, the other dimensions land.
    sandbox.inject(Fault(CHANNEL, "bad_data", params={"field": "value", "value": "n/a"}))
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        result, _ = sync(con, settings, "follower_demographics")
        held = quarantined(con, CHANNEL, "follower_demographics")
        landed = dict(con.execute("select dimension, count(*) from raw_instagram.follower_demographics "
                                  "group by dimension").fetchall())
    records = [json.loads(record) for _, record in held]
    bad = {r["dimension_keys"][0] for r in records}
    assert held and result.quarantined == len(held) and len(bad) == 1
    assert all("instagram.follower_demographics" in reason and f"column 'follower_demographics.{r['dimension_keys'][0]}'" in reason
               for (reason, _), r in zip(held, records, strict=False))
    assert all(r["value"] == "n/a" for r in records)
    assert bad.isdisjoint(landed) and set(landed) | bad == {"age", "gender", "country"}
    assert sum(landed.values()) == result.rows > 0


def test_newest_media_wait_out_the_insights_delay(sandbox, settings):
    # On 2026-06-14 the media of 2026-06-12 are inside the API's 48-hour delay.
    original = sandbox.world
    sandbox.world = World(original.seed, dt.date(2026, 6, 14))
    try:
        connector = CONNECTORS[CHANNEL](settings, policy=FAST, snapshot_date=dt.date(2026, 6, 14))
        rows = [r for b in connector.read("media_insights", settings.accounts[0], START, dt.date(2026, 6, 13))
                for r in b.to_pylist()]
        connector.close()
    finally:
        sandbox.world = original
    ok = [r for r in rows if r["insights_status"] == "ok"]
    fresh = [r for r in ok if r["media_id"] in {"17900000007397790"}]  # published 2026-06-12
    assert fresh and all(r["reach"] is None and r["likes"] is None for r in fresh)  # not yet: null, never 0
    assert all(r["reach"] is not None for r in ok if r not in fresh)
