"""wechat beyond the channel contract (test_channel_contract.py): the token
flow (one refresh, no storm), 7-day chunks, books that balance, Chinese
titles, the window clamped to yesterday, the daily quota, articles at the
start of their Beijing send day in staging."""

from __future__ import annotations

import datetime as dt
import logging

import duckdb
import pytest

from connectors.http import ApiError
from sandbox import Fault
from sandbox.world_wechat import wechat_world
from tests.integration.conftest import CHANNEL_END, CHANNEL_START, CHANNEL_TODAY, sync_channel
from tests.integration.contract import NO_CURSOR, Call, Contract

CHANNEL = "wechat"


@pytest.fixture
def channel() -> str:
    return CHANNEL


def test_every_stream_lands_in_chunks_and_the_books_balance(raw):
    path, results = raw
    # 7-day chunks for the user interfaces, one call per day for articles, one token per connector.
    assert results["user_cumulate"].api["api_calls"] == 7 + 1
    assert results["article_summary"].api["api_calls"] == 45 + 1
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_wechat' and table_name = 'user_summary'").fetchall())
        assert types["ref_date"] == "DATE" and types["new_user"] == "BIGINT" and types["user_source"] == "BIGINT"
        assert con.execute("select count(*), min(ref_date), max(ref_date) from raw_wechat.user_cumulate"
                           ).fetchone() == (45, CHANNEL_START, CHANNEL_END)
        # The world's books balance: cumulate(d) = cumulate(d-1) + new(d) - cancel(d), with losing days too.
        rows = con.execute("""
            select c.ref_date, c.cumulate_user - lag(c.cumulate_user) over (order by c.ref_date) as delta,
                   s.new - s.cancel as net
            from raw_wechat.user_cumulate c
            join (select ref_date, sum(new_user) as new, sum(cancel_user) as cancel
                  from raw_wechat.user_summary group by ref_date) s using (ref_date)
            order by c.ref_date""").fetchall()
        assert all(delta == net for _, delta, net in rows[1:])
        assert any(net < 0 for _, _, net in rows) and any(net > 0 for _, _, net in rows)
        titles = [r[0] for r in con.execute("select distinct title from raw_wechat.article_summary").fetchall()]
        assert titles and all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in titles)


def test_window_end_is_clamped_to_yesterday(settings, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="socialmart.wechat")
    with duckdb.connect(str(tmp_path / "c.duckdb")) as con:
        result = sync_channel(con, settings, "user_cumulate", start=dt.date(2026, 6, 10), end=CHANNEL_TODAY)
        assert con.execute("select max(ref_date) from raw_wechat.user_cumulate").fetchone()[0] == CHANNEL_END
    assert result.rows == 5
    assert "clamped to 2026-06-14" in caplog.text


def test_expired_token_is_refreshed_once(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token", after=1))
    with duckdb.connect(str(tmp_path / "r.duckdb")) as con:
        result = sync_channel(con, settings, "user_cumulate")
    assert result.rows == 45
    assert result.api["api_calls"] == 1 + 7 + 2  # token, 7 chunks, the rejected call's new token and retry


def test_token_rejected_after_refresh_fails_without_a_storm(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token", times=-1))
    before = sandbox.stats()["by_channel"][CHANNEL]
    with duckdb.connect(str(tmp_path / "f.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_channel(con, settings, "user_cumulate")
    assert err.value.kind == "credentials" and err.value.code == 42001
    assert sandbox.stats()["by_channel"][CHANNEL] - before == 4  # token, call, token, call: then stop
    assert sandbox.token not in str(err.value)


def test_daily_quota_is_permanent(sandbox, settings, tmp_path, clock):
    sandbox.inject(Fault(CHANNEL, "throttle", path_contains="getusersummary", params={"errcode": 45009}))
    with duckdb.connect(str(tmp_path / "q.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_channel(con, settings, "user_summary", sleep=clock)
    assert err.value.code == 45009 and "daily API quota" in str(err.value) and clock.waits == []


def test_staging_dates_articles_by_their_beijing_send_day(sandbox, staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        day = con.execute("select followers, followers_gained, followers_lost, impressions "
                          "from intermediate.int_wechat__account_daily where date_day = ?", [CHANNEL_END]).fetchone()
        assert day[0] > 10_000 and day[1] > 0 and day[2] >= 0 and day[3] is None
        assert con.execute("select distinct content_type from intermediate.int_wechat__posts").fetchall() == [("article",)]
        # Every article sent in the window carries its send day (getarticletotal's
        # ref_date) as published_at, the start of that Beijing day.
        sent = con.execute("select count(*), count(published_at), min(published_date), max(published_date), "
                           "bool_and(published_at = timezone('Asia/Shanghai', published_date::timestamp)), "
                           "bool_and(first_read_date = published_date) from intermediate.int_wechat__posts "
                           "where published_date is not null").fetchone()
        world = wechat_world(sandbox.world)
        expected = {a.msgid for d in range(45) for a in world.articles_sent(CHANNEL_START + dt.timedelta(days=d))}
        assert sent[:2] == (len(expected), len(expected)) and CHANNEL_START <= sent[2] and sent[3] <= CHANNEL_END
        assert sent[4] and sent[5]


# The channel contract (test_channel_contract_faults.py): the faults in this API's dialect.
CONTRACT = Contract(
    throttle=Call("user_summary", (Fault("wechat", "throttle", path_contains="getusersummary"),),
                  waits=[60.0]),  # 45011: "retry next minute"
    server_error=Call("user_cumulate", (Fault("wechat", "server_error", times=2, path_contains="getusercumulate"),), rows=45),
    truncated=Call("user_cumulate", (Fault("wechat", "truncated", path_contains="getusercumulate"),), rows=45),
    # One 7-day chunk arrives with new_user "many": its records are held back, the other days land.
    bad_data=Call("user_summary", (Fault("wechat", "bad_data", params={"field": "new_user", "value": "many"}),),
                  column=lambda r: "column 'new_user'",
                  record_key=lambda r: (dt.date.fromisoformat(r["ref_date"]), r["user_source"]),
                  landed_keys="select ref_date, user_source from raw_wechat.user_summary"),
    removed_metric=Call("article_summary", (Fault("wechat", "remove_metric", params={"metric": "getarticlesummary"}),),
                        code=48001),
    # The access token is refreshed once (test_channel_wechat.py); rejected for ever, it fails.
    expired_token=Call("user_cumulate", (Fault("wechat", "expired_token", times=-1),), code=42001),
    repeat_cursor=NO_CURSOR.format("date chunk"),
)
