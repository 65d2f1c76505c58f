"""The nightly schedule, and the build that follows every ingest the daemon runs.

- Schedule `socialmart_nightly` (`schedule.cron`, default 02:00, in the
  reporting time zone; on as soon as a daemon runs): one run of the ingest job
  over the night's window (its run config), tagged `socialmart/nightly`, in which each
  channel re-pulls its own lookback window plus yesterday
  (`orchestration/window.py`).
- Sensor `socialmart_build_after_ingest`: a run that landed raw tables without
  publishing (the nightly ingest, an ingest job launched from the UI, raw assets
  materialized by hand) succeeded: request one run of the build job (dbt build,
  checks, publish). Its run key is the ingest run's id, so it fires once per
  ingest run. Ingest and build are separate jobs on purpose (see
  `orchestration/defs/__init__.py`).

The CLI (`socialmart nightly`, `run`, `backfill`) runs the same two jobs
in-process, one after the other; sensors do not see in-process runs, so
nothing is built twice.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.ingest import window_run_config
from orchestration.run_tags import NIGHTLY_TAG
from orchestration.window import pull_window

NIGHTLY_SCHEDULE = "socialmart_nightly"
BUILD_SENSOR = "socialmart_build_after_ingest"
# On the build run: the ingest run it follows.
AFTER_INGEST_TAG = "socialmart/after_ingest_run"


def nightly_schedule(settings: Settings, ingest_job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=NIGHTLY_SCHEDULE,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.reporting_timezone,
        job=ingest_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every channel re-pulls its lookback window plus yesterday; the build sensor then builds, audits and publishes.",
    )
    def socialmart_nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        today = scheduled.astimezone(ZoneInfo(settings.reporting_timezone)).date() if scheduled else settings.today()
        window = pull_window(settings, today=today, nightly=True)
        return dg.RunRequest(run_config=window_run_config(window.start, window.end), tags={NIGHTLY_TAG: window.end.isoformat()})

    return socialmart_nightly


def lands_raw_without_publishing(run: dg.DagsterRun, ingest_job_name: str, raw_keys: set[dg.AssetKey], publish_key: dg.AssetKey) -> bool:
    """Did this run land raw tables and leave the build to someone else?"""
    if run.job_name == ingest_job_name:
        return True
    # Materializations launched from the asset graph run as an implicit job
    # whose selection says what they did.
    selected = set(run.asset_selection or ())
    return bool(selected & raw_keys) and publish_key not in selected


def build_after_ingest_sensor(
    ingest_job_name: str, build_job: dg.UnresolvedAssetJobDefinition, raw_keys: set[dg.AssetKey], publish_key: dg.AssetKey
) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=BUILD_SENSOR,
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_job=build_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After a successful run that landed raw tables: dbt build, checks, publish (once per ingest run).",
    )
    def socialmart_build_after_ingest(context: dg.RunStatusSensorContext):
        run = context.dagster_run
        if not lands_raw_without_publishing(run, ingest_job_name, raw_keys, publish_key):
            return dg.SkipReason(f"run {run.run_id} ({run.job_name}) landed no raw table or published itself")
        tags = {AFTER_INGEST_TAG: run.run_id}
        if NIGHTLY_TAG in run.tags:
            tags[NIGHTLY_TAG] = run.tags[NIGHTLY_TAG]
        return dg.RunRequest(run_key=run.run_id, tags=tags)

    return socialmart_build_after_ingest
