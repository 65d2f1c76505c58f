"""The `socialmart` command as a user runs it, in a fresh directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.dbt_replay import ReplayPlan
from orchestration.defs.transform import REPLAY_PLAN

PROJECT = Path(__file__).resolve().parents[2]
SOCIALMART = Path(sys.executable).with_name("socialmart")


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SOCIALMART_CONFIG", "DAGSTER_HOME", "SOCIALMART_BUILD_DB")}
    return subprocess.run([str(SOCIALMART), *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=600)


def test_run_without_config_starts_the_sandbox_and_publishes(tmp_path):
    done = run_cli(["run"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "using the embedded API sandbox" in done.stderr
    assert "Started the embedded API sandbox at http://127.0.0.1:" in done.stderr
    assert "SUCCEEDED" in done.stdout and "marts.fct_ad_performance_daily" in done.stdout
    assert "Checks:" in done.stdout and "0 failed" in done.stdout
    # Quiet: one line per finished channel and step on the terminal (piped: no live display)...
    assert "ingest meta_ads: 4 streams x 2 accounts" in done.stderr and re.search(r"dbt build( replayed)?: ", done.stderr)
    assert "publish: 17 tables" in done.stderr and "cursors: " in done.stderr
    assert len(done.stderr.splitlines()) <= 30, done.stderr
    # ...routine API notes counted, not printed; library warnings nowhere on it.
    assert "partial error" not in done.stderr and "API notes: " in done.stdout
    assert "Warning" not in done.stderr and "WARNING" not in done.stderr
    # Progress per channel, stream and account, and dbt's node lines, in the run log the summary names.
    run_log = Path(re.search(r"^Run log: +(\S+)$", done.stdout, re.MULTILINE).group(1))
    logged = run_log.read_text()
    assert "meta_ads.insights act_1001" in logged and "ga4.traffic 123456" in logged
    assert "partial error kept out of the rows" in logged
    # dbt's node lines; none where the checkout kept another warehouse's first
    # build of this configuration, which this one then replays without dbt
    # (tests/ops/test_ops_nightly.py shows it equal to dbt's).
    assert " START sql " in logged or "the SQL of the first build of another warehouse" in logged
    # The singular test over three marts is the matrix's asset check, not a loose observation.
    assert "AssetObservation" not in logged
    published = tmp_path / "warehouse" / "marketing.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        days = con.execute("SELECT count(DISTINCT date_day) FROM marts.fct_ad_performance_daily").fetchone()[0]
    assert days == 90

    # The first build's SQL, which later runs replay, reads the last build's
    # state when it runs: none compiled in as "every day" (every replayed
    # night would test and audit the whole history).
    first_plan = ReplayPlan.load(tmp_path / "warehouse" / "dbt_target" / REPLAY_PLAN)
    rebuilt_days = [s.sql for s in first_plan.statements if s.node == "model.socialmart.int_ads__rebuilt_days"]
    assert any("transform_state" in sql for sql in rebuilt_days), rebuilt_days
    # It holds the incremental facts' merge, not their creation: the rerun
    # merges the days it lands instead of rebuilding the whole history.
    fact = [s.sql for s in first_plan.statements if s.node == "model.socialmart.fct_ad_performance_daily"]
    relation = r'"marts"\."fct_ad_performance_daily"'
    assert any(re.search(rf"delete from \S*{relation}", sql) for sql in fact), fact
    assert not any(re.search(rf"create\s+table\s+\S*{relation}", sql) for sql in fact), fact

    # A rerun: the first one's settled days are held, so each channel pulls
    # only its lookback again (28 days here), and the marts keep all 90 days.
    build = tmp_path / "warehouse" / "build.duckdb"
    with duckdb.connect(str(build), read_only=True) as con:
        first_pulled = con.execute("SELECT max(synced_at) FROM _socialmart.landed_windows").fetchone()[0]
    again = run_cli(["run"], tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "re-pulling each channel's lookback only" in again.stderr and "SUCCEEDED" in again.stdout
    # It replays the first build's SQL.
    assert "dbt build replayed: " in again.stderr, again.stderr
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT date_day) FROM marts.fct_ad_performance_daily").fetchone()[0] == 90
        first_day, last_day = con.execute("SELECT min(date_day), max(date_day) FROM marts.fct_ad_performance_daily").fetchone()
    with duckdb.connect(str(build), read_only=True) as con:
        rerun = con.execute("""SELECT channel, min(window_start), max(window_end) FROM _socialmart.landed_windows
                               WHERE NOT is_snapshot AND synced_at > ? GROUP BY channel""", [first_pulled]).fetchall()
    assert len(rerun) == 11 and all(start > first_day and end >= last_day for _, start, end in rerun), rerun

    # The operator's next commands find the same configuration, with no
    # variables set: everything is fresh, every credential answers.
    config = tmp_path / "warehouse" / "sandbox.socialmart.yaml"
    generated = config.read_text()
    status = run_cli(["status"], tmp_path, SOCIALMART_SANDBOX_TOKEN="")
    assert status.returncode == 0 and status.stdout.rstrip().endswith("Status: OK"), status.stdout + status.stderr
    check = run_cli(["check"], tmp_path, SOCIALMART_SANDBOX_TOKEN="")
    assert check.returncode == 0, check.stdout + check.stderr
    assert config.read_text() == generated


def test_bad_config_exits_2_before_any_call(tmp_path):
    config = tmp_path / "socialmart.yaml"
    config.write_text("channels:\n  meta_ads:\n    access_token: ${NOPE_NOT_SET}\n    accounts: [act_1]\n")
    done = run_cli(["run", "--config", str(config)], tmp_path)
    assert done.returncode == 2
    assert f"{config}: channels.meta_ads.access_token: environment variable NOPE_NOT_SET is not set" in done.stderr
    assert not (tmp_path / "warehouse").exists()


def test_malformed_date_exits_2(tmp_path):
    done = run_cli(["run", "--start", "2024-02-30"], tmp_path)
    assert done.returncode == 2 and "--start: must be a date YYYY-MM-DD, got '2024-02-30'" in done.stderr


def test_dagster_definitions_validate(tmp_path):
    config = tmp_path / "socialmart.yaml"
    config.write_text(
        "warehouse: {dir: ./wh}\nchannels:\n  meta_ads:\n    access_token: ${SM_TEST_TOKEN}\n    accounts: [act_1]\n"
        "  ga4:\n    access_token: ${SM_TEST_TOKEN}\n    accounts: ['1']\n"
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", str(PROJECT / "workspace.yaml")],
        cwd=PROJECT, env={**os.environ, "SOCIALMART_CONFIG": str(config), "SM_TEST_TOKEN": "x" * 20},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All code locations passed validation" in done.stdout + done.stderr
