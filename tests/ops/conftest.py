"""One sandbox-backed warehouse for the operations tests, with nightly runs done.

Two channels with different lookbacks (meta_ads 5 days, ga4 2 days, fx 3)
make the nightly's per-channel windows visible; a short history keeps every
run to a few days. The nightly runs through the CLI as cron would run it;
the tests read what it left behind.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orchestration.config import Settings, load_settings
from orchestration.sandbox_config import start_sandbox
from sandbox import Sandbox

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
LOOKBACK = {"meta_ads": 5, "ga4": 2, "fx": 3}
SOCIALMART = Path(sys.executable).with_name("socialmart")


def sandbox_config(sandbox: Sandbox, generated: Path, channels: list[str], **top_level) -> Path:
    """A config over some of the sandbox's channels, fast retries, a short history."""
    config = yaml.safe_load(generated.read_text())
    config["channels"] = {name: {**config["channels"][name], "lookback_days": LOOKBACK.get(name, 28)} for name in channels}
    # A family's accounts must be pulled: keep the families whose channels stay.
    config["families"] = {name: family for name, family in config.get("families", {}).items()
                          if set(family["accounts"]) <= set(channels)}
    config["fx"]["lookback_days"] = LOOKBACK["fx"]
    config["history_start"] = (TODAY - dt.timedelta(days=120)).isoformat()
    config["http"] = {"backoff_seconds": 0.01, "read_timeout_seconds": 5, "max_retries": 1}
    config.update(top_level)
    path = generated.with_name("socialmart.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """The `socialmart` command as cron runs it: its own process, no inherited Dagster home."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SOCIALMART_CONFIG", "DAGSTER_HOME", "SOCIALMART_BUILD_DB")}
    return subprocess.run([str(SOCIALMART), *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=600)


@dataclass
class OpsEnv:
    sandbox: Sandbox
    config: Path
    first_nightly: subprocess.CompletedProcess | None = None

    @property
    def settings(self) -> Settings:
        return load_settings(self.config)


@pytest.fixture(scope="package")
def ops_env(tmp_path_factory) -> Iterator[OpsEnv]:
    warehouse = tmp_path_factory.mktemp("ops_warehouse")
    sandbox, generated = start_sandbox(warehouse, today=TODAY)
    with pytest.MonkeyPatch.context() as env:
        # Runs record into <warehouse>/.dagster, whatever the shell says.
        env.delenv("DAGSTER_HOME", raising=False)
        yield OpsEnv(sandbox, sandbox_config(sandbox, generated, ["meta_ads", "ga4"]))
    sandbox.stop()


@pytest.fixture(scope="package")
def nightly_env(ops_env) -> OpsEnv:
    """The first night: `socialmart nightly` in a process of its own."""
    ops_env.first_nightly = run_cli(["nightly", "--config", str(ops_env.config)], ops_env.config.parent)
    assert ops_env.first_nightly.returncode == 0, ops_env.first_nightly.stdout + ops_env.first_nightly.stderr
    return ops_env
