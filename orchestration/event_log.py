"""The Dagster event log of socialmart's instance (`<warehouse>/.dagster`).

Dagster's consolidated SQLite event log, with two changes that make each
event cheap (a build records several hundred: planned and finished
materializations and checks):
- one SQLAlchemy engine per process, its connections pooled, instead of a
  new engine and connection for every event;
- `synchronous=NORMAL` on the WAL-mode database: a commit no longer waits
  for an fsync. SQLite's documented guarantee for WAL with NORMAL: the
  database stays consistent; a power cut may lose the last transactions,
  here the last events of a run (the warehouse itself is DuckDB's, not this);
- `has_table` answered from that engine and remembered once a table is
  there: Dagster asks it before storing every asset check event (over a
  thousand a build), each time through a new engine and connection.

Named in the instance's dagster.yaml (orchestration/instance.py), so the CLI,
the UI and the daemon all record through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
    SQLITE_EVENT_LOG_FILENAME,
    ConsolidatedSqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS, create_db_conn_string


class EventLogStorage(ConsolidatedSqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None) -> None:
        # Before the parent's set-up, which may already record.
        self._tables: set[str] = set()
        self._engine = db.create_engine(
            create_db_conn_string(base_dir, SQLITE_EVENT_LOG_FILENAME), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        db.event.listen(self._engine, "connect", _pragmas)
        super().__init__(base_dir, inst_data=inst_data)

    @contextmanager
    def _connect(self) -> Iterator[db.Connection]:
        with self._engine.connect() as conn:
            with conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Remembered only once present: tables are added (by Dagster's
        # migrations), never dropped, while a process runs.
        if table_name not in self._tables:
            with self._engine.connect() as conn:
                if self._engine.dialect.has_table(conn, table_name):
                    self._tables.add(table_name)
        return table_name in self._tables

    def dispose(self) -> None:
        self._engine.dispose()
        super().dispose()


def _pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
