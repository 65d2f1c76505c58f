"""wechat end to end through the sandbox: token flow, every stream into raw tables, faults, dbt staging."""

from __future__ import annotations

import datetime as dt
import json
import logging

import duckdb
import pytest

from connectors.http import ApiError, RetryPolicy
from connectors.wechat import STREAMS
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.landing import ensure_all_raw_tables
from sandbox import Fault, Sandbox
from sandbox.world_wechat import wechat_world
from tests.integration.conftest import build_staging, quarantined

CHANNEL = "wechat"
TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)
FAST = RetryPolicy(backoff_base=0.01, read_timeout=5)


def channel_settings(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    """The sandbox's own socialmart.yaml entry, parsed like a real configuration."""
    monkeypatch.setenv("WECHAT_SECRET", sandbox.token)
    entry = sandbox.client_configs("${WECHAT_SECRET}")[CHANNEL]
    return parse_settings({"channels": {CHANNEL: entry}}).channels[CHANNEL]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture
def settings(sandbox, monkeypatch):
    return channel_settings(sandbox, monkeypatch)


@pytest.fixture(autouse=True)
def _clear_faults(sandbox):
    yield
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def synced(sandbox, tmp_path_factory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = channel_settings(sandbox, monkeypatch)
    path = tmp_path_factory.mktemp("wechat") / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        results = {name: sync_stream(con, settings, name, START, END, policy=FAST, snapshot_date=TODAY) for name in STREAMS}
    return path, results


def test_every_stream_lands_typed_rows(synced):
    path, results = synced
    assert all(r.rows > 0 for r in results.values()), {n: r.rows for n, r in results.items()}
    # 7-day chunks for the user interfaces, one call per day for articles, one token per connector.
    assert results["user_cumulate"].api["api_calls"] == 7 + 1
    assert results["article_summary"].api["api_calls"] == 45 + 1
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_wechat' and table_name = 'user_summary'").fetchall())
        assert types["ref_date"] == "DATE" and types["new_user"] == "BIGINT" and types["user_source"] == "BIGINT"
        assert con.execute("select count(*), min(ref_date), max(ref_date) from raw_wechat.user_cumulate"
                           ).fetchone() == (45, START, END)
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


def test_window_end_is_clamped_to_yesterday(sandbox, settings, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="socialmart.wechat")
    with duckdb.connect(str(tmp_path / "c.duckdb")) as con:
        result = sync_stream(con, settings, "user_cumulate", dt.date(2026, 6, 10), TODAY,
                             policy=FAST, snapshot_date=TODAY)
        assert con.execute("select max(ref_date) from raw_wechat.user_cumulate").fetchone()[0] == END
    assert result.rows == 5
    assert "clamped to 2026-06-14" in caplog.text


def test_expired_token_is_refreshed_once(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token", after=1))
    with duckdb.connect(str(tmp_path / "r.duckdb")) as con:
        result = sync_stream(con, settings, "user_cumulate", START, END, policy=FAST, snapshot_date=TODAY)
    assert result.rows == 45
    assert result.api["api_calls"] == 1 + 7 + 2  # token, 7 chunks, the rejected call's new token and retry


def test_token_rejected_after_refresh_fails_without_a_storm(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "expired_token", times=-1))
    before = sandbox.stats()["by_channel"][CHANNEL]
    with duckdb.connect(str(tmp_path / "f.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_stream(con, settings, "user_cumulate", START, END, policy=FAST, snapshot_date=TODAY)
    assert err.value.kind == "credentials" and err.value.code == 42001
    assert sandbox.stats()["by_channel"][CHANNEL] - before == 4  # token, call, token, call: then stop
    assert sandbox.token not in str(err.value)


def test_removed_metric_names_metric_and_channel(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "remove_metric", params={"metric": "getarticlesummary"}))
    with duckdb.connect(str(tmp_path / "m.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_stream(con, settings, "article_summary", START, END, policy=FAST, snapshot_date=TODAY)
    assert err.value.kind == "permanent" and err.value.code == 48001
    assert "wechat" in str(err.value) and "getarticlesummary" in str(err.value)


def test_throttle_is_waited_out(sandbox, settings, tmp_path, clock):
    sandbox.inject(Fault(CHANNEL, "throttle", path_contains="getusersummary"))
    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        result = sync_stream(con, settings, "user_summary", START, END, policy=FAST, sleep=clock, snapshot_date=TODAY)
    assert result.rows > 0 and result.api["throttles"] == 1
    assert clock.waits == [60.0]  # 45011: "retry next minute"


def test_daily_quota_is_permanent(sandbox, settings, tmp_path, clock):
    sandbox.inject(Fault(CHANNEL, "throttle", path_contains="getusersummary", params={"errcode": 45009}))
    with duckdb.connect(str(tmp_path / "q.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_stream(con, settings, "user_summary", START, END, policy=FAST, sleep=clock, snapshot_date=TODAY)
    assert err.value.code == 45009 and "daily API quota" in str(err.value) and clock.waits == []


def test_server_error_is_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "server_error", times=2, path_contains="getusercumulate"))
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        result = sync_stream(con, settings, "user_cumulate", START, END, policy=FAST, snapshot_date=TODAY)
    assert result.rows == 45 and result.api["retries"] == 2


def test_dbt_staging_builds(sandbox, synced, tmp_path):
    path, _ = synced
    with duckdb.connect(str(path)) as con:
        ensure_all_raw_tables(con)
    proc = build_staging("wechat", path, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with duckdb.connect(str(path), read_only=True) as con:
        day = con.execute("select followers, followers_gained, followers_lost, impressions "
                          "from staging.stg_wechat__account_daily where date_day = ?", [END]).fetchone()
        assert day[0] > 10_000 and day[1] > 0 and day[2] >= 0 and day[3] is None
        assert con.execute("select distinct content_type from staging.stg_wechat__posts").fetchall() == [("article",)]
        # Every article sent in the window carries its send day (getarticletotal's
        # ref_date) as published_at, the start of that Beijing day.
        sent = con.execute("select count(*), count(published_at), min(published_date), max(published_date), "
                           "bool_and(published_at = timezone('Asia/Shanghai', published_date::timestamp)), "
                           "bool_and(first_read_date = published_date) from staging.stg_wechat__posts "
                           "where published_date is not null").fetchone()
        world = wechat_world(sandbox.world)
        expected = {a.msgid for d in range(45) for a in world.articles_sent(START + dt.timedelta(days=d))}
        assert sent[:2] == (len(expected), len(expected)) and START <= sent[2] and sent[3] <= END
        assert sent[4] and sent[5]


def test_bad_data_is_quarantined_naming_the_column(sandbox, settings, tmp_path):
    # One 7-day chunk arrives with new_user "many": its records are held back, the other days land.
    sandbox.inject(Fault(CHANNEL, "bad_data", params={"field": "new_user", "value": "many"}))
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        result = sync_stream(con, settings, "user_summary", START, END, policy=FAST, snapshot_date=TODAY)
        held = quarantined(con, CHANNEL, "user_summary")
        landed = set(con.execute("select ref_date, user_source from raw_wechat.user_summary").fetchall())
    records = [json.loads(record) for _, record in held]
    assert held and result.quarantined == len(held)
    assert all("wechat.user_summary" in reason and "column 'new_user'" in reason for reason, _ in held)
    assert all(r["new_user"] == "many" for r in records)
    bad = {(dt.date.fromisoformat(r["ref_date"]), r["user_source"]) for r in records}
    assert len(bad) == len(held) and bad.isdisjoint(landed)
    assert len(landed) == result.rows > 0


def test_truncated_body_is_retried(sandbox, settings, tmp_path):
    sandbox.inject(Fault(CHANNEL, "truncated", path_contains="getusercumulate"))
    with duckdb.connect(str(tmp_path / "tr.duckdb")) as con:
        result = sync_stream(con, settings, "user_cumulate", START, END, policy=FAST, snapshot_date=TODAY)
    assert result.rows == 45 and result.api["retries"] == 1
