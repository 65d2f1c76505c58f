"""Run the pipeline job in-process on a persistent Dagster instance, and sum it up.

The CLI and the tests go through here, so what they run is exactly what the
UI runs: the same job, the same assets, recorded in the same instance
(DAGSTER_HOME = <warehouse>/.dagster), visible in the UI's run history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.tags import MAX_RUNTIME_SECONDS_TAG

from orchestration.alerts import AlertDeliveryError, alert_for_run, deliver, root_cause
from orchestration.config import Settings
from orchestration.landing import quote
from orchestration.publish import complete_interrupted_publish, published_run_id
from orchestration.quality.results import CheckResult, load_results
from orchestration.quality.validation_report import write_validation_report
from orchestration.report import report_path
from orchestration.nightly import NIGHTLY_TAG, nightly_range
from orchestration.warehouse_lock import process_alive

log = logging.getLogger("socialmart.runner")

# The code location the UI loads (`dagster dev -w workspace.yaml`).
WORKSPACE_FILE = Path(__file__).resolve().parents[1] / "workspace.yaml"

# On every run a CLI process executes: its pid. A run left STARTED by a CLI
# process that is gone (killed) is failed by the next CLI start.
CLI_PID_TAG = "socialmart/cli_pid"
# On every ingest run: the day snapshot streams (follower counts, ...) are
# recorded under, fixed once per CLI invocation so that a run crossing
# midnight gives every stream the same day.
SNAPSHOT_DATE_TAG = "socialmart/snapshot_date"


class BuildDatabaseUnusable(RuntimeError):
    """build.duckdb cannot be opened: corrupt, or held by another process."""


@dataclass
class Outcome:
    settings: Settings
    start: dt.date
    end: dt.date
    success: bool
    seconds: float
    run_ids: list[str]
    raw_rows: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    command: str = "run"
    # The run id in the published file's meta.publish_info when it is one of
    # this invocation's runs: read from the file, whatever the runs reported.
    published_by: str | None = None

    def summary(self) -> str:
        s = self.settings
        passed = sum(c.passed for c in self.checks)
        failed = [c for c in self.checks if not c.passed]
        lines = [
            "",
            f"socialmart {self.command} {'SUCCEEDED' if self.success else 'FAILED'} in {self.seconds:.1f}s "
            f"(window {self.start} .. {self.end}; Dagster runs {', '.join(r[:8] for r in self.run_ids)})",
            "",
            "Raw tables (build.duckdb)                      rows",
        ]
        configured = {f"raw_{name}" for name in s.sources}
        lines += [f"  {name:<44}{rows:>8,}" for name, rows in sorted(self.raw_rows.items())
                  if rows or name.split(".")[0] in configured]
        lines += ["", "Marts (marketing.duckdb)                       rows"]
        if self.mart_rows:
            lines += [f"  {name:<44}{rows:>8,}" for name, rows in sorted(self.mart_rows.items())]
        else:
            lines.append("  (nothing published by this run)")
        errors = [c for c in failed if c.severity == "ERROR"]
        lines += ["", f"Checks: {passed} passed, {len(errors)} failed, {len(failed) - len(errors)} warnings"]
        for check in sorted(failed, key=lambda c: (c.severity != "ERROR", c.asset, c.name)):
            label = "FAILED (blocks publish)" if check.blocks_publish else ("FAILED" if check.severity == "ERROR" else "WARNING")
            lines.append(f"  {label} {check.asset} :: {check.name}: {check.description}")
            if check.severity == "ERROR":
                lines += [f"      e.g. {json.dumps(row, default=str, ensure_ascii=False)[:300]}" for row in check.sample[:3]]
        for failure in self.failures:
            lines.append(f"  ERROR {failure}")
        if self.published_by:
            published = f" (published by run {self.published_by[:8]}; cursors advanced)"
        else:
            published = " (unchanged by this failed run)" if not self.success else ""
        lines += [
            "",
            f"KPI report:          {report_path(s.warehouse_dir)}" + ("" if self.success else " (of the last publish)"),
            f"Validation report:   {s.validation_report}",
            f"Published warehouse: {s.published_db}{published}",
            f"Build database:      {s.build_db}",
            f"Config:              {s.source}",
            "Open the UI:         make ui   (Dagster UI at http://127.0.0.1:3000; these runs are in its history)",
        ]
        return "\n".join(lines)


# One SQLite file for all event logs: a run writes hundreds of events (one
# per asset and check) and per-run files plus an index cost ~30% more; its
# storage class keeps one engine and skips the fsync per event
# (orchestration/event_log.py). Runs the daemon launches (schedule, sensors,
# UI) queue one at a time: DuckDB allows one writer process.
DAGSTER_YAML = """\
event_log_storage:
  module: orchestration.event_log
  class: EventLogStorage
  config:
    base_dir: {history}
concurrency:
  runs:
    max_concurrent_runs: 1
run_monitoring:
  enabled: true
  max_runtime_seconds: {max_runtime}
telemetry:
  enabled: false
"""


def dagster_home(settings: Settings) -> Path:
    """$DAGSTER_HOME when the user has an instance of their own, else <warehouse>/.dagster."""
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"])
        home.mkdir(parents=True, exist_ok=True)
        return home
    home = settings.warehouse_dir / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    # The instance is ours: its settings follow the configuration (runs.max_runtime_seconds).
    instance_yaml = home / "dagster.yaml"
    wanted = DAGSTER_YAML.format(history=home / "history", max_runtime=settings.max_runtime_seconds)
    if not instance_yaml.exists() or instance_yaml.read_text() != wanted:
        instance_yaml.write_text(wanted)
    return home


def open_build_database(settings: Settings) -> None:
    """Fail at once when build.duckdb cannot be opened (dagster-duckdb would
    retry its connection for minutes per asset), and finish a publish that a
    killed process left half done (`complete_interrupted_publish`)."""
    path = settings.build_db
    if not path.exists():
        return
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        if "Could not set lock" in str(exc):
            raise BuildDatabaseUnusable(
                f"{path} is in use by another process ({exc}); wait for it to finish, then run again"
            ) from None
        raise BuildDatabaseUnusable(
            f"{path} cannot be opened: {exc}\n"
            f"It is damaged. Move it aside (mv {path} {path}.damaged) and run `socialmart backfill` over the "
            f"history to rebuild it; the published file {settings.published_db} still holds the last good state."
        ) from None
    with con:
        complete_interrupted_publish(con, settings.published_db)


def record_runs_under_the_workspace(instance: dg.DagsterInstance) -> None:
    """Make the runs this instance creates runs of workspace.yaml's code location.

    `execute_in_process` records a run without the code location that holds
    its job, and the UI groups runs by code location: such runs are listed
    under Runs but missing from the Overview timeline and the job's page. The
    CLI runs the very job the UI loads (the same definitions, through
    workspace.yaml), so its runs carry that location's origin."""
    from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    [location] = location_origins_from_yaml_paths([str(WORKSPACE_FILE)])
    repository = RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME)
    create_run_for_job = instance.create_run_for_job

    def create_run_with_origin(job_def: dg.JobDefinition, **kwargs):
        kwargs["remote_job_origin"] = kwargs.get("remote_job_origin") or RemoteJobOrigin(repository, job_def.name)
        return create_run_for_job(job_def=job_def, **kwargs)

    instance.create_run_for_job = create_run_with_origin


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs a CLI process started and never finished because it was killed:
    they stay STARTED forever and hold the daemon's one-run queue. Failed now."""
    orphans = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING,
    ])):
        run = record.dagster_run
        pid = run.tags.get(CLI_PID_TAG)
        if pid is None or not pid.isdigit() or process_alive(int(pid)):
            continue
        instance.report_run_failed(run, f"its process {pid} ended without finishing the run (killed); "
                                        "marked failed by the next socialmart start")
        orphans.append(run.run_id)
    return orphans



class Pipeline:
    """The Dagster definitions and instance of one CLI invocation: its jobs run
    in-process one after another, and their outcome adds up in `outcome`.

    Runs executed in-process have no code location, so the daemon's sensors
    never see them: a run that fails or fails an ERROR check is alerted here.
    """

    def __init__(self, settings: Settings, config_path: Path, start: dt.date, end: dt.date, command: str = "run") -> None:
        self.began = time.monotonic()
        # Before the imports and definitions (seconds): the terminal says at once what runs.
        logging.getLogger("socialmart.progress").info(f"socialmart {command} {start}..{end}: loading the pipeline")
        from orchestration.defs import build_definitions

        self.settings = settings
        open_build_database(settings)
        os.environ["SOCIALMART_CONFIG"] = str(Path(config_path).resolve())
        self.defs = build_definitions(settings)
        # Not through $DAGSTER_HOME: setting it here would make every later
        # pipeline in this process (tests) record into this warehouse's instance.
        self.instance = dg.DagsterInstance.from_config(str(dagster_home(settings)))
        record_runs_under_the_workspace(self.instance)
        for run_id in fail_orphaned_runs(self.instance):
            log.warning(f"Dagster run {run_id} was left STARTED by a killed socialmart process: marked failed")
        self.outcome = Outcome(settings, start, end, False, 0.0, run_ids=[], command=command)
        self.tags = {
            CLI_PID_TAG: str(os.getpid()),
            MAX_RUNTIME_SECONDS_TAG: str(settings.max_runtime_seconds),
            SNAPSHOT_DATE_TAG: settings.today().isoformat(),
        }

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc_info) -> None:
        self.instance.dispose()

    def execute(self, job_name: str, tags: dict[str, str] | None = None, assets: list[dg.AssetKey] | None = None,
                run_config: dict | None = None) -> bool:
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, **(run_config or {})}
        # dagster-dbt echoes dbt's log to stdout; it is progress, and stdout
        # is kept for the summary.
        with contextlib.redirect_stdout(sys.stderr):
            result = self.defs.resolve_job_def(job_name).execute_in_process(
                instance=self.instance, tags={**self.tags, **(tags or {})}, raise_on_error=False, run_config=quiet,
                asset_selection=assets,
            )
        self.outcome.run_ids.append(result.run_id)
        _collect(self.outcome, result)
        # The published file says whether the publish happened, whatever the
        # run's status: a signal after the rename fails the run, not the publish.
        published = published_run_id(self.settings.published_db) == result.run_id
        if published:
            self.outcome.published_by = result.run_id
        if result.success or not published:
            self._alert(result.run_id)
        return result.success or published

    def _alert(self, run_id: str) -> None:
        alert = alert_for_run(self.instance, self.instance.get_run_by_id(run_id))
        if alert is None:
            return
        try:
            deliver(alert, self.settings.alert_webhook_url)
        except AlertDeliveryError as exc:
            # The run's own result decides the exit code; a webhook that is down must not.
            log.error(str(exc))

    def finish(self, success: bool) -> Outcome:
        outcome = self.outcome
        outcome.success = success
        outcome.raw_rows = table_rows(self.settings.build_db, "raw\\_%")
        if self.settings.build_db.exists():
            with duckdb.connect(str(self.settings.build_db)) as con:
                outcome.checks = load_results(con, outcome.run_ids)
                # The audit wrote the report already when it ran; this one also
                # shows step errors (a failed pull, a failed dbt model). The
                # summary matters more than the page (a full disk fails both).
                try:
                    write_validation_report(con, self.settings.validation_report, outcome.run_ids, outcome.failures)
                except OSError as exc:
                    log.error("validation report not written: %s", exc)
        if success and self.settings.published_db.exists():
            outcome.mart_rows = table_rows(self.settings.published_db, "marts")
        outcome.seconds = time.monotonic() - self.began
        return outcome


def build_tags(allow_shrink: bool) -> dict[str, str]:
    from orchestration.defs.publish import ALLOW_SHRINK_TAG

    return {ALLOW_SHRINK_TAG: "true"} if allow_shrink else {}


def run_pipeline(
    settings: Settings, config_path: Path, start: dt.date, end: dt.date, *, tags: dict[str, str] | None = None,
    command: str = "run", allow_shrink: bool = False,
) -> Outcome:
    """Ingest [start, end] (one run), then build, audit and publish."""
    from orchestration.defs import BUILD_JOB, INGEST_JOB
    from orchestration.defs.ingest import window_run_config

    with Pipeline(settings, config_path, start, end, command) as pipeline:
        success = (pipeline.execute(INGEST_JOB, tags, run_config=window_run_config(start, end))
                   and pipeline.execute(BUILD_JOB, build_tags(allow_shrink)))
        return pipeline.finish(success)


def run_nightly(settings: Settings, config_path: Path, today: dt.date | None = None, allow_shrink: bool = False) -> Outcome:
    """What the nightly schedule does, in this process: every channel's lookback
    window plus yesterday, then build, audit and publish."""
    start, end = nightly_range(settings, today or settings.today())
    return run_pipeline(settings, config_path, start, end, tags={NIGHTLY_TAG: end.isoformat()}, command="nightly",
                        allow_shrink=allow_shrink)


def _collect(outcome: Outcome, result: dg.ExecuteInProcessResult) -> None:
    # Check outcomes are read back from _socialmart.check_results in finish().
    for event in result.all_events:
        if event.is_step_failure:
            outcome.failures.append(f"{event.step_key}: {root_cause(event.event_specific_data.error)}")


def table_rows(path: Path, schema_like: str) -> dict[str, int]:
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=path.name != "build.duckdb") as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE ? ESCAPE '\\' AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            [schema_like],
        ).fetchall()
        return {
            f"{schema}.{table}": con.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}").fetchone()[0]
            for schema, table in tables
        }
