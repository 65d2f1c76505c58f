"""The nightly path: the schedule's request, per-channel lookback windows, the
build that follows an ingest, and a second night changing nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType

from orchestration.dbt_replay import ReplayPlan, fingerprint
from orchestration.dbt_vars import dbt_cli_vars
from orchestration.defs import BUILD_JOB, INGEST_JOB, build_definitions
from orchestration.defs.ingest import WINDOW_RESOURCE
from orchestration.defs.publish import PUBLISH_KEY
from orchestration.defs.schedules import AFTER_INGEST_TAG, BUILD_SENSOR, NIGHTLY_SCHEDULE, lands_raw_without_publishing
from orchestration.defs.transform import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    REPLAY_PLAN,
    dbt_build_args,
    dbt_environment,
    dbt_project,
    dbt_target_path,
    ensure_manifest,
)
from orchestration.instance import dagster_home
from orchestration.run_tags import NIGHTLY_TAG
from orchestration.runner import Pipeline
from tests.integration.conftest import table_checksums
from tests.ops.conftest import LOOKBACK, TODAY, YESTERDAY

DAY = dt.timedelta(days=1)
RAW = ("raw_meta_ads", "raw_ga4", "raw_fx")


def instance_of(settings) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(dagster_home(settings)))


def last_run(instance: dg.DagsterInstance, job: str) -> dg.DagsterRun:
    return instance.get_run_records(filters=dg.RunsFilter(job_name=job), limit=1)[0].dagster_run


def test_schedule_requests_one_ingest_run_over_the_widest_lookback(ops_env):
    settings = ops_env.settings
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def(NIGHTLY_SCHEDULE)
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == ("0 2 * * *", "UTC", INGEST_JOB)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    tick = dt.datetime.combine(TODAY, dt.time(2, 0), tzinfo=dt.UTC)
    with dg.DagsterInstance.ephemeral() as instance:
        request = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)).run_requests[0]
    assert request.tags[NIGHTLY_TAG] == YESTERDAY.isoformat()
    # meta_ads has the longest lookback (5 days) of meta_ads, ga4 and fx.
    assert request.run_config["resources"][WINDOW_RESOURCE]["config"] == {
        "start": (YESTERDAY - 5 * DAY).isoformat(), "end": YESTERDAY.isoformat()}


def test_schedule_cron_and_time_zone_come_from_the_config(ops_env, tmp_path):
    import yaml

    from orchestration.config import load_settings

    config = yaml.safe_load(ops_env.config.read_text())
    config["schedule"] = {"cron": "30 5 * * 1-5"}
    config["reporting"]["timezone"] = "Asia/Shanghai"
    path = tmp_path / "socialmart.yaml"
    path.write_text(yaml.safe_dump(config))
    schedule = build_definitions(load_settings(path)).resolve_schedule_def(NIGHTLY_SCHEDULE)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * 1-5", "Asia/Shanghai")
    # 05:30 in Shanghai is still the previous day in UTC: "yesterday" is Shanghai's.
    tick = dt.datetime.combine(TODAY, dt.time(5, 30), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with dg.DagsterInstance.ephemeral() as instance:
        request = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)).run_requests[0]
    assert request.tags[NIGHTLY_TAG] == YESTERDAY.isoformat()


def test_nightly_pulls_each_channel_its_own_lookback_and_publishes(nightly_env):
    done = nightly_env.first_nightly
    assert "socialmart nightly SUCCEEDED" in done.stdout
    windows = {channel: (YESTERDAY - LOOKBACK[channel] * DAY, YESTERDAY) for channel in ("meta_ads", "ga4")}
    # Progress per channel, stream, account and window in the run log the summary names (-v puts it on the terminal).
    logged = Path(re.search(r"^Run log: +(\S+)$", done.stdout, re.MULTILINE).group(1)).read_text()
    for channel, account in (("meta_ads", "act_1001"), ("meta_ads", "act_1002"), ("ga4", "123456")):
        start, end = windows[channel]
        stream = "insights" if channel == "meta_ads" else "traffic"
        assert f"{channel}.{stream} {account} {start}..{end}: " in logged

    settings = nightly_env.settings
    with instance_of(settings) as instance:
        ingest = instance.get_run_records(filters=dg.RunsFilter(job_name=INGEST_JOB), ascending=True, limit=1)[0].dagster_run
        assert ingest.tags[NIGHTLY_TAG] == YESTERDAY.isoformat()
        assert ingest.run_config["resources"][WINDOW_RESOURCE]["config"] == {
            "start": (YESTERDAY - 5 * DAY).isoformat(), "end": YESTERDAY.isoformat()}
        metadata = {}
        for entry in instance.all_logs(ingest.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            materialization = entry.dagster_event.event_specific_data.materialization
            metadata[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    fx_start = YESTERDAY - LOOKBACK["fx"] * DAY - 14 * DAY  # rates from two weeks earlier, to carry forward
    assert metadata["raw_meta_ads/meta_ads__insights"]["date_range"] == f"{windows['meta_ads'][0]} .. {YESTERDAY}"
    assert metadata["raw_ga4/ga4__traffic"]["date_range"] == f"{windows['ga4'][0]} .. {YESTERDAY}"
    assert metadata["raw_fx/fx__ecb_rates"]["date_range"] == f"{fx_start} .. {YESTERDAY}"
    for key, values in metadata.items():
        for name in ("rows", "dagster/row_count", "date_range", "api_calls", "retries", "throttles", "throttle_wait_seconds", "duration_seconds"):
            assert name in values, f"{key} has no {name}"
        assert values["rows"] == values["dagster/row_count"]
    assert metadata["raw_meta_ads/meta_ads__insights"]["rows"] > 0 and metadata["raw_meta_ads/meta_ads__insights"]["api_calls"] >= 2

    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        cursors = dict(con.execute(
            "SELECT channel || '.' || stream, min(window_start) FROM _socialmart.sync_state GROUP BY 1").fetchall())
        # Only the lookback days were re-pulled: ga4 has nothing older.
        ga4_days = con.execute("SELECT min(date_day), max(date_day) FROM raw_ga4.traffic").fetchone()
    assert cursors["meta_ads.insights"] == windows["meta_ads"][0] and cursors["ga4.traffic"] == windows["ga4"][0]
    assert ga4_days == windows["ga4"]
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert con.execute("SELECT max(date_day) FROM marts.fct_ad_performance_daily").fetchone()[0] == YESTERDAY


@pytest.fixture(scope="module")
def scheduled_night(nightly_env):
    """The same night again as the daemon runs it: the schedule's own run
    request, executed (in-process). Returns (raw checksums before, run id, success)."""
    settings = nightly_env.settings
    before = table_checksums(settings.build_db, RAW)
    schedule = build_definitions(settings).resolve_schedule_def(NIGHTLY_SCHEDULE)
    tick = dt.datetime.combine(TODAY, dt.time(2, 0), tzinfo=dt.UTC)
    with dg.DagsterInstance.ephemeral() as instance:
        request = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)).run_requests[0]
    days = request.run_config["resources"][WINDOW_RESOURCE]["config"]
    with Pipeline(settings, nightly_env.config, dt.date.fromisoformat(days["start"]), dt.date.fromisoformat(days["end"]), "nightly") as pipeline:
        success = pipeline.execute(INGEST_JOB, dict(request.tags), run_config=request.run_config)
        return before, pipeline.outcome.run_ids[0], success


def test_a_second_night_changes_nothing(nightly_env, scheduled_night):
    """Landing replaces each channel's window: the same night twice leaves the
    raw tables as they were (the build of unchanged raw tables is the
    idempotency test of tests/integration/test_pipeline.py)."""
    before, _, success = scheduled_night
    assert success
    settings = nightly_env.settings
    assert table_checksums(settings.build_db, RAW) == before
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        pending = con.execute("SELECT channel, stream, account_id, window_start, window_end FROM _socialmart.sync_state_pending ORDER BY ALL").fetchall()
        published = con.execute("SELECT channel, stream, account_id, window_start, window_end FROM _socialmart.sync_state ORDER BY ALL").fetchall()
    # The same windows again, waiting for the build's publish to become cursors.
    assert pending == published


def test_build_sensor_requests_one_build_per_successful_ingest_run(nightly_env, scheduled_night):
    settings = nightly_env.settings
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def(BUILD_SENSOR)
    scheduled_run_id = scheduled_night[1]
    with instance_of(settings) as instance:
        for run, expect_build in ((instance.get_run_by_id(scheduled_run_id), True), (last_run(instance, BUILD_JOB), False)):
            success = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_SUCCESS)[0].dagster_event
            context = dg.build_run_status_sensor_context(BUILD_SENSOR, success, instance, run)
            result = sensor(context)
            if expect_build:
                assert isinstance(result, dg.RunRequest)
                # The ingest run's id is the run key: the daemon launches one build per ingest run.
                assert result.run_key == run.run_id
                assert result.tags[AFTER_INGEST_TAG] == run.run_id and result.tags[NIGHTLY_TAG] == YESTERDAY.isoformat()
            else:
                assert isinstance(result, dg.SkipReason)
    assert sensor.job_name == BUILD_JOB


@pytest.mark.parametrize(
    ("job", "selection", "expected"),
    [
        (INGEST_JOB, None, True),
        # A UI backfill or materialization of raw assets from the asset graph.
        ("__ASSET_JOB", {dg.AssetKey(["raw_meta_ads", "meta_ads__insights"])}, True),
        # "Materialize all" from the UI publishes by itself.
        ("__ASSET_JOB", {dg.AssetKey(["raw_meta_ads", "meta_ads__insights"]), PUBLISH_KEY}, False),
        ("__ASSET_JOB", {dg.AssetKey(["marts", "fct_ad_performance_daily"])}, False),
        (BUILD_JOB, None, False),
    ],
)
def test_which_runs_need_a_build(job, selection, expected):
    run = dg.DagsterRun(job_name=job, asset_selection=frozenset(selection) if selection else None)
    raw = {dg.AssetKey(["raw_meta_ads", "meta_ads__insights"]), dg.AssetKey(["raw_ga4", "ga4__traffic"])}
    assert lands_raw_without_publishing(run, INGEST_JOB, raw, PUBLISH_KEY) is expected


# The daily facts built incrementally (dbt_project/macros/incremental_days.sql): schema, model.
INCREMENTAL_FACTS = (("intermediate", "int_ads__campaign_daily"), ("marts", "fct_ad_performance_daily"),
                     ("marts", "fct_conversion_funnel_daily"), ("intermediate", "int_ads__channel_daily"),
                     ("intermediate", "int_ads__campaign_monthly"))


def test_a_nights_incremental_build_equals_a_full_rebuild(nightly_env, scheduled_night, tmp_path):
    """The build after the second night's ingest rebuilds only the days that
    night landed (delete+insert by day: the first night's build covered the
    rest) and the days of the account and campaign whose attributes changed;
    rebuilt whole from scratch, every daily fact holds the same rows. On a
    changed catalog the build is dbt's, not a replay, and records anew."""
    settings = nightly_env.settings
    with duckdb.connect(str(settings.build_db)) as con:
        # What the night's pull could have brought: yesterday's conversions
        # restated (inside the landed window), a campaign and an account
        # renamed (their rows of every day, most outside the window, carry
        # the name).
        con.execute("UPDATE raw_meta_ads.insights SET conversions = conversions + 1 WHERE date_day = ?", [YESTERDAY])
        renamed, owner = con.execute("SELECT min(campaign_id), arg_min(account_id, campaign_id) FROM raw_meta_ads.campaigns").fetchone()
        con.execute("UPDATE raw_meta_ads.campaigns SET campaign_name = campaign_name || ' (renamed)' WHERE campaign_id = ?",
                    [renamed])
        other_account = con.execute("SELECT min(account_id) FROM raw_meta_ads.accounts WHERE account_id <> ?", [owner]).fetchone()[0]
        con.execute("UPDATE raw_meta_ads.accounts SET account_name = account_name || ' (renamed)' WHERE account_id = ?",
                    [other_account])
        # A relation the last build did not see: the catalog differs from
        # the one the last build's plan was recorded on, so this build is
        # dbt's own, not a replay (replays: the next test), and it records anew.
        con.execute("CREATE TABLE main.replay_probe (x INTEGER)")
    plan_file = dbt_target_path(settings) / REPLAY_PLAN
    last_plan = ReplayPlan.load(plan_file)
    assert last_plan is not None  # the scheduled night's build recorded one
    with Pipeline(settings, nightly_env.config, YESTERDAY - dt.timedelta(days=LOOKBACK["meta_ads"]), YESTERDAY, "nightly") as pipeline:
        assert pipeline.execute(BUILD_JOB), pipeline.outcome.failures
    with instance_of(settings) as instance:
        built = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_ad_performance_daily"]))
    assert "replayed" not in built.asset_materialization.metadata, "a build on a changed catalog was replayed"
    assert ReplayPlan.load(plan_file).invocation_id != last_plan.invocation_id
    target = dbt_target_path(settings)
    for schema, fact in INCREMENTAL_FACTS:
        executed = (target / "run" / "socialmart" / "models" / schema / f"{fact}.sql").read_text()
        assert "delete from" in executed and "__dbt_tmp" in executed, f"{fact} was not built incrementally"
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        landed = con.execute("SELECT max(synced_at) FROM _socialmart.landed_windows").fetchone()[0]
        assert con.execute("SELECT built_through FROM _socialmart.transform_state").fetchall() == [(landed,)]

        names = con.execute("SELECT DISTINCT campaign_name FROM marts.fct_conversion_funnel_daily WHERE campaign_id = ?",
                            [renamed]).fetchall()
        assert len(names) == 1 and names[0][0].endswith(" (renamed)")
        names = con.execute("SELECT DISTINCT account_name FROM marts.fct_ad_performance_daily WHERE account_id = ?",
                            [other_account]).fetchall()
        assert len(names) == 1 and names[0][0].endswith(" (renamed)")
        # The attributes seen by this build count as changed no more: the next build rebuilds only its landed days.
        built_at = con.execute("SELECT built_at FROM _socialmart.transform_state").fetchone()[0]
        assert con.execute("SELECT count(*) FROM intermediate.int_ads__attribute_changes WHERE changed_at > ?",
                           [built_at]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM intermediate.int_ads__attribute_changes WHERE campaign_id = ? "
                           "AND campaign_name LIKE '% (renamed)'", [renamed]).fetchone()[0] == 1

    rebuilt = tmp_path / "build.duckdb"
    shutil.copyfile(settings.build_db, rebuilt)
    completed = subprocess.run(
        [str(DBT_EXECUTABLE), "run", "--full-refresh", *dbt_cli_vars(), "--select", " ".join(f for _, f in INCREMENTAL_FACTS),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "dbt_target"), "--log-path", str(tmp_path / "dbt_logs")],
        env={**os.environ, **dbt_environment(settings), "SOCIALMART_BUILD_DB": str(rebuilt)},
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        con.execute(f"ATTACH '{rebuilt}' AS rebuilt (READ_ONLY)")
        for schema, fact in INCREMENTAL_FACTS:
            rows = con.execute(f"SELECT count(*) FROM {schema}.{fact}").fetchone()[0]
            assert rows and rows == con.execute(f"SELECT count(*) FROM rebuilt.{schema}.{fact}").fetchone()[0]
            for a, b in (("", "rebuilt."), ("rebuilt.", "")):
                extra = con.execute(f"SELECT * FROM {a}{schema}.{fact} EXCEPT ALL SELECT * FROM {b}{schema}.{fact} LIMIT 3").fetchall()
                assert extra == [], f"{fact}: rows in {a or 'the incremental build'} and not in {b or 'the incremental build'}: {extra}"


def test_an_unchanged_build_replays_dbts_sql_with_the_same_result(nightly_env, scheduled_night, tmp_path):
    """A build of an unchanged project on an unchanged catalog runs the last
    whole build's SQL again without starting dbt (orchestration/dbt_replay.py).
    On a night that landed a restatement, its relations equal what dbt builds
    from the same warehouse (a changed catalog starts dbt: the test above)."""
    settings = nightly_env.settings
    plan_file = dbt_target_path(settings) / REPLAY_PLAN
    fact = dg.AssetKey(["marts", "fct_ad_performance_daily"])

    def build(instance: dg.DagsterInstance) -> dict:
        with Pipeline(settings, nightly_env.config, YESTERDAY, YESTERDAY, "build") as pipeline:
            assert pipeline.execute(BUILD_JOB), pipeline.outcome.failures
        return instance.get_latest_materialization_event(fact).asset_materialization.metadata

    manifest = json.loads(ensure_manifest(dbt_project(), settings).read_text())

    def catalog() -> str:
        with duckdb.connect(str(settings.build_db), read_only=True) as con:
            return fingerprint(con, DBT_PROJECT_DIR, dbt_build_args(), dbt_environment(settings), manifest)

    with instance_of(settings) as instance:
        plan = ReplayPlan.load(plan_file)
        if plan is None or plan.fingerprint != catalog():
            build(instance)  # records the plan of the catalog it leaves
            plan = ReplayPlan.load(plan_file)
        assert plan is not None and plan.fingerprint == catalog()

        # What a night lands: yesterday's clicks restated, and its window.
        day = YESTERDAY - DAY
        with duckdb.connect(str(settings.build_db)) as con:
            restated = con.execute("UPDATE raw_meta_ads.insights SET clicks = clicks + 7 WHERE date_day = ?", [day]).fetchone()[0]
            con.execute("INSERT INTO _socialmart.landed_windows SELECT channel, stream, account_id, ?, ?, false, 1, now() "
                        "FROM _socialmart.landed_windows WHERE channel = 'meta_ads' AND stream = 'insights' LIMIT 1", [day, day])
            before = con.execute("SELECT sum(clicks) FROM marts.fct_ad_performance_daily WHERE date_day = ?", [day]).fetchone()[0]
        assert restated > 0
        by_dbt = tmp_path / "dbt" / "build.duckdb"  # the same file name: the catalog dbt's SQL names
        by_dbt.parent.mkdir()
        shutil.copyfile(settings.build_db, by_dbt)

        replayed = build(instance)
        assert "replayed" in replayed, "an unchanged build started dbt"
        assert ReplayPlan.load(plan_file).invocation_id == plan.invocation_id

        # The relations are compared: dbt's build without its 354 tests (half its time).
        completed = subprocess.run(
            [str(DBT_EXECUTABLE), "build", "--exclude-resource-type", "test", "unit_test", *dbt_cli_vars(),
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "dbt_target"), "--log-path", str(tmp_path / "dbt_logs")],
            env={**os.environ, **dbt_environment(settings), "SOCIALMART_BUILD_DB": str(by_dbt)},
            capture_output=True, text=True, timeout=300,
        )
        assert completed.returncode == 0, completed.stdout[-3000:]
        with duckdb.connect(str(settings.build_db), read_only=True) as con:
            after = con.execute("SELECT sum(clicks) FROM marts.fct_ad_performance_daily WHERE date_day = ?", [day]).fetchone()[0]
            assert after == before + 7 * restated
            con.execute(f"ATTACH '{by_dbt}' AS by_dbt (READ_ONLY)")
            relations = con.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'build' "
                                    "AND table_schema IN ('staging', 'intermediate', 'marts') ORDER BY ALL").fetchall()
            assert len(relations) > 60
            for schema, name in relations:
                for a, b in (("build", "by_dbt"), ("by_dbt", "build")):
                    extra = con.execute(f'SELECT * FROM {a}."{schema}"."{name}" EXCEPT ALL SELECT * FROM {b}."{schema}"."{name}" '
                                        "LIMIT 3").fetchall()
                    assert extra == [], f"{schema}.{name}: rows only in {a}'s build: {extra}"


def test_a_new_warehouses_first_build_replays_another_ones_and_equals_dbts(nightly_env, tmp_path, monkeypatch):
    """The first build of a new warehouse whose configuration and raw tables
    are another's runs that warehouse's first build again without starting
    dbt (orchestration/dbt_replay.py: FirstBuild). It builds what dbt builds,
    and the warehouse keeps the plan its next build replays."""
    import yaml

    from orchestration.config import load_settings
    from orchestration.defs import transform

    store = tmp_path / "first_builds"
    monkeypatch.setattr(transform, "FIRST_BUILDS", store)  # this test's builds only: the first one starts dbt
    fact = dg.AssetKey(["marts", "fct_ad_performance_daily"])

    def first_build(name: str):
        """A new warehouse with the nightly warehouse's raw tables (nothing built yet), built once."""
        config = yaml.safe_load(nightly_env.config.read_text())
        config["warehouse"] = {"dir": str(tmp_path / name)}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        settings = load_settings(path)
        settings.warehouse_dir.mkdir()
        shutil.copyfile(nightly_env.settings.build_db, settings.build_db)
        with duckdb.connect(str(settings.build_db)) as con:
            for schema, name, kind in con.execute(
                    "SELECT schema_name, table_name, 'TABLE' FROM duckdb_tables() WHERE schema_name IN ('main', 'staging', 'intermediate', 'marts') "
                    "UNION ALL SELECT schema_name, view_name, 'VIEW' FROM duckdb_views() "
                    "WHERE NOT internal AND schema_name IN ('main', 'staging', 'intermediate', 'marts')").fetchall():
                con.execute(f'DROP {kind} "{schema}"."{name}" CASCADE')
            con.execute("DELETE FROM _socialmart.transform_state")
        with Pipeline(settings, path, YESTERDAY, YESTERDAY, "build") as pipeline:
            assert pipeline.execute(BUILD_JOB), pipeline.outcome.failures
        with instance_of(settings) as instance:
            return settings, path, instance.get_latest_materialization_event(fact).asset_materialization.metadata

    by_dbt, _, built_by_dbt = first_build("by_dbt")
    assert "replayed" not in built_by_dbt and len([p for p in store.iterdir() if p.is_dir()]) == 1
    replayed, replayed_config, built_by_replay = first_build("replayed")
    assert "replayed" in built_by_replay, "the second new warehouse's first build started dbt"

    with duckdb.connect(str(replayed.build_db), read_only=True) as con:
        con.execute(f"ATTACH '{by_dbt.build_db}' AS by_dbt (READ_ONLY)")
        relations = con.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'build' "
                                "AND table_schema IN ('main', 'staging', 'intermediate', 'marts') ORDER BY ALL").fetchall()
        assert len(relations) > 60 and ("main", "ga4_source_channels") in relations  # the seeds too
        for schema, name in relations:
            # When each build first saw an attribute: the time of that build.
            columns = "* EXCLUDE (changed_at)" if name == "int_ads__attribute_changes" else "*"
            for a, b in (("build", "by_dbt"), ("by_dbt", "build")):
                extra = con.execute(f'SELECT {columns} FROM {a}."{schema}"."{name}" EXCEPT ALL '
                                    f'SELECT {columns} FROM {b}."{schema}"."{name}" LIMIT 3').fetchall()
                assert extra == [], f"{schema}.{name}: rows only in the build {'replayed' if a == 'build' else 'by dbt'}: {extra}"

    # It keeps the plan the recorded first build left, which its next build replays.
    plan = ReplayPlan.load(dbt_target_path(replayed) / REPLAY_PLAN)
    assert plan == ReplayPlan.load(dbt_target_path(by_dbt) / REPLAY_PLAN)
    with Pipeline(replayed, replayed_config, YESTERDAY, YESTERDAY, "build") as pipeline:
        assert pipeline.execute(BUILD_JOB), pipeline.outcome.failures
    with instance_of(replayed) as instance:
        again = instance.get_latest_materialization_event(fact).asset_materialization.metadata
    assert f"the SQL of dbt build {plan.invocation_id}" in str(again["replayed"])
