"""Backfill: a long range of days, in monthly chunks, resumable, then one build.

Each chunk is one run of the ingest job over the chunk's days (its run
config: as few API calls as each API allows; the
connectors split further where an API caps a call's range, e.g. TikTok 30 days,
Facebook Pages 90, WeChat 7). A month bounds what one run holds in memory
(a stream is fetched whole before landing) and what a failure costs.

Resuming: a day of a raw asset counts as landed when a materialization the
Dagster instance recorded pulled it (by a backfill, a nightly, a `socialmart
run` or the UI: its `window` metadata) AND the raw table in build.duckdb
still holds it (`held_days`): Dagster's records outlive a lost or replaced
build.duckdb, the tables do not.
A chunk runs only the assets missing one of its days, and is skipped when none
is; so a rerun after a failure picks up at the failed assets of the failed
chunk. Cursors still move only at publish: the build after the last chunk
promotes everything landed.

Channel selection: `--channel NAME` backfills that channel plus FX, whose
rates every money column of the marts needs for the same days.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb

from connectors import CONNECTORS
from orchestration import progress
from orchestration.config import ConfigError, Settings
from orchestration.defs import BUILD_JOB, INGEST_JOB
from orchestration.defs.ingest import channel_of, landed_days, window_run_config
from orchestration.landing import STATE_SCHEMA, quote, raw_table
from orchestration.outcome import Outcome
from orchestration.runner import Pipeline, build_tags

# Value: the whole backfill range, "<start>..<end>".
BACKFILL_TAG = "socialmart/backfill"


def month_chunks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut at calendar month boundaries, inclusive chunks."""
    chunks = []
    cursor = start
    while cursor <= end:
        next_month = (cursor.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        chunk_end = min(end, next_month - dt.timedelta(days=1))
        chunks.append((cursor, chunk_end))
        cursor = chunk_end + dt.timedelta(days=1)
    return chunks


def days(start: dt.date, end: dt.date) -> set[dt.date]:
    """Every day of [start, end]."""
    return {start + dt.timedelta(days=i) for i in range((end - start).days + 1)}


def selected_channels(settings: Settings, channel: str | None) -> list[str]:
    if channel is None:
        return list(settings.sources)
    if channel not in settings.sources:
        raise ConfigError("command line", "--channel", f"{channel!r} is not configured (configured: {', '.join(settings.sources)})")
    return [channel] if channel == "fx" else [channel, "fx"]


def run_backfill(settings: Settings, config_path: Path, start: dt.date, end: dt.date, channel: str | None = None,
                 allow_shrink: bool = False) -> Outcome:
    channels = selected_channels(settings, channel)
    with Pipeline(settings, config_path, start, end, command="backfill") as pipeline:
        ingest = pipeline.defs.resolve_job_def(INGEST_JOB)
        assets = sorted((key for key in ingest.asset_layer.executable_asset_keys if channel_of(key) in channels),
                        key=lambda key: key.to_user_string())
        materialized = {key: landed_days(pipeline.instance, key) & held_days(settings.build_db, key, start, end)
                        for key in assets}
        chunks = month_chunks(start, end)
        progress.steps.info(f"backfill {start}..{end}: {len(chunks)} monthly chunk(s), channels {', '.join(channels)}")
        for number, (chunk_start, chunk_end) in enumerate(chunks, 1):
            label = f"chunk {number}/{len(chunks)} {chunk_start}..{chunk_end}"
            missing = [key for key in assets if not days(chunk_start, chunk_end) <= materialized[key]]
            if not missing:
                progress.steps.info(f"{label}: already materialized, skipped")
                continue
            progress.steps.info(f"{label}: {_describe(missing, len(assets))}")
            if not pipeline.execute(INGEST_JOB, {BACKFILL_TAG: f"{start}..{end}"}, assets=missing,
                                    run_config=window_run_config(chunk_start, chunk_end)):
                progress.steps.info(f"{label}: FAILED; run the same backfill again to resume from this chunk")
                return pipeline.finish(False)
        progress.steps.info(f"backfill {start}..{end}: every chunk landed; building, auditing, publishing")
        return pipeline.finish(pipeline.execute(BUILD_JOB, build_tags(allow_shrink)))


def held_days(build_db: Path, raw_key: dg.AssetKey, start: dt.date, end: dt.date) -> set[str]:
    """The days of [start, end] the raw table of `raw_key` holds: from its first
    to its last dated row, plus the windows its cursors record as landed (days
    without a row, say no post that day, inside a pulled window are landed).
    A snapshot or whole-account stream holds every day once it holds a row:
    its history cannot be pulled again. Nothing without build.duckdb."""
    channel = channel_of(raw_key)
    stream = CONNECTORS[channel].streams[raw_key.path[1].removeprefix(f"{channel}__")]
    if not build_db.exists():
        return set()
    table = raw_table(channel, stream.name)
    # Read-write, like every other connection of the pipeline to it: DuckDB
    # refuses two configurations of one file in one process.
    with duckdb.connect(str(build_db)) as con:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                             [f"raw_{channel}", stream.name]).fetchone()[0]
        if not exists:
            return set()
        if stream.snapshot or not stream.date_column:
            return days(start, end) if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] else set()
        spans = con.execute(f"SELECT min({quote(stream.date_column)}), max({quote(stream.date_column)}) FROM {table}").fetchall()
        for state in ("sync_state", "sync_state_pending"):
            if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                           [STATE_SCHEMA, state]).fetchone()[0]:
                spans += con.execute(f"SELECT window_start, window_end FROM {STATE_SCHEMA}.{state} WHERE channel = ? AND stream = ?",
                                     [channel, stream.name]).fetchall()
    held: set[str] = set()
    for first, last in spans:
        if first is not None and last is not None and first <= end and last >= start:
            held |= days(max(first, start), min(last, end))
    return held


def _describe(missing: list[dg.AssetKey], total: int) -> str:
    by_channel: dict[str, int] = {}
    for key in missing:
        by_channel[channel_of(key)] = by_channel.get(channel_of(key), 0) + 1
    streams = ", ".join(f"{name} ({count} stream{'s' if count > 1 else ''})" for name, count in by_channel.items())
    resumed = "" if len(missing) == total else f"; the other {total - len(missing)} already materialized"
    return f"pulling {streams}{resumed}"
