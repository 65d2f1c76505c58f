"""Run the pipeline's jobs in-process on the persistent Dagster instance.

The CLI and the tests go through here, so what they run is exactly what the
UI runs: the same job, the same assets, recorded in the same instance
(orchestration/instance.py), visible in the UI's run history. What a run did
is summed up in an `Outcome` (orchestration/outcome.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.tags import MAX_RUNTIME_SECONDS_TAG

from orchestration import progress
from orchestration.alerts import AlertDeliveryError, alert_for_run, deliver
from orchestration.build_database import open_build_database
from orchestration.config import Settings
from orchestration.defs import BUILD_JOB, INGEST_JOB, build_definitions
from orchestration.defs.ingest import channel_of, window_run_config
from orchestration.instance import dagster_home, fail_orphaned_runs, record_runs_under_the_workspace
from orchestration.outcome import Outcome, collect_step_failures, table_rows
from orchestration.publish import publish_intent, published_run_id
from orchestration.quality.results import load_results
from orchestration.quality.validation_report import write_validation_report
from orchestration.run_log import RunLog
from orchestration.run_tags import ALLOW_SHRINK_TAG, CLI_PID_TAG, NIGHTLY_TAG, SNAPSHOT_DATE_TAG
from orchestration.window import PullWindow, pull_window

log = logging.getLogger("socialmart.runner")


class Pipeline:
    """The Dagster definitions and instance of one CLI invocation: its jobs run
    in-process one after another, and their outcome adds up in `outcome`.

    Runs executed in-process have no code location, so the daemon's sensors
    never see them: a run that fails or fails an ERROR check is alerted here.
    """

    def __init__(self, settings: Settings, config_path: Path, start: dt.date, end: dt.date, command: str = "run") -> None:
        self.began = time.monotonic()
        # Open first, closed last: the run log sees everything the pipeline does.
        self._closing = ExitStack()
        self.run_log = self._closing.enter_context(RunLog(settings.warehouse_dir, command))
        try:
            self._load(settings, config_path, start, end, command)
        except BaseException:
            self._closing.close()
            raise

    def _load(self, settings: Settings, config_path: Path, start: dt.date, end: dt.date, command: str) -> None:
        # Before the definitions are built (seconds): the terminal says at once what runs.
        progress.steps.info(f"socialmart {command} {start}..{end}: loading the pipeline")
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

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info) -> None:
        with self._closing:
            self.instance.dispose()

    def execute(self, job_name: str, tags: dict[str, str] | None = None, assets: list[dg.AssetKey] | None = None,
                run_config: dict | None = None) -> bool:
        # Dagster's console logger prints into the run log (orchestration/run_log.py); its INFO is every event.
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, **(run_config or {})}
        job = self.defs.resolve_job_def(job_name)
        if job_name == INGEST_JOB:
            progress.report(ingest_plan(self.settings, assets or job.asset_layer.executable_asset_keys))
        result = job.execute_in_process(
            instance=self.instance, tags={**self.tags, **(tags or {})}, raise_on_error=False, run_config=quiet,
            asset_selection=assets,
        )
        if job_name == INGEST_JOB:
            progress.report(progress.IngestEnded(result.success))
        self.outcome.run_ids.append(result.run_id)
        collect_step_failures(self.outcome, result)
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
                # The cursor step is its own: a publish can stand with its cursors still pending.
                outcome.cursors_pending = outcome.published_by is not None and publish_intent(con) == outcome.published_by
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
        outcome.run_log = self.run_log.path
        outcome.run_log_error = str(self.run_log.error) if self.run_log.error else None
        outcome.notes = self.run_log.notes()
        return outcome


def ingest_plan(settings: Settings, keys: Iterable[dg.AssetKey]) -> progress.IngestPlan:
    """What the display counts down: per channel, its selected streams and its accounts."""
    streams = Counter(channel_of(key) for key in keys)
    return progress.IngestPlan({channel: (n, len(settings.sources[channel].accounts)) for channel, n in sorted(streams.items())})


def build_tags(allow_shrink: bool) -> dict[str, str]:
    return {ALLOW_SHRINK_TAG: "true"} if allow_shrink else {}


def run_pipeline(
    settings: Settings, config_path: Path, start: dt.date, end: dt.date, *, tags: dict[str, str] | None = None,
    command: str = "run", allow_shrink: bool = False,
) -> Outcome:
    """Ingest [start, end] (one run), then build, audit and publish."""
    with Pipeline(settings, config_path, start, end, command) as pipeline:
        success = (pipeline.execute(INGEST_JOB, tags, run_config=window_run_config(start, end))
                   and pipeline.execute(BUILD_JOB, build_tags(allow_shrink)))
        return pipeline.finish(success)


def run_nightly(settings: Settings, config_path: Path, today: dt.date | None = None, allow_shrink: bool = False, *,
                window: PullWindow | None = None, command: str = "nightly") -> Outcome:
    """What the nightly schedule does, in this process: every channel's lookback
    window plus yesterday (or `window`, narrowed the same way per channel),
    then build, audit and publish."""
    window = window or pull_window(settings, today=today, nightly=True)
    return run_pipeline(settings, config_path, window.start, window.end, tags={NIGHTLY_TAG: window.end.isoformat()},
                        command=command, allow_shrink=allow_shrink)
