"""dbt models as Dagster assets (dagster-dbt), dbt tests as asset checks.

Asset keys: sources keep dbt's [source_name, table] (= the ingest assets'
[raw_<channel>, <stream>]); models are [<layer schema>, <model name>], e.g.
[marts, fct_ad_performance_daily]. One `dbt build` per run builds every model
and runs every test (dbt start-up costs seconds: one call, many models).
A failing test fails the step, so nothing downstream (publish) runs; every
test's outcome is also recorded with the run's other checks.
"""


import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_duckdb import DuckDBResource

from orchestration.config import Settings
from orchestration.landing import ensure_all_raw_tables
from orchestration.quality.results import SAMPLE_ROWS, CheckResult, record_results

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The venv's dbt, whether or not the venv is on PATH (make runs .venv/bin/... directly).
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
# Each `dbt build` writes its artifacts (run_results.json, compiled SQL, its
# log; ~15 MB) to <warehouse>/dbt_target/<run>: beside the data they
# describe, not in the code checkout. The newest few are kept for debugging.
DBT_RUNS_KEPT = 3


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

    nodes = _test_targets(json.loads(Path(manifest).read_text()))

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=Translator(), name="dbt_models")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
        with duckdb.get_connection() as con:
            ensure_all_raw_tables(con)
        target = dbt_target_path(settings, context.run.run_id)
        invocation = dbt.cli(["build", "--vars", dbt_vars], context=context, raise_on_error=False, target_path=target)
        yield from invocation.stream()
        # Every dbt test's outcome joins the run's check record (the
        # validation report, `socialmart status`, meta.check_results), with
        # sample failing rows of the tests that failed.
        results = dbt_test_results(invocation.get_artifact("run_results.json"), nodes)
        with duckdb.get_connection() as con:
            for result in results:
                if not result.passed:
                    result.sample = _failing_rows(con, result.sample)
            record_results(con, context.run.run_id, results)
        failed = [r for r in results if not r.passed and r.severity == "ERROR"]
        if failed or not invocation.is_successful():
            lines = [r.summary_line() for r in failed] or ["dbt build failed (see the dbt log above)"]
            raise dg.Failure("dbt build failed:\n" + "\n".join(lines), metadata={"failed_tests": len(failed)})

    return dbt_models, DbtCliResource(project_dir=project, dbt_executable=str(DBT_EXECUTABLE))


def dbt_target_path(settings: Settings, run_id: str) -> Path:
    """A fresh artifacts folder for this run's dbt build; older runs' beyond DBT_RUNS_KEPT are removed."""
    root = settings.warehouse_dir / "dbt_target"
    root.mkdir(parents=True, exist_ok=True)
    previous = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in previous[:max(0, len(previous) - (DBT_RUNS_KEPT - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    return root / f"build-{run_id}"


def _test_targets(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """dbt test unique_id -> (guarded asset path, test name)."""
    translator = Translator()
    targets: dict[str, tuple[str, str]] = {}
    for uid, node in [*manifest["nodes"].items(), *manifest.get("unit_tests", {}).items()]:
        if node["resource_type"] not in ("test", "unit_test"):
            continue
        attached = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), None)
        parent = manifest["nodes"].get(attached) or manifest["sources"].get(attached)
        asset = "/".join(translator.get_asset_key(parent).path) if parent else "dbt"
        targets[uid] = (asset, node["name"])
    return targets


def dbt_test_results(run_results: dict[str, Any], targets: dict[str, tuple[str, str]]) -> list[CheckResult]:
    results = []
    for result in run_results.get("results", []):
        if result["unique_id"] not in targets:
            continue
        asset, name = targets[result["unique_id"]]
        status = result["status"]
        passed = status in ("pass", "warn")
        why = result.get("message") or status
        results.append(CheckResult(
            asset, name, "dbt_test", passed,
            severity="WARN" if status == "warn" else "ERROR",
            description=f"dbt test {status}" + ("" if passed else f": {why}"),
            failing_rows=int(result.get("failures") or 0),
            # The compiled SQL travels in `sample` until _failing_rows runs it.
            sample=[{"sql": result.get("compiled_code")}] if not passed and result.get("compiled_code") else [],
        ))
    return results


def _failing_rows(con, sample: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A failed dbt test's query returns its failing rows: keep the first few."""
    if not sample or not sample[0].get("sql"):
        return []
    try:
        cursor = con.execute(f"SELECT * FROM ({sample[0]['sql']}) LIMIT {SAMPLE_ROWS}")
    except duckdb.Error as exc:
        return [{"note": f"could not re-run the test query: {exc}"}]
    names = [d[0] for d in cursor.description]
    return json.loads(json.dumps([dict(zip(names, row)) for row in cursor.fetchall()], default=str))
