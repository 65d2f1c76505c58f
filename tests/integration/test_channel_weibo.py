"""weibo beyond the channel contract (test_channel_contract.py): every account
of the matrix in every stream, ids beyond double precision, China-time days,
the matrix reposting its core account, a current follower total only."""

from __future__ import annotations

import duckdb
import pytest

from connectors.weibo import STREAMS
from sandbox import Fault
from sandbox.world_weibo import WEIBO_ACCOUNTS
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY
from tests.integration.contract import NO_CURSOR, Call, Contract

CHANNEL = "weibo"
CORE = next(a.uid for a in WEIBO_ACCOUNTS if a.role == "core")
SUBS = [a.uid for a in WEIBO_ACCOUNTS if a.role == "sub_brand"]


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_every_stream_lands_typed_rows_for_every_account(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
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
        assert CHANNEL_START <= low and high <= CHANNEL_END and big_ids > 0 and chinese > 0
        # The day is China time: statuses posted before 08:00 +0800 fall on the previous UTC day.
        shifted = con.execute("select count(*) from raw_weibo.posts "
                              "where created_date <> (created_at at time zone 'UTC')::date").fetchone()[0]
        assert shifted > 0
        kinds = {r[0] for r in con.execute("select distinct platform_content_type from raw_weibo.posts").fetchall()}
        assert kinds >= {"text", "image", "video", "webpage", "article"}
        snap = con.execute("select min(snapshot_date), max(snapshot_date), sum(attitudes_count) from raw_weibo.post_snapshots").fetchone()
        assert snap[0] == snap[1] == CHANNEL_TODAY and snap[2] > 0


def test_the_account_matrix_reposts_the_core_account(raw):
    path, _ = raw
    with duckdb.connect(str(path), read_only=True) as con:
        hub = con.execute("select count(*) from raw_weibo.posts where account_id <> ? and original_author_id = ?",
                          [CORE, CORE]).fetchone()[0]
        back = con.execute(f"select count(*) from raw_weibo.posts where account_id = ? and original_author_id in ({', '.join('?' * len(SUBS))})",
                           [CORE, *SUBS]).fetchone()[0]
    assert hub > 20 and back > 0


def test_staging_has_the_current_follower_total_only_and_reposts(staged):
    with duckdb.connect(str(staged), read_only=True) as con:
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


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("user_snapshots", (Fault("weibo", "throttle", params={"code": 10022}),), rows=len(WEIBO_ACCOUNTS)),
    server_error=Call("posts", (Fault("weibo", "server_error", times=2, path_contains="user_timeline"),)),
    # A truncated body retried, then the page whose reposts_count reads "1.2万"
    # is held back; every other status lands.
    truncated=Call("post_snapshots", (Fault("weibo", "truncated", path_contains="user_timeline"),)),
    bad_data=Call("post_snapshots", (Fault("weibo", "truncated", path_contains="user_timeline"),
                                     Fault("weibo", "bad_data", after=1, params={"field": "reposts_count", "value": "1.2万"})),
                  column=lambda r: "column 'reposts_count'", record_key=lambda r: r["idstr"],
                  landed_keys="select post_id from raw_weibo.post_snapshots"),
    removed_metric=Call("post_snapshots", (Fault("weibo", "remove_metric", params={"metric": "attitudes_count"}),)),
    # An expired token under HTTP 200.
    expired_token=Call("user_snapshots", (Fault("weibo", "expired_token"),), status=200, code="21327"),
    repeat_cursor=NO_CURSOR.format("page number"),
)
