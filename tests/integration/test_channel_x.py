"""x beyond the channel contract (test_channel_contract.py): every account of
the family in every stream, ids beyond double precision, lifetime metrics
snapshotted on the pull day, the family resharing its core account,
references resolved, a current follower total only."""

from __future__ import annotations

import duckdb
import pytest

from connectors.x import STREAMS
from sandbox import Fault
from sandbox.world_x import X_ACCOUNTS
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY
from tests.integration.contract import Call, Contract

CHANNEL = "x"
CORE = next(a.id for a in X_ACCOUNTS if a.role == "core")


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_every_stream_lands_typed_rows_for_every_account(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
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
        assert CHANNEL_START <= low and high <= CHANNEL_END and big_ids > 0
        kinds = {r[0] for r in con.execute("select distinct platform_content_type from raw_x.posts").fetchall()}
        assert kinds >= {"text", "photo", "video", "link"}
        snap = con.execute("select min(snapshot_date), max(snapshot_date), sum(impression_count) from raw_x.post_metrics").fetchone()
        assert snap[0] == snap[1] == CHANNEL_TODAY and snap[2] > 0
        followers = con.execute("select min(followers_count) from raw_x.user_snapshots").fetchone()[0]
        assert followers > 1000


def test_the_account_family_reshares_the_core_account(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        hub = con.execute(
            "select count(*) from raw_x.posts where account_id <> ? and reference_type = 'retweeted' "
            "and referenced_author_id = ?", [CORE, CORE]).fetchone()[0]
        back = con.execute(
            "select count(*) from raw_x.posts where account_id = ? and reference_type = 'retweeted'", [CORE]).fetchone()[0]
        resolved = con.execute(
            "select count(*) from raw_x.post_references r join raw_x.posts p on p.post_id = r.referenced_post_id "
            "where r.reference_type = 'retweeted'").fetchone()[0]
    assert hub > 20 and back > 0 and resolved > 0


def test_staging_has_the_current_follower_total_only_and_reposts(staged):
    with duckdb.connect(str(staged), read_only=True) as con:
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


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    # Until x-rate-limit-reset, not a blind backoff.
    throttle=Call("user_snapshots", (Fault("x", "throttle", params={"seconds": 120}),), rows=len(X_ACCOUNTS),
                  wait_between=(115, 122)),
    server_error=Call("posts", (Fault("x", "server_error", times=2, path_contains="/tweets"),)),
    truncated=Call("posts", (Fault("x", "truncated", path_contains="/tweets"),)),
    # A truncated body retried, then the page whose like_count reads "n/a" is
    # held back; every other post lands.
    bad_data=Call("post_metrics", (Fault("x", "truncated", path_contains="/tweets"),
                                   Fault("x", "bad_data", after=1, params={"field": "public_metrics.like_count", "value": "n/a"})),
                  column=lambda r: "column 'public_metrics.like_count'", record_key=lambda r: r["id"],
                  landed_keys="select post_id from raw_x.post_metrics"),
    removed_metric=Call("post_metrics", (Fault("x", "remove_metric", params={"metric": "public_metrics"}),)),
    expired_token=Call("user_snapshots", (Fault("x", "expired_token"),), status=401),
    repeat_cursor=Call("posts", (Fault("x", "repeat_cursor", times=-1, path_contains=CORE),), says=("repeats",)),
)
