"""Publish: the audited marts become the BI file, swapped in whole.

Contract: the published file `marketing.duckdb` is only ever replaced by
rename. The new file is written beside it under a temporary name, fully
checkpointed and fsynced, then `os.replace`d over the old one. A BI reader
holding the old file open keeps reading the old inode; a new connection sees
the new file. Nobody ever sees a half-written warehouse, and a failure before
the rename leaves the published file byte-identical.

The new file starts as a byte copy of the last publish, and only what
differs is written into it: in a daily mart (one with a DATE `date_day`),
the days whose rows differ from the build's (count and a sum of row hashes
per day); the other marts and `meta` whole. The day fingerprints of what it
published are recorded in the build database with the published file's
identity (inode, size, mtime, ctime): while the file is still that inode,
unmodified, the next publish compares with the record instead of reading
every row of the copy. A night at 50M rows of history copies the
file and rewrites a few days instead of writing every row again. The copy
is used only when it is exactly what a publish leaves (`_not_patchable`):
anything a writer added (a view, a macro, a comment, another schema), another
storage version, or a file that is mostly free space makes the publish write
a new file, every mart whole. Either way the swapped file holds the build's
marts row for row, and nothing else.

A reader that connects during the swap may pair the last publish's header
with the new file's blocks: DuckDB 2.0 reads a file's headers through one open
(its header prefetch) and its blocks through another, each by name. So the
new file keeps every block the last publish's header names, byte for byte,
and such a reader sees the last publish whole:
- it starts as a copy of the last publish and is checkpointed exactly once,
  when it is detached (no automatic checkpoint during the publish: a second
  one could reuse blocks the first one freed, the last publish's among them);
  DuckDB's checkpoint writes only into blocks free before it, so a crash
  mid-checkpoint leaves the old header valid;
- it is never shorter than the last publish's blocks: DuckDB truncates free
  blocks at a file's end, and the publish puts the last publish's bytes back
  there (`_keep_last_blocks`). Those blocks are free in the new file.
A publish that writes a new file (`_not_patchable`) cannot keep them: a reader
connecting at that instant may get an error from DuckDB.

What else stands between the audited marts and BI:
- A symlinked `marketing.duckdb` is published through: the link's target is
  replaced (staged in the target's directory), the link stays.
- DuckDB keeps a writer's uncheckpointed edits in `<file>.wal` and replays
  that file onto whatever database later has the name. A process holding
  the published file read-write refuses the publish (BI opens it read-only);
  a `.wal` left by a writer that is gone holds edits nobody audited, and is
  removed as part of the swap.
- Staged files of a publish that was killed are removed by the next publish.
- The history check (`history_losses`): a mart that would lose days outside
  the windows this run landed (build.duckdb lost, then a short run) blocks the
  publish unless the run allows it (`--allow-shrink`).
- Publish and cursor advance are two steps, one after the other in a run.
  `publish_marts` records the run's intent, then swaps the file (a signal
  received meanwhile waits for the swap). `advance_cursors` moves the cursors
  only once the published file carries the run's id. A run stopped between
  the two (a failed cursor step, a killed process) is completed by the next
  run (`complete_interrupted_publish`) from what the published file says;
  its landed windows are re-pulled by the next night's lookback anyway, so
  nothing is lost either way.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import re
import shutil
import signal
import struct
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.landing import STATE_SCHEMA, ensure_state_table, promote_sync_state, quote, transaction
from orchestration.quality.results import CheckResult, ensure_results_table
from orchestration.warehouse_lock import process_alive

log = logging.getLogger("socialmart.publish")

PUBLISHED_SCHEMAS = ("marts",)
# What `publish` writes into the schema `meta`, besides the published schemas.
META_TABLES = ("publish_info", "check_results", "sync_state")
# The oldest storage format that holds the marts: BI drivers bundle DuckDB
# releases older than ours (Metabase, Superset, ODBC/JDBC).
PUBLISHED_STORAGE = "v1.0.0"
# A copy of the last publish whose blocks are more than this share free (the
# space of rewritten days, reused by later writes but never given back), and
# at least this many bytes, is not patched: the publish writes a new, compact
# file instead. (A small file is cheap to copy, free space and all.)
MAX_FREE_SHARE = 0.25
MIN_FREE_BYTES = 64 * 2**20
# DuckDB's file layout: a main header and two database headers of 4 KiB, then the blocks.
DUCKDB_HEADERS_SIZE = 3 * 4096
# The checkpoint threshold while a publish writes: never reached, so the file is checkpointed once, at its detach.
NO_AUTOMATIC_CHECKPOINT = "1000 TB"
COPY_CHUNK = 16 * 2**20
# In the build database: the day fingerprints of the daily marts as the last
# publish wrote them, and that file's identity right after its swap.
PUBLISHED_DAYS = f"{STATE_SCHEMA}.published_days"
PUBLISHED_FILE = f"{STATE_SCHEMA}.published_file"
# Temporary: this publish's day fingerprints of the build's daily marts.
BUILT_DAYS = "publish_built_days"
# The check recorded on every daily mart before its publish.
HISTORY_CHECK = "history_kept"
# `.marketing.duckdb.<pid>-<hex>.tmp`: the pid tells a live publish from a killed one.
STAGING = re.compile(r"^\.(?P<name>.+)\.(?:(?P<pid>\d+)-)?[0-9a-f]{32}\.tmp(?:\.wal)?$")


class PublishRefused(RuntimeError):
    """The published file cannot be replaced safely; nothing was published."""


@dataclass
class Published:
    path: Path
    tables: dict[str, int]
    published_at: dt.datetime
    # Why the publish wrote a new file, every mart whole; None when it patched a copy of the last publish.
    written_new_because: str | None = None
    # When patched: each daily mart kept from the last publish -> how many of its days were rewritten.
    days_rewritten: dict[str, int] = field(default_factory=dict)
    # When patched: were the days compared with the fingerprints recorded at the last publish (the file was
    # untouched since), rather than with the copy's rows?
    compared_with_record: bool = False

    def describe(self) -> str:
        """One line for the run's log: what was written, and how."""
        line = f"{len(self.tables)} tables to {self.path}"
        if self.written_new_because is not None:
            return f"{line} (written whole: {self.written_new_because})"
        changed = sum(1 for days in self.days_rewritten.values() if days)
        return (f"{line} (the last publish, patched: {sum(self.days_rewritten.values())} day(s) rewritten in {changed} "
                f"of {len(self.days_rewritten)} daily marts, {len(self.tables) - len(self.days_rewritten)} other marts whole)")


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def published_target(published_db: Path) -> Path:
    """The file that holds the published bytes: the link's target when the name is a symlink."""
    return Path(os.path.realpath(published_db))


def writer_pid(path: Path) -> int | None:
    """The pid of a process holding `path` open read-write through DuckDB, if any.

    DuckDB takes a whole-file fcntl lock: exclusive for a read-write
    connection, shared for a read-only one. Asking (F_GETLK, which takes
    nothing) whether a shared lock could be set finds writers only, and the
    kernel names the holder."""
    if not path.exists():
        return None
    query = struct.pack("hhqqi4x", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
    fd = os.open(path, os.O_RDONLY)
    try:
        kind, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else pid


def wal_files(published_db: Path) -> list[Path]:
    """Where DuckDB keeps uncheckpointed edits of the published file: beside
    its target (DuckDB resolves links), or beside the name it was opened by."""
    names = {Path(f"{published_db}.wal"), Path(f"{published_target(published_db)}.wal")}
    return sorted(name for name in names if name.exists())


def guard_published_file(published_db: Path) -> None:
    """Refuse while a writer holds the published file; remove what dead writers
    and killed publishes left behind (a stale .wal, staged .tmp files)."""
    target = published_target(published_db)
    pid = writer_pid(target)
    if pid is not None:
        raise PublishRefused(
            f"{target} is open read-write by process {pid}: its edits would be replayed onto the published marts. "
            f"BI tools must open it read-only (read_only=True / ACCESS_MODE READ_ONLY); close that connection, "
            f"then run again. Nothing was published; the file still holds the last publish."
        )
    for wal in wal_files(published_db):
        log.warning(f"removing {wal}: edits a writer left on the published file that no check ever audited "
                    f"(the published file is only written by socialmart; BI opens it read-only)")
        wal.unlink(missing_ok=True)
    remove_stale_staging(target)


def remove_stale_staging(target: Path) -> list[Path]:
    """Staged files beside `target` whose publishing process is gone."""
    removed = []
    for path in target.parent.glob(f".{target.name}.*.tmp*"):
        match = STAGING.match(path.name)
        if not match or match["name"] != target.name:
            continue
        if match["pid"] and process_alive(int(match["pid"])):
            continue
        log.info(f"removing {path}: staged by a publish that was killed")
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def publish(con: duckdb.DuckDBPyConnection, published_db: Path, run_id: str | None = None) -> Published:
    """Write every table of the published schemas from the build connection into a copy of the last
    publish (only what differs) or a new file (everything), then swap it in."""
    published_db.parent.mkdir(parents=True, exist_ok=True)
    guard_published_file(published_db)
    destination = published_target(published_db)
    staging = destination.with_name(f".{destination.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")
    published_at = dt.datetime.now(dt.UTC)
    alias = "publishing"
    _ensure_published_record(con)
    identity = _identity(destination)
    recorded = identity is not None and identity == _recorded_identity(con, destination)
    checkpoint_threshold = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    con.execute(f"SET checkpoint_threshold = '{NO_AUTOMATIC_CHECKPOINT}'")
    try:
        written_new_because = _attach_staging(con, destination, staging, alias, identity)
        patch = written_new_because is None
        last_blocks_end = _blocks_end(con, alias, identity[1]) if patch else 0
        tables, days_rewritten = _write_marts(con, alias, patch, recorded=patch and recorded)
        con.execute(f"DROP SCHEMA IF EXISTS {alias}.meta CASCADE")
        con.execute(f"CREATE SCHEMA {alias}.meta")
        con.execute(
            f"CREATE TABLE {alias}.meta.publish_info AS SELECT ?::TIMESTAMPTZ AS published_at, ? AS run_id, ? AS tables",
            [published_at, run_id, ", ".join(f"{k}={v}" for k, v in tables.items())],
        )
        # What BI needs to judge the numbers: the checks of the run that
        # cleared them, and the cursors as of this publish (the state tables: `_ensure_published_record`).
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
        _keep_last_blocks(destination, staging, last_blocks_end)
        _fsync(staging)
        # A .wal that appeared since the guard would be replayed onto the new file.
        for wal in wal_files(published_db):
            wal.unlink(missing_ok=True)
        # Whatever happens from here, the record must not vouch for a file it does not describe.
        con.execute(f"DELETE FROM {PUBLISHED_FILE}")
        os.replace(staging, destination)
        _fsync(destination.parent)
        _record_published(con, destination)
    except BaseException:
        try:
            con.execute(f"DETACH DATABASE IF EXISTS {alias}")
        finally:
            staging.unlink(missing_ok=True)
            Path(f"{staging}.wal").unlink(missing_ok=True)
        raise
    finally:
        con.execute(f"SET checkpoint_threshold = '{checkpoint_threshold}'")
        con.execute(f"DROP TABLE IF EXISTS temp.main.{BUILT_DAYS}")
    return Published(destination, tables, published_at, written_new_because, days_rewritten, patch and recorded)


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a file is replaced or written: inode, size, mtime and ctime (which no user can set)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def _ensure_published_record(con: duckdb.DuckDBPyConnection) -> None:
    ensure_state_table(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS {PUBLISHED_DAYS} (mart VARCHAR, date_day DATE, n BIGINT, h HUGEINT)")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {PUBLISHED_FILE} (
                    path VARCHAR, inode UBIGINT, size UBIGINT, mtime_ns BIGINT, ctime_ns BIGINT)""")


def _recorded_identity(con: duckdb.DuckDBPyConnection, destination: Path) -> tuple[int, int, int, int] | None:
    row = con.execute(f"SELECT inode, size, mtime_ns, ctime_ns FROM {PUBLISHED_FILE} WHERE path = ?",
                      [str(destination)]).fetchone()
    return tuple(row) if row else None


def _record_published(con: duckdb.DuckDBPyConnection, destination: Path) -> None:
    """Record the fingerprints of what was just published, with the file's identity. The publish stands
    without it: a failure here (a full disk) only makes the next publish read its copy's rows."""
    try:
        with transaction(con):
            con.execute(f"DELETE FROM {PUBLISHED_DAYS}")
            con.execute(f"INSERT INTO {PUBLISHED_DAYS} SELECT mart, date_day, n, h FROM {BUILT_DAYS}")
            con.execute(f"INSERT INTO {PUBLISHED_FILE} VALUES (?, ?, ?, ?, ?)", [str(destination), *_identity(destination)])
    except duckdb.Error as exc:
        log.warning(f"published {destination}, but could not record its day fingerprints ({exc}): "
                    f"the next publish compares with the rows of its copy instead")


def _attach_staging(con: duckdb.DuckDBPyConnection, destination: Path, staging: Path, alias: str,
                    identity: tuple[int, int, int, int] | None) -> str | None:
    """Attach the file this publish writes as `alias`: a copy of the last publish when it can be patched
    (returns None), else a new file (returns why the copy could not be used). `identity`: the published
    file's, taken before the copy."""
    why = _copy_last_publish(destination, staging, identity)
    if why is None:
        try:
            con.execute(f"ATTACH {sql_string(str(staging))} AS {alias} (STORAGE_VERSION '{PUBLISHED_STORAGE}')")
            why = _not_patchable(con, alias)
        except duckdb.Error as exc:
            why = f"the last publish does not open as a DuckDB file of storage version {PUBLISHED_STORAGE}: {exc}"
        if why is not None:
            con.execute(f"DETACH DATABASE IF EXISTS {alias}")
            staging.unlink(missing_ok=True)
            Path(f"{staging}.wal").unlink(missing_ok=True)
    if why is not None:
        con.execute(f"ATTACH {sql_string(str(staging))} AS {alias} (STORAGE_VERSION '{PUBLISHED_STORAGE}')")
    return why


def _copy_last_publish(destination: Path, staging: Path, identity: tuple[int, int, int, int] | None) -> str | None:
    """Copy the published file's bytes to `staging`; returns why there is no usable copy, or None."""
    if identity is None:
        return "there is no published file yet"
    _copy_file(destination, staging)
    if _identity(destination) != identity or writer_pid(destination) is not None:
        staging.unlink(missing_ok=True)
        return "the published file changed while it was copied"
    return None


def _copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def _blocks_end(con: duckdb.DuckDBPyConnection, alias: str, size: int) -> int:
    """Where the blocks named by the header of attached, untouched copy `alias` end in a file of `size` bytes.
    The header counts blocks DuckDB truncated after writing it, so the file's size caps it."""
    total_blocks, block_size = con.execute(
        "SELECT total_blocks, block_size FROM pragma_database_size() WHERE database_name = ?", [alias]).fetchone()
    return min(size, DUCKDB_HEADERS_SIZE + total_blocks * block_size)


def _keep_last_blocks(last_publish: Path, staging: Path, end: int) -> None:
    """Put back the last publish's bytes up to `end` that the new file's checkpoint truncated: free blocks of
    the new file, read by a reader holding the last publish's header (see the module's docstring)."""
    offset = staging.stat().st_size
    if offset >= end:
        return
    with open(last_publish, "rb") as source, open(staging, "r+b") as target:
        source.seek(offset)
        target.seek(offset)
        while offset < end:
            chunk = source.read(min(COPY_CHUNK, end - offset))
            if not chunk:
                raise OSError(f"{last_publish} ended at byte {offset}, before the {end} its header names")
            target.write(chunk)
            offset += len(chunk)


def _not_patchable(con: duckdb.DuckDBPyConnection, alias: str) -> str | None:
    """Why the attached copy of the last publish must not be patched, or None: it must have the published storage
    version, be mostly live data, and hold nothing but what a publish writes (`_unpublished_objects`)."""
    version = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?",
                          [alias]).fetchone()[0]
    if version != f"{PUBLISHED_STORAGE}+":
        return f"the last publish has storage version {version}, not {PUBLISHED_STORAGE}+"
    total, free, block_size = con.execute(
        "SELECT total_blocks, free_blocks, block_size FROM pragma_database_size() WHERE database_name = ?", [alias]).fetchone()
    if free > MAX_FREE_SHARE * total and free * block_size >= MIN_FREE_BYTES:
        return f"{free} of the last publish's {total} blocks are free space: a new file is compact"
    foreign = _unpublished_objects(con, alias)
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        return f"the last publish holds what no publish writes: {', '.join(foreign[:5])}{more}"
    return None


def _unpublished_objects(con: duckdb.DuckDBPyConnection, alias: str) -> list[str]:
    """Everything in catalog `alias` that `publish` does not create: a publish creates the schemas of
    PUBLISHED_SCHEMAS and `meta`, and in them plain tables (CREATE TABLE AS: no constraint, default,
    comment or index), `meta`'s being META_TABLES. A writer's additions make the copy unusable."""
    schemas = ", ".join(sql_string(s) for s in (*PUBLISHED_SCHEMAS, "meta"))
    meta_tables = ", ".join(sql_string(t) for t in META_TABLES)
    queries = {
        "schema": f"""SELECT schema_name FROM duckdb_schemas() WHERE database_name = $db
                      AND ((NOT internal AND schema_name NOT IN ({schemas})) OR comment IS NOT NULL)""",
        "table": f"""SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = $db
                     AND (schema_name NOT IN ({schemas}) OR (schema_name = 'meta' AND table_name NOT IN ({meta_tables}))
                          OR comment IS NOT NULL OR temporary)""",
        "column": """SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns()
                     WHERE database_name = $db
                     AND (comment IS NOT NULL OR column_default IS NOT NULL OR NOT is_nullable OR is_generated)""",
        "constraint": """SELECT schema_name || '.' || table_name || ' ' || constraint_type FROM duckdb_constraints()
                         WHERE database_name = $db""",
        "index": "SELECT schema_name || '.' || index_name FROM duckdb_indexes() WHERE database_name = $db",
        "view": "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = $db AND NOT internal",
        "macro": """SELECT DISTINCT schema_name || '.' || function_name FROM duckdb_functions()
                    WHERE database_name = $db AND NOT internal""",
        "sequence": "SELECT schema_name || '.' || sequence_name FROM duckdb_sequences() WHERE database_name = $db",
        "type": "SELECT schema_name || '.' || type_name FROM duckdb_types() WHERE database_name = $db AND NOT internal",
    }
    return [f"{kind} {name}" for kind, query in queries.items()
            for (name,) in con.execute(query + " ORDER BY 1", {"db": alias}).fetchall()]


def _write_marts(con: duckdb.DuckDBPyConnection, alias: str, patch: bool,
                 recorded: bool) -> tuple[dict[str, int], dict[str, int]]:
    """Write the build's published schemas into catalog `alias`. Patching a copy of the last publish, a daily
    mart with the same columns keeps its days whose rows are the build's and rewrites the others (compared
    with the recorded fingerprints when `recorded`, else with the copy's rows); every other table is written
    whole, and tables the build no longer has are dropped. Every daily mart's fingerprints go to BUILT_DAYS.
    Returns (rows per table, days rewritten per patched daily mart)."""
    tables: dict[str, int] = {}
    days_rewritten: dict[str, int] = {}
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BUILT_DAYS} (mart VARCHAR, date_day DATE, n BIGINT, h HUGEINT)")
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{quote(schema)}")
        built = _columns(con, con.execute("SELECT current_database()").fetchone()[0], schema)
        published = _columns(con, alias, schema) if patch else {}
        for name in sorted(published.keys() - built.keys()):
            con.execute(f"DROP TABLE {alias}.{quote(schema)}.{quote(name)}")
        for name, columns in sorted(built.items()):
            mart = f"{schema}.{name}"
            source = f"{quote(schema)}.{quote(name)}"
            target = f"{alias}.{quote(schema)}.{quote(name)}"
            daily = ("date_day", "DATE") in columns
            if daily:
                con.execute(f"INSERT INTO {BUILT_DAYS} SELECT ?, date_day, n, h FROM ({_fingerprints(source)})", [mart])
            if daily and published.get(name) == columns:
                recorded_days = f"SELECT date_day, n, h FROM {PUBLISHED_DAYS} WHERE mart = {sql_string(mart)}"
                days_rewritten[mart] = _rewrite_changed_days(
                    con, mart, source, target, recorded_days if recorded else _fingerprints(target))
            else:
                con.execute(f"DROP TABLE IF EXISTS {target}")
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            tables[f"{schema}.{name}"] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    return tables, days_rewritten


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """table -> its (column, type) in order, for the base tables of `catalog`.`schema`."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        """SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c
           JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
           WHERE c.database_name = ? AND c.schema_name = ? ORDER BY c.table_name, c.column_index""",
        [catalog, schema],
    ).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _fingerprints(table: str) -> str:
    """Per day of `table`: its row count and the sum of its rows' hashes. The sum (not an XOR) of 64-bit row
    hashes counts a duplicated row; any edit of a value, a NULL for a 0 included, changes it. It guards
    against edits and mistakes, not a forger of hash collisions."""
    return f"SELECT date_day, count(*) AS n, sum(hash(*COLUMNS(*))::HUGEINT) AS h FROM {table} GROUP BY date_day"


def _rewrite_changed_days(con: duckdb.DuckDBPyConnection, mart: str, source: str, target: str, published: str) -> int:
    """Make daily table `target` hold `source`'s rows, rewriting only the days (`date_day`, NULL being one)
    whose fingerprints in BUILT_DAYS differ from those of query `published` (the copy's, or the record's).
    Returns how many days were rewritten."""
    changed = "publish_changed_days"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {changed} AS
                    SELECT coalesce(built.date_day, published.date_day) AS date_day
                    FROM (SELECT date_day, n, h FROM {BUILT_DAYS} WHERE mart = {sql_string(mart)}) built
                    FULL JOIN ({published}) published ON built.date_day IS NOT DISTINCT FROM published.date_day
                    WHERE built.n IS DISTINCT FROM published.n OR built.h IS DISTINCT FROM published.h""")
    try:
        days = con.execute(f"SELECT count(*) FROM {changed}").fetchone()[0]
        if days:
            on_changed_day = (f"(date_day IN (SELECT date_day FROM {changed}) "
                              f"OR (date_day IS NULL AND EXISTS (SELECT 1 FROM {changed} WHERE date_day IS NULL)))")
            con.execute(f"DELETE FROM {target} WHERE {on_changed_day}")
            con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {on_changed_day}")
        return days
    finally:
        con.execute(f"DROP TABLE {changed}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- history


def history_losses(con: duckdb.DuckDBPyConnection, published_db: Path, allow_shrink: bool = False) -> list[CheckResult]:
    """Compare the marts about to be published with the published ones: a daily
    mart (one with `date_day`) that loses a day, per channel where it has one,
    outside every window this run landed has lost history (build.duckdb was
    lost or replaced, then a short run rebuilt it). One `history_kept` result
    per daily mart; a loss blocks the publish unless `allow_shrink`."""
    target = published_target(published_db)
    if not target.exists():
        return []
    ensure_state_table(con)
    alias = "previously_published"
    con.execute(f"ATTACH {sql_string(str(target))} AS {alias} (READ_ONLY)")
    try:
        # Days inside a window this run landed may change: the API restates them.
        landed = con.execute(f"""SELECT channel, window_start, window_end FROM {STATE_SCHEMA}.sync_state_pending
                                 WHERE window_start IS NOT NULL AND window_end IS NOT NULL""").fetchall()
        before = _daily_marts(con, alias)
        now = _daily_marts(con, current := con.execute("SELECT current_database()").fetchone()[0])
        results = []
        for mart, columns in sorted(before.items()):
            keys = ["date_day"] + (["channel"] if "channel" in columns and "channel" in now.get(mart, set()) else [])
            if mart not in now:
                lost = con.execute(f"SELECT count(DISTINCT date_day) FROM {alias}.marts.{quote(mart)}").fetchone()[0]
                sample = [{"mart": mart, "problem": "missing from the new build"}]
            else:
                key_list = ", ".join(quote(k) for k in keys)
                lost_rows = con.execute(
                    f"""SELECT {key_list} FROM {alias}.marts.{quote(mart)}
                        EXCEPT SELECT {key_list} FROM {quote(current)}.marts.{quote(mart)}
                        ORDER BY ALL""").fetchall()
                lost_rows = [r for r in lost_rows if r[0] is not None and not _landed(landed, r[0], r[1] if len(r) > 1 else None)]
                lost = len(lost_rows)
                sample = [dict(zip(keys, (str(v) for v in r), strict=False)) for r in lost_rows[:5]]
            passed = lost == 0
            if passed:
                why = "No day of the published history is lost."
            else:
                why = (f"{lost} day(s){' per channel' if len(keys) > 1 else ''} published before would be lost, outside "
                       f"the windows this run landed (was build.duckdb lost or replaced? `socialmart backfill` the "
                       f"history back, or run with --allow-shrink to publish the shorter history on purpose)")
                if allow_shrink:
                    why += "; published anyway: --allow-shrink"
            results.append(CheckResult(f"marts/{mart}", HISTORY_CHECK, "completeness", passed,
                                       severity="WARN" if allow_shrink else "ERROR",
                                       description=why, failing_rows=lost, sample=sample))
        return results
    finally:
        con.execute(f"DETACH {alias}")


def _landed(windows: list[tuple[str, dt.date, dt.date]], day: dt.date, channel: str | None) -> bool:
    """Is `day` inside a window this run landed, of `channel` (of any channel's but FX's, whose windows open
    two weeks early, when the mart has no channel column)?"""
    return any(start <= day <= end for landed_channel, start, end in windows
               if (landed_channel == channel if channel is not None else landed_channel != "fx"))


def _daily_marts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, set[str]]:
    """mart -> its column names, for the marts of `catalog` that have a `date_day`."""
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'marts'",
        [catalog],
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    return {table: names for table, names in columns.items() if "date_day" in names}


# --------------------------------------------------------------------------- publish, then cursors: two steps


class CursorsRefused(RuntimeError):
    """The published file is not this run's: its landed windows stay pending."""


def publish_marts(con: duckdb.DuckDBPyConnection, published_db: Path, run_id: str) -> Published:
    """Publish this run's marts. The run's id is recorded first in
    `_socialmart.publish_intent`: the cursor step clears it, and a run that
    never got there has its cursors advanced by the next one. SIGINT/SIGTERM
    received during the swap are delivered after it: a build that passed its
    audit is not thrown away in its last second."""
    ensure_state_table(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.publish_intent (run_id VARCHAR NOT NULL)")
    with transaction(con):
        con.execute(f"DELETE FROM {STATE_SCHEMA}.publish_intent")
        con.execute(f"INSERT INTO {STATE_SCHEMA}.publish_intent VALUES (?)", [run_id])
    with signals_deferred():
        return publish(con, published_db, run_id)


def advance_cursors(con: duckdb.DuckDBPyConnection, published_db: Path, run_id: str) -> int:
    """Advance the cursors of what was landed, once the published file holds
    run `run_id`'s marts; returns how many cursors moved."""
    published = published_run_id(published_db)
    if published != run_id:
        raise CursorsRefused(f"{published_target(published_db)} holds run {published}'s marts, not run {run_id}'s: "
                             f"cursors move only after this run's own publish; they stay where they were")
    return _advance(con)


def _advance(con: duckdb.DuckDBPyConnection) -> int:
    cursors = promote_sync_state(con)
    con.execute(f"DELETE FROM {STATE_SCHEMA}.publish_intent")
    return cursors


def publish_intent(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run that published and has not advanced its cursors yet, if any."""
    recorded = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'publish_intent'",
        [STATE_SCHEMA],
    ).fetchone()[0]
    row = con.execute(f"SELECT run_id FROM {STATE_SCHEMA}.publish_intent").fetchone() if recorded else None
    return row[0] if row else None


def complete_interrupted_publish(con: duckdb.DuckDBPyConnection, published_db: Path) -> str | None:
    """Advance the cursors of a run that published and stopped before its
    cursor step finished; returns that run's id, None when there was nothing to finish."""
    intent = publish_intent(con)
    if intent is None:
        return None
    if published_run_id(published_db) != intent:
        # Stopped before the rename: nothing was published, the cursors stay.
        con.execute(f"DELETE FROM {STATE_SCHEMA}.publish_intent")
        return None
    cursors = _advance(con)
    log.warning(f"run {intent} published {published_target(published_db)} and stopped before advancing "
                f"its cursors: advanced {cursors} now")
    return intent


def published_run_id(published_db: Path) -> str | None:
    """The run whose marts the published file holds (its meta.publish_info)."""
    target = published_target(published_db)
    if not target.exists():
        return None
    try:
        with duckdb.connect(str(target), read_only=True) as con:
            row = con.execute("SELECT run_id FROM meta.publish_info").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM received inside the block are delivered when it ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signo: signal.getsignal(signo) for signo in (signal.SIGINT, signal.SIGTERM)}
    for signo in previous:
        signal.signal(signo, lambda number, _frame: received.append(number))
    try:
        yield
    finally:
        for signo, handler in previous.items():
            signal.signal(signo, handler)
        if received:
            signal.raise_signal(received[0])
