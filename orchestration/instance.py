"""The Dagster instance the CLI, the tests and the UI record runs into.

DAGSTER_HOME is <warehouse>/.dagster unless the user has one of their own:
its dagster.yaml is written here, runs are recorded as runs of
workspace.yaml's code location (so the UI shows them), and runs a killed CLI
process left STARTED are failed.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.workspace.load import location_origins_from_yaml_paths

from orchestration.config import Settings
from orchestration.run_tags import CLI_PID_TAG
from orchestration.warehouse_lock import process_alive

# The code location the UI loads (`dagster dev -w workspace.yaml`).
WORKSPACE_FILE = Path(__file__).resolve().parents[1] / "workspace.yaml"


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


def record_runs_under_the_workspace(instance: dg.DagsterInstance) -> None:
    """Make the runs this instance creates runs of workspace.yaml's code location.

    `execute_in_process` records a run without the code location that holds
    its job, and the UI groups runs by code location: such runs are listed
    under Runs but missing from the Overview timeline and the job's page. The
    CLI runs the very job the UI loads (the same definitions, through
    workspace.yaml), so its runs carry that location's origin."""
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
