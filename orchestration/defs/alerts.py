"""Alert sensors: run failures and failed ERROR checks, to the log and the webhook.

- `socialmart_alert_on_run_failure`: any run of this code location failed
  (its step failures with their root causes, and its failed checks).
- `socialmart_alert_on_failed_checks`: a run succeeded but an ERROR-severity
  check in it failed (a non-blocking check: a blocking one fails the run and
  is reported by the first sensor, so nothing is alerted twice).

Both run in the daemon (`dagster-daemon run`, or `dagster dev`). The message
and its delivery live in `orchestration/alerts.py`, shared with the CLI.
A webhook that refuses the alert fails the sensor's tick (visible in the UI);
the alert is in the tick's log either way.
"""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import alert_for_run, deliver
from orchestration.config import Settings

RUN_FAILURE_SENSOR = "socialmart_alert_on_run_failure"
FAILED_CHECKS_SENSOR = "socialmart_alert_on_failed_checks"


def alert_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    @dg.run_failure_sensor(
        name=RUN_FAILURE_SENSOR,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A run failed: log it and post it to alerts.webhook_url.",
    )
    def socialmart_alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
        alert = alert_for_run(context.instance, context.dagster_run)
        deliver(alert, settings.alert_webhook_url, context.log)

    @dg.run_status_sensor(
        name=FAILED_CHECKS_SENSOR,
        run_status=dg.DagsterRunStatus.SUCCESS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A run succeeded with a failed ERROR-severity check: log it and post it to alerts.webhook_url.",
    )
    def socialmart_alert_on_failed_checks(context: dg.RunStatusSensorContext):
        alert = alert_for_run(context.instance, context.dagster_run)
        if alert is None:
            return dg.SkipReason(f"no ERROR check failed in run {context.dagster_run.run_id}")
        deliver(alert, settings.alert_webhook_url, context.log)

    return [socialmart_alert_on_run_failure, socialmart_alert_on_failed_checks]
