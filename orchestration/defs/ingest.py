"""Ingest assets: one per (channel, stream), keyed [raw_<channel>, <channel>__<stream>].

The dbt sources (source raw_<channel>, table <stream>) get the same keys from
the translator (defs/transform.py), so dagster-dbt links raw -> staging.

The assets are not partitioned: the days a run pulls are in its run config
(resource `ingest_window`, see `IngestWindow`), so a run over 90 days is one
step per stream with one materialization each, recorded with the window it
pulled (metadata `window`, `date_range`). Daily partitions would make Dagster
plan and record every stream once per day of the range: minutes of
bookkeeping before the first API call of a long range.
"""


import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_duckdb import DuckDBResource

from connectors import CONNECTORS
from connectors.base import ChannelSettings, Stream
from connectors.http import ApiError
from orchestration.config import Settings
from orchestration.ingest import sync_stream
from orchestration.landing import raw_asset_name, raw_asset_path
from orchestration.progress import Event, report
from orchestration.quality.results import CheckResult, record_results
from orchestration.run_tags import NIGHTLY_TAG, SNAPSHOT_DATE_TAG
from orchestration.sandbox_config import serve_embedded_sandbox
from orchestration.window import pull_window

WINDOW_RESOURCE = "ingest_window"


class IngestWindow(dg.ConfigurableResource):
    """The days an ingest run pulls, both ends included (YYYY-MM-DD).

    Set per run in its config: `resources: {ingest_window: {config: {start: ..., end: ...}}}`
    (the CLI, the schedule and the backfill do). Left empty, as when raw
    assets are materialized from the UI without config, it is the nightly
    window: `end` yesterday in the reporting time zone, and each channel from
    its own lookback start.
    """

    start: str | None = None
    end: str | None = None

    def days(self, channel: ChannelSettings, settings: Settings, nightly: bool) -> tuple[dt.date, dt.date]:
        """The window this channel pulls. In a nightly run (tagged NIGHTLY_TAG)
        the configured window is the widest channel's: each channel narrows it
        to its own lookback."""
        start = _day(self.start, "start") if self.start else None
        window = pull_window(settings, start=start, end=_day(self.end, "end") if self.end else None,
                             nightly=nightly or start is None, channel=channel)
        if start is not None and start > window.end:
            raise dg.Failure(f"run config resources.{WINDOW_RESOURCE}.config: start {start} is after end {window.end}")
        return window.start, window.end


def _day(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise dg.Failure(f"run config resources.{WINDOW_RESOURCE}.config.{field}: must be a date YYYY-MM-DD, got {value!r}") from None


def window_run_config(start: dt.date, end: dt.date) -> dict:
    """The run config of an ingest run over [start, end]."""
    return {"resources": {WINDOW_RESOURCE: {"config": {"start": start.isoformat(), "end": end.isoformat()}}}}


def ingest_asset(channel: ChannelSettings, stream: Stream, settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(raw_asset_path(channel.name, stream.name)),
        group_name=f"raw_{channel.name}",
        description=stream.description,
        kinds={"python", "duckdb"},
        tags={"layer": "raw", "channel": channel.name},
        metadata={"natural_key": ", ".join(stream.key), "window_column": stream.date_column or "(whole account)"},
    )
    def _ingest(context: dg.AssetExecutionContext, duckdb: DuckDBResource, ingest_window: IngestWindow) -> dg.MaterializeResult:
        start, end = ingest_window.days(channel, settings, nightly=NIGHTLY_TAG in context.run.tags)
        if serve_embedded_sandbox(settings):  # the default config: this process serves the APIs
            context.log.info(f"serving the embedded API sandbox at {settings.fx.base_url}")
        with duckdb.get_connection() as con:
            try:
                result = sync_stream(
                    con, channel, stream.name, start, end, policy=settings.http, snapshot_date=run_snapshot_date(context, settings),
                    progress=lambda event: _progress(context, event),
                )
            except ApiError as err:
                if err.rejected_fields:
                    # Schema drift the API announced by refusing the request:
                    # on the run's check record, named, before the step fails.
                    record_results(con, context.run.run_id, [CheckResult(
                        raw_asset_name(channel.name, stream.name), "schema_drift", "schema_drift", False, description=str(err),
                        sample=[{"rejected_field": name} for name in err.rejected_fields],
                    )])
                raise
        return dg.MaterializeResult(metadata={
            # The days asked for (what a backfill resumes by); date_range is
            # what was pulled (FX from earlier, snapshots only today).
            "window": f"{start}..{end}",
            **result.metadata(), "dagster/row_count": result.rows, "accounts": len(channel.accounts),
        })

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


def _progress(context: dg.AssetExecutionContext, event: Event) -> None:
    # Into the run's event log (the UI) and to the CLI's display and run log.
    context.log.info(event.line())
    report(event)


def channel_of(raw_key: dg.AssetKey) -> str:
    """[raw_meta_ads, meta_ads__insights] -> meta_ads"""
    return raw_key.path[0].removeprefix("raw_")


def ingest_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    return [
        ingest_asset(channel, stream, settings)
        for channel in settings.sources.values()
        for stream in CONNECTORS[channel.name].streams.values()
    ]


def landed_days(instance: dg.DagsterInstance, key: dg.AssetKey) -> set[dt.date]:
    """Every day some recorded materialization of this raw asset pulled (its `window`)."""
    days: set[dt.date] = set()
    cursor = None
    while True:
        page = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1000, cursor=cursor)
        for record in page.records:
            window = record.asset_materialization.metadata.get("window")
            if window is not None:
                first, last = (dt.date.fromisoformat(day) for day in window.value.split(".."))
                days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        if not page.has_more:
            return days
        cursor = page.cursor
