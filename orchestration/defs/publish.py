"""Publish, then advance the cursors: two assets, one step each.

The publish asset runs only after every upstream mart built and passed its
tests; the cursor asset only after the publish of the same run (its
dependency, and `advance_cursors` checks the published file carries the
run's id). A failed publish skips the cursor step; a failed cursor step
leaves the publish standing and its cursors pending, advanced by the next
run (orchestration/publish.py). The KPI report of the published file is its
own asset downstream (defs/report.py).
"""


import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import progress
from orchestration.config import Settings
from orchestration.publish import advance_cursors, guard_published_file, history_losses, publish_marts
from orchestration.quality.results import blocking_failures, record_results
from orchestration.run_tags import ALLOW_SHRINK_TAG

PUBLISH_KEY = dg.AssetKey(["published", "marketing_duckdb"])
CURSORS_KEY = dg.AssetKey(["published", "ingest_cursors"])


def publish_asset(settings: Settings, marts: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISH_KEY,
        deps=marts,
        group_name="published",
        kinds={"duckdb"},
        tags={"layer": "published"},
        description=f"The BI file {settings.published_db.name}: the marts, swapped in atomically after the audit.",
    )
    def _publish(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            blocked = blocking_failures(con, context.run.run_id)
            if blocked:
                # Dagster already skips this step after a blocking check fails;
                # this guards runs that select publish without the audit.
                raise dg.Failure("not publishing: blocking checks failed:\n" + "\n".join(r.summary_line() for r in blocked))
            guard_published_file(settings.published_db)
            history = history_losses(con, settings.published_db, context.run.tags.get(ALLOW_SHRINK_TAG) == "true")
            record_results(con, context.run.run_id, history)
            shrunk = [r for r in history if r.blocks_publish]
            if shrunk:
                raise dg.Failure("not publishing: published history would be lost:\n" + "\n".join(r.summary_line() for r in shrunk))
            result = publish_marts(con, settings.published_db, context.run.run_id)
        line = f"publish: {result.describe()}"
        context.log.info(line)
        progress.steps.info(line)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": len(result.tables),
                **{f"rows.{name}": rows for name, rows in result.tables.items()},
            }
        )

    return _publish


def cursors_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=CURSORS_KEY,
        deps=[PUBLISH_KEY],
        group_name="published",
        kinds={"duckdb"},
        tags={"layer": "published"},
        description="The ingestion cursors (_socialmart.sync_state): moved to the windows this run landed, "
        "once its publish put them in BI's hands.",
    )
    def _cursors(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            cursors = advance_cursors(con, settings.published_db, context.run.run_id)
        line = f"cursors: {cursors} advanced"
        context.log.info(line)
        progress.steps.info(line)
        return dg.MaterializeResult(metadata={"cursors_advanced": cursors})

    return _cursors
