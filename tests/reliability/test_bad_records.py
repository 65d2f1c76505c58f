"""Records an API sends that cannot be what it documents: non-finite numbers,
values too large for their column, rows without their date, timestamps that
do not parse. Each is quarantined with its reason (channel, stream, column,
value) while the rest of the stream lands; none fails the sync, none lands a
wrong number, and a re-sync of the same window piles nothing up.

Each case syncs through the sandbox's real HTTP with the same `sync_stream`
the Dagster assets call; the column-wise path (Meta insights, GA4) and the
row-wise one (TikTok, X, Weibo) both.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import orjson
import pytest

from orchestration.ingest import sync_stream
from orchestration.landing import raw_table
from orchestration.quality import expectations
from orchestration.quality.expectations import MART_SUITES, validate
from sandbox import Fault
from tests.reliability.helpers import END, channel_settings

START = END - dt.timedelta(days=6)
HTTP = {"read_timeout_seconds": 10}


@pytest.fixture(autouse=True)
def _clear_faults(sandbox):
    yield
    sandbox.clear_faults()


def sync(sandbox, channel: str, stream: str, path, clock):
    settings, policy = channel_settings(sandbox, channel, HTTP)
    with duckdb.connect(str(path)) as con:
        return sync_stream(con, settings, stream, START, END, policy=policy, sleep=clock,
                           snapshot_date=sandbox.world.today)


def held(path, channel: str, stream: str) -> list[tuple[str, str, dict]]:
    """(columns, reason, record) of every quarantined record."""
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute("SELECT columns, reason, record FROM _socialmart.quarantine WHERE channel = ? AND stream = ? "
                            "ORDER BY ALL", [channel, stream]).fetchall()
    return [(columns, reason, orjson.loads(record)) for columns, reason, record in found]


def count(path, channel: str, stream: str, where: str = "true") -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {raw_table(channel, stream)} WHERE {where}").fetchone()[0]


def insights_fault(day: dt.date, **params) -> Fault:
    return Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
                 params={**params, "match": {"date_start": day.isoformat()}})


def test_meta_insights_quarantine_oversized_values_and_rows_without_a_date_and_nothing_piles_up(sandbox, clock, tmp_path):
    """The column-wise hot path: one sync, three kinds of bad row on their own days."""
    clean = tmp_path / "clean.duckdb"
    sync(sandbox, "meta_ads", "insights", clean, clock)
    per_day = count(clean, "meta_ads", "insights", f"date_day = '{END}'")
    spend_day, impressions_day, dateless_day = END - dt.timedelta(days=1), END - dt.timedelta(days=2), END - dt.timedelta(days=3)
    sandbox.inject(
        insights_fault(spend_day, field="spend", value="12500000000000"),  # 1.25e13 > decimal(18,6)
        insights_fault(impressions_day, field="impressions", value=str(2**63)),  # int64 holds 2^63 - 1
        insights_fault(dateless_day, action="remove", field="date_start"),  # a renamed date field
    )
    path = tmp_path / "build.duckdb"
    for _ in range(2):  # the second pull of the same window must change nothing
        result = sync(sandbox, "meta_ads", "insights", path, clock)
        assert result.quarantined == 3 * per_day
        assert result.rows == count(clean, "meta_ads", "insights") - 3 * per_day
        assert count(path, "meta_ads", "insights", "date_day IS NULL") == 0
        records = held(path, "meta_ads", "insights")
        assert len(records) == 3 * per_day
    reasons = {columns: reason for columns, reason, _ in records}
    assert "meta_ads.insights: column 'spend' got '12500000000000': too large for decimal128(18, 6)" in reasons["spend"]
    assert f"meta_ads.insights: column 'impressions' got '{2**63}': too large for int64" in reasons["impressions"]
    assert "meta_ads.insights: column 'date_day' got None: missing" in reasons["date_day"]
    # The quarantined records are the API's own, whole.
    assert {r.get("date_start") for _, _, r in records} == {spend_day.isoformat(), impressions_day.isoformat(), None}


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "1e309"])
def test_a_non_finite_number_is_quarantined_not_landed(sandbox, clock, tmp_path, value):
    """Python and Arrow both read these strings as floats; no API means them."""
    sandbox.inject(Fault("ga4", "bad_data", times=-1, params={"field": "bounceRate", "value": value}))
    path = tmp_path / "build.duckdb"
    result = sync(sandbox, "ga4", "traffic", path, clock)
    assert result.rows == 0 and result.quarantined > 0
    assert count(path, "ga4", "traffic") == 0
    columns, reason, _ = held(path, "ga4", "traffic")[0]
    assert columns == "bounceRate" and reason == f"ga4.traffic: column 'bounceRate' got '{value}': not a finite number"


def test_row_wise_streams_quarantine_oversized_values_naming_channel_stream_column_and_value(sandbox, clock, tmp_path):
    sandbox.inject(Fault("tiktok_ads", "bad_data", times=-1, params={"field": "metrics.spend", "value": "12500000000000"}))
    path = tmp_path / "build.duckdb"
    result = sync(sandbox, "tiktok_ads", "campaign_daily", path, clock)
    assert result.rows == 0 and result.quarantined > 0
    _, reason, record = held(path, "tiktok_ads", "campaign_daily")[0]
    assert "tiktok_ads.campaign_daily: column 'spend' got Decimal('12500000000000.000000'): too large for decimal128(18, 6)" in reason
    assert record["metrics"]["spend"] == "12500000000000"


def test_a_post_without_created_at_is_quarantined_never_dropped(sandbox, clock, tmp_path):
    clean = tmp_path / "clean.duckdb"
    sync(sandbox, "x", "posts", clean, clock)
    with duckdb.connect(str(clean), read_only=True) as con:
        post_id = con.execute("SELECT min(post_id) FROM raw_x.posts").fetchone()[0]
    sandbox.inject(Fault("x", "bad_data", times=-1, path_contains="/tweets",
                         params={"action": "remove", "field": "created_at", "match": {"id": post_id}}))
    path = tmp_path / "build.duckdb"
    for _ in range(2):
        result = sync(sandbox, "x", "posts", path, clock)
        assert result.rows == count(clean, "x", "posts") - 1 and result.quarantined == 1
    [(columns, reason, record)] = held(path, "x", "posts")
    assert columns == "created_date" and "created_at" not in record and record["id"] == post_id
    assert count(path, "x", "posts", "created_date IS NULL") == 0


def test_a_bad_timestamp_quarantines_its_record_instead_of_failing_the_stream(sandbox, clock, tmp_path):
    clean = tmp_path / "clean.duckdb"
    sync(sandbox, "weibo", "posts", clean, clock)
    with duckdb.connect(str(clean), read_only=True) as con:
        post_id = con.execute("SELECT min(post_id) FROM raw_weibo.posts").fetchone()[0]
    sandbox.inject(Fault("weibo", "bad_data", times=-1,
                         params={"field": "created_at", "value": "yesterday 17:46", "match": {"idstr": post_id}}))
    path = tmp_path / "build.duckdb"
    result = sync(sandbox, "weibo", "posts", path, clock)
    assert result.rows == count(clean, "weibo", "posts") - 1 and result.quarantined == 1
    [(columns, reason, record)] = held(path, "weibo", "posts")
    assert "created_at" in columns and record["idstr"] == post_id
    assert "weibo.posts: column 'created_at' got 'yesterday 17:46': not a timestamp (%a %b %d %H:%M:%S %z %Y" in reason


def test_a_nan_ratio_fails_its_rate_check_where_a_null_one_passes(tmp_path):
    """pandas reads NULL and NaN alike and GX skips both as missing: a NaN ctr
    (0.0 / 0.0 in a float model) would pass `ctr within [0, 1]` unseen."""
    suite = next(s for s in MART_SUITES if s.table == "marts.fct_ad_performance_daily")
    columns = sorted({*suite.grain, *(r.column for r in suite.rules), *(r.other for r in suite.rules if r.other)})
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        typed = {"date_day": "DATE", "channel": "VARCHAR", "account_id": "VARCHAR", "campaign_id": "VARCHAR",
                 "account_currency": "VARCHAR", "reporting_currency": "VARCHAR"}
        definition = ", ".join(f"{c} {typed.get(c, 'DOUBLE')}" for c in columns)
        con.execute(f"CREATE TABLE marts.fct_ad_performance_daily ({definition})")
        day = END.isoformat()
        row = {c: 1.0 for c in columns} | {"date_day": day, "channel": "meta_ads", "account_id": "act_1",
                                           "account_currency": "USD", "reporting_currency": "USD", "ctr": 0.5}
        for campaign, ctr in (("1", 0.5), ("2", None), ("3", float("nan"))):
            values = {**row, "campaign_id": campaign, "ctr": ctr}
            con.execute(f"INSERT INTO marts.fct_ad_performance_daily VALUES ({', '.join('?' for _ in columns)})",
                        [values[c] for c in columns])
        result = validate(con, suite, END)
    assert not result.passed and result.description == "ctr within [0, 1]: 1 of 3 rows fail"
    assert [(r["campaign_id"], r["ctr"]) for r in result.sample] == [("3", "not a finite number")]


def test_a_large_mart_is_validated_in_chunks_and_every_failing_row_counted(tmp_path, monkeypatch):
    """A first build's facts can hold tens of millions of rows: the suite
    reads them a chunk at a time (one pandas frame of them would take tens of
    GiB) and adds up each rule's failures over the chunks."""
    monkeypatch.setattr(expectations, "CHUNK_VECTORS", 1)  # 2,048 rows a chunk
    suite = next(s for s in MART_SUITES if s.table == "marts.fct_campaign_summary")
    columns = sorted({*suite.grain, *(r.column for r in suite.rules), *(r.other for r in suite.rules if r.other)})
    typed = {"channel": "VARCHAR", "account_id": "VARCHAR", "campaign_id": "VARCHAR", "reporting_currency": "VARCHAR",
             "first_day": "DATE", "last_day": "DATE"}
    values = {c: "1.0" for c in columns} | {"channel": "'meta_ads'", "account_id": "'act_1'", "reporting_currency": "'USD'",
                                            "first_day": f"DATE '{END}'", "last_day": f"DATE '{END}'", "ctr": "0.5",
                                            "campaign_id": "i::VARCHAR",
                                            # every 1,000th campaign spent a negative amount: 5 rows, in 3 chunks
                                            "spend": "CASE WHEN i % 1000 = 0 THEN -1.0 ELSE 1.0 END"}
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        select = ", ".join(f"CAST({values[c]} AS {typed.get(c, 'DOUBLE')}) AS {c}" for c in columns)
        con.execute(f"CREATE TABLE marts.fct_campaign_summary AS SELECT {select} FROM range(5000) t(i)")
        result = validate(con, suite, END)
    assert not result.passed and result.description == "spend >= 0: 5 of 5,000 rows fail"
    assert sorted(r["campaign_id"] for r in result.sample) == ["0", "1000", "2000", "3000", "4000"]


def test_rules_hold_on_every_column_type_duckdb_hands_over(tmp_path):
    """INTEGER, a nullable INTEGER and DATE columns reach GX converted to the
    types it compares whole (audits: orchestration/quality/expectations.py
    `_comparable`); a day beyond what nanoseconds hold (9999-12-31) keeps its
    type and still fails the not-in-the-future rule; a null is missing, never a failure."""
    suite = next(s for s in MART_SUITES if s.table == "marts.fct_audience_daily")
    future, far = END + dt.timedelta(days=30), dt.date(9999, 12, 31)
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(f"""CREATE TABLE marts.fct_audience_daily AS SELECT * FROM (VALUES
            (DATE '{END}', 'x', 'a1', 10::INTEGER, NULL::INTEGER, 5::BIGINT, NULL::INTEGER, 3::INTEGER, 1::INTEGER, 0::INTEGER, 1.5::DECIMAL(18, 4), 10::BIGINT, 2::BIGINT),
            (DATE '{future}', 'x', 'a2', -1::INTEGER, 0::INTEGER, 5::BIGINT, 2::INTEGER, 3::INTEGER, 1::INTEGER, 0::INTEGER, 1.5::DECIMAL(18, 4), 10::BIGINT, 20::BIGINT),
            (DATE '{far}', 'x', 'a3', 1::INTEGER, -2::INTEGER, 5::BIGINT, 2::INTEGER, 3::INTEGER, 1::INTEGER, 0::INTEGER, 1.5::DECIMAL(18, 4), 10::BIGINT, 2::BIGINT)
        ) t(date_day, channel, account_id, followers, followers_lost, impressions, views, reach, engagements, posts_published,
            paid_spend, paid_impressions, paid_clicks)""")  # noqa: E501
        result = validate(con, suite, END)
    assert not result.passed
    assert result.description == ("followers >= 0: 1 of 3 rows fail; followers_lost >= 0: 1 of 3 rows fail; "
                                  "paid_clicks <= paid_impressions: 1 of 3 rows fail; date_day is not in the future: 2 of 3 rows fail")
    named = sorted((r["violates"], r["account_id"], r["date_day"]) for r in result.sample)
    assert named == [("date_day is not in the future", "a2", future.isoformat()), ("date_day is not in the future", "a3", far.isoformat()),
                     ("followers >= 0", "a2", future.isoformat()), ("followers_lost >= 0", "a3", far.isoformat()),
                     ("paid_clicks <= paid_impressions", "a2", future.isoformat())]
