"""dbt models as Dagster assets (dagster-dbt), dbt tests as asset checks.

Asset keys: sources keep dbt's [source_name, table] (= the ingest assets'
[raw_<channel>, <stream>]); models are [<layer schema>, <model name>], e.g.
[marts, fct_ad_performance_daily]. One `dbt build` per run builds every model
and runs every test (dbt start-up costs seconds: one call, many models).
A failing test fails the step, so nothing downstream (publish) runs; every
test's outcome is also recorded with the run's other checks.

A build whose project and dbt versions are those of the last successful one,
on the warehouse catalog that build left, runs that build's SQL again
without starting dbt (orchestration/dbt_replay.py: about 1 s instead of 14
for a night). So does a new warehouse's first build, from the first build
another warehouse of the project ran on the same catalog (FIRST_BUILDS).
"""


import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.asset_utils import get_asset_check_key_for_test
from packaging import version

from orchestration import dbt_replay, progress
from orchestration.config import Settings
from orchestration.dbt_vars import dbt_cli_vars
from orchestration.defs.resources import BuildDatabase
from orchestration.families import write_families
from orchestration.landing import STATE_SCHEMA, ensure_all_raw_tables, ensure_state_table, raw_asset_path, transaction
from orchestration.quality.results import SAMPLE_ROWS, CheckResult, record_results

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The venv's dbt, whether or not the venv is on PATH (make runs .venv/bin/... directly).
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
PARTIAL_PARSE = "partial_parse.msgpack"
# The project's parses, one folder per configuration (`parse_folder`), the most recently used kept.
PARSES_KEPT = 8


class Translator(DagsterDbtTranslator):
    """Asset keys are [layer, name]: the raw landing tables' (see
    landing.raw_asset_path), the dbt schema for models (staging, intermediate, marts),
    and `seeds` for the lookup CSVs (which live in DuckDB's main schema)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source.startswith("raw_"):  # raw_<channel>.<stream>: the ingest asset's key
                return dg.AssetKey(raw_asset_path(source.removeprefix("raw_"), table))
            return dg.AssetKey([source, table])
        return dg.AssetKey([self.get_group_name(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        return dbt_resource_props["config"].get("schema") or "models"


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_target_path(settings: Settings) -> Path:
    """Where a warehouse's dbt builds keep their artifacts (run_results.json,
    logs, partial_parse.msgpack): one fixed folder per warehouse, beside the
    data they describe and not in the code checkout."""
    return settings.warehouse_dir / "dbt_target"


def dbt_build_args() -> list[str]:
    """A run's `dbt build` command line (its replay fingerprint covers it).

    dbt's unit tests check the models' SQL on fixed fixtures: a run's data
    cannot change their outcome, so they run where the SQL changes, in `make
    test` (tests/dbt/test_dbt_unit_tests.py), as dbt advises, not in every
    build (about 4 s of dbt's node time a build)."""
    return ["build", *dbt_cli_vars(), "--exclude-resource-type", "unit_test"]


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What dbt reads from the environment: stable for a configuration, so
    partial parsing survives from run to run (unlike run-varying --vars).

    The profile names the build database and DuckDB's spill directory under
    `~`, and dbt runs with HOME set to the warehouse directory (DuckDB expands
    `~` from HOME): the rendered profile, which dbt hashes into its partial
    parse state, is then the same for every warehouse of a configuration, so
    a new warehouse's first build starts from the project's partial parse
    (`seed_partial_parse`) instead of parsing every file (about 6 s on 2 cores)."""
    home = settings.warehouse_dir
    return {
        "HOME": str(home),
        "SOCIALMART_BUILD_DB": f"~/{settings.build_db.relative_to(home)}",
        "SOCIALMART_REPORTING_CURRENCY": settings.reporting_currency,
        # The marts' day boundaries are the reporting time zone's, whatever the host's.
        "SOCIALMART_TIMEZONE": settings.reporting_timezone,
        "SOCIALMART_MEMORY_LIMIT": settings.memory_limit,
        "SOCIALMART_DUCKDB_TMP": f"~/{settings.duckdb_temp_dir.relative_to(home)}",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextmanager
def dbt_environment_set(settings: Settings) -> Iterator[None]:
    """`dbt_environment` in os.environ while a dbt process is started (dagster-dbt
    hands its subprocess a copy of os.environ), then this process's own again
    (its HOME above all)."""
    values = dbt_environment(settings)
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value


@contextmanager
def _parse_lock(project: DbtProject) -> Iterator[Path]:
    """The project's target folder, held: processes starting together (the
    CLI and `dagster dev`, parallel test workers) would otherwise parse into it
    at once, or copy a half-written partial parse out of it."""
    folder = Path(project.manifest_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder


def parse_folder(project: DbtProject, settings: Settings) -> Path:
    """Where the project is parsed for this configuration: what dbt's parse
    depends on (vars, the environment but HOME) names the folder. Two
    warehouses of different configurations (a memory limit, a reporting
    currency) then keep a parse each, where one shared parse was redone
    (about 16 s) every time the other ran."""
    environment = dbt_environment(settings)
    stamp = json.dumps({"vars": dbt_cli_vars(), "environment": {k: v for k, v in environment.items() if k != "HOME"}},
                       sort_keys=True)
    return Path(project.manifest_path).parent / "parses" / hashlib.sha256(stamp.encode()).hexdigest()[:16]


def seed_partial_parse(project: DbtProject, settings: Settings, target: Path) -> None:
    """A warehouse's first build starts from the project's partial parse for
    its configuration (`ensure_manifest`'s). dbt checks it as its own: the
    project's files, vars, env vars and profile must match, else it parses
    in full as before. Copied under the parse lock: a parse writing it
    meanwhile would hand dbt half a file (which dbt then discards, parsing
    in full)."""
    if (target / PARTIAL_PARSE).exists():
        return
    parsed = parse_folder(project, settings) / PARTIAL_PARSE
    with _parse_lock(project):
        if parsed.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(parsed, target / PARTIAL_PARSE)


def ensure_manifest(project: DbtProject, settings: Settings) -> Path:
    """The manifest of the project parsed for this configuration
    (`parse_folder`): parsed when missing or older than the project's files."""
    folder = parse_folder(project, settings)
    manifest = folder / "manifest.json"
    with _parse_lock(project) as target:
        sources = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".csv"}
                   and "target" not in p.parts and "logs" not in p.parts]
        newest = max(p.stat().st_mtime for p in sources)
        if manifest.exists() and manifest.stat().st_mtime >= newest:
            os.utime(folder)  # used: kept by the pruning below
            return manifest
        completed = subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet",
             "--target-path", str(folder), *dbt_cli_vars()],
            env={**os.environ, **dbt_environment(settings)},
            capture_output=True, text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
        parses = sorted((target / "parses").iterdir(), key=lambda path: path.stat().st_mtime, reverse=True)
        for stale in parses[PARSES_KEPT:]:
            shutil.rmtree(stale, ignore_errors=True)
    return manifest


def dbt_definitions(settings: Settings) -> tuple[dg.AssetsDefinition, DbtCliResource]:
    project = dbt_project()
    manifest = ensure_manifest(project, settings)

    manifest_data = json.loads(Path(manifest).read_text())
    nodes = _test_targets(manifest_data)

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=Translator(), name="dbt_models")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: BuildDatabase):
        # Held from the start of a first build that dbt runs to the end of its recording (`building_first`).
        with ExitStack() as first_build_held:
            yield from build(context, dbt, duckdb, first_build_held)

    def build(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: BuildDatabase, first_build_held: ExitStack):
        target = dbt_target_path(settings)
        plan_file = target / REPLAY_PLAN
        args = dbt_build_args()
        # Only a build of every model and test records or replays a plan.
        whole = not context.is_subset
        with duckdb.get_connection() as con:
            ensure_all_raw_tables(con)
            # Present before a warehouse's first build too, empty: the SQL dbt
            # compiles then reads the last build's state when it runs, instead
            # of compiling in its absence ("every day"). Replayed on every
            # later night, a first build's SQL had its tests and audits check
            # every day again (dbt_project/macros/incremental_days.sql).
            ensure_transform_state(con)
            write_families(con, STATE_SCHEMA, settings.families)
            landed_through = latest_landing(con)
            digest = dbt_replay.fingerprint(con, DBT_PROJECT_DIR, args, dbt_environment(settings), manifest_data) if whole else ""
            first_built = _absent_incremental_models(con, manifest_data) if whole else []
            plan = dbt_replay.ReplayPlan.load(plan_file) if whole else None
            first_build = None
            if whole and (plan is None or plan.fingerprint != digest):
                # Another warehouse's first build on this very catalog, if the project keeps one.
                first_build = dbt_replay.FirstBuild.load(FIRST_BUILDS, digest)
                if first_build is None and first_built:
                    # Or if another new warehouse is building it right now: its build, once recorded.
                    waited = first_build_held.enter_context(dbt_replay.building_first(
                        FIRST_BUILDS, digest, on_wait=lambda: _report(
                            context, "dbt build: waiting for another new warehouse's first build of the same catalog")))
                    first_build = dbt_replay.FirstBuild.load(FIRST_BUILDS, digest) if waited else None
                plan = first_build.plan if first_build else None
            replayed = None
            if plan is not None and plan.fingerprint == digest:
                try:
                    replayed = dbt_replay.replay(
                        con, plan, first=first_build.seed_statements() if first_build else None,
                        before_commit=_leaves_the_catalog_of(first_build, settings, manifest_data) if first_build else None)
                except dbt_replay.ReplayRefused as why:
                    context.log.info(f"dbt build not replayed ({why}); dbt builds instead")
                else:
                    if first_build:
                        first_build.then.save(plan_file)
                    yield from _replayed_events(context, manifest_data, plan, replayed)
                    results = dbt_test_results(_replayed_run_results(replayed), nodes)
                    record_results(con, context.run.run_id, results)
                    record_built_through(con, landed_through)
                    whose = (f"the first build of another warehouse, of {plan.recorded_at[:19]} (the same project, versions "
                             "and catalog)" if first_build else
                             f"the build of {plan.recorded_at[:19]} (project, versions and warehouse catalog unchanged)")
                    _report(context, f"dbt build replayed: {len(plan.models)} models, {len(replayed.tests)} tests "
                                     f"({_outcome_counts(replayed)}) in {replayed.seconds:.1f}s; the SQL of {whose}")
        if replayed is not None:
            return
        # A failed or partial build leaves no plan: the next one starts dbt again.
        plan_file.unlink(missing_ok=True)
        duckdb.release()  # the file is dbt's (another process) until it ends
        for old_log in target.glob("dbt.log*"):
            old_log.unlink()
        seed_partial_parse(project, settings, target)
        with dbt_environment_set(settings):
            invocation = dbt.cli([*args, *RECORDED_LOG], context=context, raise_on_error=False, target_path=target)
        # dagster-dbt echoes every dbt log line on stdout (650 lines a build):
        # the step's captured output in the UI, the run log from the CLI
        # (orchestration/run_log.py), on its terminal only with --verbose.
        yield from invocation.stream()
        # Every dbt test's outcome joins the run's check record (the
        # validation report, `socialmart status`, meta.check_results), with
        # sample failing rows of the tests that failed.
        run_results = invocation.get_artifact("run_results.json")
        results = dbt_test_results(run_results, nodes)
        with duckdb.get_connection() as con:
            for result in results:
                if not result.passed:
                    result.sample = _failing_rows(con, result.sample)
            record_results(con, context.run.run_id, results)
        failed = [r for r in results if not r.passed and r.severity == "ERROR"]
        _report_progress(context, run_results)
        if not failed and invocation.is_successful():
            with duckdb.get_connection() as con:
                record_built_through(con, landed_through)
            if whole:
                _record_plan(context, dbt, duckdb, settings, run_results, manifest_data, first_built, digest)
        else:
            errors = [f"{r['unique_id']}: {r.get('message') or r['status']}" for r in run_results.get("results", [])
                      if r["status"] == "error" and r["unique_id"] not in nodes]
            lines = errors + [r.summary_line() for r in failed] or [f"dbt build failed (its log: {target / 'dbt.log'})"]
            raise dg.Failure("dbt build failed:\n" + "\n".join(lines), metadata={"failed_tests": len(failed)})

    return dbt_models, DbtCli(project_dir=project, dbt_executable=str(DBT_EXECUTABLE))


TRANSFORM_STATE = f"{STATE_SCHEMA}.transform_state"


def latest_landing(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The newest landing in the raw tables (landed_windows.synced_at): what a build starting now covers."""
    ensure_state_table(con)
    return con.execute(f"SELECT max(synced_at) FROM {STATE_SCHEMA}.landed_windows").fetchone()[0]


def ensure_transform_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {TRANSFORM_STATE} (built_through TIMESTAMPTZ NOT NULL, built_at TIMESTAMPTZ)")
    # Warehouses built before built_at existed: null, read as "before every change".
    con.execute(f"ALTER TABLE {TRANSFORM_STATE} ADD COLUMN IF NOT EXISTS built_at TIMESTAMPTZ")


def record_built_through(con: duckdb.DuckDBPyConnection, landed_through: dt.datetime | None) -> None:
    """After a successful build: the incremental daily facts hold every landing
    up to `landed_through` and every account and campaign attribute seen
    until now; the next build rebuilds only the days landed after it and the
    days of attributes changed after now (dbt_project/macros/incremental_days.sql).
    Never moved by a failed build."""
    ensure_transform_state(con)
    if landed_through is None:
        return
    with transaction(con):
        con.execute(f"DELETE FROM {TRANSFORM_STATE}")
        # now(): this transaction's start, after every statement of the build.
        con.execute(f"INSERT INTO {TRANSFORM_STATE} VALUES (?, now())", [landed_through])


class DbtCli(DbtCliResource):
    """dagster-dbt's resource, without the start-up it spends before every
    dbt process it launches:
    - its `dbt --version` subprocess: the dbt it runs is this venv's;
    - a dbt adapter set up in this process, which loads the project and
      profile and parses every macro again (3.3-3.5 s on 2 cores): dagster-dbt
      uses it only to fetch row counts and column metadata after a build
      (`fetch_row_counts()`, `fetch_column_metadata()`), which socialmart
      does not ask for; without an adapter it streams the events unchanged."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def _report_progress(context: dg.AssetExecutionContext, run_results: dict[str, Any]) -> None:
    """One line for the whole dbt build: what ran, what passed, how long."""
    counts: dict[str, int] = {}
    for result in run_results.get("results", []):
        kind = result["unique_id"].split(".")[0]
        outcome = "ok" if result["status"] in ("success", "pass", "warn") else result["status"]
        counts[f"{kind} {outcome}"] = counts.get(f"{kind} {outcome}", 0) + 1
    _report(context, f"dbt build: {', '.join(f'{n} {k}' for k, n in sorted(counts.items()))} "
                     f"in {run_results.get('elapsed_time', 0):.1f}s")


def _report(context: dg.AssetExecutionContext, line: str) -> None:
    context.log.info(line)
    progress.steps.info(line)


# --------------------------------------------------------------------------- replayed builds (orchestration/dbt_replay.py)

REPLAY_PLAN = "replay_plan.json"
# dbt's file log, JSON at debug level, unrotated: every statement it runs,
# which dbt_replay records for the next build.
RECORDED_LOG = ["--log-format-file", "json", "--log-level-file", "debug", "--log-file-max-bytes", "0"]
# Where dbt runs the incremental facts again after a warehouse's first build.
INCREMENTAL_FORM = "incremental_form"
# The project's first builds, for its next new warehouses (dbt_replay.FirstBuild).
FIRST_BUILDS = DBT_PROJECT_DIR / "target" / "first_builds"


def _record_plan(context: dg.AssetExecutionContext, dbt: DbtCliResource, database: BuildDatabase, settings: Settings,
                 run_results: dict[str, Any], manifest: dict[str, Any], first_built: list[str], started_from: str) -> None:
    """Keep a successful whole build's SQL for the next build to replay
    (orchestration/dbt_replay.py). A warehouse's first build created its
    incremental facts whole: the plan takes their incremental form instead,
    which dbt runs once more for (a merge of nothing: transform_state holds
    this build's landing), so that the next build merges only the days it
    lands, where a replay of the creation would rebuild the whole history.
    That first build is also kept for the project's next new warehouse
    (`FirstBuild`), keyed by the catalog it `started_from`."""
    target = dbt_target_path(settings)
    started = time.perf_counter()
    try:
        built = dbt_replay.record(target / "dbt.log", run_results, manifest)
        plan = built.with_statements_of(_incremental_form(dbt, settings, manifest, first_built)) if first_built else built
    except (dbt_replay.ReplayRefused, OSError, ValueError, KeyError) as why:
        context.log.warning(f"the next dbt build starts dbt again: this build's SQL was not recorded ({why})")
        return
    with database.get_connection() as con:
        plan.fingerprint = dbt_replay.fingerprint(con, DBT_PROJECT_DIR, dbt_build_args(), dbt_environment(settings), manifest)
        plan.save(target / REPLAY_PLAN)
        if first_built:
            built.fingerprint = started_from
            seeds = [(node["schema"], node["alias"]) for node in manifest["nodes"].values() if node["resource_type"] == "seed"]
            try:
                dbt_replay.FirstBuild(built, plan, seeds, dbt_replay.FirstBuild.folder_of(FIRST_BUILDS, started_from)).save(con)
            except (OSError, duckdb.Error) as why:
                context.log.warning(f"this first build was not kept for the project's next new warehouse ({why})")
    if first_built:
        context.log.info(f"recorded the incremental SQL of {', '.join(first_built)} for the next builds "
                         f"in {time.perf_counter() - started:.1f}s")


def _leaves_the_catalog_of(first_build: dbt_replay.FirstBuild, settings: Settings, manifest: dict[str, Any]):
    """A replayed first build's last check: the catalog it leaves is the one the
    recorded build left (which its plan for the next build is keyed by)."""
    def check(con: duckdb.DuckDBPyConnection) -> None:
        left = dbt_replay.fingerprint(con, DBT_PROJECT_DIR, dbt_build_args(), dbt_environment(settings), manifest)
        if left != first_build.then.fingerprint:
            raise dbt_replay.ReplayRefused("the first build replayed from another warehouse left another catalog")
    return check


def _absent_incremental_models(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> list[str]:
    """The incremental models this build will create whole (their relation does not exist yet)."""
    existing = set(con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall())
    return sorted(uid for uid, node in manifest["nodes"].items()
                  if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
                  and (node["schema"], node["alias"]) not in existing)


def _incremental_form(dbt: DbtCliResource, settings: Settings, manifest: dict[str, Any],
                      models: list[str]) -> dbt_replay.ReplayPlan:
    """The SQL of these incremental models once they exist, which a warehouse's
    first build did not run (it created them whole): dbt runs them again, on
    the relations the build just made. Nothing has landed since
    (transform_state holds its landing), so they merge no day: the data stays."""
    folder = dbt_target_path(settings) / INCREMENTAL_FORM
    shutil.rmtree(folder, ignore_errors=True)
    seed_partial_parse(dbt_project(), settings, folder)
    names = [manifest["nodes"][uid]["name"] for uid in models]
    with dbt_environment_set(settings):
        # One selector argument: dagster-dbt's own arguments follow ours.
        invocation = dbt.cli(["run", *dbt_cli_vars(), "--select", " ".join(names), *RECORDED_LOG],
                             raise_on_error=False, target_path=folder, manifest=manifest).wait()
    if not invocation.is_successful():
        raise dbt_replay.ReplayRefused(f"dbt run of {', '.join(names)} failed: {invocation.get_error()}")
    return dbt_replay.record(folder / "dbt.log", invocation.get_artifact("run_results.json"), manifest)


def _replayed_events(context: dg.AssetExecutionContext, manifest: dict[str, Any], plan: dbt_replay.ReplayPlan,
                     replayed: dbt_replay.ReplayResult) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """What dagster-dbt yields for a build, for a replayed one: a
    materialization per model, a check result per test."""
    translator = Translator()
    # Once: Dagster works the set out anew at each access (a few ms, 89 models).
    selected = context.op_execution_context.selected_output_names
    for uid in plan.models:
        key = translator.get_asset_key(manifest["nodes"][uid])
        if key.to_python_identifier() in selected:
            yield dg.Output(None, output_name=key.to_python_identifier(),
                            metadata={"status": "success", "replayed": f"the SQL of dbt build {plan.invocation_id}"})
    checks = context.selected_asset_check_keys
    for outcome in replayed.tests:
        key = get_asset_check_key_for_test(manifest, translator, outcome.unique_id, project=None)
        if key in checks:
            yield dg.AssetCheckResult(
                asset_key=key.asset_key, check_name=key.name, passed=outcome.status == "pass",
                severity=dg.AssetCheckSeverity.WARN if outcome.status == "warn" else dg.AssetCheckSeverity.ERROR,
                metadata={"status": outcome.status, "dagster_dbt/failed_row_count": outcome.failures})


def _replayed_run_results(replayed: dbt_replay.ReplayResult) -> dict[str, Any]:
    """The replay's outcomes in run_results.json's shape (dbt_test_results reads it)."""
    return {"results": [{"unique_id": t.unique_id, "status": t.status, "failures": t.failures} for t in replayed.tests]}


def _outcome_counts(replayed: dbt_replay.ReplayResult) -> str:
    counts: dict[str, int] = {}
    for test in replayed.tests:
        counts[test.status] = counts.get(test.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _test_targets(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """dbt test unique_id -> (guarded asset path, test name)."""
    translator = Translator()
    targets: dict[str, tuple[str, str]] = {}
    for uid, node in [*manifest["nodes"].items(), *manifest.get("unit_tests", {}).items()]:
        if node["resource_type"] not in ("test", "unit_test"):
            continue
        attached = node.get("attached_node") or _dagster_ref(manifest, node) or next(iter(node.get("depends_on", {}).get("nodes", [])), None)
        parent = manifest["nodes"].get(attached) or manifest["sources"].get(attached)
        asset = "/".join(translator.get_asset_key(parent).path) if parent else "dbt"
        targets[uid] = (asset, node["name"])
    return targets


def _dagster_ref(manifest: dict[str, Any], test: dict[str, Any]) -> str | None:
    """The model a singular test over several names in its meta (`dagster: ref: name`), as dagster-dbt reads it."""
    name = test.get("config", {}).get("meta", {}).get("dagster", {}).get("ref", {}).get("name")
    return next((uid for uid, node in manifest["nodes"].items() if name and node["name"] == name and node["resource_type"] == "model"), None)


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
    return json.loads(json.dumps([dict(zip(names, row, strict=False)) for row in cursor.fetchall()], default=str))
