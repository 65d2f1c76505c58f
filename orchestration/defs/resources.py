"""The build database as a Dagster resource."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource


class BuildDatabase(DuckDBResource):
    """DuckDBResource whose connection is closed when the step fails, too,
    whose session time zone is the reporting one, never the host's TZ, and
    whose memory is capped at warehouse.memory_limit (spilling to the temp dir).

    dagster-duckdb closes its connection only after a clean exit. The failed
    step's traceback keeps the open connection alive, and DuckDB then refuses
    any other connection to the file with other settings (the summary's
    read-only row count after a failed run) until it is garbage-collected.
    """

    timezone: str = "UTC"
    memory_limit: str = "80%"  # validated in config.py
    temp_directory: str = ""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            try:
                # Validated values (config.py); SET takes no parameters.
                con.execute(f"SET TimeZone = '{self.timezone}'")
                con.execute(f"SET memory_limit = '{self.memory_limit}'")
                if self.temp_directory:
                    quoted = self.temp_directory.replace("'", "''")
                    con.execute(f"SET temp_directory = '{quoted}'")
                yield con
            finally:
                con.close()
