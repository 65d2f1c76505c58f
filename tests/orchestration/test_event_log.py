"""orchestration/event_log.py: the instance's event log on a real SQLite file."""

from __future__ import annotations

import sqlite3

from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import SQLITE_EVENT_LOG_FILENAME

from orchestration.event_log import EventLogStorage


def test_has_table_sees_dagsters_tables_and_one_added_later(tmp_path):
    storage = EventLogStorage(str(tmp_path))
    try:
        assert storage.has_table("asset_check_executions") and storage.supports_asset_checks
        assert not storage.has_table("added_by_a_later_migration")
        with sqlite3.connect(tmp_path / f"{SQLITE_EVENT_LOG_FILENAME}.db") as con:
            con.execute("CREATE TABLE added_by_a_later_migration (id INTEGER)")
        assert storage.has_table("added_by_a_later_migration"), "a table absent once must be looked for again"
    finally:
        storage.dispose()
