"""`socialmart backfill`: monthly chunks, a failure part-way, a rerun that
resumes without redoing what landed, one build at the end."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from connectors.base import ChannelSettings
from orchestration.backfill import BACKFILL_TAG, month_chunks, run_backfill, selected_channels
from orchestration.config import ConfigError, Settings, load_settings
from orchestration.defs import INGEST_JOB
from orchestration.instance import dagster_home
from orchestration.outcome import Outcome
from orchestration.sandbox_config import start_sandbox
from sandbox import Fault
from tests.ops.conftest import TODAY, run_cli, sandbox_config

D = dt.date


def test_month_chunks():
    assert month_chunks(D(2024, 1, 30), D(2024, 3, 2)) == [
        (D(2024, 1, 30), D(2024, 1, 31)), (D(2024, 2, 1), D(2024, 2, 29)), (D(2024, 3, 1), D(2024, 3, 2))]
    assert month_chunks(D(2025, 12, 31), D(2026, 1, 1)) == [(D(2025, 12, 31), D(2025, 12, 31)), (D(2026, 1, 1), D(2026, 1, 1))]
    assert month_chunks(D(2025, 5, 7), D(2025, 5, 7)) == [(D(2025, 5, 7), D(2025, 5, 7))]


def test_one_channel_comes_with_fx_and_an_unknown_one_is_refused(tmp_path):
    fx, meta = ChannelSettings("fx", "http://127.0.0.1:1", ["ECB"]), ChannelSettings("meta_ads", "http://127.0.0.1:1", ["act_1"])
    settings = Settings(None, "USD", "UTC", tmp_path, D(2024, 1, 1), fx=fx, channels={"meta_ads": meta})
    assert selected_channels(settings, "meta_ads") == ["meta_ads", "fx"]
    assert selected_channels(settings, "fx") == ["fx"]
    assert selected_channels(settings, None) == ["meta_ads", "fx"]
    with pytest.raises(ConfigError, match=r"--channel: 'tiktok_ads' is not configured \(configured: meta_ads, fx\)"):
        selected_channels(settings, "tiktok_ads")


def window_across_a_month_boundary() -> tuple[dt.date, dt.date]:
    """Six finished days, three on each side of a month's first day."""
    first = TODAY.replace(day=1)
    if (TODAY - first).days < 4:
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first - dt.timedelta(days=3), first + dt.timedelta(days=2)


class ProgressLines(logging.Handler):
    """What the terminal shows of a backfill's progress."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@dataclass
class Backfilled:
    config: Path
    settings: Settings
    failed: Outcome
    resumed: Outcome
    resumed_progress: list[str]


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory) -> Iterator[Backfilled]:
    """ga4 fails throughout the first backfill; the second resumes."""
    warehouse = tmp_path_factory.mktemp("backfill_warehouse")
    sandbox, generated = start_sandbox(warehouse, today=TODAY)
    start, end = window_across_a_month_boundary()
    handler = ProgressLines()
    logger = logging.getLogger("socialmart.progress")
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.delenv("DAGSTER_HOME", raising=False)
            config = sandbox_config(sandbox, generated, ["meta_ads", "ga4"])
            settings = load_settings(config)
            sandbox.inject(Fault(channel="ga4", kind="server_error", times=-1))
            failed = run_backfill(settings, config, start, end)
            sandbox.clear_faults()
            handler.lines.clear()
            resumed = run_backfill(settings, config, start, end)
            yield Backfilled(config, settings, failed, resumed, list(handler.lines))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        sandbox.stop()


def test_a_failed_chunk_stops_the_backfill_and_publishes_nothing(backfilled):
    failed = backfilled.failed
    assert not failed.success
    assert len(failed.run_ids) == 1  # the first chunk's ingest; no second chunk, no build
    assert any("raw_ga4__ga4__traffic" in failure and "HTTP 503" in failure for failure in failed.failures)
    assert "socialmart backfill FAILED" in failed.summary()


def test_the_rerun_resumes_at_what_is_missing(backfilled):
    start, end = window_across_a_month_boundary()
    first, second = month_chunks(start, end)
    progress = "\n".join(backfilled.resumed_progress)
    # meta_ads (4 streams) and fx landed in the failed attempt: only ga4 is redone.
    assert f"chunk 1/2 {first[0]}..{first[1]}: pulling ga4 (1 stream); the other 5 already materialized" in progress
    assert f"chunk 2/2 {second[0]}..{second[1]}: pulling fx (1 stream), ga4 (1 stream), meta_ads (4 streams)" in progress
    # Progress per channel, account and chunk.
    assert f"ga4.traffic 123456 {first[0]}..{first[1]}: " in progress
    assert f"meta_ads.insights act_1002 {second[0]}..{second[1]}: " in progress
    assert f"meta_ads.insights act_1002 {first[0]}..{first[1]}" not in progress
    assert backfilled.resumed.success, backfilled.resumed.summary()

    with dg.DagsterInstance.from_config(str(dagster_home(backfilled.settings))) as instance:
        # meta_ads's first-chunk days were materialized once, by the failed attempt.
        events = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(["raw_meta_ads", "meta_ads__insights"])), limit=10).records
        windows = [event.asset_materialization.metadata["window"].value for event in events]
        assert sorted(windows) == [f"{first[0]}..{first[1]}", f"{second[0]}..{second[1]}"]
        runs = instance.get_run_records(filters=dg.RunsFilter(job_name=INGEST_JOB, tags={BACKFILL_TAG: f"{start}..{end}"}))
        assert len(runs) == 3  # failed chunk 1, chunk 1's ga4, chunk 2


def test_the_resumed_backfill_publishes_every_day(backfilled):
    start, end = window_across_a_month_boundary()
    with duckdb.connect(str(backfilled.settings.published_db), read_only=True) as con:
        ads = con.execute("SELECT min(date_day), max(date_day), count(DISTINCT date_day) FROM marts.fct_ad_performance_daily").fetchone()
        pages = con.execute("SELECT min(date_day), max(date_day) FROM marts.fct_landing_page_daily").fetchone()
    assert ads == (start, end, 6) and pages == (start, end)
    with duckdb.connect(str(backfilled.settings.build_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM _socialmart.sync_state_pending").fetchone()[0] == 0


def test_backfill_cli_refuses_an_unconfigured_channel(backfilled):
    start, end = window_across_a_month_boundary()
    done = run_cli(["backfill", "--config", str(backfilled.config), "--start", str(start), "--end", str(end), "--channel", "wechat"],
                   backfilled.config.parent)
    assert done.returncode == 2
    assert "--channel: 'wechat' is not configured (configured: meta_ads, ga4, fx)" in done.stderr
