"""A sandbox and a temporary warehouse for end-to-end runs of the Dagster job."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.config import Settings, load_settings
from orchestration.dbt_vars import dbt_cli_vars
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


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Env]:
    warehouse = tmp_path_factory.mktemp("warehouse")
    sandbox, config = start_sandbox(warehouse, today=TODAY)
    # Fast retries: the failure tests exhaust the retry budget on purpose.
    text = config.read_text().replace(
        "reporting:", f"history_start: '{TODAY.year - 1}-01-01'\nhttp: {{backoff_seconds: 0.01, read_timeout_seconds: 5}}\nreporting:"
    )
    config.write_text(text)
    yield Env(sandbox, config)
    sandbox.stop()


DBT = Path(sys.executable).with_name("dbt")
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def build_staging(channel: str, build_db: Path, work: Path) -> subprocess.CompletedProcess:
    """`dbt build` of one channel's own models (its staging folder and, where
    its conforming needs aggregation, its intermediate folder) against `build_db`.

    Its own target and log directories: other dbt runs may share the project
    directory meanwhile (and dbt must not phone home: there is no internet).
    """
    env = {**os.environ, "SOCIALMART_BUILD_DB": str(build_db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    folders = [f"path:models/{layer}/{channel}" for layer in ("staging", "intermediate")
               if (DBT_PROJECT / "models" / layer / channel).is_dir()]
    return subprocess.run(
        [str(DBT), "build", "--select", *folders, *dbt_cli_vars(), "--project-dir", str(DBT_PROJECT),
         "--profiles-dir", str(DBT_PROJECT), "--target-path", str(work / "dbt_target"), "--log-path", str(work / "dbt_logs")],
        env=env, capture_output=True, text=True, timeout=300,
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
