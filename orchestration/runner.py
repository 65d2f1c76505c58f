"""Run the pipeline job in-process on a persistent Dagster instance, and sum it up.

The CLI and the tests go through here, so what they run is exactly what the
UI runs: the same job, the same assets, recorded in the same instance
(DAGSTER_HOME = <warehouse>/.dagster), visible in the UI's run history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.config import Settings


@dataclass
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str
    description: str = ""


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
    checks: list[CheckOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = self.settings
        passed = sum(c.passed for c in self.checks)
        failed = [c for c in self.checks if not c.passed]
        lines = [
            "",
            f"socialmart run {'SUCCEEDED' if self.success else 'FAILED'} in {self.seconds:.1f}s "
            f"(window {self.start} .. {self.end}; Dagster runs {', '.join(r[:8] for r in self.run_ids)})",
            "",
            "Raw tables (build.duckdb)                      rows",
        ]
        lines += [f"  {name:<44}{rows:>8,}" for name, rows in sorted(self.raw_rows.items())]
        lines += ["", "Marts (marketing.duckdb)                       rows"]
        if self.mart_rows:
            lines += [f"  {name:<44}{rows:>8,}" for name, rows in sorted(self.mart_rows.items())]
        else:
            lines.append("  (nothing published by this run)")
        lines += ["", f"Checks: {passed} passed, {len(failed)} failed"]
        for check in failed:
            lines.append(f"  FAILED {check.asset} :: {check.name} ({check.severity}) {check.description}".rstrip())
        for failure in self.failures:
            lines.append(f"  ERROR {failure}")
        lines += [
            "",
            f"Published warehouse: {s.published_db}" + ("" if self.success else " (unchanged by this failed run)"),
            f"Build database:      {s.build_db}",
            f"Config:              {s.source}",
            "Open the UI:         make ui   (Dagster UI at http://127.0.0.1:3000; these runs are in its history)",
        ]
        return "\n".join(lines)


# One SQLite file for all event logs: a run writes hundreds of events (one
# per asset and partition) and per-run files plus an index cost ~30% more.
DAGSTER_YAML = """\
event_log_storage:
  module: dagster.core.storage.event_log
  class: ConsolidatedSqliteEventLogStorage
  config:
    base_dir: {history}
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
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text(DAGSTER_YAML.format(history=home / "history"))
    return home



def run_pipeline(settings: Settings, config_path: Path, start: dt.date, end: dt.date) -> Outcome:
    from orchestration.defs import BUILD_JOB, INGEST_JOB, build_definitions

    began = time.monotonic()
    os.environ["SOCIALMART_CONFIG"] = str(Path(config_path).resolve())
    os.environ["DAGSTER_HOME"] = str(dagster_home(settings))
    defs = build_definitions(settings)
    tags = {ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()}
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    outcome = Outcome(settings, start, end, False, 0.0, run_ids=[])
    with dg.DagsterInstance.get() as instance:
        for job_name, job_tags in ((INGEST_JOB, tags), (BUILD_JOB, {})):
            # dagster-dbt echoes dbt's log to stdout; it is progress, and stdout
            # is kept for the summary.
            with contextlib.redirect_stdout(sys.stderr):
                result = defs.resolve_job_def(job_name).execute_in_process(
                    instance=instance, tags=job_tags, raise_on_error=False, run_config=quiet
                )
            outcome.run_ids.append(result.run_id)
            _collect(outcome, result)
            if not result.success:
                break
        else:
            outcome.success = True
    outcome.raw_rows = _table_rows(settings.build_db, "raw\\_%")
    if outcome.success and settings.published_db.exists():
        outcome.mart_rows = _table_rows(settings.published_db, "marts")
    outcome.seconds = time.monotonic() - began
    return outcome


def _collect(outcome: Outcome, result: dg.ExecuteInProcessResult) -> None:
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            outcome.checks.append(CheckOutcome(
                data.asset_key.to_user_string(), data.check_name, data.passed,
                data.severity.value if data.severity else "ERROR",
                str((data.metadata or {}).get("status", "")) if not data.passed else "",
            ))
        elif event.is_step_failure:
            outcome.failures.append(f"{event.step_key}: {_root_cause(event.event_specific_data.error)}")


def _root_cause(error) -> str:
    """Dagster wraps the asset's exception ("Error occurred while executing op"):
    the innermost cause is the one that names the channel, account and API code."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _table_rows(path: Path, schema_like: str) -> dict[str, int]:
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE ? ESCAPE '\\' AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            [schema_like],
        ).fetchall()
        return {
            f"{schema}.{table}": con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        }
