"""dbt's unit tests of the marts' arithmetic, run once per suite.

A run's `dbt build` leaves them out (orchestration/defs/transform.py): they
check the models' SQL on fixed fixtures, so a night's data cannot change
their outcome, and dbt advises running them where the SQL changes. Here:
every raw table created empty, the project built with `--empty` (dbt needs
each unit-tested model's inputs to exist, to read their columns), then every
unit test of the project, each of which must pass.
"""

from __future__ import annotations

import json
import os
import subprocess

import duckdb

from orchestration.dbt_vars import dbt_cli_vars
from orchestration.defs.transform import DBT_EXECUTABLE, DBT_PROJECT_DIR
from orchestration.landing import ensure_all_raw_tables


def dbt(command: list[str], build_db, target) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOCIALMART_BUILD_DB": str(build_db), "SOCIALMART_DUCKDB_TMP": str(build_db.parent / "duckdb_tmp"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(DBT_EXECUTABLE), *command, *dbt_cli_vars(), "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target / "logs")],
        env=env, capture_output=True, text=True, timeout=600,
    )


def test_every_dbt_unit_test_passes(tmp_path):
    build_db, target = tmp_path / "build.duckdb", tmp_path / "dbt_target"
    with duckdb.connect(str(build_db)) as con:
        ensure_all_raw_tables(con)
    built = dbt(["build", "--empty", "--exclude-resource-type", "test", "unit_test"], build_db, target)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]

    tested = dbt(["test", "--select", "test_type:unit"], build_db, target)
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-2000:]
    declared = json.loads((target / "manifest.json").read_text())["unit_tests"]
    outcomes = {r["unique_id"]: r["status"] for r in json.loads((target / "run_results.json").read_text())["results"]
                if r["unique_id"].startswith("unit_test.")}
    assert len(declared) >= 9 and outcomes == {uid: "pass" for uid in declared}
