"""The KPI report asset: the HTML page of the file just published, its own step downstream of publish."""

import traceback

import dagster as dg

from orchestration import progress
from orchestration.config import Settings
from orchestration.defs.publish import PUBLISH_KEY
from orchestration.report import report_path, write_report

REPORT_KEY = dg.AssetKey(["published", "kpi_report"])


def report_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=REPORT_KEY,
        deps=[PUBLISH_KEY],
        group_name="published",
        kinds={"html"},
        tags={"layer": "published"},
        description=f"The KPI report {report_path(settings.warehouse_dir)}, rendered from the published file alone.",
    )
    def _report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        metadata = _write_report(context, settings)
        if "report" in metadata:
            progress.steps.info(f"report: {metadata['report'].value}")
        return dg.MaterializeResult(metadata=metadata)

    return _report


def _write_report(context: dg.AssetExecutionContext, settings: Settings) -> dict[str, dg.MetadataValue]:
    """The KPI report of the file just published. The publish stands whatever happens here:
    a report that cannot be written is an error in the log and the metadata, not a failed run."""
    try:
        path = write_report(settings.published_db, report_path(settings.warehouse_dir))
    except Exception as exc:  # noqa: BLE001 - any report bug must leave the publish in place
        context.log.error(f"KPI REPORT NOT WRITTEN (the publish itself succeeded): {exc!r}\n{traceback.format_exc()}")
        return {"report_error": dg.MetadataValue.text(repr(exc))}
    return {"report": dg.MetadataValue.path(str(path))}
