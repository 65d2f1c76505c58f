"""Pull one stream of one channel for every configured account and land it.

Plain code, called by the Dagster ingest assets and usable on its own. The
whole stream is fetched before anything is written, then landed in one
transaction: an API failure on the last account leaves the table (and the
sync state) exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from connectors import CONNECTORS
from connectors.base import ChannelSettings
from connectors.http import ApiError, RetryPolicy
from orchestration.landing import replace_window
from orchestration.progress import AccountPulled, Event, StreamLanded, report
from orchestration.quality.drift import record_fields, record_rejection, wire_fields
from orchestration.window import pull_window

log = logging.getLogger("socialmart.ingest")


@dataclass
class SyncResult:
    channel: str
    stream: str
    start: dt.date
    end: dt.date
    rows: int
    rows_by_account: dict[str, int]
    seconds: float
    api: dict[str, float] = field(default_factory=dict)
    quarantined: int = 0

    def metadata(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "rows_by_account": dict(self.rows_by_account),
            "quarantined_records": self.quarantined,
            "date_range": f"{self.start} .. {self.end}",
            "duration_seconds": round(self.seconds, 3),
            **self.api,
        }


def sync_stream(
    con: duckdb.DuckDBPyConnection,
    settings: ChannelSettings,
    stream_name: str,
    start: dt.date,
    end: dt.date,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[Event], None] = report,
    snapshot_date: dt.date | None = None,
) -> SyncResult:
    began = time.monotonic()
    connector_cls = CONNECTORS[settings.name]
    stream = connector_cls.streams[stream_name]
    connector = connector_cls(settings, policy=policy, sleep=sleep, snapshot_date=snapshot_date)
    window = pull_window(start=start, end=end, connector=connector_cls, stream=stream,
                         snapshot_date=connector.snapshot_date)
    start, end = window.start, window.end
    batches: dict[str, list[pa.RecordBatch]] = {}
    try:
        keys = [connector_cls.normalize_account(account) for account in settings.accounts]
        # The accounts come in order; a connector may pull the next one while
        # this one is typed, but an error is still this account's, at its turn.
        with closing(connector.read_accounts(stream_name, keys, start, end)) as pulled:
            for key in keys:
                account_began = time.monotonic()
                try:
                    _, batches[key] = next(pulled)
                except ApiError as err:
                    if err.rejected_fields:
                        record_rejection(con, settings.name, stream_name, key, err.rejected_fields, str(err))
                    raise
                progress(AccountPulled(settings.name, stream_name, key, sum(b.num_rows for b in batches[key]),
                                       time.monotonic() - account_began, f"{start}..{end}" if stream.date_column else ""))
    finally:
        connector.close()
    synced_at = dt.datetime.now(dt.UTC)
    start, end = window.replace_start, window.replace_end
    landed = replace_window(con, settings.name, stream, batches, start, end, synced_at, connector.quarantined)
    added = record_fields(con, settings.name, stream_name, wire_fields(b for bs in batches.values() for b in bs), synced_at)
    # Both are checks of the audit too (schema_drift, quarantine): reported in the summary.
    if added:
        log.info(f"{settings.name}.{stream_name}: new wire fields {', '.join(added)} (kept in _record; see _socialmart.schema_drift)")
    if landed.quarantined:
        log.warning(f"{settings.name}.{stream_name}: {landed.quarantined} records quarantined (unparseable values); "
                    f"see _socialmart.quarantine")
    seconds = time.monotonic() - began
    progress(StreamLanded(settings.name, stream_name, landed.rows, seconds))
    return SyncResult(
        settings.name, stream_name, start, end, landed.rows, landed.rows_by_account,
        seconds, connector.client.stats.as_dict(), landed.quarantined,
    )
