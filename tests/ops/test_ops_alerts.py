"""Alerts against a local webhook receiver (a real loopback HTTP server):
a real failed run of the ingest job, the real sensors evaluated on it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from orchestration.alerts import Alert, AlertDeliveryError, alert_for_run, deliver
from orchestration.config import SANDBOX_TOKEN_VARIABLE, Settings, load_settings
from orchestration.defs import INGEST_JOB, build_definitions
from orchestration.defs.alerts import FAILED_CHECKS_SENSOR, RUN_FAILURE_SENSOR
from orchestration.instance import dagster_home
from orchestration.outcome import Outcome
from orchestration.runner import run_pipeline
from orchestration.sandbox_config import start_sandbox
from orchestration.status import collect_status
from sandbox import Fault, Sandbox
from tests.conftest import ScriptedServer
from tests.ops.conftest import TODAY, YESTERDAY, run_cli, sandbox_config


@dataclass
class FailedRun:
    sandbox: Sandbox
    config: Path
    settings: Settings
    outcome: Outcome
    webhook_secret: str


@pytest.fixture(scope="module")
def receiver() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory, receiver) -> Iterator[FailedRun]:
    """meta_ads answers HTTP 503 to everything: the CLI's run fails in ingest."""
    warehouse = tmp_path_factory.mktemp("alerts_warehouse")
    sandbox, generated = start_sandbox(warehouse, today=TODAY)
    # Slack's webhook URLs carry their secret in the path.
    webhook_secret = f"T{secrets.token_hex(4)}/B{secrets.token_hex(4)}/{secrets.token_urlsafe(18)}"
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DAGSTER_HOME", raising=False)
        env.setenv("SOCIALMART_ALERT_WEBHOOK", f"{receiver.url}/services/{webhook_secret}")
        config = sandbox_config(sandbox, generated, ["meta_ads"], alerts={"webhook_url": "${SOCIALMART_ALERT_WEBHOOK}"})
        settings = load_settings(config)
        sandbox.inject(Fault(channel="meta_ads", kind="server_error", times=-1))
        outcome = run_pipeline(settings, config, YESTERDAY - dt.timedelta(days=2), YESTERDAY)
        sandbox.clear_faults()
        yield FailedRun(sandbox, config, settings, outcome, webhook_secret)
    sandbox.stop()


def posted(server: ScriptedServer) -> list[dict]:
    return [json.loads(request["body"]) for request in server.requests]


def failure_context(settings: Settings, sensor_name: str, event_type: DagsterEventType):
    instance = dg.DagsterInstance.from_config(str(dagster_home(settings)))
    run = instance.get_run_records(filters=dg.RunsFilter(job_name=INGEST_JOB), limit=1)[0].dagster_run
    event = instance.all_logs(run.run_id, of_type=event_type)[0].dagster_event
    return instance, run, dg.build_run_status_sensor_context(sensor_name, event, instance, run)


def test_the_failed_cli_run_posted_a_slack_message(failed_run, receiver):
    assert not failed_run.outcome.success
    [request] = receiver.requests
    assert request["method"] == "POST" and request["path"] == f"/services/{failed_run.webhook_secret}"
    message = json.loads(request["body"])
    run_id = failed_run.outcome.run_ids[0]
    assert message["text"].startswith("socialmart: run of socialmart_ingest FAILED")
    assert "step raw_meta_ads__meta_ads__insights: " in message["text"] and "HTTP 503" in message["text"]
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "context"]
    assert f"Dagster run {run_id}" in message["blocks"][2]["elements"][0]["text"]
    assert "act_1001" in message["blocks"][1]["text"]["text"]
    assert os.environ[SANDBOX_TOKEN_VARIABLE] not in request["body"].decode()


def test_run_failure_sensor_posts_the_same_message(failed_run, receiver, capfd):
    receiver.requests.clear()
    sensor = build_definitions(failed_run.settings).resolve_sensor_def(RUN_FAILURE_SENSOR)
    instance, run, context = failure_context(failed_run.settings, RUN_FAILURE_SENSOR, DagsterEventType.RUN_FAILURE)
    capfd.readouterr()
    with instance:
        sensor(context.for_run_failure())
        [message] = posted(receiver)
        assert message == alert_for_run(instance, run).payload()
    assert message["text"].startswith("socialmart: run of socialmart_ingest FAILED")
    # Logged as well, through the sensor's log (the daemon's tick log); the
    # webhook URL (a credential) nowhere.
    logged = capfd.readouterr().err
    assert "ERROR - socialmart: run of socialmart_ingest FAILED" in logged
    assert failed_run.webhook_secret not in logged


def test_a_webhook_that_refuses_is_named_without_its_url(failed_run, receiver, caplog):
    receiver.requests.clear()
    receiver.add(500, b"no_service")
    instance, run, _ = failure_context(failed_run.settings, RUN_FAILURE_SENSOR, DagsterEventType.RUN_FAILURE)
    alert = alert_for_run(instance, run)
    with instance, caplog.at_level(logging.ERROR, logger="socialmart.alerts"):
        with pytest.raises(AlertDeliveryError) as refused:
            deliver(alert, failed_run.settings.alert_webhook_url)
        # Nobody listening at all: the error names the key and the exception type only.
        with pytest.raises(AlertDeliveryError) as unreachable:
            deliver(alert, "http://127.0.0.1:9/services/" + failed_run.webhook_secret)
    assert str(refused.value).startswith("alerts.webhook_url: the webhook answered HTTP 500 for run ")
    assert str(unreachable.value) == f"alerts.webhook_url: posting the alert for run {run.run_id} failed: ConnectionError"
    assert caplog.text.count("socialmart: run of socialmart_ingest FAILED") == 2  # logged before each attempt
    for text in (str(refused.value), str(unreachable.value), caplog.text):
        assert failed_run.webhook_secret not in text


def test_failed_error_checks_of_a_successful_run_are_alerted(failed_run, receiver):
    """A non-blocking ERROR check fails but the run succeeds: the checks
    sensor alerts, naming the ERROR check and not the WARN one."""

    @dg.asset
    def kpis() -> int:
        return 1

    @dg.asset_check(asset=kpis, blocking=False)
    def spend_reconciles() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=healthy, severity=dg.AssetCheckSeverity.ERROR)

    @dg.asset_check(asset=kpis)
    def ctr_anomaly() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    sensor = build_definitions(failed_run.settings).resolve_sensor_def(FAILED_CHECKS_SENSOR)
    with dg.DagsterInstance.ephemeral() as instance:
        for healthy in (False, True):
            receiver.requests.clear()
            result = dg.materialize([kpis, spend_reconciles, ctr_anomaly], instance=instance)
            assert result.success
            run = instance.get_run_by_id(result.run_id)
            success = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_SUCCESS)[0].dagster_event
            outcome = sensor(dg.build_run_status_sensor_context(FAILED_CHECKS_SENSOR, success, instance, run))
            if healthy:
                assert isinstance(outcome, dg.SkipReason) and receiver.requests == []
            else:
                [message] = posted(receiver)
                assert message["text"].startswith(f"socialmart: 1 ERROR check(s) failed in a run of {run.job_name}")
                assert "check kpis :: spend_reconciles failed (ERROR)" in message["text"]
                assert "ctr_anomaly" not in message["text"]


def test_status_reports_the_failed_run_and_exits_1(failed_run):
    status = collect_status(failed_run.settings)
    assert not status.ok
    run_problem = [p for p in status.problems if p.startswith("last socialmart_ingest run ")]
    assert run_problem and "step raw_meta_ads__meta_ads__insights: " in run_problem[0] and "HTTP 503" in run_problem[0]
    assert "meta_ads account act_1001: never synced" in status.problems
    done = run_cli(["status", "--config", str(failed_run.config)], failed_run.config.parent,
                   SOCIALMART_ALERT_WEBHOOK=failed_run.settings.alert_webhook_url)
    assert done.returncode == 1 and "FAILURE" in done.stdout and "never synced" in done.stdout


def test_a_long_alert_fits_slacks_block_limits():
    lines = [f"step raw_x__posts_{i}: " + "x" * 200 for i in range(40)]
    payload = Alert("run", "socialmart_ingest", "socialmart: run of socialmart_ingest FAILED " + "y" * 200, lines, "Dagster run run").payload()
    section = payload["blocks"][1]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("• ... (the rest in the run's log)")
    assert len(payload["blocks"][0]["text"]["text"]) == 150
    assert all(line in payload["text"] for line in lines)  # the notification text stays whole
