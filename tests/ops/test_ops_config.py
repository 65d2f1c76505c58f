"""The operations keys of socialmart.yaml: `schedule` and `alerts`."""

from __future__ import annotations

import pytest

from connectors import CONNECTORS
from connectors.http import redact
from orchestration.config import ConfigError, load_settings

BASE = """
channels:
  meta_ads:
    access_token: ${OPS_TEST_TOKEN}
    accounts: ["act_1"]
"""
WEBHOOK = "https://hooks.slack.com/services/T0AAAA/B0BBBB/ops-test-webhook-secret"


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.setenv("OPS_TEST_TOKEN", "ops-test-token-value")
    monkeypatch.setenv("OPS_TEST_WEBHOOK", WEBHOOK)


def load(tmp_path, extra: str):
    path = tmp_path / "socialmart.yaml"
    path.write_text(BASE + extra)
    return load_settings(path), path


def test_defaults_nightly_at_two_and_no_webhook(tmp_path):
    settings, _ = load(tmp_path, "")
    assert settings.schedule_cron == "0 2 * * *" and settings.alert_webhook_url is None


def test_schedule_and_webhook_from_config(tmp_path):
    settings, _ = load(tmp_path, 'schedule: {cron: "15 4 * * *"}\nalerts:\n  webhook_url: ${OPS_TEST_WEBHOOK}\n')
    assert settings.schedule_cron == "15 4 * * *" and settings.alert_webhook_url == WEBHOOK
    # A credential: registered with the redactor like a token.
    assert WEBHOOK not in redact(f"posting to {WEBHOOK} failed")


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ('schedule: {cron: "0 25 * * *"}\n', "schedule.cron",
         "must be a cron expression such as '0 2 * * *' (minute hour day month weekday), got '0 25 * * *'"),
        ("schedule: {cron: 2}\n", "schedule.cron", "must be a cron expression such as '0 2 * * *' (minute hour day month weekday), got 2"),
        ('schedule: {at: "02:00"}\n', "schedule.at", "unknown key (allowed: cron)"),
        ("alerts:\n  webhook_url: ${OPS_TEST_UNSET}\n", "alerts.webhook_url", "environment variable OPS_TEST_UNSET is not set"),
        ("alerts:\n  slack: ${OPS_TEST_WEBHOOK}\n", "alerts.slack", "unknown key (allowed: webhook_url)"),
    ],
)
def test_bad_operations_keys_are_named(tmp_path, extra, key, problem):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, extra)
    assert str(error.value) == f"{tmp_path / 'socialmart.yaml'}: {key}: {problem}"


def test_a_literal_webhook_url_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, f"alerts: {{webhook_url: '{WEBHOOK}'}}\n")
    assert "alerts.webhook_url: credentials must be an environment reference" in str(error.value)
    assert "ops-test-webhook-secret" not in str(error.value)


def test_a_webhook_variable_that_is_no_url_is_refused_without_echoing_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OPS_TEST_WEBHOOK", "xoxb-not-a-url-secret")
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "alerts:\n  webhook_url: ${OPS_TEST_WEBHOOK}\n")
    assert str(error.value).endswith("alerts.webhook_url: the environment variable does not hold an http(s) URL")
    assert "xoxb" not in str(error.value)


def test_every_connector_states_its_expected_lag():
    lags = {name: connector.expected_lag_days for name, connector in CONNECTORS.items()}
    assert all(isinstance(lag, int) and lag >= 1 for lag in lags.values())
    assert (lags["ga4"], lags["youtube"], lags["wechat"], lags["meta_ads"]) == (2, 3, 1, 1)
