"""KPI guards: bad data injected through the sandbox is caught by the named
check, the run fails, and the published file stays byte-identical."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.config import Settings, load_settings
from orchestration.outcome import Outcome
from orchestration.runner import run_pipeline
from orchestration.sandbox_config import start_sandbox
from sandbox import Fault, Sandbox
from tests.integration.conftest import sha256

TODAY = dt.datetime.now(dt.UTC).date()
END = TODAY - dt.timedelta(days=1)
START = END - dt.timedelta(days=20)
# The bad runs re-pull the last week; the days the faults aim at are inside it.
BAD_START = END - dt.timedelta(days=6)


class Guarded:
    def __init__(self, sandbox: Sandbox, config: Path) -> None:
        self.sandbox, self.config = sandbox, config
        self.settings: Settings = load_settings(config)

    def run(self, start: dt.date = BAD_START, end: dt.date = END) -> Outcome:
        return run_pipeline(self.settings, self.config, start, end)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[Guarded]:
    root = tmp_path_factory.mktemp("guards")
    sandbox, generated = start_sandbox(root, today=TODAY)
    config = yaml.safe_load(generated.read_text())
    config["channels"] = {name: config["channels"][name] for name in ("meta_ads", "ga4")}
    config.pop("families")  # the X and Weibo families' accounts are not pulled here
    config["http"] = {"backoff_seconds": 0.01}
    path = root / "socialmart.yaml"
    path.write_text(yaml.safe_dump(config))
    env = Guarded(sandbox, path)
    first = env.run(START, END)
    assert first.success, first.summary()
    yield env
    sandbox.stop()


def failed(outcome: Outcome) -> dict[str, object]:
    return {f"{c.asset} :: {c.name}": c for c in outcome.checks if not c.passed and c.severity == "ERROR"}


def test_a_clean_run_publishes_its_checks_and_a_validation_report(guarded):
    with duckdb.connect(str(guarded.settings.published_db), read_only=True) as con:
        checks = con.execute("SELECT kind, count(*), bool_and(passed OR severity = 'WARN') FROM meta.check_results GROUP BY 1").fetchall()
        cursors = con.execute("SELECT count(*) FROM meta.sync_state").fetchone()[0]
    kinds = {kind: (count, ok) for kind, count, ok in checks}
    assert {"dbt_test", "expectation", "reconciliation", "uniqueness", "quarantine", "schema_drift", "completeness"} <= set(kinds)
    assert all(ok for _, ok in kinds.values()), kinds
    assert cursors > 0
    report = guarded.settings.validation_report.read_text()
    assert "All blocking checks passed" in report and "reconciles_with_raw" in report


def insights_fault(day: dt.date, **params) -> Fault:
    return Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
                 params={**params, "match": {"date_start": day.isoformat()}})


# Each kind of bad row aims at its own day, so one bad run shows that every
# check catches its own case (the raw audit evaluates all of them before it
# stops the build). A deprecated metric fails the pull itself: its own run.
DAY = {name: END - dt.timedelta(days=n) for n, name in enumerate(
    ["negative spend", "clicks above impressions", "a missing day", "duplicated rows", "an unparseable number"], start=1)}
ROW_CASES = {
    "negative spend": (insights_fault(DAY["negative spend"], field="spend", value="-12.50"),
                       "raw_meta_ads/meta_ads__insights :: expectations", "spend >= 0"),
    "clicks above impressions": (insights_fault(DAY["clicks above impressions"], field="clicks", value="99999999"),
                                 "raw_meta_ads/meta_ads__insights :: expectations", "clicks <= impressions"),
    "a missing day": (insights_fault(DAY["a missing day"], action="drop_row"),
                      "raw_meta_ads/meta_ads__insights :: missing_days", DAY["a missing day"].isoformat()),
    "duplicated rows": (insights_fault(DAY["duplicated rows"], action="duplicate_row"),
                        "raw_meta_ads/meta_ads__insights :: unique_key", "duplicate rows"),
    "an unparseable number": (insights_fault(DAY["an unparseable number"], field="spend", value="12,50"),
                              "raw_meta_ads/meta_ads__insights :: quarantine", "'12,50'"),
    # The first day of the window holds its own case too.
    "a value too large for its column": (insights_fault(BAD_START, field="impressions", value=str(2**63)),
                                         "raw_meta_ads/meta_ads__insights :: quarantine", f"'{2**63}': too large for int64"),
    # GA4's rows are positional: the fault reaches every row of the report.
    "a non-finite number": (Fault("ga4", "bad_data", times=-1, params={"field": "bounceRate", "value": "NaN"}),
                            "raw_ga4/ga4__traffic :: quarantine", "'NaN': not a finite number"),
    "a removed field": (Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
                              params={"action": "remove", "field": "reach"}),
                        "raw_meta_ads/meta_ads__insights :: schema_drift", "required field 'reach' is missing"),
}
DEPRECATED_METRIC = (Fault("meta_ads", "remove_metric", times=-1, params={"metric": "reach"}),
                     "raw_meta_ads/meta_ads__insights :: schema_drift", "rejected the requested field(s) 'reach'")


def bad_run(guarded: Guarded, *faults: Fault) -> tuple[Outcome, str, str]:
    published = guarded.settings.published_db
    before = sha256(published)
    guarded.sandbox.inject(*faults)
    try:
        outcome = guarded.run()
    finally:
        guarded.sandbox.clear_faults()
    return outcome, before, sha256(published)


@pytest.fixture(scope="module")
def bad_rows(guarded):
    return bad_run(guarded, *(fault for fault, _, _ in ROW_CASES.values()))


@pytest.fixture(scope="module")
def deprecated_metric(guarded, bad_rows):
    return bad_run(guarded, DEPRECATED_METRIC[0])


def test_the_validation_report_shows_why_the_publish_was_blocked(guarded, bad_rows):
    report = guarded.settings.validation_report.read_text()
    assert "Publish BLOCKED" in report
    assert all(name in report for name in ("expectations", "missing_days", "unique_key", "quarantine", "schema_drift"))


@pytest.mark.parametrize("case", [*ROW_CASES, "a deprecated metric"])
def test_bad_data_is_caught_by_the_named_check_and_nothing_is_published(guarded, bad_rows, deprecated_metric, case):
    _, check, why = ROW_CASES.get(case) or DEPRECATED_METRIC
    outcome, before, after = deprecated_metric if case == "a deprecated metric" else bad_rows
    assert not outcome.success
    assert check in failed(outcome), outcome.summary()
    assert why in failed(outcome)[check].description + json.dumps(failed(outcome)[check].sample)
    assert after == before
    summary = outcome.summary()
    assert check in summary and "unchanged by this failed run" in summary


def test_once_the_api_behaves_the_same_window_clears_every_finding(guarded):
    before = sha256(guarded.settings.published_db)
    clean = guarded.run()
    assert clean.success, clean.summary()
    assert sha256(guarded.settings.published_db) != before
    with duckdb.connect(str(guarded.settings.build_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM _socialmart.quarantine").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM _socialmart.schema_drift WHERE change = 'rejected_by_api'").fetchone()[0] == 0
