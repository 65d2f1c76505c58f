"""Schema drift and unparseable values, through the sandbox's Meta insights:
an added field is kept and reported, a removed KPI field fails by name, an
unparseable number is quarantined and blocks the publish."""

from __future__ import annotations

import datetime as dt

import duckdb
import orjson
import pytest

from connectors import CONNECTORS
from connectors.http import RetryPolicy
from orchestration.config import parse_settings
from orchestration.ingest import sync_stream
from orchestration.quality import audits
from sandbox import Fault, Sandbox

TODAY = dt.date(2026, 6, 15)
START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 14)
INSIGHTS = CONNECTORS["meta_ads"].streams["insights"]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(today=TODAY) as sb:
        yield sb


@pytest.fixture
def settings(sandbox, monkeypatch):
    monkeypatch.setenv("META_TOKEN", sandbox.token)
    entry = sandbox.client_configs("${META_TOKEN}")["meta_ads"]
    return parse_settings({"channels": {"meta_ads": entry}}).channels["meta_ads"]


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "build.duckdb")) as connection:
        yield connection


def sync(con, settings, sandbox, *faults: Fault):
    sandbox.inject(*faults)
    try:
        return sync_stream(con, settings, "insights", START, END, policy=RetryPolicy(backoff_base=0.01),
                           progress=lambda line: None, snapshot_date=TODAY)
    finally:
        sandbox.clear_faults()


def test_added_field_is_kept_and_reported(sandbox, settings, con):
    sync(con, settings, sandbox)  # the baseline: fields seen on the first landing are not drift
    assert audits.schema_drift(con, "meta_ads", INSIGHTS).passed
    result = sync(con, settings, sandbox, Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
                                                params={"action": "add", "field": "quality_ranking", "value": "ABOVE_AVERAGE"}))
    assert result.rows > 0
    records = [orjson.loads(r[0]) for r in con.execute("SELECT _record FROM raw_meta_ads.insights").fetchall()]
    assert all(r["quality_ranking"] == "ABOVE_AVERAGE" for r in records)  # kept, whole, in _record
    drift = con.execute("SELECT field, change FROM _socialmart.schema_drift").fetchall()
    assert drift == [("quality_ranking", "added")]
    check = audits.schema_drift(con, "meta_ads", INSIGHTS)
    assert not check.passed and check.severity == "WARN" and not check.blocks_publish
    assert "quality_ranking" in check.description


def test_removed_required_field_fails_naming_it(sandbox, settings, con):
    sync(con, settings, sandbox, Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
                                       params={"action": "remove", "field": "clicks"}))
    check = audits.schema_drift(con, "meta_ads", INSIGHTS)
    assert not check.passed and check.blocks_publish
    assert "required field 'clicks' is missing from" in check.description
    assert check.sample[0]["field"] == "clicks"


def test_unparseable_number_is_quarantined_and_blocks_publish(sandbox, settings, con):
    bad_day = END - dt.timedelta(days=2)
    result = sync(con, settings, sandbox, Fault("meta_ads", "bad_data", times=-1, path_contains="/insights",
                                                params={"field": "spend", "value": "12,50",
                                                        "match": {"date_start": bad_day.isoformat()}}))
    held = con.execute("SELECT account_id, columns, reason, record FROM _socialmart.quarantine").fetchall()
    assert result.quarantined == len(held) > 0
    assert all(columns == "spend" and "meta_ads.insights: column 'spend' got '12,50'" in reason for _, columns, reason, _ in held)
    assert all(orjson.loads(record)["date_start"] == bad_day.isoformat() for *_, record in held)
    # The rest of the window landed; the held records did not.
    days = {d for (d,) in con.execute("SELECT DISTINCT date_day FROM raw_meta_ads.insights").fetchall()}
    assert START in days and END in days
    landed_bad = con.execute("SELECT count(*) FROM raw_meta_ads.insights WHERE date_day = ? AND spend IS NULL", [bad_day]).fetchone()[0]
    assert landed_bad == 0
    check = audits.quarantine(con, "meta_ads", INSIGHTS)
    assert not check.passed and check.blocks_publish and "'12,50'" in check.description
    # A clean re-pull of the window releases the quarantine.
    sync(con, settings, sandbox)
    assert audits.quarantine(con, "meta_ads", INSIGHTS).passed
