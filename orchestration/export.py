"""`socialmart export`: the published marts as Parquet or CSV files, for tools that do not read DuckDB.

Contract: reads the published file read-only (one connection: the whole export
comes from one published state even if a run swaps in a new file meanwhile) and
writes, under the output directory, one file per mart (`<mart>.parquet` /
`<mart>.csv`), except the large daily facts, which become hive-style month
directories (`<mart>/month=2026-05/data_0.parquet`) that Spark, DuckDB,
pandas/pyarrow, BigQuery and Athena read as one partitioned table. Each mart's
previous export is replaced: a month that disappeared from the mart does not
linger in the files.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing import quote
from orchestration.publish import sql_string

FORMATS = ("parquet", "csv")
# The daily facts that grow with history, by their day column.
PARTITIONED_BY_MONTH = {
    "fct_ad_performance_daily": "date_day",
    "fct_conversion_funnel_daily": "date_day",
    "fct_landing_page_daily": "date_day",
    "fct_content_daily": "date_day",
    "fct_audience_daily": "date_day",
}
MONTH_COLUMN = "month"


@dataclass
class Exported:
    name: str  # the mart, or a raw table's schema.table (orchestration/lake.py)
    path: Path  # the file, or the directory of month partitions
    rows: int
    months: int  # partitions written; 0 for a single file


def write_then_move(out_dir: Path, write: Callable[[Path], list[Exported]]) -> list[Exported]:
    """`write` exports into a scratch folder beside the targets (the same
    file system, so each move is a rename); then each item replaces its
    previous export, whole. The scratch folder goes whatever happens: a
    failed export leaves every previous file as it was."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / f".export-{uuid.uuid4().hex}"
    scratch.mkdir()
    try:
        exported = write(scratch)
        for item in exported:
            target = out_dir / item.path.relative_to(scratch)
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            item.path = item.path.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return exported


def export_marts(published_db: Path, out_dir: Path, file_format: str) -> list[Exported]:
    if file_format not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    if not published_db.exists():
        raise FileNotFoundError(f"no published warehouse at {published_db}: run `socialmart run` first")

    def write(scratch: Path) -> list[Exported]:
        with duckdb.connect(str(published_db), read_only=True) as con:
            marts = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
            return [_export_one(con, mart, scratch, file_format) for mart in marts]

    return write_then_move(out_dir, write)


def _export_one(con: duckdb.DuckDBPyConnection, mart: str, scratch: Path, file_format: str) -> Exported:
    table = f"marts.{quote(mart)}"
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    options = "FORMAT parquet, COMPRESSION zstd" if file_format == "parquet" else "FORMAT csv, HEADER true"
    day_column = PARTITIONED_BY_MONTH.get(mart)
    if day_column is None:
        path = scratch / f"{mart}.{file_format}"
        con.execute(f"COPY {table} TO {sql_string(str(path))} ({options})")
        return Exported(mart, path, rows, 0)
    path = scratch / mart
    # The month is a directory name (month=2026-05); the rows keep their own date_day.
    con.execute(
        f"COPY (SELECT *, strftime({quote(day_column)}, '%Y-%m') AS {MONTH_COLUMN} FROM {table}) "
        f"TO {sql_string(str(path))} ({options}, PARTITION_BY ({MONTH_COLUMN}), FILENAME_PATTERN 'data_{{i}}')"
    )
    path.mkdir(exist_ok=True)  # an empty mart still gets its (empty) directory
    months = sum(1 for p in path.glob(f"{MONTH_COLUMN}=*") if p.is_dir())
    return Exported(mart, path, rows, months)
