"""Alerts: a failed run, or a run whose ERROR-severity checks failed, as one message.

The message is read from the Dagster instance's record of the run (its step
failures, root causes and failed checks), so the daemon's sensors
(`orchestration/defs/alerts.py`, for runs the daemon launched) and the CLI
(in-process runs, which sensors never see) say the same thing. It is always
logged, and posted as Slack-compatible JSON (`{"text", "blocks"}`, also what
Mattermost, Rocket.Chat and Teams' Slack-compatible hooks accept) to
`alerts.webhook_url` when one is configured. The webhook URL is a credential:
it is never written to a log or an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dagster as dg
import requests
from dagster._core.events import DagsterEventType

from connectors.http import redact

log = logging.getLogger("socialmart.alerts")

WEBHOOK_TIMEOUT_SECONDS = 10
# Slack refuses a header over 150 characters and a section over 3,000: the
# blocks are cut to fit; `text` (the notification, and the log) stays whole.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000


class AlertDeliveryError(RuntimeError):
    """The webhook did not take the alert (the alert itself was logged)."""


@dataclass
class Alert:
    run_id: str
    job_name: str
    headline: str
    lines: list[str]
    context: str

    @property
    def text(self) -> str:
        return "\n".join([self.headline, *(f"- {line}" for line in self.lines), self.context])

    def payload(self) -> dict:
        section = "\n".join(f"• {line}" for line in self.lines)
        if len(section) > SECTION_LIMIT:
            section = section[: SECTION_LIMIT - 30].rsplit("\n", 1)[0] + "\n• ... (the rest in the run's log)"
        return {
            "text": self.text,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.headline[:HEADER_LIMIT]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": section}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": self.context}]},
            ],
        }


def root_cause(error) -> str:
    """Dagster wraps an asset's exception ("Error occurred while executing op"):
    the innermost cause is the one that names the channel, account and API code."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def run_failure_cause(event: dg.DagsterEvent) -> str | None:
    """Why a run failed outside its steps (a resource that would not start,
    such as a warehouse another run holds); None where its steps say why."""
    error = getattr(event.event_specific_data, "error", None)
    return f"run: {root_cause(error)}" if error is not None else None


def alert_for_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert | None:
    """The alert a finished run deserves: None when it succeeded with no failed ERROR check."""
    events = instance.all_logs(
        run.run_id,
        of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE, DagsterEventType.ASSET_CHECK_EVALUATION},
    )
    step_failures, run_failure, failed_checks = [], None, []
    for entry in events:
        event = entry.dagster_event
        if event.event_type == DagsterEventType.STEP_FAILURE:
            step_failures.append(f"step {event.step_key}: {root_cause(event.event_specific_data.error)}")
        elif event.event_type == DagsterEventType.RUN_FAILURE:
            run_failure = run_failure_cause(event) or event.message
        else:
            check = event.event_specific_data
            if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR:
                failed_checks.append(f"check {check.asset_key.to_user_string()} :: {check.check_name} failed (ERROR)")
    failed = run.status == dg.DagsterRunStatus.FAILURE
    if not failed and not failed_checks:
        return None
    lines = step_failures or ([run_failure] if failed and run_failure else [])
    lines += failed_checks
    if failed:
        headline = f"socialmart: run of {run.job_name} FAILED"
    else:
        headline = f"socialmart: {len(failed_checks)} ERROR check(s) failed in a run of {run.job_name}"
    context = f"Dagster run {run.run_id}"
    if run_window(run):
        context += f", days {run_window(run)}"
    # What launched it: socialmart/nightly, socialmart/backfill, ...
    context += "".join(f", {name}={value}" for name, value in sorted(run.tags.items()) if name.startswith("socialmart/"))
    return Alert(run.run_id, run.job_name, headline, [redact(line) for line in lines], context)


def deliver(alert: Alert, webhook_url: str | None, logger: logging.Logger | dg.DagsterLogManager = log) -> None:
    """Log the alert, then post it to the webhook if one is configured."""
    logger.error(alert.text)
    if not webhook_url:
        return
    try:
        response = requests.post(webhook_url, json=alert.payload(), timeout=WEBHOOK_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        # requests' message quotes the URL, and the URL is the secret.
        raise AlertDeliveryError(f"alerts.webhook_url: posting the alert for run {alert.run_id} failed: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise AlertDeliveryError(
            f"alerts.webhook_url: the webhook answered HTTP {response.status_code} for run {alert.run_id}: "
            f"{redact(response.text[:200])}"
        )


def run_window(run: dg.DagsterRun) -> str | None:
    """The days an ingest run was configured to pull ("start..end"), from its
    `ingest_window` run config; None for build runs and unconfigured runs."""
    window = ((run.run_config or {}).get("resources", {}).get("ingest_window", {}) or {}).get("config") or {}
    if window.get("start") and window.get("end"):
        return f"{window['start']}..{window['end']}"
    return None
