"""The nightly run's cost against history size, and what orchestration adds:
how each is measured is in NIGHTLY_METHOD and OVERHEAD_METHOD (RESULTS.md
quotes them)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from bench.common import SandboxProcess, say, timed
from orchestration.config import Settings, load_settings
from orchestration.defs.transform import REPLAY_PLAN, dbt_target_path

NIGHTLY_METHOD = """\
Three warehouses over the same sandbox world (the same accounts): one holding
90 days of history, one 3 years, and one 3 years plus the raw Meta history of
ad accounts the config no longer lists (retired two months before the night:
the sandbox world's vectorised generator, as in section 3, account, campaign and ad ids
prefixed `retired-`; its DuckDB within warehouse.memory_limit 8GiB), tens
of millions of rows the night does not pull. Each
is seeded outside Dagster (`sync_stream` of every channel and stream over its
window, cursors promoted) and brought to a steady state by two nightly runs
(the first builds the marts with dbt, then records the incremental models'
merge; the second replays that SQL, as later nights do:
orchestration/dbt_replay.py); then the nightly run
(`orchestration.runner.run_nightly`: every channel re-pulls its lookback
window, dbt builds, the audit checks, publish) is timed on each, alternately.
Cost should follow the new data, not the history. (A first `socialmart
run` over 3 years would seed it too, at the cost of the pulls; seeding
directly keeps the section's set-up short.)"""

OVERHEAD_METHOD = """\
On the 90-day warehouse, the same night done directly: the same connector
pulls (`sync_stream` over each channel's nightly window), the SQL dbt runs
(its compiled models and tests in dbt's execution order, and the incremental
models' delete+insert of their rebuilt days; not the three seed CSVs nor
dbt's unit tests, which run on fixtures) through one DuckDB connection, the same audit checks, publish and
report; against the 90-day nightly through Dagster and dbt, which replays the
SQL of the last dbt build when the project and the warehouse's catalog are
unchanged (orchestration/dbt_replay.py), and against a 90-day nightly whose
build starts dbt (its recorded SQL removed first: what the first night after
a change to the project costs). The runs alternate so that machine noise
falls on every kind alike."""

HISTORIES = {"90 days": 90, "3 years": 3 * 365}
# The third warehouse: 3 years, plus this many raw ad rows (times --scale) of
# retired accounts (issue 15: a 50M-row history's night at most 1.5x the
# 90-day one's).
LARGE_HISTORY = "3 years + retired accounts"
RETIRED_ROWS = 50_000_000
RETIRED_DAYS_AGO = 60  # the retired accounts' last day, before the night's lookback windows
LARGE_TARGET = 1.5
LARGE_MEMORY_LIMIT = "8GiB"
# The nightly through Dagster + dbt against the same work done directly (issue 15).
OVERHEAD_TARGET = 2.0
NIGHTLY_ACCOUNTS = 10  # Meta ad accounts (one GA4 property), beside every other channel's sandbox accounts


@dataclass
class NightlyResults:
    accounts: int
    today: dt.date
    seconds: dict[str, list[float]] = field(default_factory=dict)  # history -> nightly wall seconds
    parts: dict[str, dict[str, float]] = field(default_factory=dict)  # history -> its fastest night, by part
    raw_rows: dict[str, int] = field(default_factory=dict)  # history -> raw rows before the nightly
    dagster_seconds: list[float] = field(default_factory=list)  # the overhead pairs, 90-day warehouse
    dagster_parts: dict[str, float] = field(default_factory=dict)  # the last of them: seconds per part
    direct_seconds: list[float] = field(default_factory=list)
    direct_parts: dict[str, float] = field(default_factory=dict)  # the last direct run: seconds per part
    dbt_started_seconds: list[float] = field(default_factory=list)  # 90-day nightlies whose build started dbt
    dbt_started_parts: dict[str, float] = field(default_factory=dict)


def write_config(sandbox: SandboxProcess, warehouse: Path, history_start: dt.date, memory_limit: str | None = None) -> Path:
    warehouse.mkdir(parents=True, exist_ok=True)
    config = {**sandbox.config, "warehouse": {"dir": str(warehouse), **({"memory_limit": memory_limit} if memory_limit else {})},
              "history_start": history_start.isoformat()}
    path = warehouse / "socialmart.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _raw_rows(settings: Settings) -> int:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema LIKE 'raw\\_%' ESCAPE '\\'").fetchall()
        return sum(con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables)


def seed(path: Path, start: dt.date, end: dt.date) -> None:
    """History as the ingest assets would land it, without Dagster's planning."""
    from connectors import CONNECTORS
    from orchestration.ingest import sync_stream
    from orchestration.landing import ensure_all_raw_tables, promote_sync_state

    settings = load_settings(path)
    with duckdb.connect(str(settings.build_db)) as con:
        ensure_all_raw_tables(con)
        for channel in settings.sources.values():
            landed = {}
            for stream in CONNECTORS[channel.name].streams.values():
                landed[stream.name] = sync_stream(con, channel, stream.name, start, end, policy=settings.http,
                                                  snapshot_date=settings.today(), progress=lambda _: None).rows
            say(f"    {channel.name}: " + ", ".join(f"{name} {rows:,}" for name, rows in landed.items()))
        promote_sync_state(con)


def add_retired_history(build_db: Path, today: dt.date, rows: int, first_day: dt.date, last_day: dt.date, scratch: Path) -> None:
    """About `rows` raw Meta rows of ad accounts the config no longer lists: a world of
    as many accounts as they need (bench.dbt_scaling.generate, into a
    scratch database), their days from `first_day` (the warehouse's history
    start: its FX rates begin there) to `last_day`, copied in with their ids
    prefixed so they never meet the sandbox's accounts, campaigns and ads. Run in a process of
    its own (`_in_child`): the memory DuckDB and the generator take is given
    back when it ends, before the warehouse's first build needs it."""
    from bench.dbt_scaling import generate
    from orchestration.landing import ensure_all_raw_tables
    from sandbox import World

    scratch.unlink(missing_ok=True)
    # The generated world spans its whole history; as many rows again as the
    # days cut off, so that `rows` are kept.
    world = World(7, today)
    kept = ((last_day - first_day).days + 1) / ((world.last_day - world.history_start).days + 1)
    generate(scratch, int(rows / min(1.0, kept)))
    with duckdb.connect(str(build_db)) as con:
        con.execute("SET enable_progress_bar = false")  # the bench says what it does, in its log
        ensure_all_raw_tables(con)
        con.execute(f"ATTACH '{scratch}' AS retired (READ_ONLY)")
        for table, where in (("accounts", ""), ("campaigns", ""), ("ads", ""), ("insights", f"WHERE date_day BETWEEN '{first_day}' AND '{last_day}'")):
            # Every id: the generated world numbers its campaigns and ads as the
            # sandbox's does, and Meta's campaign and ad ids are unique across accounts.
            ids = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'retired' "
                "AND table_schema = 'raw_meta_ads' AND table_name = ? AND column_name IN ('account_id', 'campaign_id', 'ad_id')",
                [table]).fetchall()]
            renamed = ", ".join(f"'retired-' || {column} AS {column}" for column in ids)
            con.execute(f"INSERT INTO raw_meta_ads.{table} BY NAME SELECT * REPLACE ({renamed}) "
                        f"FROM retired.raw_meta_ads.{table} {where}")
        con.execute("DETACH retired")
    scratch.unlink()


def _in_child(function, *args) -> None:
    """Run `function(*args)` in a fresh process and wait for it."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=function, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{function.__name__} failed in its process (exit code {child.exitcode})")


def nightly(path: Path, today: dt.date) -> tuple[float, dict[str, float]]:
    """One nightly run: its wall seconds, and where they went (Dagster's step records)."""
    from orchestration.runner import run_nightly

    settings = load_settings(path)
    with timed() as timing:
        outcome = run_nightly(settings, path, today=today)
    if not outcome.success:
        raise RuntimeError(f"the nightly run failed: {outcome.failures or outcome.summary()}")
    return timing.wall, _breakdown(settings, outcome.run_ids, timing.wall)


def _breakdown(settings: Settings, run_ids: list[str], wall: float) -> dict[str, float]:
    import dagster as dg

    from orchestration.instance import dagster_home

    parts: dict[str, float] = {}
    with dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance:
        for run_id in run_ids:
            for step in instance.get_run_step_stats(run_id):
                seconds = (step.end_time or 0) - (step.start_time or 0)
                kind = ("ingest steps (pull + land, one per stream)" if step.step_key.startswith("raw_")
                        and not step.step_key.endswith("_audit") else
                        "dbt step (dbt build via dagster-dbt)" if step.step_key.startswith("dbt") else
                        "publish step" if step.step_key.startswith("published") else "audit steps")
                parts[kind] = parts.get(kind, 0.0) + seconds
    parts["outside the steps (definitions, run and event bookkeeping)"] = wall - sum(parts.values())
    return parts


def run(workdir: Path, repeats: int, with_overhead: bool, retired_rows: int) -> NightlyResults:
    say(f"nightly: starting the sandbox with {NIGHTLY_ACCOUNTS} Meta ad accounts and every other channel")
    with SandboxProcess(NIGHTLY_ACCOUNTS) as sandbox:
        today = sandbox.today
        results = NightlyResults(NIGHTLY_ACCOUNTS, today)
        yesterday = today - dt.timedelta(days=1)
        configs = {}
        for label, days in {**HISTORIES, LARGE_HISTORY: HISTORIES["3 years"]}.items():
            warehouse = workdir / ("history_large" if label == LARGE_HISTORY else f"history_{days}d")
            shutil.rmtree(warehouse, ignore_errors=True)
            start = today - dt.timedelta(days=days)
            # The large warehouse's first build is a full build of its tens of
            # millions of rows: within warehouse.memory_limit (section 3), so that
            # DuckDB's default (80% of the RAM) and this process do not meet the OOM killer.
            path = configs[label] = write_config(sandbox, warehouse, start,
                                                 LARGE_MEMORY_LIMIT if label == LARGE_HISTORY else None)
            say(f"nightly: seeding {label} of history ({start} .. {yesterday}), not timed")
            with timed() as seeding:
                if label == LARGE_HISTORY:
                    say(f"  generating {retired_rows:,} raw ad rows of retired accounts")
                    _in_child(add_retired_history, load_settings(path).build_db, today, retired_rows, start,
                              today - dt.timedelta(days=RETIRED_DAYS_AGO), workdir / "retired.duckdb")
                seed(path, start, yesterday)
            results.raw_rows[label] = _raw_rows(load_settings(path))
            say(f"  seeded in {seeding.wall:.0f} s: {results.raw_rows[label]:,} raw rows; "
                f"a first nightly builds the marts (not timed): {nightly(path, today)[0]:.0f} s, "
                f"a second replays its SQL: {nightly(path, today)[0]:.0f} s")
        plan = DirectPlan.prepare(load_settings(configs["90 days"]), workdir / "direct_dbt") if with_overhead else None
        # Alternating, so machine noise falls on every kind of run alike; the
        # 90-day nightlies are also the Dagster side of the overhead pairs.
        for attempt in range(repeats):
            for label, path in configs.items():
                seconds, parts = nightly(path, today)
                if seconds <= min(results.seconds.get(label, [seconds])):
                    results.parts[label] = parts
                results.seconds.setdefault(label, []).append(seconds)
                say(f"nightly ({label} of history) #{attempt + 1}: {seconds:.1f} s")
                if plan is not None and label == "90 days":
                    results.dagster_seconds.append(seconds)
                    results.dagster_parts = parts
                    parts = plan.run(load_settings(path), today)
                    results.direct_seconds.append(sum(parts.values()))
                    results.direct_parts = parts
                    say(f"overhead #{attempt + 1}: the same night's work directly {sum(parts.values()):.1f} s "
                        f"({', '.join(f'{k} {v:.1f} s' for k, v in parts.items())})")
                    settings = load_settings(path)
                    (dbt_target_path(settings) / REPLAY_PLAN).unlink()
                    seconds, parts = nightly(path, today)
                    results.dbt_started_seconds.append(seconds)
                    results.dbt_started_parts = parts
                    say(f"overhead #{attempt + 1}: a nightly whose build starts dbt {seconds:.1f} s")
    return results


# --------------------------------------------------------------------------- the direct path


@dataclass
class DirectPlan:
    """The SQL of one `dbt build` of the project, in dbt's execution order."""

    statements: list[tuple[str, list[str]]]  # (dbt node, SQL statements)
    mart_names: list[str]

    @classmethod
    def prepare(cls, settings: Settings, target: Path) -> DirectPlan:
        """Run `dbt build` once on the warehouse (its own target path) and read
        back what it ran: run_results.json gives the order, the manifest the
        compiled SQL and materializations."""
        from orchestration.dbt_vars import dbt_cli_vars
        from orchestration.defs.transform import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_environment

        shutil.rmtree(target, ignore_errors=True)
        completed = subprocess.run(
            [str(DBT_EXECUTABLE), "build", *dbt_cli_vars(), "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(target), "--log-path", str(target / "logs"), "--quiet"],
            env={**os.environ, **dbt_environment(settings)}, capture_output=True, text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"dbt build failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
        manifest = json.loads((target / "manifest.json").read_text())
        order = [r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]]
        statements = []
        for unique_id in order:
            node = manifest["nodes"].get(unique_id)
            if node is None:  # unit tests run on dbt's fixtures: dbt's own mechanism, no warehouse SQL
                continue
            sql = _node_sql(node)
            if sql:
                statements.append((unique_id, sql))
        marts = [n["name"] for n in manifest["nodes"].values()
                 if n["resource_type"] == "model" and n["config"].get("schema") == "marts"]
        return cls(statements, marts)

    def run(self, settings: Settings, today: dt.date) -> dict[str, float]:
        """The night, directly: pulls, SQL, audit, publish. Seconds per part."""
        import dagster as dg

        from connectors import CONNECTORS
        from orchestration.defs.quality import planned_checks
        from orchestration.defs.resources import DISABLED_OPTIMIZERS
        from orchestration.ingest import sync_stream
        from orchestration.landing import promote_sync_state
        from orchestration.publish import publish
        from orchestration.quality.results import record_results
        from orchestration.report import report_path, write_report
        from orchestration.window import pull_window

        run_id = f"direct-{uuid.uuid4()}"
        parts: dict[str, float] = {}
        with duckdb.connect(str(settings.build_db), config={"disabled_optimizers": DISABLED_OPTIMIZERS}) as con:
            with timed() as pulls:
                for channel in settings.sources.values():
                    window = pull_window(settings, today=today, nightly=True, channel=channel)
                    for stream in CONNECTORS[channel.name].streams.values():
                        sync_stream(con, channel, stream.name, window.start, window.end,
                                    policy=settings.http, snapshot_date=settings.today(), progress=lambda _: None)
            parts["pulls"] = pulls.wall
            with timed() as sql:
                for _, statements in self.statements:
                    for statement in statements:
                        con.execute(statement).fetchall()
            parts["dbt SQL"] = sql.wall
            with timed() as audit:
                marts = {dg.AssetKey(["marts", name]) for name in self.mart_names}
                record_results(con, run_id, [check.evaluate(con) for check in planned_checks(settings, marts)])
            parts["audit"] = audit.wall
            with timed() as published:
                publish(con, settings.published_db, run_id)
                promote_sync_state(con)
                write_report(settings.published_db, report_path(settings.warehouse_dir))
            parts["publish + report"] = published.wall
        return parts


def _node_sql(node: dict) -> list[str]:
    """The statements that do a dbt node's work in the warehouse."""
    kind, code = node["resource_type"], node.get("compiled_code")
    relation = node.get("relation_name")
    if kind == "model":
        materialized = node["config"]["materialized"]
        if materialized == "incremental":
            # dbt's delete+insert (the daily facts, dbt_project/macros/incremental_days.sql):
            # the compiled SELECT holds only the days to rebuild.
            key = node["config"]["unique_key"]
            return [f"CREATE OR REPLACE TEMP TABLE incremental_rows AS {code}",
                    f"DELETE FROM {relation} WHERE {key} IN (SELECT {key} FROM incremental_rows)",
                    f"INSERT INTO {relation} BY NAME SELECT * FROM incremental_rows"]
        what = {"view": "VIEW", "table": "TABLE"}[materialized]
        return [f"CREATE OR REPLACE {what} {relation} AS {code}"]
    if kind == "test":
        return [f"SELECT count(*) FROM ({code}) AS failures"]
    return []  # seeds: three small CSVs dbt reloads; the tables are already there


# --------------------------------------------------------------------------- report


def markdown_nightly(r: NightlyResults) -> str:
    best = {label: min(values) for label, values in r.seconds.items()}
    ratio = best["3 years"] / best["90 days"]
    lines = [
        f"The same world for all: {r.accounts} active Meta ad accounts (one GA4 property) plus every other channel's "
        f"sandbox accounts; the nightly run of {r.today}.",
        "",
        "| history | raw rows before the night | nightly runs (s) | best (s) |",
        "|---|---:|---|---:|",
    ]
    for label in r.seconds:
        runs = ", ".join(f"{s:.1f}" for s in r.seconds[label])
        lines.append(f"| {label} | {r.raw_rows[label]:,} | {runs} | {best[label]:.1f} |")
    met = ratio <= 1.3
    lines += ["", f"3 years / 90 days: **{ratio:.2f}x** (target at most 1.3x: {'met' if met else 'MISSED'})."]
    if LARGE_HISTORY in best:
        large = best[LARGE_HISTORY] / best["90 days"]
        lines.append(f"{LARGE_HISTORY} ({r.raw_rows[LARGE_HISTORY]:,} raw rows) / 90 days: **{large:.2f}x** "
                     f"(target at most {LARGE_TARGET:g}x: {'met' if large <= LARGE_TARGET else 'MISSED'}).")
    return "\n".join(lines)


def markdown_overhead(r: NightlyResults) -> str:
    dagster, direct, started = min(r.dagster_seconds), min(r.direct_seconds), min(r.dbt_started_seconds)
    overhead = dagster / direct - 1
    lines = [
        "| path | runs (s) | best (s) |",
        "|---|---|---:|",
        f"| nightly through Dagster + dbt (the last build's SQL replayed) | {', '.join(f'{s:.1f}' for s in r.dagster_seconds)} | {dagster:.1f} |",
        f"| nightly through Dagster + dbt, dbt started (first night after a project change) | "
        f"{', '.join(f'{s:.1f}' for s in r.dbt_started_seconds)} | {started:.1f} |",
        f"| the same pulls, SQL, audit and publish directly | {', '.join(f'{s:.1f}' for s in r.direct_seconds)} | {direct:.1f} |",
        "",
        "Where the time went, last of each:",
        "",
        "- through Dagster + dbt, replayed: " + "; ".join(f"{k} {v:.1f} s" for k, v in r.dagster_parts.items()),
        "- through Dagster + dbt, dbt started: " + "; ".join(f"{k} {v:.1f} s" for k, v in r.dbt_started_parts.items()),
        "- directly: " + "; ".join(f"{k} {v:.1f} s" for k, v in r.direct_parts.items()),
        "",
        f"Through Dagster + dbt / directly: **{dagster / direct:.2f}x** (overhead {overhead:+.0%}; target at most "
        f"{OVERHEAD_TARGET:g}x: {'met' if dagster / direct <= OVERHEAD_TARGET else 'MISSED'}); "
        f"a night that starts dbt: {started / direct:.2f}x.",
    ]
    return "\n".join(lines)
