"""The whole Dagster job against the sandbox: land, build, test, publish; twice; restated; failing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from sandbox import Fault
from tests.integration.conftest import END, START, TODAY, sha256, table_checksums

RAW = ("raw_meta_ads", "raw_ga4", "raw_fx")


@pytest.fixture(scope="module")
def env(first_run):
    """The shared standard run's warehouse and sandbox (conftest.py): these tests go on from it."""
    return first_run.env


def test_run_lands_raw_builds_marts_and_publishes(env, first_run):
    settings = env.settings
    assert settings.published_db.exists()
    assert first_run.outcome.raw_rows["raw_meta_ads.insights"] > 0
    assert first_run.outcome.raw_rows["raw_ga4.traffic"] > 0 and first_run.outcome.raw_rows["raw_fx.ecb_rates"] > 0
    assert first_run.outcome.mart_rows["marts.fct_ad_performance_daily"] > 0
    assert first_run.outcome.checks and all(c.passed for c in first_run.outcome.checks)
    summary = first_run.outcome.summary()
    assert "SUCCEEDED" in summary and "fct_ad_performance_daily" in summary and "passed" in summary

    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        days = con.execute("SELECT min(date_day), max(date_day), count(DISTINCT account_id) FROM marts.fct_ad_performance_daily WHERE channel = 'meta_ads'").fetchone()  # noqa: E501
        assert days[0] >= START and days[1] == END and days[2] == 2
        # Two currencies in, one reporting currency out; EUR rows carry a real rate.
        eur = con.execute("SELECT min(fx_rate), max(fx_rate), bool_and(spend = round(spend_local * fx_rate, 4)) FROM marts.fct_ad_performance_daily WHERE account_currency = 'EUR'").fetchone()  # noqa: E501
        assert 0.9 < eur[0] <= eur[1] < 1.4 and eur[2]
        usd = con.execute("SELECT min(fx_rate), max(fx_rate) FROM marts.fct_ad_performance_daily WHERE account_currency = 'USD'").fetchone()
        assert usd == (Decimal("1"), Decimal("1"))
        # Ratios from sums; utm from url_tags; one campaign is untagged.
        bad = con.execute("SELECT count(*) FROM marts.fct_ad_performance_daily WHERE impressions > 0 AND abs(ctr - clicks / impressions) > 1e-12").fetchone()[0]
        assert bad == 0
        assert con.execute("SELECT count(DISTINCT campaign_id) FROM marts.fct_ad_performance_daily WHERE channel = 'meta_ads' AND utm_campaign IS NULL").fetchone()[0] == 1  # noqa: E501
        assert con.execute("SELECT count(*) FROM meta.publish_info").fetchone()[0] == 1


def test_mart_matches_raw_totals(env, first_run):
    with duckdb.connect(str(env.settings.build_db), read_only=True) as con:
        raw = con.execute("SELECT sum(spend), sum(impressions), sum(conversions) FROM raw_meta_ads.insights WHERE date_day BETWEEN ? AND ?", [START, END]).fetchone()  # noqa: E501
        mart = con.execute("SELECT sum(spend_local), sum(impressions), sum(conversions) FROM marts.fct_ad_performance_daily WHERE channel = 'meta_ads'").fetchone()  # noqa: E501
    assert raw == mart


def test_same_window_twice_gives_identical_tables(env, first_run):
    settings = env.settings
    before = table_checksums(settings.build_db, (*RAW, "marts"))
    outcome = env.run()
    assert outcome.success, outcome.summary()
    after = table_checksums(settings.build_db, (*RAW, "marts"))
    assert before == after
    assert table_checksums(settings.published_db, ("marts",)) == {k: v for k, v in after.items() if k.startswith("marts.")}


def test_restated_conversions_reach_the_mart_without_duplicates(env, first_run):
    settings = env.settings
    query = "SELECT date_day, account_id, campaign_id, conversions FROM marts.fct_ad_performance_daily WHERE channel = 'meta_ads'"
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        before = {r[:3]: r[3] for r in con.execute(query).fetchall()}
    env.sandbox.restate()
    outcome = env.run(END - dt.timedelta(days=27), END)  # the lookback window only
    assert outcome.success, outcome.summary()
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        after = {r[:3]: r[3] for r in con.execute(query).fetchall()}
        assert con.execute("SELECT count(*) - count(DISTINCT (date_day, account_id, campaign_id)) FROM marts.fct_ad_performance_daily").fetchone()[0] == 0
    assert before.keys() == after.keys()
    recent = [k for k in before if (TODAY - k[0]).days < 28]
    settled = [k for k in before if (TODAY - k[0]).days >= 28]
    assert any(after[k] > before[k] for k in recent), "restated conversions should rise"
    assert all(after[k] >= before[k] for k in recent)
    assert all(after[k] == before[k] for k in settled)

    # Every version is kept: the restated days have a second version whose
    # change is exactly the difference, the settled days only their first.
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        versions = con.execute(
            "SELECT date_day, account_id, campaign_id, version, is_current, conversions, conversions_change "
            "FROM marts.fct_ad_restatements WHERE channel = 'meta_ads'"
        ).fetchall()
    by_key: dict = {}
    for day, account, campaign, version, current, conversions, change in versions:
        by_key.setdefault((day, account, campaign), {})[version] = (current, conversions, change)
    for key in settled:
        assert set(by_key[key]) == {1} and by_key[key][1][0]
    restated = [k for k in recent if after[k] != before[k]]
    for key in restated:
        first, second = by_key[key][1], by_key[key][2]
        assert first == (False, before[key], None)
        assert second == (True, after[key], after[key] - before[key])


def test_failed_run_publishes_nothing_and_moves_no_cursor(env, first_run):
    """The failing stream keeps its rows; no stream's cursor moves; BI's file stays byte-identical."""
    settings = env.settings
    published = sha256(settings.published_db)
    state_query = "SELECT * FROM _socialmart.sync_state ORDER BY ALL"
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        state = con.execute(state_query).fetchall()
    assert state  # the first run published, so its cursors moved
    raw_before = table_checksums(settings.build_db, RAW)
    env.sandbox.inject(Fault(channel="ga4", kind="server_error", times=-1))
    try:
        outcome = env.run()
    finally:
        env.sandbox.clear_faults()
    assert not outcome.success
    assert "ga4" in outcome.summary() and "503" in outcome.summary()
    assert sha256(settings.published_db) == published
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        assert con.execute(state_query).fetchall() == state
    assert table_checksums(settings.build_db, ("raw_ga4",)) == {k: v for k, v in raw_before.items() if k.startswith("raw_ga4.")}


def test_lookback_rebuild_equals_full_rebuild(env, first_run, tmp_path_factory):
    """The nightly path (lookback re-pull on top of history) gives the marts a
    full re-pull of the whole window gives, at the same state of the APIs."""
    from orchestration.config import load_settings
    from orchestration.runner import run_pipeline
    from orchestration.sandbox_config import start_sandbox

    env.sandbox.restate()
    nightly = env.run(END - dt.timedelta(days=27), END)
    assert nightly.success, nightly.summary()

    warehouse = tmp_path_factory.mktemp("full_rebuild")
    sandbox, config = start_sandbox(warehouse, today=TODAY)
    try:
        while sandbox.world.revision < env.sandbox.world.revision:
            sandbox.restate()
        config.write_text(env.config.read_text().replace(str(env.settings.warehouse_dir), str(warehouse)).replace(
            env.sandbox.url, sandbox.url))
        full = run_pipeline(load_settings(config), config, START, END)
        assert full.success, full.summary()
    finally:
        sandbox.stop()
    nightly_marts = table_checksums(env.settings.published_db, ("marts",))
    full_marts = table_checksums(load_settings(config).published_db, ("marts",))
    # Restatement history legitimately differs: one warehouse saw two versions.
    for marts in (nightly_marts, full_marts):
        marts.pop("marts.fct_ad_restatements")
    assert nightly_marts == full_marts
