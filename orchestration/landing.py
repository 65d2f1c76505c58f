"""Raw landing: Arrow batches -> `raw_<channel>.<stream>` tables in build.duckdb.

Contract:
- A sync replaces the synced window of each account in ONE transaction:
  delete the window's rows, insert the new ones, record the window as
  pending (snapshot streams: the same day's snapshots of the objects pulled).
  A re-run of the same window never duplicates; a failure rolls everything
  back, so no partial window lands. Cursors (sync_state) move only when a
  publish promotes the pending windows: a failed run moves none.
- Every landed window is also logged in `landed_windows`, in the same
  transaction as its rows: the cursor keeps only the furthest window, while
  the marts need every day ever pulled (a day pulled with no rows is a day the
  API reported nothing: no posts, not an unknown day).
- Loads go through Arrow (`INSERT ... SELECT FROM` a registered Arrow table),
  never row by row.
- Identifiers come from the connector registry and are quoted; values are
  always bound parameters.
- `_synced_at` records when the rows were pulled; restated values show as a
  later `_synced_at` on the same natural key.
- Restatement history: every dated stream (not the snapshots, which keep
  their history by date) also has `raw_<channel>.<stream>__versions`, append
  only: each pull adds the rows whose values differ from the rows it replaces
  (a first pull adds all of them), with their `_synced_at`, in the same
  transaction. Re-pulling unchanged days adds nothing, so a nightly re-pull of
  the lookback grows it only by what the API restated. A version holds the
  typed values and `_synced_at`, not `_record`: the raw table keeps the
  current wire record, and a second copy of every record's JSON would double
  what a first pull writes (and a 50M-row history's disk) for no model. Days
  before the pulled window (outside the lookback: settled) are compacted to
  their first and their latest version. `fct_ad_restatements` is plain window SQL over
  it, on every engine (no dbt snapshot).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Quarantined, Stream
from orchestration.families import ensure_family_tables

STATE_SCHEMA = "_socialmart"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def raw_table(channel: str, stream: str) -> str:
    return f"{quote('raw_' + channel)}.{quote(stream)}"


def raw_asset_path(channel: str, stream: str) -> list[str]:
    """The asset key of a raw table: [raw_<channel>, <channel>__<stream>].
    The Dagster UI labels an asset by its key's last part alone, so that part
    names the channel too ("meta_ads__insights", not one of several "insights")."""
    return [f"raw_{channel}", f"{channel}__{stream}"]


def raw_asset_name(channel: str, stream: str) -> str:
    """The raw asset as check records and reports name it: raw_<channel>/<channel>__<stream>."""
    return "/".join(raw_asset_path(channel, stream))


_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
}


def duckdb_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    return _DUCKDB_TYPES[arrow_type]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing. A COMMIT that fails (a full disk) has already ended the
    transaction: the original error is the one worth reporting, not the
    ROLLBACK's "no transaction is active"."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass
        raise


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    """The pipeline's own tables. sync_state: the cursor per (channel, stream,
    account) as of the last publish. A landing records its window in sync_state_pending; the publish
    promotes it (`promote_sync_state`), so a run that fails anywhere, before
    or after landing, advances no cursor."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    for table in ("sync_state", "sync_state_pending"):
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.{table} (
                channel VARCHAR NOT NULL, stream VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
                window_start DATE, window_end DATE, rows BIGINT NOT NULL,
                synced_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (channel, stream, account_id))"""
        )
    # Every window landed, per (channel, stream, account): the raw tables hold
    # exactly what these windows returned, so this log describes the raw
    # data (kept with it, not with the cursor). is_snapshot: the window is the
    # pull day of lifetime counters, not a span of days the API reported on.
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.landed_windows (
            channel VARCHAR NOT NULL, stream VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
            window_start DATE NOT NULL, window_end DATE NOT NULL, is_snapshot BOOLEAN NOT NULL,
            rows BIGINT NOT NULL, synced_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (channel, stream, account_id, window_start, window_end))"""
    )
    # Records whose values did not parse: held back from the raw table with the
    # reason, until a later pull of the same window parses cleanly.
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.quarantine (
            channel VARCHAR NOT NULL, stream VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
            window_start DATE, window_end DATE, columns VARCHAR NOT NULL, reason VARCHAR NOT NULL,
            record VARCHAR NOT NULL, synced_at TIMESTAMPTZ NOT NULL)"""
    )


# A cursor never moves back: a backfill of older days after (or before) a
# nightly keeps the nightly's window as the furthest synced one.
_FURTHEST_WINDOW = """
    window_start = CASE WHEN excluded.window_end >= window_end OR window_end IS NULL THEN excluded.window_start ELSE window_start END,
    rows = CASE WHEN excluded.window_end >= window_end OR window_end IS NULL THEN excluded.rows ELSE rows END,
    window_end = CASE WHEN excluded.window_end >= window_end OR window_end IS NULL THEN excluded.window_end ELSE window_end END,
    synced_at = excluded.synced_at"""


def promote_sync_state(con: duckdb.DuckDBPyConnection) -> int:
    """Advance the cursors of everything landed since the last publish."""
    ensure_state_table(con)
    with transaction(con):
        moved = con.execute(f"SELECT count(*) FROM {STATE_SCHEMA}.sync_state_pending").fetchone()[0]
        con.execute(f"""INSERT INTO {STATE_SCHEMA}.sync_state SELECT * FROM {STATE_SCHEMA}.sync_state_pending
                        ON CONFLICT (channel, stream, account_id) DO UPDATE SET {_FURTHEST_WINDOW}""")
        con.execute(f"DELETE FROM {STATE_SCHEMA}.sync_state_pending")
    return moved


def landed_spans(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], list[tuple[dt.date, dt.date]]]:
    """(channel, stream, account) -> every window of days landed for it (not
    the snapshot days): what the raw tables hold, whatever was published."""
    if not _has_table(con, STATE_SCHEMA, "landed_windows"):
        return {}
    spans: dict[tuple[str, str, str], list[tuple[dt.date, dt.date]]] = {}
    for channel, stream, account, first, last in con.execute(
            f"SELECT channel, stream, account_id, window_start, window_end FROM {STATE_SCHEMA}.landed_windows WHERE NOT is_snapshot"
    ).fetchall():
        spans.setdefault((channel, stream, account), []).append((first, last))
    return spans


VERSIONS_SUFFIX = "__versions"
RECORD = "_record"  # the wire record's column: in the raw table, not in its versions


def versions_table_name(stream: str) -> str:
    return stream + VERSIONS_SUFFIX


def keeps_versions(stream: Stream) -> bool:
    """Dated streams are re-pulled over a lookback and restated; snapshot
    streams keep every day's snapshot in the raw table itself."""
    return stream.date_column is not None and not stream.snapshot


def ensure_raw_table(con: duckdb.DuckDBPyConnection, channel: str, stream: Stream) -> None:
    """Create the table (and its versions table), or add columns a newer connector version types."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote('raw_' + channel)}")
    columns = [(f.name, duckdb_type(f.type)) for f in stream.arrow_schema] + [("_synced_at", "TIMESTAMPTZ")]
    table = raw_table(channel, stream.name)
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{quote(n)} {t}' for n, t in columns)})")
    _add_missing_columns(con, channel, stream.name, columns)
    if keeps_versions(stream):
        versions = versions_table_name(stream.name)
        if not _has_table(con, "raw_" + channel, versions):
            # A warehouse from before versions were kept: its rows are every day's first version.
            con.execute(f"CREATE TABLE {raw_table(channel, versions)} AS SELECT * EXCLUDE ({quote(RECORD)}) FROM {table}")
        _add_missing_columns(con, channel, versions, [(n, t) for n, t in columns if n != RECORD])


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def _add_missing_columns(con: duckdb.DuckDBPyConnection, channel: str, table_name: str, columns: list[tuple[str, str]]) -> None:
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            ["raw_" + channel, table_name],
        ).fetchall()
    }
    for name, sql_type in columns:
        if name not in existing:
            con.execute(f"ALTER TABLE {raw_table(channel, table_name)} ADD COLUMN {quote(name)} {sql_type}")


def ensure_all_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every known stream's table, synced or not: dbt's sources must exist even
    for channels this configuration does not use (their staging is empty)."""
    from connectors import CONNECTORS

    ensure_state_table(con)
    ensure_family_tables(con, STATE_SCHEMA)  # the configured families: dbt's `families` source
    for channel, connector in CONNECTORS.items():
        for stream in connector.streams.values():
            ensure_raw_table(con, channel, stream)


@dataclass
class Landed:
    rows: int
    rows_by_account: dict[str, int]
    quarantined: int = 0


def replace_window(
    con: duckdb.DuckDBPyConnection,
    channel: str,
    stream: Stream,
    batches_by_account: dict[str, list[pa.RecordBatch]],
    start: dt.date,
    end: dt.date,
    synced_at: dt.datetime,
    quarantined: Sequence[Quarantined] = (),
) -> Landed:
    """Replace [start, end] of every account given, all or nothing; the
    window's quarantine is replaced by `quarantined` in the same transaction."""
    ensure_state_table(con)
    ensure_raw_table(con, channel, stream)
    table = raw_table(channel, stream.name)
    incoming_by_account = {account: pa.Table.from_batches(batches, schema=stream.arrow_schema)
                           for account, batches in batches_by_account.items()}
    rows_by_account = {account: incoming.num_rows for account, incoming in incoming_by_account.items()}
    with transaction(con):
        if keeps_versions(stream):
            _replace_dated(con, channel, stream, incoming_by_account, start, end, synced_at)
        else:
            for account, incoming in incoming_by_account.items():
                con.register("incoming_batch", incoming)
                try:
                    if stream.snapshot:
                        # Replace the objects this pull snapshotted; other objects'
                        # snapshots of the same day (from a wider pull) stay.
                        matches = " AND ".join(f"t.{quote(k)} = i.{quote(k)}" for k in stream.key)
                        con.execute(f"DELETE FROM {table} AS t USING incoming_batch AS i WHERE {matches}")
                    else:
                        con.execute(f"DELETE FROM {table} WHERE account_id = ?", [account])
                    con.execute(f"INSERT INTO {table} BY NAME SELECT *, ?::TIMESTAMPTZ AS _synced_at FROM incoming_batch",
                                [synced_at])
                finally:
                    con.unregister("incoming_batch")
        _record_windows(con, channel, stream, rows_by_account, start, end, synced_at, quarantined)
    return Landed(sum(rows_by_account.values()), rows_by_account, len(quarantined))


def _replace_dated(
    con: duckdb.DuckDBPyConnection, channel: str, stream: Stream, incoming_by_account: dict[str, pa.Table],
    start: dt.date, end: dt.date, synced_at: dt.datetime,
) -> None:
    """Replace [start, end] of every account at once: each statement covers
    all the accounts (one pass over the rows, not one statement per account;
    each account's window is its own: nothing crosses accounts), and the rows
    are read from Arrow once per table they land in."""
    for account, incoming in incoming_by_account.items():
        if incoming.num_rows:
            _refuse_rows_outside(incoming, stream, channel, account, start, end)
    if not incoming_by_account:
        return
    table = raw_table(channel, stream.name)
    incoming = pa.concat_tables(incoming_by_account.values())
    con.register("landed_accounts", pa.table({"account_id": pa.array(list(incoming_by_account), pa.string())}))
    try:
        _record_versions(con, channel, stream, incoming, start, end, synced_at)
        con.execute(f"""DELETE FROM {table} WHERE account_id IN (SELECT account_id FROM landed_accounts)
                        AND {quote(stream.date_column)} BETWEEN ? AND ?""", [start, end])
        con.register("incoming_batch", incoming)
        con.execute(f"INSERT INTO {table} BY NAME SELECT *, ?::TIMESTAMPTZ AS _synced_at FROM incoming_batch", [synced_at])
    finally:
        con.unregister("incoming_batch")
        con.unregister("landed_accounts")


def _record_versions(
    con: duckdb.DuckDBPyConnection, channel: str, stream: Stream, incoming: pa.Table,
    start: dt.date, end: dt.date, synced_at: dt.datetime,
) -> None:
    """Append the incoming rows (of the accounts in `landed_accounts`) that are not
    already the current version of their key, then compact the accounts'
    settled days (before the window) to their first and latest version.
    Values are compared on the typed columns: `_record` keeps the wire
    record, whose key order or formatting is no restatement. So the changed
    rows are found on the typed columns alone and taken from Arrow, and land
    without their JSON: DuckDB reads the records' JSON once, into the raw table."""
    table, versions = raw_table(channel, stream.name), raw_table(channel, versions_table_name(stream.name))
    day = quote(stream.date_column)
    values = [quote("account_id")] + [quote(f.name) for f in stream.schema]
    # A key is per account (a stream's key may leave the account out).
    keys = [quote(k) for k in dict.fromkeys(("account_id", *stream.key))]
    typed = ", ".join(values)
    con.register("incoming_typed", incoming.select(["account_id", *stream.schema.names]).append_column(
        "_row", pa.array(np.arange(incoming.num_rows))))
    try:
        # EXCEPT hashes whole rows: faster than an anti-join comparing column by column.
        changed = con.execute(
            f"""SELECT i._row FROM incoming_typed AS i
            SEMI JOIN (SELECT {typed} FROM incoming_typed
                       EXCEPT SELECT {typed} FROM {table}
                       WHERE account_id IN (SELECT account_id FROM landed_accounts) AND {day} BETWEEN ? AND ?) AS changed
            ON {" AND ".join(f"i.{k} IS NOT DISTINCT FROM changed.{k}" for k in keys)}
            -- One version per key and pull: a pull that repeats a key (flagged by the
            -- raw unique_key audit, which blocks that run) must not leave the
            -- history with two versions at one _synced_at once the API recovers.
            QUALIFY row_number() OVER (PARTITION BY {", ".join(f"i.{k}" for k in keys)}
                                       ORDER BY {", ".join(f"i.{v}" for v in values)}, i._row) = 1
            ORDER BY i._row""",
            [start, end],
        ).fetchnumpy()["_row"]
        if len(changed) < incoming.num_rows:  # else every row is a new version (a first pull): no copy
            mask = np.zeros(incoming.num_rows, dtype=bool)
            mask[changed] = True
            incoming = incoming.filter(mask)  # keeps the order, and the chunks (a take copies them)
        con.register("incoming_versions", incoming.drop_columns([RECORD]))
        con.execute(f"INSERT INTO {versions} BY NAME SELECT *, ?::TIMESTAMPTZ AS _synced_at FROM incoming_versions",
                    [synced_at])
    finally:
        con.unregister("incoming_typed")
        con.unregister("incoming_versions")
    key_list = ", ".join(keys)
    con.execute(
        f"""DELETE FROM {versions} AS v USING (
                SELECT {key_list}, _synced_at FROM (
                    SELECT {key_list}, _synced_at,
                           row_number() OVER (PARTITION BY {key_list} ORDER BY _synced_at) AS version,
                           count(*) OVER (PARTITION BY {key_list}) AS versions
                    FROM {versions} WHERE account_id IN (SELECT account_id FROM landed_accounts) AND {day} < ?)
                WHERE version > 1 AND version < versions) AS middle
            WHERE {" AND ".join(f"v.{k} = middle.{k}" for k in keys)} AND v._synced_at = middle._synced_at""",
        [start],
    )


def _record_windows(
    con: duckdb.DuckDBPyConnection, channel: str, stream: Stream, rows_by_account: dict[str, int],
    start: dt.date, end: dt.date, synced_at: dt.datetime, quarantined: Sequence[Quarantined],
) -> None:
    """Each account's window: its quarantine replaced by its held records, its
    pending cursor and its landed window; one statement for all the accounts
    (each row is one account's: nothing crosses accounts)."""
    accounts = list(rows_by_account)
    n = len(accounts)
    if not n:
        return
    timestamps = pa.timestamp("us", tz="UTC")
    windows = pa.table({
        "channel": [channel] * n, "stream": [stream.name] * n, "account_id": accounts,
        "window_start": pa.array([start] * n, pa.date32()), "window_end": pa.array([end] * n, pa.date32()),
        "is_snapshot": [stream.snapshot] * n, "rows": pa.array(list(rows_by_account.values()), pa.int64()),
        "synced_at": pa.array([synced_at] * n, timestamps),
    })
    # Through Arrow like every other landing: one insert, not one per record.
    order = {account: i for i, account in enumerate(accounts)}
    held = sorted((q for q in quarantined if q.account_id in order), key=lambda q: order[q.account_id])
    held_rows = pa.table({
        "channel": [channel] * len(held), "stream": [stream.name] * len(held), "account_id": [q.account_id for q in held],
        "window_start": pa.array([start] * len(held), pa.date32()), "window_end": pa.array([end] * len(held), pa.date32()),
        "columns": [", ".join(sorted({p.column for p in q.problems})) for q in held],
        "reason": [q.reason for q in held], "record": [q.record for q in held],
        "synced_at": pa.array([synced_at] * len(held), timestamps),
    }, schema=pa.schema([("channel", pa.string()), ("stream", pa.string()), ("account_id", pa.string()),
                         ("window_start", pa.date32()), ("window_end", pa.date32()), ("columns", pa.string()),
                         ("reason", pa.string()), ("record", pa.string()), ("synced_at", timestamps)]))
    con.register("landed_windows_rows", windows)
    con.register("held_rows", held_rows)
    try:
        con.execute(
            f"""DELETE FROM {STATE_SCHEMA}.quarantine WHERE channel = ? AND stream = ?
                AND account_id IN (SELECT account_id FROM landed_windows_rows)
                AND (window_start IS NULL OR window_start BETWEEN ? AND ?)""",
            [channel, stream.name, start, end],
        )
        con.execute(f"INSERT INTO {STATE_SCHEMA}.quarantine SELECT * FROM held_rows")
        con.execute(
            f"""INSERT INTO {STATE_SCHEMA}.sync_state_pending
                (channel, stream, account_id, window_start, window_end, rows, synced_at)
                SELECT channel, stream, account_id, window_start, window_end, rows, synced_at FROM landed_windows_rows
                ON CONFLICT (channel, stream, account_id) DO UPDATE SET {_FURTHEST_WINDOW}"""
        )
        con.execute(
            f"""INSERT INTO {STATE_SCHEMA}.landed_windows
                SELECT channel, stream, account_id, window_start, window_end, is_snapshot, rows, synced_at
                FROM landed_windows_rows
                ON CONFLICT (channel, stream, account_id, window_start, window_end)
                DO UPDATE SET rows = excluded.rows, synced_at = excluded.synced_at"""
        )
    finally:
        con.unregister("landed_windows_rows")
        con.unregister("held_rows")


def _refuse_rows_outside(table: pa.Table, stream: Stream, channel: str, account: str, start: dt.date, end: dt.date) -> None:
    """Rows outside the window would survive the next window's delete: refuse them."""
    dates = table.column(stream.date_column)
    low, high = pc.min(dates).as_py(), pc.max(dates).as_py()
    if low is None:
        return
    if low < start or high > end:
        raise ValueError(
            f"{channel}.{stream.name} account {account}: the API returned days {low}..{high} "
            f"outside the requested window {start}..{end}"
        )
