"""socialmart.yaml validation: every error names the file, the key and the problem."""

from __future__ import annotations

import pytest

from connectors.http import redact
from orchestration.config import ConfigError, load_settings

GOOD = """
reporting: {currency: USD, timezone: UTC}
warehouse: {dir: ./wh}
fx: {base_url: http://127.0.0.1:1/fx}
channels:
  meta_ads:
    base_url: http://127.0.0.1:1/meta_ads/v21.0
    access_token: ${TEST_META_TOKEN}
    accounts: ["act_123456789", "987"]
    lookback_days: 28
    conversion_action_type: purchase
  ga4:
    access_token: ${TEST_GA4_TOKEN}
    accounts: ["123456"]
"""


@pytest.fixture(autouse=True)
def tokens(monkeypatch):
    monkeypatch.setenv("TEST_META_TOKEN", "meta-secret-value")
    monkeypatch.setenv("TEST_GA4_TOKEN", "ga4-secret-value")


def write(tmp_path, text):
    path = tmp_path / "socialmart.yaml"
    path.write_text(text)
    return path


def test_good_config_resolves_env_and_paths(tmp_path):
    settings = load_settings(write(tmp_path, GOOD))
    meta = settings.channels["meta_ads"]
    assert meta.credentials["access_token"] == "meta-secret-value"
    assert meta.accounts == ["act_123456789", "act_987"]
    assert meta.options["conversion_action_type"] == "purchase"
    assert settings.channels["ga4"].base_url == "https://analyticsdata.googleapis.com/v1beta"
    assert settings.warehouse_dir == tmp_path / "wh"
    assert "USD" in settings.fx.options["currencies"]
    assert "meta-secret-value" not in redact("token meta-secret-value")
    assert settings.memory_limit == "80%" and settings.duckdb_temp_dir == tmp_path / "wh" / "duckdb_tmp"
    assert load_settings(write(tmp_path, GOOD.replace("dir: ./wh", "dir: ./wh, memory_limit: 8GiB"))).memory_limit == "8GiB"


def test_commands_that_call_no_api_load_the_config_without_its_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_GA4_TOKEN")
    settings = load_settings(write(tmp_path, GOOD), resolve_secrets=False)
    assert settings.channels["ga4"].credentials["access_token"] == ""
    with pytest.raises(ConfigError, match="TEST_GA4_TOKEN is not set"):
        load_settings(write(tmp_path, GOOD))


@pytest.mark.parametrize(
    "change,key,problem",
    [
        (("  ga4:", "  tiktok_adz:\n    accounts: [1]\n  ga4:"), "channels.tiktok_adz", "unknown channel"),
        (("${TEST_GA4_TOKEN}", "${NOT_SET_ANYWHERE}"), "channels.ga4.access_token", "NOT_SET_ANYWHERE is not set"),
        (("${TEST_GA4_TOKEN}", "plain-secret"), "channels.ga4.access_token", "environment reference"),
        (('"987"', '"987; rm -rf /"'), "channels.meta_ads.accounts[1]", "not a Meta ad account id"),
        (('["123456"]', "[\"1' OR '1'='1\"]"), "channels.ga4.accounts[0]", "not a GA4 property id"),
        (("lookback_days: 28", "lookback_days: soon"), "channels.meta_ads.lookback_days", "whole number"),
        (("currency: USD", "currency: dollars"), "reporting.currency", "ISO 4217"),
        (("timezone: UTC", "timezone: Mars/Olympus"), "reporting.timezone", "unknown IANA time zone"),
        (("warehouse:", "history_start: 2024-13-45\nwarehouse:"), "history_start", "YYYY-MM-DD"),
        (("conversion_action_type: purchase", "conversion_action_typo: purchase"), "channels.meta_ads.conversion_action_typo", "unknown key"),
        (('accounts: ["123456"]', "accounts: []"), "channels.ga4.accounts", "non-empty list"),
        (("dir: ./wh", "dir: ./wh, memory_limit: lots"), "warehouse.memory_limit", "like 8GiB"),
        (("dir: ./wh", "dir: ./wh, memory_limit: 8 apples"), "warehouse.memory_limit", "like 8GiB"),
        (("warehouse:", "sandbox: somewhere\nwarehouse:"), "sandbox", "only value is 'embedded'"),
    ],
)
def test_bad_config_names_file_key_and_problem(tmp_path, change, key, problem):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert str(path) in message and key in message and problem in message


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "channels: [unclosed"))
