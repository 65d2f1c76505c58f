"""A newcomer's first commands, as a fresh clone runs them: no configuration,
no environment variables. Every command finds the embedded sandbox's config
(generated once, never rewritten), commands that call no API need no secrets,
`socialmart check` tests every credential, bad dates are refused before
anything is started or written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from orchestration.sandbox_config import start_sandbox
from sandbox.faults import Fault
from tests.ops.conftest import SOCIALMART

PROJECT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")


def bare_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: none of socialmart's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALMART_") and k != "DAGSTER_HOME"}
    return {**env, **extra}


def socialmart(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SOCIALMART), *args], cwd=cwd, env=env or bare_env(), capture_output=True, text=True, timeout=300)


def test_without_configuration_every_command_finds_the_embedded_sandbox_and_needs_no_secrets(tmp_path):
    config = tmp_path / "warehouse" / "sandbox.socialmart.yaml"

    checked = socialmart(tmp_path, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"config written to {config}" in checked.stderr
    assert "22 of 22 accounts answered: every credential works" in checked.stdout
    assert {line.split()[0] for line in checked.stdout.splitlines()[1:-2]} == {
        "facebook_pages", "fx", "ga4", "instagram", "linkedin", "meta_ads", "tiktok_ads", "wechat", "weibo", "x", "youtube"}
    generated = config.read_text()
    assert yaml.safe_load(generated)["sandbox"] == "embedded"

    # status reads the same config, with no token in the environment, and calls no API.
    status = socialmart(tmp_path, "status")
    assert status.returncode == 1, status.stdout + status.stderr  # never synced: stale, not a usage error
    assert f"config {config}" in status.stdout and "never synced" in status.stdout
    assert "configuration error" not in status.stderr

    # The code location loads the same configuration (dagster dev, definitions validate).
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text((PROJECT / "workspace.yaml").read_text())
    validated = subprocess.run([str(DAGSTER), "definitions", "validate", "-w", str(workspace)], cwd=tmp_path,
                               env=bare_env(PYTHONPATH=str(PROJECT)), capture_output=True, text=True, timeout=600)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    # Nobody rewrote the generated config (its port stays what BI tools and notes saw).
    assert config.read_text() == generated


def test_bad_dates_are_refused_before_anything_starts_or_is_written(tmp_path):
    refused = socialmart(tmp_path, "run", "--start", "2026-12-01", "--end", "2026-11-01")
    assert refused.returncode == 2
    assert "--start: 2026-12-01 is after --end 2026-11-01" in refused.stderr
    assert "sandbox" not in refused.stderr and not (tmp_path / "warehouse").exists()


def test_status_of_a_real_configuration_needs_none_of_its_secrets(tmp_path):
    sandbox, generated = start_sandbox(tmp_path / "warehouse")
    try:
        text = generated.read_text().replace("${SOCIALMART_SANDBOX_TOKEN}", "${SOCIALMART_TEST_NEVER_SET}")
        config = tmp_path / "socialmart.yaml"
        config.write_text(text)
        status = socialmart(tmp_path, "status", "--config", str(config), "--json")
        assert status.returncode == 1 and "configuration error" not in status.stderr, status.stderr
        # The commands that call the APIs still need them, and say which.
        checked = socialmart(tmp_path, "check", "--config", str(config))
        assert checked.returncode == 2
        assert "environment variable SOCIALMART_TEST_NEVER_SET is not set" in checked.stderr
    finally:
        sandbox.stop()


def test_check_names_each_refused_account_its_http_status_api_code_and_what_to_fix(tmp_path):
    sandbox, config = start_sandbox(tmp_path / "warehouse")
    try:
        sandbox.inject(Fault("meta_ads", "expired_token", times=-1))
        env = bare_env(SOCIALMART_SANDBOX_TOKEN=os.environ["SOCIALMART_SANDBOX_TOKEN"])
        checked = socialmart(tmp_path, "check", "--config", str(config), env=env)
        assert checked.returncode == 1, checked.stdout + checked.stderr
        lines = checked.stdout.splitlines()
        failed = [line for line in lines if " FAILED " in line]
        assert [line.split()[:2] for line in failed] == [["meta_ads", "act_1001"], ["meta_ads", "act_1002"]]
        # Meta answers an expired token with HTTP 400 and OAuthException code 190.
        assert all("credentials failure (HTTP 400, API error code 190)" in line for line in failed)
        assert sum("fix: the API refused the credential: renew channels.meta_ads.access_token" in line for line in lines) == 2
        assert lines[-1] == "20 of 22 accounts answered; 2 FAILED"
        assert env["SOCIALMART_SANDBOX_TOKEN"] not in checked.stdout + checked.stderr

        only = socialmart(tmp_path, "check", "--config", str(config), "--channel", "ga4", env=env)
        assert only.returncode == 0 and only.stdout.splitlines()[-1] == "1 of 1 accounts answered: every credential works"
    finally:
        sandbox.stop()


def test_the_readme_states_each_channels_lag_as_its_connector_does():
    """One statement of the freshness lags, and it is the code's."""
    from connectors import CONNECTORS

    readme = (PROJECT / "README.md").read_text()
    table = readme[readme.index("| channel | lag (days) | why |"):].split("\n\n")[0].splitlines()[2:]
    stated = {}
    for row in table:
        channels, lag = row.split("|")[1:3]
        stated |= {name.strip(): int(lag) for name in channels.split(",")}
    assert stated == {name: connector.expected_lag_days for name, connector in CONNECTORS.items()}
