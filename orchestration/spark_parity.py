"""`make spark-parity`: the same dbt project on Spark gives the same numbers as on DuckDB.

1. Pull a window from the embedded API sandbox and build it on DuckDB (the
   ordinary pipeline: landing, dbt build, checks, publish) in a scratch warehouse.
2. Write its raw tables as the Parquet lake (`socialmart export --raw`).
3. `dbt build --target spark` (session method, local[2], one JVM in this
   process) with the lake as its sources; `--skip-tests` builds the
   relations only (seeds, models, snapshots), the dbt tests having passed on
   DuckDB in step 1 (the test suite's quick form: the tests are three
   quarters of the nodes and of Spark's time).
4. Compare every relation dbt built on both engines (seeds, staging,
   intermediate, marts): the same columns, and the same rows as a multiset,
   exact for integers, strings, dates, booleans and instants, equal to the
   cent for decimals (money), and to 1e-9 relative for doubles (ratios).
   What a build records about itself (BUILD_STATE: when it ran, which days it
   rebuilt) is compared for its columns only.

Prints one line per relation and `N/N relations equal`; exits 1 on any
difference, naming the relation and a differing row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb

from orchestration.dbt_vars import dbt_vars
from orchestration.lake import export_raw

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
SCHEMAS = ("main", "staging", "intermediate", "marts")  # seeds live in main
CENT = decimal.Decimal("0.01")
# What a build records about itself, not numbers from the data: compared for
# its columns only (relation) or without the column ("relation.column").
BUILD_STATE = {
    # The days this build rebuilt in the daily ad facts: those since the last
    # build on DuckDB, every day on Spark (where the facts are rebuilt whole).
    "intermediate.int_ads__rebuilt_days": "the days this build rebuilt",
    # When each build first saw an account's or campaign's attributes.
    "intermediate.int_ads__attribute_changes.changed_at": "the time of the build",
}


def require_java() -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise SystemExit("spark-parity needs Java 17 or 21 (Spark 4): `make java` installs Debian's "
                         "openjdk-17-jre-headless (as root), or set JAVA_HOME")


def build_on_duckdb(workdir: Path, start: dt.date, end: dt.date) -> Path:
    from orchestration.config import load_settings
    from orchestration.runner import run_pipeline
    from orchestration.sandbox_config import start_sandbox

    warehouse = workdir / "warehouse"
    sandbox, config = start_sandbox(warehouse, today=end + dt.timedelta(days=1))
    try:
        outcome = run_pipeline(load_settings(config), config, start, end)
    finally:
        sandbox.stop()
    if not outcome.success:
        raise SystemExit(f"the DuckDB build failed:\n{outcome.summary()}")
    return warehouse / "build.duckdb"


def build_on_spark(lake: Path, workdir: Path, skip_tests: bool = False) -> None:
    from dbt.cli.main import dbtRunner

    os.environ["SOCIALMART_SPARK_WAREHOUSE"] = str(workdir / "spark-warehouse")
    result = dbtRunner().invoke([
        "build", "--target", "spark", "--vars", json.dumps({**dbt_vars(), "raw_lake": str(lake)}),
        *(["--exclude-resource-type", "test", "unit_test"] if skip_tests else []),
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(workdir / "dbt_target_spark"), "--log-path", str(workdir / "dbt_logs_spark"),
    ])
    if not result.success:
        failed = [r.node.name for r in (result.result or []) if str(r.status) in ("error", "fail")]
        raise SystemExit(f"dbt build --target spark failed: {', '.join(failed) or result.exception}")


def _spark_column(name: str, spark_type: str) -> str:
    quoted = f"`{name}`"
    return f"unix_micros({quoted})" if spark_type.startswith("timestamp") else quoted


def _duckdb_column(name: str, spark_type: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    return f"epoch_us({quoted})" if spark_type.startswith("timestamp") else quoted


def _normal(value):
    """One spelling per value on both engines: decimals to the cent, doubles to 10 significant digits."""
    if isinstance(value, decimal.Decimal):
        return value.quantize(CENT, rounding=decimal.ROUND_HALF_EVEN)
    if isinstance(value, float):
        return value if math.isnan(value) or value == 0 else float(f"{value:.10g}")
    return value


def compare(build_db: Path) -> tuple[int, list[str]]:
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    equal, problems = 0, []
    with duckdb.connect(str(build_db), read_only=True) as con:
        relations = con.execute(
            f"SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN "
            f"({', '.join('?' * len(SCHEMAS))}) ORDER BY 1, 2", list(SCHEMAS)).fetchall()
        for schema, name in relations:
            label = f"{schema}.{name}"
            duck_columns = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, name]).fetchall()]
            try:
                spark_schema = spark.table(f"{schema}.{name}").dtypes
            except Exception as exc:  # noqa: BLE001 - a relation Spark lacks is a difference, named
                problems.append(f"{label}: missing on Spark ({str(exc).splitlines()[0]})")
                continue
            # Names, not positions: `a.*` after a USING join orders columns differently
            # per engine in intermediate models (the marts' contracts fix their order).
            spark_types = dict(spark_schema)
            if sorted(spark_types) != sorted(duck_columns):
                problems.append(f"{label}: columns differ: DuckDB {duck_columns}, Spark {list(spark_types)}")
                continue
            if label in BUILD_STATE:
                equal += 1
                print(f"  equal      {label:<60} columns ({BUILD_STATE[label]}: rows not compared)")
                continue
            spark_schema = [(c, spark_types[c]) for c in duck_columns if f"{label}.{c}" not in BUILD_STATE]
            spark_rows = spark.sql(
                f"SELECT {', '.join(_spark_column(c, t) for c, t in spark_schema)} FROM {schema}.{name}").collect()
            duck_rows = con.execute(
                f'SELECT {", ".join(_duckdb_column(c, t) for c, t in spark_schema)} FROM "{schema}"."{name}"').fetchall()
            on_spark = Counter(tuple(_normal(v) for v in row) for row in spark_rows)
            on_duckdb = Counter(tuple(_normal(v) for v in row) for row in duck_rows)
            if on_spark == on_duckdb:
                equal += 1
                print(f"  equal      {label:<60}{len(duck_rows):>8} rows")
            else:
                only_duck = next(iter(on_duckdb - on_spark), None)
                only_spark = next(iter(on_spark - on_duckdb), None)
                problems.append(f"{label}: {len(duck_rows)} rows on DuckDB, {len(spark_rows)} on Spark; "
                                f"only on DuckDB: {only_duck}; only on Spark: {only_spark}")
    for problem in problems:
        print(f"  DIFFERENT  {problem}")
    return equal, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark-parity", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14, help="days of sandbox data, ending yesterday (default 14)")
    parser.add_argument("--workdir", help="keep the warehouse, lake and Spark tables here (default: a temporary directory)")
    parser.add_argument("--skip-tests", action="store_true",
                        help="build the relations on Spark without running the dbt tests there (they ran on DuckDB)")
    args = parser.parse_args(argv)
    require_java()
    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=args.days - 1)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="spark-parity-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    build_db = build_on_duckdb(workdir, start, end)
    print(f"DuckDB build of {start}..{end}: {time.monotonic() - began:.0f} s")
    lake = workdir / "lake"
    export_raw(build_db, lake)
    spark_began = time.monotonic()
    build_on_spark(lake, workdir, skip_tests=args.skip_tests)
    tests = ", no tests" if args.skip_tests else ""
    print(f"Spark build (dbt build --target spark{tests}, local[2]): {time.monotonic() - spark_began:.0f} s")
    equal, problems = compare(build_db)
    print(f"{equal}/{equal + len(problems)} relations equal ({time.monotonic() - began:.0f} s in all; {workdir})")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
