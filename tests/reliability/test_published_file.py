"""The published file against what a careless analyst and a bad night do to
it, piece by piece on real DuckDB files and real processes: a writer holding
it, the .wal a killed writer leaves, a symlinked file, staged files of a killed
publish, a build that lost its history, a publish killed before its cursors
moved; and the warehouse lock and Dagster runs left behind by a killed run.
(The whole runs are in test_warehouse_guards.py.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.alerts import alert_for_run
from orchestration.config import Settings, parse_settings
from orchestration.defs.resources import BuildDatabase, build_database
from orchestration.instance import dagster_home, fail_orphaned_runs
from orchestration.landing import ensure_state_table
from orchestration.outcome import Outcome, collect_step_failures
from orchestration.publish import (
    HISTORY_CHECK,
    PublishRefused,
    advance_cursors,
    complete_interrupted_publish,
    history_losses,
    publish,
    publish_marts,
    published_run_id,
    signals_deferred,
)
from orchestration.run_tags import CLI_PID_TAG
from orchestration.warehouse_lock import LOCK_NAME, WarehouseBusy, hold_warehouse, lock_path

DAY0 = dt.date(2025, 3, 1)
PROJECT = Path(__file__).resolve().parents[2]


def build_marts(con: duckdb.DuckDBPyConnection, first_day: int, last_day: int, spend: float = 10.0) -> None:
    """A daily mart over days [first_day, last_day] after DAY0, two channels."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        """CREATE OR REPLACE TABLE marts.fct_ad_performance_daily AS
           SELECT (?::DATE + d::INTEGER) AS date_day, c AS channel, ?::DOUBLE AS spend
           FROM range(?, ? + 1) t(d), (VALUES ('meta_ads'), ('tiktok_ads')) v(c)""",
        [DAY0, spend, first_day, last_day],
    )
    con.execute("CREATE OR REPLACE TABLE marts.dim_channel AS SELECT 'meta_ads' AS channel")


def land_window(con: duckdb.DuckDBPyConnection, channel: str, first_day: int, last_day: int) -> None:
    """What landing records for a window pulled by this run (pending a publish)."""
    ensure_state_table(con)
    con.execute(
        "INSERT OR REPLACE INTO _socialmart.sync_state_pending VALUES (?, 'insights', 'acc', ?, ?, 1, now())",
        [channel, DAY0 + dt.timedelta(days=first_day), DAY0 + dt.timedelta(days=last_day)],
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_spend(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT channel, count(*), sum(spend) FROM marts.fct_ad_performance_daily GROUP BY 1 ORDER BY 1").fetchall()


ANALYST = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write, as a careless analyst opens it
    con.execute("UPDATE marts.fct_ad_performance_daily SET spend = spend * 100")
    con.execute("DROP TABLE marts.dim_channel")
    print("edited", flush=True)
    time.sleep(600)
""")


def start_analyst(path: Path) -> subprocess.Popen:
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(path)], stdout=subprocess.PIPE, text=True)
    assert analyst.stdout.readline().strip() == "edited"
    return analyst


def test_a_writer_on_the_published_file_refuses_the_publish_and_its_stale_wal_never_reaches_bi(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build_marts(con, 0, 9)
    publish(con, published, "run-1")
    audited = published_spend(published)

    analyst = start_analyst(published)
    try:
        before = sha256(published)
        with pytest.raises(PublishRefused) as refused:
            publish(con, published, "run-2")
        message = str(refused.value)
        assert str(published) in message and f"process {analyst.pid}" in message and "read-only" in message
        assert sha256(published) == before
        assert not list(tmp_path.glob(".marketing.duckdb.*"))
    finally:
        analyst.kill()  # dies without a checkpoint: its edits stay in the .wal
        analyst.wait()
    wal = Path(f"{published}.wal")
    assert wal.exists()

    publish(con, published, "run-3")
    assert not wal.exists()
    # The published bytes are exactly the audited marts: no x100 spend, no dropped mart.
    assert published_spend(published) == audited
    with duckdb.connect(str(published), read_only=True) as bi:
        assert bi.execute("SELECT count(*) FROM marts.dim_channel").fetchone()[0] == 1
    assert published_run_id(published) == "run-3"


def test_a_symlinked_published_file_is_published_through_to_its_target(tmp_path):
    bi_dir = tmp_path / "bi"
    bi_dir.mkdir()
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    con = duckdb.connect(str(warehouse / "build.duckdb"))
    build_marts(con, 0, 4)
    publish(con, bi_dir / "marketing.duckdb", "run-1")
    link = warehouse / "marketing.duckdb"
    link.symlink_to(bi_dir / "marketing.duckdb")
    # An analyst's writer through the link, killed: DuckDB keeps its .wal beside the target.
    analyst = start_analyst(link)
    analyst.kill()
    analyst.wait()
    assert Path(f"{bi_dir / 'marketing.duckdb'}.wal").exists()

    build_marts(con, 0, 5)
    result = publish(con, link, "run-2")
    assert link.is_symlink() and link.resolve() == (bi_dir / "marketing.duckdb").resolve()
    assert result.path == (bi_dir / "marketing.duckdb").resolve()
    assert published_run_id(bi_dir / "marketing.duckdb") == "run-2"
    assert published_spend(link) == [("meta_ads", 6, 60.0), ("tiktok_ads", 6, 60.0)]
    assert sorted(p.name for p in warehouse.iterdir() if "marketing" in p.name) == ["marketing.duckdb"]
    assert sorted(p.name for p in bi_dir.iterdir()) == ["marketing.duckdb"]


def test_staged_files_of_a_killed_publish_are_removed_by_the_next_one(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build_marts(con, 0, 2)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        killed = [tmp_path / f".marketing.duckdb.{dead.pid}-{uuid.uuid4().hex}.tmp",
                  tmp_path / f".marketing.duckdb.{dead.pid}-{uuid.uuid4().hex}.tmp.wal",
                  tmp_path / f".marketing.duckdb.{uuid.uuid4().hex}.tmp"]  # staged before pids were recorded
        in_progress = tmp_path / f".marketing.duckdb.{alive.pid}-{uuid.uuid4().hex}.tmp"
        for path in [*killed, in_progress]:
            path.write_bytes(b"x" * 1024)
        publish(con, published, "run-1")
        assert [p for p in killed if p.exists()] == []
        assert in_progress.exists()  # its publisher is alive
    finally:
        alive.kill()
        alive.wait()


def test_a_mart_losing_published_days_outside_the_run_window_blocks_unless_allowed(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build_marts(con, 0, 29)
    publish(con, published, "run-1")

    # Same history, the last week restated: nothing lost.
    land_window(con, "meta_ads", 23, 29)
    build_marts(con, 0, 29, spend=11.0)
    assert [(r.asset, r.name, r.passed) for r in history_losses(con, published)] == \
        [("marts/fct_ad_performance_daily", HISTORY_CHECK, True)]

    # build.duckdb lost, a nightly-sized run rebuilt the last week only.
    con.close()
    (tmp_path / "build.duckdb").unlink()
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    land_window(con, "meta_ads", 23, 29)
    land_window(con, "fx", 9, 29)  # FX's window opens two weeks early: it exempts no ad day
    build_marts(con, 23, 29)
    (result,) = history_losses(con, published)
    assert result.blocks_publish and result.name == HISTORY_CHECK
    # 23 days of each channel; tiktok_ads landed nothing this run.
    assert result.failing_rows == 23 * 2
    assert "backfill" in result.description and "--allow-shrink" in result.description
    assert {"date_day": str(DAY0), "channel": "meta_ads"} in result.sample

    (allowed,) = history_losses(con, published, allow_shrink=True)
    assert not allowed.passed and not allowed.blocks_publish and allowed.severity == "WARN"


def test_a_publish_killed_before_its_cursors_moved_is_completed_by_the_next_run(tmp_path, monkeypatch):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build_marts(con, 0, 2)
    land_window(con, "meta_ads", 0, 2)

    def killed(_con):
        raise KeyboardInterrupt  # the process dies in the cursor step, after the rename
    monkeypatch.setattr("orchestration.publish.promote_sync_state", killed)
    publish_marts(con, published, "run-1")
    with pytest.raises(KeyboardInterrupt):
        advance_cursors(con, published, "run-1")
    monkeypatch.undo()
    assert published_run_id(published) == "run-1"
    assert con.execute("SELECT count(*) FROM _socialmart.sync_state").fetchone()[0] == 0

    assert complete_interrupted_publish(con, published) == "run-1"
    assert con.execute("SELECT window_end FROM _socialmart.sync_state").fetchall() == [(DAY0 + dt.timedelta(days=2),)]
    assert con.execute("SELECT count(*) FROM _socialmart.sync_state_pending").fetchone()[0] == 0
    assert complete_interrupted_publish(con, published) is None

    # Killed before the rename: nothing was published, no cursor moves.
    land_window(con, "meta_ads", 3, 4)
    def disk_full(*_args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("orchestration.publish.os.replace", disk_full)
    with pytest.raises(OSError):
        publish_marts(con, published, "run-2")
    monkeypatch.undo()
    assert complete_interrupted_publish(con, published) is None
    assert con.execute("SELECT count(*) FROM _socialmart.sync_state_pending").fetchone()[0] == 1


def test_sigterm_during_the_publish_is_delivered_after_the_swap():
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signo, _frame: received.append(signo))
    try:
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
            assert received == []  # the step runs to its end
        assert received == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_summary_reports_a_publish_that_happened(tmp_path):
    settings = parse_settings({"warehouse": {"dir": str(tmp_path)}, "channels": {"meta_ads": {
        "access_token": "${SOCIALMART_SANDBOX_TOKEN}", "accounts": ["act_1"]}}})
    outcome = Outcome(settings, DAY0, DAY0, True, 1.0, ["ingest-run", "build-run-1234"], published_by="build-run-1234")
    outcome.failures.append("published/marketing_duckdb: interrupted (SIGTERM) after the publish")
    text = outcome.summary()
    assert "published by run build-ru" in text and "unchanged" not in text
    failed = Outcome(settings, DAY0, DAY0, False, 1.0, ["ingest-run"])
    assert "(unchanged by this failed run)" in failed.summary()


# --------------------------------------------------------------------------- one run per warehouse

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from orchestration.warehouse_lock import hold_warehouse
    with hold_warehouse(Path(sys.argv[1]), "socialmart nightly"):
        print("held", flush=True)
        time.sleep(600)
""")


def test_one_run_per_warehouse_and_a_dead_holders_lock_is_taken_over(tmp_path, caplog):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy) as busy:
            with hold_warehouse(tmp_path, "socialmart run"):
                pass
        assert f"pid {holder.pid} (socialmart nightly, started " in str(busy.value)
    finally:
        holder.kill()  # kill -9: no chance to release
        holder.wait()
    with caplog.at_level(logging.WARNING, logger="socialmart.lock"):
        with hold_warehouse(tmp_path, "socialmart run") as held:
            assert held["pid"] == os.getpid()
    assert f"taking over the stale warehouse lock of pid {holder.pid} (socialmart nightly" in caplog.text
    assert (tmp_path / LOCK_NAME).read_text() == ""  # released cleanly


def test_a_run_the_daemon_or_the_ui_launches_holds_the_warehouse_as_the_cli_does(tmp_path):
    """Runs launched outside the CLI (the schedule's, the build sensor's, a UI
    materialization) hold the warehouse from their start to their end: beside
    another holder such a run fails before any step, and its summary and alert
    name the holder. The CLI's own runs, in-process, find the warehouse held by
    their process and keep it held after them."""
    settings = parse_settings({"warehouse": {"dir": str(tmp_path / "warehouse")},
                               "channels": {"meta_ads": {"access_token": "${SOCIALMART_SANDBOX_TOKEN}", "accounts": ["act_1"]}}})
    holders: list[str] = []

    @dg.asset
    def landed(duckdb: BuildDatabase) -> None:
        holders.append(lock_path(settings.warehouse_dir).read_text())
        with duckdb.get_connection() as con:
            con.execute("CREATE OR REPLACE TABLE landed AS SELECT 1 AS n")

    def launch(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
        return dg.materialize([landed], resources={"duckdb": build_database(settings)}, instance=instance, raise_on_error=False)

    with dg.DagsterInstance.ephemeral() as instance:
        alone = launch(instance)
        assert alone.success
        assert json.loads(holders.pop())["command"] == f"dagster run {alone.run_id} of __ephemeral_asset_job__"
        assert lock_path(settings.warehouse_dir).read_text() == ""  # released at the run's end

        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(settings.warehouse_dir)], stdout=subprocess.PIPE,
                                  text=True, cwd=PROJECT)
        try:
            assert holder.stdout.readline().strip() == "held"
            beside = launch(instance)
        finally:
            holder.kill()
            holder.wait()
        assert not beside.success and not holders  # no step ran
        busy = (f"another socialmart run holds the warehouse {settings.warehouse_dir}: "
                f"pid {holder.pid} (socialmart nightly, started ")
        outcome = Outcome(settings, DAY0, DAY0, False, 1.0, [beside.run_id])
        collect_step_failures(outcome, beside)
        assert len(outcome.failures) == 1 and outcome.failures[0].startswith(f"run: orchestration.warehouse_lock.WarehouseBusy: {busy}")
        alert = alert_for_run(instance, instance.get_run_by_id(beside.run_id))
        assert busy in alert.text

        with hold_warehouse(settings.warehouse_dir, "socialmart run"):
            inside = launch(instance)
            assert inside.success and json.loads(holders.pop())["command"] == "socialmart run"
            # Still held by this process after the run: another process is refused.
            refused = subprocess.run([sys.executable, "-c", HOLDER, str(settings.warehouse_dir)], capture_output=True,
                                     text=True, cwd=PROJECT, timeout=60)
            assert refused.returncode != 0 and f"pid {os.getpid()} (socialmart run, started " in refused.stderr


def test_runs_left_started_by_a_dead_process_are_failed_and_run_monitoring_is_on(tmp_path):
    settings: Settings = parse_settings({"warehouse": {"dir": str(tmp_path)}, "runs": {"max_runtime_seconds": 3600},
                                         "channels": {"meta_ads": {"access_token": "${SOCIALMART_SANDBOX_TOKEN}",
                                                                   "accounts": ["act_1"]}}})
    home = dagster_home(settings)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_monitoring_enabled and instance.run_monitoring_max_runtime_seconds == 3600
        orphan = instance.add_run(dg.DagsterRun(job_name="socialmart_ingest", run_id=uuid.uuid4().hex,
                                                status=dg.DagsterRunStatus.STARTED, tags={CLI_PID_TAG: str(dead.pid)}))
        running = instance.add_run(dg.DagsterRun(job_name="socialmart_ingest", run_id=uuid.uuid4().hex,
                                                 status=dg.DagsterRunStatus.STARTED, tags={CLI_PID_TAG: str(os.getpid())}))
        daemon = instance.add_run(dg.DagsterRun(job_name="socialmart_build", run_id=uuid.uuid4().hex,
                                                status=dg.DagsterRunStatus.STARTED))
        assert fail_orphaned_runs(instance) == [orphan.run_id]
        statuses = {r.run_id: r.status for r in instance.get_runs()}
    assert statuses == {orphan.run_id: dg.DagsterRunStatus.FAILURE, running.run_id: dg.DagsterRunStatus.STARTED,
                        daemon.run_id: dg.DagsterRunStatus.STARTED}


# --------------------------------------------------------------------------- backfill, snapshot day


def test_backfill_counts_as_landed_only_the_days_the_raw_tables_hold(tmp_path):
    from connectors import CONNECTORS
    from orchestration.backfill import days, held_days
    from orchestration.landing import ensure_raw_table

    build = tmp_path / "build.duckdb"
    insights, campaigns = dg.AssetKey(["raw_meta_ads", "meta_ads__insights"]), dg.AssetKey(["raw_meta_ads", "meta_ads__campaigns"])
    start, end = DAY0, DAY0 + dt.timedelta(days=29)
    assert held_days(build, insights, start, end) == set()  # build.duckdb lost: nothing is held
    with duckdb.connect(str(build)) as con:
        ensure_state_table(con)
        for stream in ("insights", "campaigns"):
            ensure_raw_table(con, "meta_ads", CONNECTORS["meta_ads"].streams[stream])
        assert held_days(build, insights, start, end) == set()
        # A rebuilt build file holds the last week; its cursor's window ends on a day without rows.
        con.execute("INSERT INTO raw_meta_ads.insights (account_id, date_day, campaign_id) "
                    "SELECT 'act_1', ?::DATE + d::INTEGER, 'c1' FROM range(23, 28) t(d)", [DAY0])
        con.execute("INSERT INTO _socialmart.sync_state VALUES ('meta_ads', 'insights', 'act_1', ?, ?, 5, now())",
                    [DAY0 + dt.timedelta(days=23), end])
    assert held_days(build, insights, start, end) == days(DAY0 + dt.timedelta(days=23), end)
    assert held_days(build, campaigns, start, end) == set()  # a whole-account stream holds nothing yet
    with duckdb.connect(str(build)) as con:
        con.execute("INSERT INTO raw_meta_ads.campaigns (account_id, campaign_id) VALUES ('act_1', 'c1')")
    assert held_days(build, campaigns, start, end) == days(start, end)


def test_every_stream_of_a_run_gets_the_snapshot_day_the_run_was_given(tmp_path):
    from types import SimpleNamespace

    from orchestration.defs.ingest import run_snapshot_date
    from orchestration.run_tags import SNAPSHOT_DATE_TAG

    settings = parse_settings({"warehouse": {"dir": str(tmp_path)}, "reporting": {"timezone": "Asia/Tokyo"},
                               "channels": {"meta_ads": {"access_token": "${SOCIALMART_SANDBOX_TOKEN}", "accounts": ["act_1"]}}})
    # The CLI fixes the day once; a stream pulled after midnight still gets it.
    tagged = SimpleNamespace(run=SimpleNamespace(run_id="r1", tags={SNAPSHOT_DATE_TAG: "2025-03-01"}))
    assert run_snapshot_date(tagged, settings) == dt.date(2025, 3, 1)
    # A daemon run: the day it was created, in the reporting time zone.
    with dg.DagsterInstance.ephemeral() as instance:
        run = instance.add_run(dg.DagsterRun(job_name="socialmart_ingest", run_id=uuid.uuid4().hex))
        context = SimpleNamespace(run=run, instance=instance)
        created = instance.get_run_record_by_id(run.run_id).create_timestamp
        assert run_snapshot_date(context, settings) == created.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
