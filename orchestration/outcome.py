"""What a CLI invocation did, summed up for the terminal: its runs, the rows of
every raw table (a dated stream's restatement history beside it) and published
mart, the checks, the step failures, the routine API notes and the run log."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.alerts import root_cause, run_failure_cause
from orchestration.config import Settings
from orchestration.landing import VERSIONS_SUFFIX, quote
from orchestration.quality.results import CheckResult
from orchestration.report import report_path


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
    # That run published, and stopped before its cursor step advanced the cursors.
    cursors_pending: bool = False
    # orchestration/run_log.py: the file, and the routine API notes it holds, counted by kind.
    run_log: Path | None = None
    run_log_error: str | None = None
    notes: list[tuple[int, str]] = field(default_factory=list)

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
        versions = {name.removesuffix(VERSIONS_SUFFIX): rows for name, rows in self.raw_rows.items() if name.endswith(VERSIONS_SUFFIX)}
        lines += [f"  {name:<44}{rows:>8,}" + (f"  (+{versions[name]:,} in {VERSIONS_SUFFIX})" if name in versions else "")
                  for name, rows in sorted(self.raw_rows.items())
                  if not name.endswith(VERSIONS_SUFFIX) and (rows or name.split(".")[0] in configured)]
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
        if self.notes:
            # Routine (a deleted tweet a post quoted, a retried request): counted here, each one in the run log.
            lines += ["", f"API notes: {sum(n for n, _ in self.notes)}, routine, each in the run log"]
            lines += [f"  {count:>5} like: {example[:140]}" for count, example in self.notes[:5]]
            if len(self.notes) > 5:
                lines.append(f"  {sum(n for n, _ in self.notes[5:]):>5} of {len(self.notes) - 5} other kinds")
        if self.published_by:
            cursors = ("cursors NOT advanced: the next run advances them" if self.cursors_pending else "cursors advanced")
            published = f" (published by run {self.published_by[:8]}; {cursors})"
        else:
            published = " (unchanged by this failed run)" if not self.success else ""
        lines += [
            "",
            f"KPI report:          {report_path(s.warehouse_dir)}" + ("" if self.success else " (of the last publish)"),
            f"Validation report:   {s.validation_report}",
            f"Published warehouse: {s.published_db}{published}",
            f"Build database:      {s.build_db}",
            f"Config:              {s.source}",
            *([f"Run log:             {self.run_log}" + (f" (stopped short: {self.run_log_error})" if self.run_log_error else "")]
              if self.run_log else []),
            "Open the UI:         make ui   (Dagster UI at http://127.0.0.1:3000; these runs are in its history)",
        ]
        return "\n".join(lines)


def collect_step_failures(outcome: Outcome, result: dg.ExecuteInProcessResult) -> None:
    """The root cause of every failed step of a run, or of the run where it
    failed before any step (check outcomes are read back from
    _socialmart.check_results instead)."""
    steps = [f"{event.step_key}: {root_cause(event.event_specific_data.error)}"
             for event in result.all_events if event.is_step_failure]
    run = [cause for event in result.all_events if event.is_run_failure and (cause := run_failure_cause(event))]
    outcome.failures.extend(steps or run)


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
