"""The publish asset: runs only after every upstream mart built and passed its tests."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.config import Settings
from orchestration.landing import promote_sync_state
from orchestration.publish import publish

PUBLISH_KEY = dg.AssetKey(["published", "marketing_duckdb"])


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
            result = publish(con, settings.published_db, context.run.run_id)
            # Only now, with the audited marts in BI's hands, do cursors move.
            cursors = promote_sync_state(con)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": len(result.tables),
                "cursors_advanced": cursors,
                **{f"rows.{name}": rows for name, rows in result.tables.items()},
            }
        )

    return _publish
