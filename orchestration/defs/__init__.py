"""Dagster definitions assembled from Settings, one module per layer:
ingest (raw landing), transform (dbt), publish (the BI file, then the cursors), report (the KPI page); plus operations: the nightly
schedule and the build-after-ingest sensor (schedules), alert sensors (alerts).

`orchestration.definitions` is the code location that loads socialmart.yaml;
the CLI and tests call `build_definitions` with their own Settings.
"""

import datetime as dt
import warnings

import dagster as dg

from orchestration.config import Settings
from orchestration.defs.alerts import alert_sensors
from orchestration.defs.ingest import WINDOW_RESOURCE, IngestWindow, ingest_assets
from orchestration.defs.publish import PUBLISH_KEY, cursors_asset, publish_asset
from orchestration.defs.quality import quality_checks
from orchestration.defs.report import report_asset
from orchestration.defs.resources import build_database
from orchestration.defs.schedules import build_after_ingest_sensor, nightly_schedule
from orchestration.defs.transform import dbt_definitions

# Two jobs, run one after the other: the build follows an ingest whether the
# CLI ran it or the daemon (the schedule, a UI materialization) did, through
# the build sensor; and a failed ingest stops before any model is touched.
INGEST_JOB = "socialmart_ingest"
BUILD_JOB = "socialmart_build"


PUBLISHED_MAX_AGE_HOURS = 26


def build_definitions(settings: Settings) -> dg.Definitions:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    raw = ingest_assets(settings)
    dbt_models, dbt_resource = dbt_definitions(settings)
    marts = [key for key in dbt_models.keys if key.path[0] == "marts"]
    publish = publish_asset(settings, marts)
    cursors = cursors_asset(settings)
    report = report_asset(settings)
    audits = quality_checks(settings, set(marts))
    # Dagster's own freshness check on what BI reads: the nightly publishes
    # daily, so a BI file older than 26 hours means the nights are failing.
    # The daemon evaluates it between runs through its sensor.
    with warnings.catch_warnings():
        # Dagster marks these superseded (by FreshnessPolicy); the check and
        # sensor names are what `socialmart status` and the UI show, so they
        # stay, without a warning on every run.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        published_freshness = dg.build_last_update_freshness_checks(
            assets=[publish], lower_bound_delta=dt.timedelta(hours=PUBLISHED_MAX_AGE_HOURS)
        )
        freshness_sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=published_freshness, name="socialmart_published_freshness",
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    ingest_job = dg.define_asset_job(
        INGEST_JOB,
        selection=dg.AssetSelection.assets(*raw).without_checks(),
        description="Pull every configured channel into raw_* tables: the days in the run config "
        f"(resources.{WINDOW_RESOURCE}), by default each channel's nightly window.",
    )
    build_job = dg.define_asset_job(
        BUILD_JOB,
        selection=dg.AssetSelection.assets(dbt_models, publish, cursors, report) | dg.AssetSelection.checks(*audits),
        description="dbt build (models and tests), the audit (GX suites, reconciliation, raw checks), "
        "then publish the marts to the BI file, advance the ingestion cursors and render its KPI report.",
    )
    return dg.Definitions(
        assets=[*raw, dbt_models, publish, cursors, report],
        asset_checks=[*audits, *published_freshness],
        jobs=[ingest_job, build_job],
        schedules=[nightly_schedule(settings, ingest_job)],
        sensors=[
            build_after_ingest_sensor(INGEST_JOB, build_job, {asset.key for asset in raw}, PUBLISH_KEY),
            *alert_sensors(settings),
            freshness_sensor,
        ],
        resources={"duckdb": build_database(settings), "dbt": dbt_resource, WINDOW_RESOURCE: IngestWindow()},
        # DuckDB allows one writer process: every step runs in the run's own process. Landing to
        # files with the build on a cluster, use multiprocess/k8s_job/celery (README "When one
        # machine is not enough").
        executor=dg.in_process_executor,
    )
