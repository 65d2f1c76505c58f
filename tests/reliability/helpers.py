"""Shared pieces of the reliability suite: one distinctive token, sandbox
settings parsed like a real configuration, and the CLI as a user runs it.

(Not in conftest.py: pytest imports a conftest under its own module name, and
the token must be one value for the fixtures and the tests alike.)"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from connectors.base import ChannelSettings
from orchestration.config import SANDBOX_TOKEN_VARIABLE, parse_settings
from sandbox import Sandbox

# The pipeline's "today" is the sandbox's (see tests/integration/conftest.py).
TODAY = dt.datetime.now(dt.UTC).date()
END = TODAY - dt.timedelta(days=1)
# A value no code path could produce by accident: finding it anywhere it does
# not belong is a leak.
TOKEN = "smtok" + secrets.token_hex(16)
SOCIALMART = Path(sys.executable).with_name("socialmart")


def channel_settings(sandbox: Sandbox, channel: str, http: dict | None = None) -> tuple[ChannelSettings, object]:
    """The sandbox's socialmart.yaml entry for `channel`, parsed by the real
    loader; returns (channel settings, the HTTP retry policy of `http:`)."""
    entries = sandbox.client_configs("${" + SANDBOX_TOKEN_VARIABLE + "}")
    # FX is not a `channels:` entry, and a configuration needs one channel.
    configured = channel if channel in entries else "meta_ads"
    settings = parse_settings({"http": http or {}, "fx": {"base_url": sandbox.base_urls()["fx"]},
                               "channels": {configured: entries[configured]}})
    return settings.sources[channel], settings.http


def write_config(path: Path, sandbox: Sandbox, warehouse: Path, channels: list[str], **top_level) -> Path:
    """A socialmart.yaml over `sandbox` for a few channels (FX comes along)."""
    entries = sandbox.client_configs("${" + SANDBOX_TOKEN_VARIABLE + "}")
    config = {
        "reporting": {"currency": "USD", "timezone": "UTC"},
        "warehouse": {"dir": str(warehouse)},
        "history_start": f"{TODAY.year - 1}-01-01",
        # Retries fast: the failure cases exhaust the budget on purpose.
        "http": {"backoff_seconds": 0.01, "read_timeout_seconds": 10},
        "fx": {"base_url": sandbox.base_urls()["fx"]},
        "channels": {name: entries[name] for name in channels},
        **top_level,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no test-process leftovers, the token set."""
    inherited = ("SOCIALMART_CONFIG", "DAGSTER_HOME", "SOCIALMART_BUILD_DB")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    return {**env, SANDBOX_TOKEN_VARIABLE: TOKEN, **extra}


def run_cli(args: list[str], cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SOCIALMART), *args], cwd=cwd, env=cli_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def rows(path: Path, table: str, where: str = "true", params: list | None = None) -> list[tuple]:
    """Every column of the matching rows, _synced_at included, in a stable order."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY ALL", params or []).fetchall()
