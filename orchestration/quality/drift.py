"""Schema drift: which wire fields each stream sends, recorded at every landing.

APIs add fields without notice (kept: every record lands whole in `_record`)
and retire metrics (Meta, Instagram and GA4 do it every few versions). Here we
keep a catalogue of the dotted field paths each (channel, stream) has sent:
the first landing is the baseline; a path first seen later is recorded as an
`added` drift event and reported as a warning. Fields a KPI needs
(`Stream.required_fields`) are checked on every landed row by the audit
(`audits.schema_drift`), and a request the API rejects because a metric is
gone is recorded here as `rejected_by_api` by the ingest step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import orjson
import pyarrow as pa

from orchestration.landing import STATE_SCHEMA

SAMPLED_RECORDS = 1_000  # drift shows on every record: a sample finds it
MAX_DEPTH = 2  # "public_metrics.like_count", "actions[].action_type"


def ensure_drift_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.schema_fields (
            channel VARCHAR NOT NULL, stream VARCHAR NOT NULL, field VARCHAR NOT NULL,
            first_seen_at TIMESTAMPTZ NOT NULL, last_seen_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (channel, stream, field))"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.schema_drift (
            channel VARCHAR NOT NULL, stream VARCHAR NOT NULL, account_id VARCHAR, field VARCHAR NOT NULL,
            change VARCHAR NOT NULL, detail VARCHAR, observed_at TIMESTAMPTZ NOT NULL)"""
    )


def wire_fields(batches: Iterable[pa.RecordBatch]) -> set[str]:
    """Dotted field paths found in a sample of the batches' `_record` JSON."""
    records: list[str] = []
    for batch in batches:
        column = batch.column("_record")
        step = max(1, len(column) // SAMPLED_RECORDS)
        records.extend(column[i].as_py() for i in range(0, len(column), step))
    step = max(1, len(records) // SAMPLED_RECORDS)
    paths: set[str] = set()
    for text in records[::step]:
        if text:
            _collect(orjson.loads(text), "", 0, paths)
    return paths


def _collect(value: object, prefix: str, depth: int, paths: set[str]) -> None:
    if depth >= MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}{key}"
            paths.add(path)
            _collect(child, path + ".", depth + 1, paths)
    elif isinstance(value, list) and prefix:
        for item in value[:3]:
            if isinstance(item, dict):
                _collect(item, prefix[:-1] + "[].", depth, paths)


def record_fields(
    con: duckdb.DuckDBPyConnection, channel: str, stream: str, fields: set[str], observed_at: dt.datetime
) -> list[str]:
    """Update the catalogue; return the fields new since the baseline (also
    written as `added` drift events)."""
    ensure_drift_tables(con)
    known = {row[0] for row in con.execute(
        f"SELECT field FROM {STATE_SCHEMA}.schema_fields WHERE channel = ? AND stream = ?", [channel, stream]
    ).fetchall()}
    added = sorted(fields - known) if known else []
    if fields:
        names = sorted(fields)
        seen = pa.table({"channel": [channel] * len(names), "stream": [stream] * len(names), "field": names,  # noqa: F841 - read by DuckDB (replacement scan of the name)
                         "first_seen_at": [observed_at] * len(names), "last_seen_at": [observed_at] * len(names)})
        con.execute(f"""INSERT INTO {STATE_SCHEMA}.schema_fields SELECT * FROM seen
                        ON CONFLICT (channel, stream, field) DO UPDATE SET last_seen_at = excluded.last_seen_at""")
    if added:
        _insert_drift(con, channel, stream, None, added, "added",
                      "a field the API did not send before (kept in _record)", observed_at)
    # A clean landing settles earlier rejections of this stream.
    con.execute(
        f"DELETE FROM {STATE_SCHEMA}.schema_drift WHERE channel = ? AND stream = ? AND change = 'rejected_by_api'",
        [channel, stream],
    )
    return added


def record_rejection(
    con: duckdb.DuckDBPyConnection, channel: str, stream: str, account: str | None, fields: Iterable[str], detail: str
) -> None:
    ensure_drift_tables(con)
    now = dt.datetime.now(dt.UTC)
    _insert_drift(con, channel, stream, account, list(fields), "rejected_by_api", detail, now)


def _insert_drift(con: duckdb.DuckDBPyConnection, channel: str, stream: str, account: str | None,
                  fields: list[str], change: str, detail: str, observed_at: dt.datetime) -> None:
    n = len(fields)
    events = pa.table({"channel": [channel] * n, "stream": [stream] * n, "account_id": pa.array([account] * n, pa.string()),  # noqa: F841 - read by DuckDB (replacement scan of the name)
                       "field": fields, "change": [change] * n, "detail": [detail] * n, "observed_at": [observed_at] * n})
    con.execute(f"INSERT INTO {STATE_SCHEMA}.schema_drift SELECT * FROM events")
