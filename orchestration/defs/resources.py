"""The build database as a Dagster resource."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from orchestration.config import Settings
from orchestration.warehouse_lock import hold_warehouse

# Two DuckDB 2.0 optimizers keep a filter on a partition column from reaching
# a window (`qualify row_number() over (partition by key order by _synced_at
# desc) = 1`, every staging model's), so an incremental night that reads the
# re-pulled days of a staging view would window the whole history:
# - top_n_window_elimination rewrites the window into an aggregate over the
#   whole table joined back by rowid: 3.1 s against 0.36 s at 10M rows;
# - partitioned_execution splits a large table's window by key ranges, each
#   windowed whole: 29.6 s against 0.26 s at 50M rows.
# Also in dbt_project/profiles.yml (config_options), for dbt's own builds.
DISABLED_OPTIMIZERS = "top_n_window_elimination,partitioned_execution"


class BuildDatabase(DuckDBResource):
    """DuckDBResource whose connection is closed when the step fails, too,
    whose session time zone is the reporting one, never the host's TZ, and
    whose memory is capped at warehouse.memory_limit (spilling to the temp dir).

    The database stays open for the whole run (`setup_for_execution` to
    `teardown_after_execution`) and each step's connection is a cursor on it:
    opening the file and checkpointing it on close cost 50-70 ms, paid once
    per run instead of once per step (a nightly has 50 steps). A step that
    hands the file to another process (dbt) calls `release()` first.

    The run holds its warehouse (orchestration/warehouse_lock.py) from
    `setup_for_execution` to `teardown_after_execution`, so that a run the
    daemon or the UI launches and a `socialmart run` never build one
    warehouse at once: the second fails at its start, naming the first. The
    CLI's runs find the lock held by their own process already.

    dagster-duckdb closes its connection only after a clean exit. The failed
    step's traceback keeps the open connection alive, and DuckDB then refuses
    any other connection to the file with other settings (the summary's
    read-only row count after a failed run) until it is garbage-collected.
    """

    timezone: str = "UTC"
    memory_limit: str = "80%"  # validated in config.py
    temp_directory: str = ""
    warehouse_dir: str = ""  # held for the run; "" holds nothing (tests of single steps)
    _hold: ExitStack | None = PrivateAttr(default=None)
    _open: ExitStack | None = PrivateAttr(default=None)
    _database: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._hold = ExitStack()
        try:
            if self.warehouse_dir:
                run = context.run
                holder = f"dagster run {run.run_id} of {run.job_name}" if run else "dagster"
                self._hold.enter_context(hold_warehouse(Path(self.warehouse_dir), holder))
            self._open = ExitStack()
            self._database = self._open.enter_context(super().get_connection())
            self._configure_database(self._database)
        except BaseException:
            self.teardown_after_execution(context)
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.release()
        if self._hold is not None:
            self._hold.close()
            self._hold = None

    def release(self) -> None:
        """Close the run's open database (for another process); later
        connections open the file each time."""
        if self._open is not None:
            self._open.close()
            self._open = self._database = None

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with ExitStack() as scope:
            if self._database is not None:
                con = self._database.cursor()
            else:
                con = scope.enter_context(super().get_connection())
                self._configure_database(con)
            try:
                # A session setting: every connection's own.
                con.execute(f"SET TimeZone = '{self.timezone}'")
                yield con
            finally:
                con.close()

    def _configure_database(self, con: duckdb.DuckDBPyConnection) -> None:
        """The database's settings, once when it opens: DuckDB refuses to set
        temp_directory again once anything has spilled into it."""
        # Validated values (config.py); SET takes no parameters.
        con.execute(f"SET memory_limit = '{self.memory_limit}'")
        con.execute(f"SET disabled_optimizers = '{DISABLED_OPTIMIZERS}'")
        if self.temp_directory:
            quoted = self.temp_directory.replace("'", "''")
            con.execute(f"SET temp_directory = '{quoted}'")


def build_database(settings: Settings) -> BuildDatabase:
    """The runs' build database: the warehouse's file, held for each run."""
    return BuildDatabase(database=str(settings.build_db), warehouse_dir=str(settings.warehouse_dir),
                         timezone=settings.reporting_timezone, memory_limit=settings.memory_limit,
                         temp_directory=str(settings.duckdb_temp_dir))
