"""Check outcomes: one shape for dbt tests, GX suites and SQL audits, stored per run."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.landing import STATE_SCHEMA, transaction

SAMPLE_ROWS = 5


@dataclass
class CheckResult:
    asset: str  # the guarded asset's key as a path: "marts/fct_ad_performance_daily"
    name: str  # the check's name on that asset
    kind: str  # dbt_test | expectation | reconciliation | freshness | anomaly | schema_drift | quarantine | uniqueness | completeness
    passed: bool
    severity: str = "ERROR"  # ERROR | WARN
    blocking: bool = True  # a failure stops the publish (only with severity ERROR)
    description: str = ""  # what was checked; when failed, why it failed
    failing_rows: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocks_publish(self) -> bool:
        return not self.passed and self.blocking and self.severity == "ERROR"

    def summary_line(self) -> str:
        status = "passed" if self.passed else ("FAILED" if self.severity == "ERROR" else "WARNING")
        rows = f" ({self.failing_rows:,} failing rows)" if self.failing_rows else ""
        return f"{status} {self.asset} :: {self.name}{rows}: {self.description}"


CHECK_RESULTS_COLUMNS = """
    run_id VARCHAR NOT NULL, evaluated_at TIMESTAMPTZ NOT NULL, asset VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    blocking BOOLEAN NOT NULL, passed BOOLEAN NOT NULL, failing_rows BIGINT NOT NULL,
    description VARCHAR, sample_json VARCHAR
"""


def ensure_results_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.check_results ({CHECK_RESULTS_COLUMNS})")


def record_results(con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult]) -> None:
    """Store a run's outcomes; re-recording a check in the same run replaces it."""
    ensure_results_table(con)
    now = dt.datetime.now(dt.UTC)
    recorded = pa.Table.from_pylist([  # noqa: F841 - read by DuckDB (replacement scan of the name)
        {"run_id": run_id, "evaluated_at": now, "asset": r.asset, "check_name": r.name, "kind": r.kind,
         "severity": r.severity, "blocking": r.blocking, "passed": r.passed, "failing_rows": r.failing_rows,
         "description": r.description,
         "sample_json": json.dumps(r.sample[:SAMPLE_ROWS], default=str, ensure_ascii=False)}
        for r in results
    ])
    if not results:
        return
    # Two statements for any number of checks: one per check cost a scan of
    # the whole history each (a build records 350 dbt tests).
    with transaction(con):
        con.execute(f"""DELETE FROM {STATE_SCHEMA}.check_results AS c USING recorded AS r
                        WHERE c.run_id = r.run_id AND c.asset = r.asset AND c.check_name = r.check_name""")
        con.execute(f"INSERT INTO {STATE_SCHEMA}.check_results SELECT * FROM recorded")


def load_results(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> list[CheckResult]:
    """The recorded outcomes of the runs (reading only: nothing is created)."""
    recorded = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'check_results'",
        [STATE_SCHEMA],
    ).fetchone()[0]
    if not recorded:
        return []
    rows = con.execute(
        f"""SELECT asset, check_name, kind, passed, severity, blocking, description, failing_rows, sample_json
            FROM {STATE_SCHEMA}.check_results WHERE list_contains(?, run_id) ORDER BY passed, asset, check_name""",
        [run_ids],
    ).fetchall()
    return [CheckResult(a, n, k, p, s, b, d or "", f, json.loads(j or "[]")) for a, n, k, p, s, b, d, f, j in rows]


def blocking_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> list[CheckResult]:
    return [r for r in load_results(con, [run_id]) if r.blocks_publish]
