"""A sandbox and a temporary warehouse for end-to-end runs of the Dagster job;
the channel contract's sandbox and per-channel warehouses, built once per
process (test_channel_contract.py and the test_channel_<name>.py files)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from connectors import CONNECTORS
from connectors.base import ChannelSettings
from connectors.http import RetryPolicy
from orchestration.config import Settings, load_settings, parse_settings
from orchestration.dbt_vars import dbt_cli_vars
from orchestration.ingest import SyncResult, sync_stream
from orchestration.landing import ensure_all_raw_tables
from orchestration.outcome import Outcome
from orchestration.sandbox_config import start_sandbox
from sandbox import Sandbox

# The sandbox's "today" is the pipeline's: the pull day of snapshots and the
# limits some APIs put relative to now (LinkedIn: end at least 2 days back)
# must agree. The world's numbers depend on absolute dates, so a day's values
# are the same whenever the tests run.
TODAY = dt.datetime.now(dt.UTC).date()
END = TODAY - dt.timedelta(days=1)
START = END - dt.timedelta(days=34)  # 35 days: some restated (< 28 days old), some settled


class Env:
    def __init__(self, sandbox: Sandbox, config: Path) -> None:
        self.sandbox, self.config = sandbox, config

    @property
    def settings(self) -> Settings:
        return load_settings(self.config)

    def run(self, start: dt.date = START, end: dt.date = END):
        from orchestration.runner import run_pipeline

        return run_pipeline(self.settings, self.config, start, end)


def start_env(warehouse: Path) -> Env:
    sandbox, config = start_sandbox(warehouse, today=TODAY)
    # Fast retries: the failure tests exhaust the retry budget on purpose.
    text = config.read_text().replace(
        "reporting:", f"history_start: '{TODAY.year - 1}-01-01'\nhttp: {{backoff_seconds: 0.01, read_timeout_seconds: 5}}\nreporting:"
    )
    config.write_text(text)
    return Env(sandbox, config)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Env]:
    env = start_env(tmp_path_factory.mktemp("warehouse"))
    yield env
    env.sandbox.stop()


@dataclass
class FirstRun:
    """The standard run (every channel, START..END) on a new warehouse."""

    env: Env  # live: the tests that take it run on, restate and fault its sandbox
    outcome: Outcome
    databases: Path  # build.duckdb and marketing.duckdb as the run left them

    def copy_to(self, settings: Settings) -> None:
        """The run's databases into another warehouse of the same configuration."""
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.databases / settings.build_db.name, settings.build_db)
        shutil.copy(self.databases / settings.published_db.name, settings.published_db)


@pytest.fixture(scope="session")
def first_run(tmp_path_factory) -> Iterator[FirstRun]:
    """One standard run per test process, shared: test_pipeline.py goes on
    from it, test_marts_by_hand.py reads a copy of what it published (a run
    over every channel costs about a minute on 2 cores; conftest.py of the
    suite keeps the two files on one worker)."""
    env = start_env(tmp_path_factory.mktemp("first_run"))
    outcome = env.run()
    assert outcome.success, outcome.summary()
    databases = tmp_path_factory.mktemp("first_run_databases")
    for db in (env.settings.build_db, env.settings.published_db):
        shutil.copy(db, databases / db.name)
    yield FirstRun(env, outcome, databases)
    env.sandbox.stop()


DBT = Path(sys.executable).with_name("dbt")
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def build_staging(channels: Iterable[str], build_db: Path, work: Path) -> subprocess.CompletedProcess:
    """`dbt build` of the channels' own models (each one's staging folder and,
    where its conforming needs aggregation, its intermediate folder) against
    `build_db`, in one dbt invocation (dbt's start-up costs seconds);
    `work/dbt_target/run_results.json` names each node's outcome.

    Its own target and log directories: other dbt runs may share the project
    directory meanwhile (and dbt must not phone home: there is no internet).
    """
    env = {**os.environ, "SOCIALMART_BUILD_DB": str(build_db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    folders = [f"path:models/{layer}/{channel}" for channel in channels for layer in ("staging", "intermediate")
               if (DBT_PROJECT / "models" / layer / channel).is_dir()]
    return subprocess.run(
        [str(DBT), "build", "--select", *folders, *dbt_cli_vars(), "--project-dir", str(DBT_PROJECT),
         "--profiles-dir", str(DBT_PROJECT), "--target-path", str(work / "dbt_target"), "--log-path", str(work / "dbt_logs")],
        env=env, capture_output=True, text=True, timeout=900,
    )


def quarantined(con: duckdb.DuckDBPyConnection, channel: str, stream: str) -> list[tuple[str, str]]:
    """(reason, record JSON) of every record of one stream held in `_socialmart.quarantine`."""
    return con.execute(
        "SELECT reason, record FROM _socialmart.quarantine WHERE channel = ? AND stream = ? ORDER BY account_id, record",
        [channel, stream],
    ).fetchall()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_checksums(path: Path, schemas: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash per table (pull times excluded)."""
    sums = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            f"AND table_schema IN ({', '.join('?' * len(schemas))}) ORDER BY 1, 2", list(schemas)
        ).fetchall()
        for schema, table in tables:
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "AND column_name <> '_synced_at' ORDER BY ordinal_position", [schema, table]).fetchall()]
            row = ", ".join(f'"{c}"' for c in columns)
            count, digest = con.execute(
                f'SELECT count(*), coalesce(sum(hash(({row}))), 0)::varchar FROM "{schema}"."{table}"'
            ).fetchone()
            sums[f"{schema}.{table}"] = (count, digest)
    return sums


# --------------------------------------------------------------------------- the channel contract
#
# One fixed world for every channel's contract run: numbers the per-channel
# files can state exactly (45 days, the world's own ids), whatever the date.
CHANNEL_TODAY = dt.date(2026, 6, 15)
CHANNEL_START, CHANNEL_END = dt.date(2026, 5, 1), dt.date(2026, 6, 14)  # 45 days
FAST = RetryPolicy(backoff_base=0.01, read_timeout=5)
CHANNEL_TOKEN_VARIABLE = "SOCIALMART_TEST_CHANNEL_TOKEN"


def channel_settings(sandbox: Sandbox, channel: str, **entry: object) -> ChannelSettings:
    """The sandbox's own socialmart.yaml entry for `channel` (with `entry`'s
    keys over it), parsed like a real configuration. FX is no `channels:`
    entry (it needs no credentials): it comes with any configuration."""
    entries = sandbox.client_configs("${" + CHANNEL_TOKEN_VARIABLE + "}")
    configured = channel if channel in entries else next(iter(entries))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CHANNEL_TOKEN_VARIABLE, sandbox.token)
        settings = parse_settings({"fx": {"base_url": sandbox.base_urls()["fx"]},
                                   "channels": {configured: {**entries[configured], **entry}}})
    return settings.sources[channel]


def sync_channel(con: duckdb.DuckDBPyConnection, settings: ChannelSettings, stream: str, *,
                 start: dt.date = CHANNEL_START, end: dt.date = CHANNEL_END, policy: RetryPolicy = FAST,
                 sleep=lambda _: None) -> SyncResult:
    """One stream of the contract's window, pulled on CHANNEL_TODAY; waits go to `sleep` (a fake clock)."""
    return sync_stream(con, settings, stream, start, end, policy=policy, sleep=sleep, progress=lambda _: None,
                       snapshot_date=CHANNEL_TODAY)


class ChannelBuilds:
    """The channels' warehouses, built at most once per test process and
    shared by every test that only reads them (a test that writes works on
    its own copy): `raw` holds every stream of every channel of the registry
    over the contract's window; `staged` is a copy of it with every channel's
    dbt staging (and intermediate) models built, in one dbt invocation.
    Channels keep to their own schemas, so sharing one file costs no
    isolation; a channel whose pull fails fails its own tests only."""

    def __init__(self, sandbox: Sandbox, root: Path) -> None:
        self.sandbox, self.root = sandbox, root
        self._raw: tuple[Path, dict[str, dict[str, SyncResult] | Exception]] | None = None
        self._staged: tuple[Path, subprocess.CompletedProcess, dict[str, str]] | None = None

    def _build_raw(self) -> tuple[Path, dict[str, dict[str, SyncResult] | Exception]]:
        path = self.root / "raw.duckdb"
        pulled: dict[str, dict[str, SyncResult] | Exception] = {}
        with duckdb.connect(str(path)) as con:
            for channel, connector in CONNECTORS.items():
                settings = channel_settings(self.sandbox, channel)
                try:
                    pulled[channel] = {stream: sync_channel(con, settings, stream) for stream in connector.streams}
                except Exception as error:  # noqa: BLE001 - re-raised by that channel's tests
                    pulled[channel] = error
        return path, pulled

    def raw(self, channel: str) -> tuple[Path, dict[str, SyncResult]]:
        if self._raw is None:
            self._raw = self._build_raw()
        path, pulled = self._raw
        if isinstance(pulled[channel], Exception):
            raise pulled[channel]
        return path, pulled[channel]

    def staged(self) -> tuple[Path, subprocess.CompletedProcess, dict[str, str]]:
        """(warehouse, the dbt run, channel -> {dbt node id: status})."""
        if self._staged is None:
            path = self.root / "staged.duckdb"
            self.raw(next(iter(CONNECTORS)))
            shutil.copy(self._raw[0], path)
            with duckdb.connect(str(path)) as con:
                ensure_all_raw_tables(con)  # every channel's sources exist, as after a run
            run = build_staging(CONNECTORS, path, self.root)
            self._staged = path, run, node_statuses(self.root / "dbt_target")
        return self._staged


def node_statuses(target: Path) -> dict[str, dict[str, str]]:
    """channel -> {dbt node id: status} of a build's run_results.json; a node
    (a test) is every channel's whose models folder holds it or one of the models it reads."""
    results, manifest = target / "run_results.json", target / "manifest.json"
    if not (results.exists() and manifest.exists()):
        return {}
    loaded = json.loads(manifest.read_text())
    nodes = {**loaded["nodes"], **loaded.get("unit_tests", {})}

    def owner(node_id: str) -> str | None:
        parts = Path(nodes.get(node_id, {}).get("original_file_path", "")).parts
        return parts[2] if len(parts) > 3 and parts[:2] in (("models", "staging"), ("models", "intermediate")) else None

    by_channel: dict[str, dict[str, str]] = {}
    for result in json.loads(results.read_text())["results"]:
        node_id = result["unique_id"]
        parents = nodes.get(node_id, {}).get("depends_on", {}).get("nodes", [])
        for channel in {owner(node_id), *map(owner, parents)} - {None}:
            by_channel.setdefault(channel, {})[node_id] = result["status"]
    return by_channel


@pytest.fixture(scope="session")
def channel_sandbox() -> Iterator[Sandbox]:
    with Sandbox(today=CHANNEL_TODAY) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def channel_builds(channel_sandbox, tmp_path_factory) -> ChannelBuilds:
    return ChannelBuilds(channel_sandbox, tmp_path_factory.mktemp("channels"))


@pytest.fixture
def sandbox(channel_sandbox) -> Iterator[Sandbox]:
    """The contract's sandbox, its faults cleared after each test."""
    yield channel_sandbox
    channel_sandbox.clear_faults()


@pytest.fixture
def raw(channel_builds, channel) -> tuple[Path, dict[str, SyncResult]]:
    """(raw warehouse, sync result per stream) of `channel`: read only."""
    return channel_builds.raw(channel)


@pytest.fixture
def staged(channel_builds, channel) -> Path:
    """The warehouse after the staging build, which must have built and passed
    every node of `channel` (another channel's failure is that channel's): read only."""
    path, run, statuses = channel_builds.staged()
    mine = statuses.get(channel, {})
    assert mine and set(mine.values()) <= {"success", "pass"}, (
        {n: s for n, s in mine.items() if s not in ("success", "pass")} or "no node built", run.stdout[-4000:] + run.stderr[-2000:])
    return path


@pytest.fixture
def settings(sandbox, channel) -> ChannelSettings:
    return channel_settings(sandbox, channel)
