"""KPI guards: bad data injected through the sandbox is caught by the named
check, the run fails, and the published file stays byte-identical."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import duckdb
import pytest
import yaml

from connectors.sandbox import Fault, Sandbox
from orchestration.config import Settings, load_settings
from orchestration.runner import Outcome, run_pipeline
from orchestration.sandbox_config import start_sandbox
from tests.integration.conftest import sha256

TODAY = dt.datetime.now(dt.timezone.utc).date()
END = TODAY - dt.timedelta(days=1)
START = END - dt.timedelta(days=20)
# The bad runs re-pull the last week; the day the faults aim at is inside it.
BAD_START = END - dt.timedelta(days=6)
BAD_DAY = END - dt.timedelta(days=3)


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


CASES = {
    "negative spend": (
        Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
              params={"field": "spend", "value": "-12.50", "match": {"date_start": BAD_DAY.isoformat()}}),
        "raw_meta_ads/insights :: expectations", "spend >= 0",
    ),
    "clicks above impressions": (
        Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
              params={"field": "clicks", "value": "99999999", "match": {"date_start": BAD_DAY.isoformat()}}),
        "raw_meta_ads/insights :: expectations", "clicks <= impressions",
    ),
    "a missing day": (
        Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
              params={"action": "drop_row", "match": {"date_start": BAD_DAY.isoformat()}}),
        "raw_meta_ads/insights :: missing_days", BAD_DAY.isoformat(),
    ),
    "duplicated rows": (
        Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
              params={"action": "duplicate_row", "match": {"date_start": BAD_DAY.isoformat()}}),
        "raw_meta_ads/insights :: unique_key", "duplicate rows",
    ),
    "a removed field": (
        Fault("meta_ads", "bad_data", times=-1, path_contains="/insights", params={"action": "remove", "field": "impressions"}),
        "raw_meta_ads/insights :: schema_drift", "required field 'impressions' is missing",
    ),
    "an unparseable number": (
        Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
              params={"field": "spend", "value": "12,50", "match": {"date_start": BAD_DAY.isoformat()}}),
        "raw_meta_ads/insights :: quarantine", "'12,50'",
    ),
    "a deprecated metric": (
        Fault("meta_ads", "remove_metric", times=-1, params={"metric": "reach"}),
        "raw_meta_ads/insights :: schema_drift", "rejected the requested field(s) 'reach'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_data_is_caught_by_the_named_check_and_nothing_is_published(guarded, case):
    fault, check, why = CASES[case]
    published = guarded.settings.published_db
    before = sha256(published)
    guarded.sandbox.inject(fault)
    try:
        outcome = guarded.run()
    finally:
        guarded.sandbox.clear_faults()
    assert not outcome.success
    assert check in failed(outcome), outcome.summary()
    assert why in failed(outcome)[check].description + json.dumps(failed(outcome)[check].sample)
    assert sha256(published) == before
    summary = outcome.summary()
    assert check in summary and "unchanged by this failed run" in summary
    report = guarded.settings.validation_report.read_text()
    assert "Publish BLOCKED" in report and check.split(" :: ")[1] in report


def test_once_the_api_behaves_the_same_window_clears_every_finding(guarded):
    before = sha256(guarded.settings.published_db)
    clean = guarded.run()
    assert clean.success, clean.summary()
    assert sha256(guarded.settings.published_db) != before
    with duckdb.connect(str(guarded.settings.build_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM _socialmart.quarantine").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM _socialmart.schema_drift WHERE change = 'rejected_by_api'").fetchone()[0] == 0
