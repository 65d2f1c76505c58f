"""dbt models as Dagster assets (dagster-dbt), dbt tests as asset checks.

Asset keys: sources keep dbt's [source_name, table] (= the ingest assets'
[raw_<channel>, <stream>]); models are [<layer schema>, <model name>], e.g.
[marts, fct_ad_performance_daily]. One `dbt build` per run builds every model
and runs every test (dbt start-up costs seconds: one call, many models).
A failing test fails the step, so nothing downstream (publish) runs.
"""


import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_duckdb import DuckDBResource

from orchestration.config import Settings
from orchestration.landing import ensure_all_raw_tables

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The venv's dbt, whether or not the venv is on PATH (make runs .venv/bin/... directly).
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


class Translator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["config"].get("schema") or "main", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["config"].get("schema") or "dbt"


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject, build_db: Path) -> Path:
    """Parse the dbt project when its manifest is missing or older than its files."""
    manifest = Path(project.manifest_path)
    sources = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".csv"}
               and "target" not in p.parts and "logs" not in p.parts]
    newest = max(p.stat().st_mtime for p in sources)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return manifest
    completed = subprocess.run(
        [str(DBT_EXECUTABLE), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"],
        env={**os.environ, "SOCIALMART_BUILD_DB": str(build_db)},
        capture_output=True, text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
    return manifest


def dbt_definitions(settings: Settings) -> tuple[dg.AssetsDefinition, DbtCliResource]:
    project = dbt_project()
    manifest = ensure_manifest(project, settings.build_db)
    dbt_vars = json.dumps({"reporting_currency": settings.reporting_currency})

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=Translator(), name="dbt_models")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
        with duckdb.get_connection() as con:
            ensure_all_raw_tables(con)
        yield from dbt.cli(["build", "--vars", dbt_vars], context=context).stream()

    return dbt_models, DbtCliResource(project_dir=project, dbt_executable=str(DBT_EXECUTABLE))
