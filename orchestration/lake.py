"""`socialmart export --raw`: the raw tables as a Parquet lake, for an engine other than DuckDB.

Contract: reads build.duckdb read-only (one connection: one landed state) and
writes, under the output directory, one directory per raw table:

    DIR/<channel>/<stream>/month=YYYY-MM/data_0.parquet   dated streams, by the month of their date column
    DIR/<channel>/<stream>/data_0.parquet                 undated streams (accounts, campaigns, ...)
    DIR/<channel>/<stream>__versions/month=YYYY-MM/...    every version of a dated stream's rows (landing.py)
    DIR/_socialmart/landed_windows/data_0.parquet         the windows landed (the organic marts' pulled days)

A table without rows is one Parquet file without rows: an engine reading the
lake still learns its columns (dbt's sources of unconfigured channels exist,
empty, on every engine). Every table's previous export is replaced whole, so a
month that left the warehouse does not linger. Spark reads each table as one
relation over its directory (dbt_project/macros/spark/lake_sources.sql, with
recursive file lookup: the month is a directory, never an extra column).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from connectors import CONNECTORS
from orchestration.export import Exported, write_then_move
from orchestration.landing import STATE_SCHEMA, quote, versions_table_name
from orchestration.publish import sql_string

PARQUET = "FORMAT parquet, COMPRESSION zstd"
MONTH_COLUMN = "month"


@dataclass(frozen=True)
class LakeTable:
    """One table of the lake: where it comes from in build.duckdb and where it goes."""

    schema: str  # in build.duckdb
    table: str
    directory: str  # DIR/<directory>
    month_of: str | None  # the date column partitioning it by month, or None


def lake_tables() -> list[LakeTable]:
    """Every table dbt reads as a source, from the connector registry."""
    # The pipeline's own tables dbt reads: landings, the incremental builds'
    # state, and the configured account families (written before every build).
    tables = [LakeTable(STATE_SCHEMA, table, f"{STATE_SCHEMA}/{table}", None)
              for table in ("landed_windows", "transform_state", "family_accounts", "family_thresholds")]
    for channel, connector in CONNECTORS.items():
        for stream in connector.streams.values():
            tables.append(LakeTable(f"raw_{channel}", stream.name, f"{channel}/{stream.name}", stream.date_column))
            if stream.date_column and not stream.snapshot:
                versions = versions_table_name(stream.name)
                tables.append(LakeTable(f"raw_{channel}", versions, f"{channel}/{versions}", stream.date_column))
    return tables


def export_raw(build_db: Path, out_dir: Path) -> list[Exported]:
    if not build_db.exists():
        raise FileNotFoundError(f"no build database at {build_db}: run `socialmart run` first")

    def write(scratch: Path) -> list[Exported]:
        with duckdb.connect(str(build_db), read_only=True) as con:
            present = set(con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall())
            exported = []
            for item in lake_tables():
                if (item.schema, item.table) not in present:
                    raise FileNotFoundError(
                        f"{build_db} has no table {item.schema}.{item.table}: run `socialmart run` with this version first")
                exported.append(_export_one(con, item, scratch))
            return exported

    return write_then_move(out_dir, write)


def _export_one(con: duckdb.DuckDBPyConnection, item: LakeTable, scratch: Path) -> Exported:
    source = f"{quote(item.schema)}.{quote(item.table)}"
    path = scratch / item.directory
    path.mkdir(parents=True)
    rows = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    if item.month_of is None or rows == 0:
        con.execute(f"COPY {source} TO {sql_string(str(path / 'data_0.parquet'))} ({PARQUET})")
        return Exported(f"{item.schema}.{item.table}", path, rows, 0)
    con.execute(
        f"COPY (SELECT *, strftime({quote(item.month_of)}, '%Y-%m') AS {MONTH_COLUMN} FROM {source}) "
        f"TO {sql_string(str(path))} ({PARQUET}, PARTITION_BY ({MONTH_COLUMN}), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'data_{{i}}')"
    )
    months = sum(1 for p in path.glob(f"{MONTH_COLUMN}=*") if p.is_dir())
    return Exported(f"{item.schema}.{item.table}", path, rows, months)


