"""Ingest assets: one per (channel, stream), keyed [raw_<channel>, <stream>].

The keys equal the dbt sources' (source name, table), so dagster-dbt links
raw -> staging lineage with no extra glue. All ingest assets share one daily
partitions definition with a single-run backfill policy: materializing a range
of days is ONE run that pulls the whole range in as few API calls as each API
allows, instead of one run per day.
"""


import datetime as dt
import logging
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_duckdb import DuckDBResource

from connectors import CONNECTORS
from connectors.base import ChannelSettings, Stream
from connectors.http import ApiError
from orchestration.config import Settings
from orchestration.ingest import sync_stream
from orchestration.quality.results import CheckResult, record_results
from orchestration.nightly import NIGHTLY_TAG, lookback_start
from orchestration.runner import SNAPSHOT_DATE_TAG

progress_log = logging.getLogger("socialmart.progress")


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=settings.history_start.isoformat(), timezone=settings.reporting_timezone
    )


def ingest_asset(channel: ChannelSettings, stream: Stream, partitions: dg.PartitionsDefinition, settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([f"raw_{channel.name}", stream.name]),
        group_name=f"raw_{channel.name}",
        description=stream.description,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"python", "duckdb"},
        tags={"layer": "raw", "channel": channel.name},
        metadata={"natural_key": ", ".join(stream.key), "window_column": stream.date_column or "(whole account)"},
    )
    def _ingest(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        window = context.partition_time_window
        start = window.start.date()
        end = (window.end - dt.timedelta(days=1)).date()  # the window's end is exclusive
        if NIGHTLY_TAG in context.run.tags:
            # The nightly run spans the widest channel lookback: this channel
            # re-pulls only its own (metadata date_range shows what it pulled).
            start = max(start, lookback_start(channel, end))
        with duckdb.get_connection() as con:
            try:
                result = sync_stream(
                    con, channel, stream.name, start, end, policy=settings.http, snapshot_date=run_snapshot_date(context, settings),
                    progress=lambda line: _progress(context, line),
                )
            except ApiError as err:
                if err.rejected_fields:
                    # Schema drift the API announced by refusing the request:
                    # on the run's check record, named, before the step fails.
                    record_results(con, context.run.run_id, [CheckResult(
                        f"raw_{channel.name}/{stream.name}", "schema_drift", "schema_drift", False, description=str(err),
                        sample=[{"rejected_field": name} for name in err.rejected_fields],
                    )])
                raise
        return dg.MaterializeResult(
            metadata={**result.metadata(), "dagster/row_count": result.rows, "accounts": len(channel.accounts)}
        )

    return _ingest


def run_snapshot_date(context: dg.AssetExecutionContext, settings: Settings) -> dt.date:
    """One snapshot day for every stream of a run, even a run crossing midnight:
    the CLI's (fixed once per invocation), else the day the run was created,
    in the reporting time zone."""
    tagged = context.run.tags.get(SNAPSHOT_DATE_TAG)
    if tagged:
        return dt.date.fromisoformat(tagged)
    created = context.instance.get_run_record_by_id(context.run.run_id).create_timestamp
    return created.astimezone(ZoneInfo(settings.reporting_timezone)).date()


def _progress(context: dg.AssetExecutionContext, line: str) -> None:
    # Into the run's event log (the UI) and onto the CLI's terminal.
    context.log.info(line)
    progress_log.info(line)


def ingest_assets(settings: Settings, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [
        ingest_asset(channel, stream, partitions, settings)
        for channel in settings.sources.values()
        for stream in CONNECTORS[channel.name].streams.values()
    ]
