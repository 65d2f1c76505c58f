"""Opening build.duckdb before a run: fail at once when it is unusable."""

from __future__ import annotations

import duckdb

from orchestration.config import Settings
from orchestration.publish import complete_interrupted_publish


class BuildDatabaseUnusable(RuntimeError):
    """build.duckdb cannot be opened: corrupt, or held by another process."""


def open_build_database(settings: Settings) -> None:
    """Fail at once when build.duckdb cannot be opened (dagster-duckdb would
    retry its connection for minutes per asset), and finish a publish that a
    killed process left half done (`complete_interrupted_publish`)."""
    path = settings.build_db
    if not path.exists():
        return
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        if "Could not set lock" in str(exc):
            raise BuildDatabaseUnusable(
                f"{path} is in use by another process ({exc}); wait for it to finish, then run again"
            ) from None
        raise BuildDatabaseUnusable(
            f"{path} cannot be opened: {exc}\n"
            f"It is damaged. Move it aside (mv {path} {path}.damaged) and run `socialmart backfill` over the "
            f"history to rebuild it; the published file {settings.published_db} still holds the last good state."
        ) from None
    with con:
        complete_interrupted_publish(con, settings.published_db)
