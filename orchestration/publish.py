"""Publish: the audited marts become the BI file, swapped in whole.

Contract: the published file `marketing.duckdb` is only ever replaced by
rename. The new file is written beside it under a temporary name, fully
checkpointed and fsynced, then `os.replace`d over the old one. A BI reader
holding the old file open keeps reading the old inode; a new connection sees
the new file. Nobody ever sees a half-written warehouse, and a failure before
the rename leaves the published file byte-identical.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing import STATE_SCHEMA, ensure_state_table, quote
from orchestration.quality.results import ensure_results_table

PUBLISHED_SCHEMAS = ("marts",)


@dataclass
class Published:
    path: Path
    tables: dict[str, int]
    published_at: dt.datetime


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def publish(con: duckdb.DuckDBPyConnection, published_db: Path, run_id: str | None = None) -> Published:
    """Copy every table of the published schemas from the build connection to a new file, then swap."""
    published_db.parent.mkdir(parents=True, exist_ok=True)
    staging = published_db.with_name(f".{published_db.name}.{uuid.uuid4().hex}.tmp")
    published_at = dt.datetime.now(dt.timezone.utc)
    tables: dict[str, int] = {}
    alias = "publishing"
    # The oldest storage format that holds the marts: BI drivers bundle
    # DuckDB releases older than ours (Metabase, Superset, ODBC/JDBC).
    con.execute(f"ATTACH {sql_string(str(staging))} AS {alias} (STORAGE_VERSION 'v1.0.0')")
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{quote(schema)}")
            names = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
                "AND table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]).fetchall()]
            for name in names:
                target = f"{alias}.{quote(schema)}.{quote(name)}"
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM {quote(schema)}.{quote(name)}")
                tables[f"{schema}.{name}"] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        con.execute(f"CREATE SCHEMA {alias}.meta")
        con.execute(
            f"CREATE TABLE {alias}.meta.publish_info AS SELECT ?::TIMESTAMPTZ AS published_at, ? AS run_id, ? AS tables",
            [published_at, run_id, ", ".join(f"{k}={v}" for k, v in tables.items())],
        )
        # What BI needs to judge the numbers: the checks of the run that
        # cleared them, and the cursors as of this publish.
        ensure_state_table(con)
        ensure_results_table(con)
        con.execute(
            f"CREATE TABLE {alias}.meta.check_results AS SELECT * FROM {STATE_SCHEMA}.check_results WHERE run_id = ?",
            [run_id],
        )
        con.execute(
            f"""CREATE TABLE {alias}.meta.sync_state AS
                SELECT channel, stream, account_id, window_start, window_end, synced_at FROM {STATE_SCHEMA}.sync_state
                WHERE (channel, stream, account_id) NOT IN (SELECT (channel, stream, account_id) FROM {STATE_SCHEMA}.sync_state_pending)
                UNION ALL
                SELECT channel, stream, account_id, window_start, window_end, synced_at FROM {STATE_SCHEMA}.sync_state_pending"""
        )
        con.execute(f"DETACH {alias}")  # checkpoints and closes the new file
        _fsync(staging)
        os.replace(staging, published_db)
        _fsync(published_db.parent)
    except BaseException:
        try:
            con.execute(f"DETACH DATABASE IF EXISTS {alias}")
        finally:
            staging.unlink(missing_ok=True)
            Path(f"{staging}.wal").unlink(missing_ok=True)
        raise
    return Published(published_db, tables, published_at)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
