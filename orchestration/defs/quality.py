"""The audit as Dagster asset checks, run by the build job between dbt and publish.

Every check is an asset check on the asset it guards: GX suites on each mart
and on the KPI raw streams, reconciliation on the marts, and per raw stream
unique_key, quarantine, schema_drift, missing_days, freshness and
volume_anomaly. Checks whose failure means a wrong number would reach BI are
`blocking`: Dagster skips the publish asset when one fails with ERROR
severity, and the publish step itself refuses to run while the run has a
blocking failure on record (a second lock on the same door). Warnings
(freshness, anomalies, new API fields) are reported, not blocking.
"""


import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from connectors import CONNECTORS
from connectors.base import Stream
from orchestration import progress
from orchestration.config import Settings
from orchestration.landing import raw_asset_path
from orchestration.quality import audits
from orchestration.quality.expectations import MART_SUITES, RAW_SUITES, validate
from orchestration.quality.results import CheckResult, record_results
from orchestration.quality.validation_report import write_validation_report


@dataclass(frozen=True)
class PlannedCheck:
    """One asset check: its spec for Dagster and how to evaluate it."""

    asset: dg.AssetKey
    name: str
    description: str
    blocking: bool
    evaluate: Callable[[duckdb.DuckDBPyConnection], CheckResult]

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(self.name, asset=self.asset, description=self.description, blocking=self.blocking)


def planned_checks(settings: Settings, mart_keys: set[dg.AssetKey]) -> list[PlannedCheck]:
    today = settings.today()
    checks: list[PlannedCheck] = []
    for suite in MART_SUITES:
        key = dg.AssetKey(suite.table.split("."))
        if key in mart_keys:
            checks.append(PlannedCheck(key, "expectations", _suite_text(suite), True,
                                       lambda con, s=suite: validate(con, s, today)))
    ad_channels = [name for name in settings.sources if name in {s.channel for s in audits.AD_SOURCES}]
    checks += [
        PlannedCheck(dg.AssetKey(["marts", "fct_ad_performance_daily"]), "reconciles_with_raw",
                     "Spend, impressions and clicks per day, channel and account equal the raw API totals; "
                     "reporting-currency spend equals raw spend x ECB rate within rounding.", True,
                     lambda con: audits.ad_spend_reconciles(con, ad_channels, settings.reporting_currency)),
        PlannedCheck(dg.AssetKey(["marts", "fct_landing_page_daily"]), "sessions_reconcile_with_ga4",
                     "Sessions per day and property equal raw GA4.", True, audits.landing_sessions_reconcile),
        PlannedCheck(dg.AssetKey(["marts", "fct_conversion_funnel_daily"]), "sessions_reconcile_with_ga4",
                     "Funnel sessions per day and channel equal the raw GA4 sessions of its campaigns.", True,
                     audits.funnel_sessions_reconcile),
    ]
    raw_suites = {suite.table: suite for suite in RAW_SUITES}
    for channel in settings.sources:
        connector = CONNECTORS[channel]
        for stream in connector.streams.values():
            checks += _raw_checks(channel, settings.sources[channel].accounts, stream, connector.expected_lag_days, today,
                                  raw_suites.get(f"raw_{channel}.{stream.name}"))
    return checks


def _raw_checks(channel: str, accounts: list[str], stream: Stream, lag: int, today: dt.date, suite) -> list[PlannedCheck]:
    key = dg.AssetKey(raw_asset_path(channel, stream.name))
    checks = [
        PlannedCheck(key, "unique_key", f"One row per ({', '.join(stream.key)}) in the windows landed since the last publish.", True,
                     lambda con: audits.unique_key(con, channel, stream)),
        PlannedCheck(key, "quarantine", "No record held back for an unparseable value.", True,
                     lambda con: audits.quarantine(con, channel, stream)),
        PlannedCheck(key, "schema_drift", "KPI fields present, none rejected by the API; new fields reported.", True,
                     lambda con: audits.schema_drift(con, channel, stream)),
    ]
    if suite is not None:
        checks.append(PlannedCheck(key, "expectations", _suite_text(suite), True,
                                   lambda con: validate(con, suite, today, audits.pending_windows(con, channel, stream.name))))
    if stream.date_column and not stream.snapshot:
        checks.append(PlannedCheck(key, "freshness", f"Data no older than the source's lag ({lag} days).", False,
                                   lambda con: audits.freshness(con, channel, stream, today, lag, accounts)))
    if stream.every_day:
        checks.append(PlannedCheck(key, "missing_days", "No day missing between days with data.", True,
                                   lambda con: audits.missing_days(con, channel, stream)))
        measure = {s.channel: s.spend for s in audits.AD_SOURCES if s.table == stream.name}.get(channel)
        checks.append(PlannedCheck(key, "volume_anomaly", "Daily rows and spend within the trailing 28-day range.", False,
                                   lambda con: audits.volume_anomaly(con, channel, stream, measure)))
    return checks


def _suite_text(suite) -> str:
    return "Great Expectations suite: " + "; ".join(rule.describe() for rule in suite.rules)


def quality_checks(settings: Settings, mart_keys: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Two audits: the raw one gates dbt (its blocking checks stop the build
    before a bad API value reaches a model), the mart one gates publish."""
    planned = planned_checks(settings, mart_keys)
    raw = [p for p in planned if p.asset.path[0].startswith("raw_")]
    marts = [p for p in planned if not p.asset.path[0].startswith("raw_")]
    return [_audit("raw_audit", raw, settings), _audit("mart_audit", marts, settings)]


def _audit(name: str, planned: list[PlannedCheck], settings: Settings) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=[p.spec for p in planned], name=name, description=__doc__, can_subset=True)
    def audit(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        results: list[tuple[PlannedCheck, CheckResult]] = []
        with duckdb.get_connection() as con:
            for check in planned:
                if dg.AssetCheckKey(check.asset, check.name) in selected:
                    results.append((check, check.evaluate(con)))
            record_results(con, context.run.run_id, [r for _, r in results])
            write_validation_report(con, settings.validation_report, [context.run.run_id])
        failed = [r for _, r in results if r.blocks_publish]
        for check, result in results:
            if not result.passed:
                context.log.warning(result.summary_line())
            yield dg.AssetCheckResult(
                asset_key=check.asset,
                check_name=check.name,
                passed=result.passed,
                severity=dg.AssetCheckSeverity.WARN if result.severity == "WARN" else dg.AssetCheckSeverity.ERROR,
                description=result.description,
                metadata={
                    "kind": result.kind,
                    "failing_rows": result.failing_rows,
                    **({"sample": dg.MetadataValue.json(result.sample)} if result.sample else {}),
                },
            )
        line = f"{name}: {len(results)} checks, {len(failed)} blocking failures; report {settings.validation_report}"
        context.log.info(line)
        progress.steps.info(line)

    return audit
