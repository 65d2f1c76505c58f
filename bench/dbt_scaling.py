"""Full-build scaling: one `dbt build` of every model, test and mart over 1M,
10M and 50M raw ad rows; its wall time and the peak memory of the dbt process.

The raw rows are written straight into the raw tables (the build is measured,
not the ingest): the sandbox world of as many Meta ad accounts as the row
count needs, over its whole 37-month history, computed by the world's own
vectorised generator (the numbers the API would serve, restatements
included) and inserted through Arrow. The accounts', campaigns' and ads'
rows come from the same world; GA4 (one property) and the ECB rates are
pulled from an in-process sandbox with `sync_stream`, as a run pulls them.
Organic channels stay empty (their models still build). `_record` (the
original JSON) is left null: no model reads it, and writing 50M JSON
documents would measure the generator, not the build.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa

from bench.common import meminfo_gib, say
from connectors.base import ChannelSettings
from connectors.fx import ACCOUNT as FX_ACCOUNT
from sandbox import Sandbox, World
from sandbox.world import scaled_world_specs

# The largest size is built twice from the same raw rows: with DuckDB's
# default memory limit (80% of the RAM) and with warehouse.memory_limit at
# this, spilling to the warehouse's duckdb_tmp (issue 15: it must complete).
LIMITED_MEMORY = "8GiB"
# The unlimited build peaked at 19.5 GiB on 23.5 GiB of RAM: DuckDB's default
# limit (80% of the RAM, 18.8 GiB) plus what it holds outside its buffer
# manager. On a machine shared with other work it runs only when that limit
# and this margin are available, rather than invite the OOM killer.
UNLIMITED_MARGIN_GIB = 1.5
ROWS_PER_ACCOUNT = 4_150  # insight rows of one ad account over the history (the two templates alternate)
ACCOUNTS_PER_CHUNK = 250  # ~1M rows generated and inserted at a time
_EPOCH = dt.date(1970, 1, 1).toordinal()


@dataclass
class BuildResult:
    ad_rows: int
    generate_seconds: float
    build_seconds: float | None  # None: the unlimited build was not run (too little memory free)
    peak_rss_bytes: int | None
    mart_rows: dict[str, int]
    slowest: list[tuple[str, float]]  # the build's slowest dbt nodes: (name, seconds)
    # The same rows built with memory_limit LIMITED_MEMORY (the largest size only): seconds, peak RSS, spilled bytes.
    limited: tuple[float, int, int] | None = None
    available_gib: float | None = None  # memory available when the unlimited build was due


def generate(build_db: Path, ad_rows: int) -> int:
    """Raw tables of a world with at least `ad_rows` insight rows; returns the exact count."""
    from orchestration.ingest import sync_stream
    from orchestration.landing import ensure_all_raw_tables

    accounts = max(2, -(-ad_rows // ROWS_PER_ACCOUNT))
    sandbox = Sandbox(seed=7)
    world = World(7, sandbox.world.today, **scaled_world_specs(accounts))
    synced_at = dt.datetime.now(dt.UTC)
    with duckdb.connect(str(build_db)) as con:
        con.execute("SET enable_progress_bar = false")  # the bench says what it does, in its log
        ensure_all_raw_tables(con)
        _insert(con, "raw_meta_ads.accounts", _account_rows(world), synced_at)
        _insert(con, "raw_meta_ads.campaigns", _campaign_rows(world), synced_at)
        _insert(con, "raw_meta_ads.ads", _ad_rows(world), synced_at)
        total = 0
        accounts_list = list(world.meta_accounts.values())
        for first in range(0, len(accounts_list), ACCOUNTS_PER_CHUNK):
            chunk = _insight_rows(world, accounts_list[first:first + ACCOUNTS_PER_CHUNK])
            _insert(con, "raw_meta_ads.insights", chunk, synced_at)
            total += chunk.num_rows
        # GA4 (the first property) and the ECB rates, pulled as a run pulls them.
        sandbox.world = world
        with sandbox:
            urls = sandbox.base_urls()
            ga4 = ChannelSettings("ga4", urls["ga4"], [next(iter(world.ga4_properties))], {"access_token": sandbox.token})
            sync_stream(con, ga4, "traffic", world.history_start, world.last_day, progress=lambda _: None)
            fx = ChannelSettings("fx", urls["fx"], [FX_ACCOUNT], options={"currencies": ["USD", "GBP"]})
            sync_stream(con, fx, "ecb_rates", world.fx_start, world.last_day, progress=lambda _: None)
    return total


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, synced_at: dt.datetime) -> None:
    con.register("generated", rows)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT *, ?::TIMESTAMPTZ AS _synced_at FROM generated", [synced_at])
    finally:
        con.unregister("generated")


def _account_rows(world: World) -> pa.Table:
    accounts = list(world.meta_accounts.values())
    return pa.table({
        "account_id": [a.id for a in accounts], "account_name": [a.name for a in accounts],
        "currency": [a.currency for a in accounts], "timezone_name": [a.timezone_name for a in accounts],
    })


def _campaign_rows(world: World) -> pa.Table:
    def at(day: dt.date | None, time: dt.time, tz: str) -> dt.datetime | None:
        return dt.datetime.combine(day, time, ZoneInfo(tz)).astimezone(dt.UTC) if day else None

    rows = []
    for a in world.meta_accounts.values():
        for c in a.campaigns:
            rows.append({"account_id": a.id, "campaign_id": c.id, "campaign_name": c.name, "objective": c.objective,
                         "status": c.status, "start_time": at(c.start, dt.time(9), a.timezone_name),
                         "stop_time": at(c.stop, dt.time(23, 59), a.timezone_name)})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("account_id", pa.string()), ("campaign_id", pa.string()), ("campaign_name", pa.string()),
        ("objective", pa.string()), ("status", pa.string()),
        ("start_time", pa.timestamp("s", tz="UTC")), ("stop_time", pa.timestamp("s", tz="UTC"))]))


def _ad_rows(world: World) -> pa.Table:
    rows = []
    for a in world.meta_accounts.values():
        for c in a.campaigns:
            for ad in c.ads:
                utm = {k: v[0] for k, v in parse_qs(ad.url_tags or "").items()}
                rows.append({"account_id": a.id, "ad_id": ad.id, "ad_name": ad.name, "campaign_id": c.id,
                             "url_tags": ad.url_tags, "utm_source": utm.get("utm_source"),
                             "utm_medium": utm.get("utm_medium"), "utm_campaign": utm.get("utm_campaign")})
    return pa.Table.from_pylist(rows)


def _insight_rows(world: World, accounts: list) -> pa.Table:
    """Every campaign-day of the accounts over the history, as Meta reports them now."""
    positions, ordinals, owners = [], [], []
    for k, account in enumerate(accounts):
        for first, n_days, campaigns in world.meta_segments(account, world.history_start, world.last_day):
            index = np.arange(n_days * len(campaigns))
            ordinals.append(first + index // len(campaigns))
            positions.append(np.array([world.campaign_position[c.id] for c in campaigns])[index % len(campaigns)])
            owners.append(np.full(len(index), k))
    positions, ordinals, owners = np.concatenate(positions), np.concatenate(ordinals), np.concatenate(owners)
    days = world.campaign_days(positions, ordinals, world.revision)
    ids = pa.array([c.id for c in world.campaign_list])
    names = pa.array([c.name for c in world.campaign_list])

    return pa.table({
        "account_id": pa.array([a.id for a in accounts]).take(owners),
        "date_day": pa.array(ordinals - _EPOCH, pa.int32()).cast(pa.date32()),
        "campaign_id": ids.take(positions),
        "campaign_name": names.take(positions),
        "spend": _cents(days.spend_cents),
        "impressions": days.impressions, "reach": days.reach, "clicks": days.clicks,
        "link_clicks": days.link_clicks,
        "conversion_action_type": pa.array(np.full(len(positions), "purchase")),
        "conversions": _cents(days.purchases * 100, pa.decimal128(18, 2)),
        "conversion_value": _cents(days.purchase_value_cents),
    })


def _cents(cents: np.ndarray, to: pa.DataType = pa.decimal128(18, 6)) -> pa.Array:  # noqa: B008 - an immutable Arrow type
    """Integer cents as decimal amounts (MONEY by default), exactly: a decimal's
    storage is its unscaled 128-bit integer, so cents are a DECIMAL(18, 2) as they stand."""
    cents = np.asarray(cents, dtype=np.int64)
    unscaled = np.empty((len(cents), 2), dtype=np.int64)
    unscaled[:, 0], unscaled[:, 1] = cents, cents >> 63  # little-endian low word, sign-extended high word
    as_decimal = pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(unscaled.tobytes())])
    return as_decimal.cast(to)


def build(build_db: Path, target: Path, label: str, memory_limit: str | None = None) -> tuple[float, int]:
    """`dbt build` of the whole project in its own process: (seconds, peak RSS bytes).

    DuckDB runs inside dbt's process, on its threads, so that process's
    high-water mark (VmHWM) is the build's peak memory. It is read while dbt
    runs: the kernel's rusage of the finished child would also count the
    pages it shared with this (large) process between fork and exec.
    """
    from orchestration.dbt_vars import dbt_cli_vars
    from orchestration.defs.transform import DBT_EXECUTABLE, DBT_PROJECT_DIR

    # The channel registry's vars, as every run passes them (the reporting currency is USD by default).
    command = [
        str(DBT_EXECUTABLE), "--no-use-colors", "build", *dbt_cli_vars(),
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target), "--log-path", str(target / "logs"),
    ]
    env = {**os.environ, "SOCIALMART_BUILD_DB": str(build_db)}
    if memory_limit:  # what warehouse.memory_limit sets (orchestration.defs.transform.dbt_environment)
        env.update(SOCIALMART_MEMORY_LIMIT=memory_limit, SOCIALMART_DUCKDB_TMP=str(spill_dir(build_db)))
    began = time.perf_counter()
    proc = subprocess.Popen(command, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = PeakMemory(proc.pid)
    tail: list[str] = []
    last_said = began
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-40:]
        if time.perf_counter() - last_said > 20 and " of " in line:
            say(f"  dbt build {label}: {line.strip()[:110]}")
            last_said = time.perf_counter()
    proc.wait()
    seconds = time.perf_counter() - began
    peak.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"dbt build ({label}) failed:\n" + "\n".join(tail))
    return seconds, peak.bytes


def spill_dir(build_db: Path) -> Path:
    return build_db.parent / "duckdb_tmp"


def available_gib() -> float:
    return meminfo_gib("MemAvailable")


def unlimited_needs_gib() -> float:
    """What the unlimited build needs free: DuckDB's default limit (80% of the RAM) and a margin."""
    return round(0.8 * meminfo_gib("MemTotal") + UNLIMITED_MARGIN_GIB, 1)


class SpillWatch:
    """The most a build wrote to its spill directory at any moment (sampled)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.bytes = folder, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        while not self._done.is_set():
            if self.folder.exists():
                used = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
                self.bytes = max(self.bytes, used)
            self._done.wait(0.5)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


class PeakMemory:
    """Follows one process's peak resident memory (VmHWM) until it exits."""

    def __init__(self, pid: int) -> None:
        self.pid, self.bytes = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._done.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.bytes = max(self.bytes, int(line.split()[1]) * 1024)
            except (FileNotFoundError, ProcessLookupError):
                return  # exited: the last reading stands
            self._done.wait(0.2)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def slowest_nodes(target: Path, count: int = 5) -> list[tuple[str, float]]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:count]
    return [(r["unique_id"].split(".")[-1], r["execution_time"]) for r in ranked]


def mart_rows(build_db: Path) -> dict[str, int]:
    with duckdb.connect(str(build_db), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        return {name: con.execute(f'SELECT count(*) FROM marts."{name}"').fetchone()[0] for name in names}


def run(sizes: list[int], workdir: Path) -> list[BuildResult]:
    results = []
    for size in sizes:
        label = f"{size / 1e6:g}M" if size >= 1e6 else f"{size:,}"
        place = workdir / f"dbt_{label}"
        shutil.rmtree(place, ignore_errors=True)
        place.mkdir(parents=True)
        build_db = place / "build.duckdb"
        say(f"dbt: generating {label} raw ad rows")
        began = time.perf_counter()
        rows = generate(build_db, size)
        generated = time.perf_counter() - began
        largest = size == sizes[-1]
        limited = None
        if largest:
            # The same raw rows for both builds: the limited one works on a copy.
            copy = place / "limited" / "build.duckdb"
            copy.parent.mkdir()
            shutil.copyfile(build_db, copy)
            say(f"  {rows:,} insight rows written in {generated:.0f} s; dbt build with memory_limit {LIMITED_MEMORY}")
            spill = SpillWatch(spill_dir(copy))
            limited_seconds, limited_peak = build(copy, copy.parent / "target", f"{label} limited", LIMITED_MEMORY)
            spill.stop()
            limited = (limited_seconds, limited_peak, spill.bytes)
            say(f"  dbt build {label}, memory_limit {LIMITED_MEMORY}: {limited_seconds:.1f} s, peak memory "
                f"{limited_peak / 2**30:.2f} GiB, spilled up to {spill.bytes / 2**30:.2f} GiB")
            shutil.rmtree(copy.parent, ignore_errors=True)
        free = available_gib()
        if largest and free < unlimited_needs_gib():
            say(f"  the unlimited build of {label} is skipped: {free:.1f} GiB available, it needs ~{unlimited_needs_gib()}")
            result = BuildResult(rows, generated, None, None, mart_rows(build_db) if limited else {}, [], limited, free)
        else:
            say(f"  {rows:,} insight rows; dbt build (every model, snapshot and test)")
            seconds, peak = build(build_db, place / "target", label)
            result = BuildResult(rows, generated, seconds, peak, mart_rows(build_db), slowest_nodes(place / "target"),
                                 limited, free)
            say(f"  dbt build {label}: {seconds:.1f} s, peak memory {peak / 2**30:.2f} GiB")
        results.append(result)
        shutil.rmtree(place, ignore_errors=True)  # gigabytes at the larger sizes
    return results


def markdown(results: list[BuildResult]) -> str:
    built = unlimited(results)
    base = built[0]
    lines = [
        "| raw ad rows | rows generated in (s) | dbt build (s) | x rows | x time | marginal s per 1M rows | "
        "peak memory (GiB) | fct_ad_performance_daily rows |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous = None
    for r in built:
        # The cost of the rows added since the size before: fixed costs (dbt's
        # start-up, 300+ small models and tests) drop out, growth shows.
        marginal = ((r.build_seconds - previous.build_seconds) / (r.ad_rows - previous.ad_rows) * 1e6
                    if previous else None)
        lines.append(
            f"| {r.ad_rows:,} | {r.generate_seconds:.0f} | {r.build_seconds:.1f} | {r.ad_rows / base.ad_rows:.1f} | "
            f"{r.build_seconds / base.build_seconds:.1f} | {f'{marginal:.1f}' if marginal is not None else '-'} | "
            f"{r.peak_rss_bytes / 2**30:.2f} | {r.mart_rows.get('fct_ad_performance_daily', 0):,} |")
        previous = r
    last = built[-1]
    if len(built) > 1:
        text, met = scaling(built)
        lines += ["", f"{text} (target linear or better: {'met' if met else 'MISSED'})."]
    lines.append(f"Slowest nodes at {last.ad_rows:,} rows: "
                 + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in last.slowest) + ".")
    fits = last.peak_rss_bytes < 24 * 2**30
    with duckdb.connect() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    lines.append(f"Peak memory at {last.ad_rows:,} rows: **{last.peak_rss_bytes / 2**30:.2f} GiB** "
                 f"(target within 24 GiB: {'met' if fits else 'MISSED'}). DuckDB ran with its default memory "
                 f"limit, {limit} (80% of the RAM): what a build needs beyond it spills to disk instead of "
                 "failing, so the peak tracks that limit more than the row count once the data outgrows it.")
    largest = results[-1]
    if largest.limited:
        seconds, peak, spilled = largest.limited
        lines += [
            "",
            f"The largest size again, the same raw rows, with `warehouse.memory_limit: {LIMITED_MEMORY}` "
            "(DuckDB spilling to the warehouse's duckdb_tmp):",
            "",
            "| raw ad rows | memory_limit | dbt build (s) | peak memory (GiB) | spilled at most (GiB) |",
            "|---:|---|---:|---:|---:|",
        ]
        if largest.build_seconds is not None:
            lines.append(f"| {largest.ad_rows:,} | default ({limit}) | {largest.build_seconds:.1f} | "
                         f"{largest.peak_rss_bytes / 2**30:.2f} | - |")
        else:
            lines.append(f"| {largest.ad_rows:,} | default ({limit}) | not run: {largest.available_gib:.1f} GiB "
                         f"available, it needs ~{unlimited_needs_gib()} | | |")
        lines.append(f"| {largest.ad_rows:,} | {LIMITED_MEMORY} | {seconds:.1f} | {peak / 2**30:.2f} | "
                     f"{spilled / 2**30:.2f} |")
    return "\n".join(lines)


def unlimited(results: list[BuildResult]) -> list[BuildResult]:
    """The sizes built with DuckDB's default memory limit."""
    return [r for r in results if r.build_seconds is not None]


def scaling(results: list[BuildResult]) -> tuple[str, bool]:
    """Whether build time grows at most linearly with the rows, and how it reads.

    Total time at small sizes is mostly fixed cost, which flatters the ratio;
    the marginal cost per row (between consecutive sizes) must not grow.
    """
    base, last = results[0], results[-1]
    marginals = [(b.build_seconds - a.build_seconds) / (b.ad_rows - a.ad_rows) * 1e6 for a, b in zip(results, results[1:], strict=False)]
    growth = (last.build_seconds / base.build_seconds) / (last.ad_rows / base.ad_rows)
    text = (f"{last.ad_rows / base.ad_rows:.0f}x the rows took {last.build_seconds / base.build_seconds:.1f}x the time; "
            f"marginal cost {', then '.join(f'{m:.1f}' for m in marginals)} s per 1M rows")
    if len(marginals) > 1:
        # 25% slack: at these sizes one noisy run moves a marginal that much.
        return text, marginals[-1] <= 1.25 * max(marginals[0], 1e-9)
    return text, growth <= 1.1
