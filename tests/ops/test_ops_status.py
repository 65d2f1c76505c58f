"""`socialmart status` after real nightly runs: fresh, stale days later (each
channel against its own lag), failing checks, and while a run holds build.duckdb."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import duckdb

from orchestration.status import collect_status, render
from tests.ops.conftest import TODAY, YESTERDAY, run_cli

CHECK_RESULTS_COLUMNS = """run_id VARCHAR, evaluated_at TIMESTAMPTZ, asset VARCHAR, check_name VARCHAR, kind VARCHAR,
    severity VARCHAR, blocking BOOLEAN, passed BOOLEAN, failing_rows BIGINT, description VARCHAR, sample_json VARCHAR"""


def test_status_after_the_nightly_is_ok(nightly_env):
    status = collect_status(nightly_env.settings)
    assert status.ok, status.problems
    accounts = {(a.channel, a.account): a for a in status.accounts}
    assert set(accounts) == {("meta_ads", "act_1001"), ("meta_ads", "act_1002"), ("ga4", "123456"), ("fx", "ECB")}
    for account in accounts.values():
        assert account.fresh and account.synced_through == YESTERDAY.isoformat() and account.raw_rows > 0
    assert {run.job: run.status for run in status.runs} == {"socialmart_ingest": "SUCCESS", "socialmart_build": "SUCCESS"}
    assert status.published["marts"]["marts.fct_ad_performance_daily"] > 0
    text = render(status)
    assert "Status: OK" in text and "meta_ads        act_1001" in text


def test_each_channel_goes_stale_after_its_own_lag(nightly_env):
    """Four days on with no run: meta_ads (lag 1) and ga4 (lag 2) are stale,
    fx (ECB rates, lag 4: weekends and holidays) is not yet."""
    status = collect_status(nightly_env.settings, today=TODAY + dt.timedelta(days=4))
    assert not status.ok
    fresh = {(a.channel, a.account): a.fresh for a in status.accounts}
    assert fresh == {("meta_ads", "act_1001"): False, ("meta_ads", "act_1002"): False, ("ga4", "123456"): False, ("fx", "ECB"): True}
    assert (f"ga4 account 123456: stale: synced through {YESTERDAY}, expected at least "
            f"{TODAY + dt.timedelta(days=1)} (lag 2 day(s))") in status.problems
    assert "STALE" in render(status) and "Status: 3 problem(s)" in render(status)


def test_a_failed_error_check_makes_status_fail(nightly_env):
    """The checks of the newest run that recorded any: an ERROR failure fails, a WARN does not."""
    build_db = nightly_env.settings.build_db
    newer = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    with duckdb.connect(str(build_db)) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS _socialmart.check_results ({CHECK_RESULTS_COLUMNS})")
        mart = "marts/fct_ad_performance_daily"
        rows = [
            ("status-test-run", newer, mart, "spend_reconciles_with_raw", "reconciliation", "ERROR", True, False, 3, "spend differs", "[]"),
            ("status-test-run", newer, mart, "ctr_anomaly", "anomaly", "WARN", False, False, 1, "ctr jumped", "[]"),
            ("status-test-run", newer, mart, "grain_unique", "dbt_test", "ERROR", True, True, 0, "", "[]"),
        ]
        con.executemany(
            "INSERT INTO _socialmart.check_results (run_id, evaluated_at, asset, check_name, kind, severity, blocking, passed, "
            "failing_rows, description, sample_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    try:
        status = collect_status(nightly_env.settings)
        assert status.checks.run_id == "status-test-run" and status.checks.passed == 1
        assert status.checks.failed_warnings == ["marts/fct_ad_performance_daily :: ctr_anomaly"]
        assert status.problems == ["check failed: marts/fct_ad_performance_daily :: spend_reconciles_with_raw"]
        assert "FAILED marts/fct_ad_performance_daily :: spend_reconciles_with_raw" in render(status)
    finally:
        with duckdb.connect(str(build_db)) as con:
            con.execute("DELETE FROM _socialmart.check_results WHERE run_id = 'status-test-run'")
    assert collect_status(nightly_env.settings).ok


def test_status_cli_json_for_monitoring(nightly_env):
    done = run_cli(["status", "--config", str(nightly_env.config), "--json"], nightly_env.config.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["problems"] == [] and report["build_busy"] is False
    assert {(a["channel"], a["account"], a["fresh"]) for a in report["accounts"]} >= {("ga4", "123456", True)}


def test_status_while_a_run_holds_the_build_database(nightly_env):
    """DuckDB has one writer: status says a run is in progress and reads the
    cursors of the last publish from the published file."""
    with duckdb.connect(str(nightly_env.settings.build_db)):  # what a running pipeline holds
        done = run_cli(["status", "--config", str(nightly_env.config), "--json"], nightly_env.config.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["build_busy"] is True
    assert all(a["raw_rows"] is None for a in report["accounts"])
    assert {a["synced_through"] for a in report["accounts"]} == {YESTERDAY.isoformat()}
    busy = dataclasses.replace(collect_status(nightly_env.settings), build_busy=True)
    assert "A run is in progress (it holds build.duckdb)" in render(busy)

