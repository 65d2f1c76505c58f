"""The code location: Definitions assembled from socialmart.yaml.

Loaded by `workspace.yaml` (dagster dev / the UI) and by the CLI. The config
path comes from $SOCIALMART_CONFIG or ./socialmart.yaml; `socialmart ui`
starts the sandbox and sets it when there is no config.
"""

from __future__ import annotations

import os

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.config import Settings, config_path, load_settings
from orchestration.defs.ingest import daily_partitions, ingest_assets
from orchestration.defs.publish import publish_asset
from orchestration.defs.transform import dbt_definitions

PIPELINE_JOB = "socialmart_pipeline"


def build_definitions(settings: Settings) -> dg.Definitions:
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # dbt (a subprocess) finds the build database through the environment.
    os.environ["SOCIALMART_BUILD_DB"] = str(settings.build_db)
    partitions = daily_partitions(settings)
    raw = ingest_assets(settings, partitions)
    dbt_models, dbt_resource = dbt_definitions(settings)
    marts = [key for key in dbt_models.keys if key.path[0] == "marts"]
    publish = publish_asset(settings, marts)
    pipeline = dg.define_asset_job(
        PIPELINE_JOB,
        selection=dg.AssetSelection.all(),
        partitions_def=partitions,
        description="Pull every configured channel for the partition range, build and test the marts, publish.",
    )
    return dg.Definitions(
        assets=[*raw, dbt_models, publish],
        jobs=[pipeline],
        resources={"duckdb": DuckDBResource(database=str(settings.build_db)), "dbt": dbt_resource},
        # DuckDB allows one writer process: every step runs in the run's own process.
        executor=dg.in_process_executor,
    )


def _load() -> dg.Definitions:
    path = config_path()
    if path is None:
        raise RuntimeError(
            "socialmart: no configuration. Set SOCIALMART_CONFIG or create ./socialmart.yaml, "
            "or start the UI with `make ui` (it starts the API sandbox when there is no config)."
        )
    return build_definitions(load_settings(path))


defs = _load()
