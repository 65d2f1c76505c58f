"""orchestration/dbt_replay.py on real DuckDB files: what a recorded build
replays, what stops a replay (and leaves the warehouse as it was), and what
changes the fingerprint that decides whether a build may be replayed.

The end-to-end cases (a replayed night, and a new warehouse's first build
replayed from another's, equal dbt's builds of them) are in
tests/ops/test_ops_nightly.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_replay import (
    FIRST_BUILDS_KEPT,
    FirstBuild,
    ReplayPlan,
    ReplayRefused,
    Statement,
    building_first,
    fingerprint,
    record,
    replay,
)

COMMENT = '/* {"app": "dbt", "node_id": "%s"} */\n'
MODEL = "model.socialmart.daily"
TEST = "test.socialmart.not_null_daily_clicks.abc123"


def dbt_test_sql(inner: str, node: str = TEST) -> str:
    """A test's outcome query as dbt's get_test_sql writes it."""
    return (COMMENT % node + "select\n      count(*) as failures,\n      count(*) != 0 as should_warn,\n"
            f"      count(*) != 0 as should_error\n    from (\n{inner}\n    ) dbt_internal_test")


def plan_of(*statements: Statement, severity: str = "ERROR") -> ReplayPlan:
    tests = {s.node for s in statements if s.kind == "test"}
    return ReplayPlan("digest", "inv-1", "2026-12-06T00:00:00", list(statements),
                      severities=dict.fromkeys(tests, severity), models=[MODEL])


BUILD = [
    Statement(MODEL, "model", COMMENT % MODEL + 'create or replace table "main"."daily" as select day, clicks from raw'),
    Statement(TEST, "test", dbt_test_sql('select clicks from "main"."daily" where clicks is null')),
]


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("CREATE TABLE raw AS SELECT * FROM (VALUES (DATE '2026-12-01', 3), (DATE '2026-12-02', 5)) t(day, clicks)")
        con.execute("CREATE TABLE daily AS SELECT day, clicks FROM raw WHERE false")
        yield con


def test_a_replay_runs_the_recorded_sql_on_the_data_of_now(con):
    con.execute("INSERT INTO raw VALUES (DATE '2026-12-03', 8)")
    result = replay(con, plan_of(*BUILD))
    assert con.execute("SELECT sum(clicks), count(*) FROM daily").fetchone() == (16, 3)
    assert [(t.unique_id, t.status, t.failures) for t in result.tests] == [(TEST, "pass", 0)]
    assert result.statements == 2


def test_a_failing_test_stops_the_replay_and_leaves_the_warehouse_as_it_was(con):
    con.execute("INSERT INTO raw VALUES (DATE '2026-12-03', NULL)")
    with pytest.raises(ReplayRefused, match=rf"{TEST} found 1 failing rows"):
        replay(con, plan_of(*BUILD))
    # Rolled back: dbt then builds, skips what the test guards and reports it.
    assert con.execute("SELECT count(*) FROM daily").fetchone() == (0,)


def test_a_warn_severity_test_warns_and_the_replay_commits(con):
    con.execute("INSERT INTO raw VALUES (DATE '2026-12-03', NULL)")
    result = replay(con, plan_of(*BUILD, severity="WARN"))
    assert [(t.status, t.failures) for t in result.tests] == [("warn", 1)]
    assert con.execute("SELECT count(*) FROM daily").fetchone() == (3,)


def test_a_statement_that_fails_names_its_node_and_rolls_everything_back(con):
    broken = Statement("model.socialmart.weekly", "model", COMMENT % "model.socialmart.weekly" + "select * from missing_table")
    with pytest.raises(ReplayRefused, match=r"model\.socialmart\.weekly: .*missing_table"):
        replay(con, plan_of(*BUILD, broken))
    assert con.execute("SELECT count(*) FROM daily").fetchone() == (0,)


def test_a_test_without_an_outcome_stops_the_replay(con):
    # The plan expects the test, but no statement of it gave dbt's outcome row.
    plan = plan_of(BUILD[0], Statement(TEST, "test", COMMENT % TEST + "select 1 as x"))
    with pytest.raises(ReplayRefused, match="1 tests gave no outcome"):
        replay(con, plan)


# --------------------------------------------------------------------------- recording from dbt's log


def log_line(invocation: str, sql: str, node: str | None = None, kind: str = "model") -> str:
    data = {"sql": sql, "conn_name": "master"}
    if node:
        data["node_info"] = {"unique_id": node, "resource_type": kind}
    return json.dumps({"info": {"name": "SQLQuery", "invocation_id": invocation, "level": "debug"}, "data": data})


def test_recording_keeps_this_invocations_statements_in_order_without_transaction_control(tmp_path):
    log = tmp_path / "dbt.log"
    seed = "seed.socialmart.currencies"
    unit = "unit_test.socialmart.daily.sums"
    log.write_text("\n".join([
        log_line("earlier", "select 'from another invocation'", MODEL),
        json.dumps({"info": {"name": "NodeExecuting", "invocation_id": "inv-2"}, "data": {}}),
        log_line("inv-2", "select schema_name from information_schema.schemata"),
        log_line("inv-2", COMMENT % MODEL + "BEGIN", MODEL),
        log_line("inv-2", BUILD[0].sql, MODEL),
        log_line("inv-2", "COMMIT", MODEL),
        log_line("inv-2", "insert into currencies values (?, ?)", seed, "seed"),
        log_line("inv-2", "select * from fixture", unit, "unit_test"),
        log_line("inv-2", BUILD[1].sql, TEST, "test"),
    ]) + "\n")
    run_results = {"metadata": {"invocation_id": "inv-2", "generated_at": "2026-12-06T02:00:00Z"},
                   "results": [{"unique_id": u} for u in (seed, MODEL, unit, TEST)]}
    manifest = {"nodes": {TEST: {"config": {"severity": "warn"}}, MODEL: {"config": {}}}}
    plan = record(log, run_results, manifest)
    assert [(s.node, s.kind) for s in plan.statements] == [("", ""), (MODEL, "model"), (TEST, "test")]
    assert plan.severities == {TEST: "WARN"}
    assert (plan.models, plan.invocation_id) == ([MODEL], "inv-2")

    plan.save(tmp_path / "plan.json")
    assert ReplayPlan.load(tmp_path / "plan.json") == plan


def test_a_first_builds_plan_takes_its_incremental_facts_merge_where_their_creation_was(con):
    """A warehouse's first build creates an incremental fact whole; its plan
    takes the fact's merge (dbt's run of it once it exists) in the creation's
    place, so that the next build, replaying it, merges only the new days."""
    fact, weekly = "model.socialmart.fact", "model.socialmart.weekly"
    first_build = plan_of(
        BUILD[0],
        Statement(fact, "model", "create table fact as select day, clicks from daily"),
        Statement(weekly, "model", "create or replace view weekly as select sum(clicks) as clicks from fact"),
        BUILD[1],
    )
    incremental_form = ReplayPlan("", "inv-2", "", [
        Statement("", "", "select 'dbt listing the catalog'"),
        Statement(fact, "model", "delete from fact where day in (select day from daily)"),
        Statement(fact, "model", "insert into fact select day, clicks from daily"),
    ], severities={}, models=[fact])
    plan = first_build.with_statements_of(incremental_form)
    assert [s.sql for s in plan.statements] == [
        BUILD[0].sql, *[s.sql for s in incremental_form.statements[1:]], first_build.statements[2].sql, BUILD[1].sql]
    assert (plan.models, plan.severities, plan.invocation_id) == (first_build.models, first_build.severities, "inv-1")

    # What the first build left: the fact holds the day it created it with.
    con.execute("CREATE TABLE fact AS SELECT day, clicks FROM raw")
    con.execute("INSERT INTO raw VALUES (DATE '2026-12-03', 8)")
    replay(con, plan)
    assert con.execute("SELECT clicks FROM weekly").fetchone() == (16,)
    assert con.execute("SELECT count(*) FROM fact").fetchone() == (3,)  # merged: no day twice

    with pytest.raises(ReplayRefused, match="no SQL for model.socialmart.other"):
        first_build.with_statements_of(ReplayPlan("", "", "", [Statement("model.socialmart.other", "model", "select 1")],
                                                  severities={}, models=["model.socialmart.other"]))


# --------------------------------------------------------------------------- first builds, shared


SEED_ROWS = [("ads", "cpc", "Paid Social"), ("mail", None, "Email \u2709 'quoted'")]


def first_build_in(con, store: Path, before: str = "catalog-before") -> FirstBuild:
    """A first build kept in `store`: it loaded a seed and built `daily` from raw and the seed."""
    con.execute("CREATE TABLE channels (source VARCHAR, medium VARCHAR, channel VARCHAR)")
    con.executemany("INSERT INTO channels VALUES (?, ?, ?)", SEED_ROWS)
    plan = ReplayPlan(before, "inv-1", "2026-12-06T00:00:00", [
        Statement(MODEL, "model", 'create or replace table "main"."daily" as '
                                  "select day, clicks, (select count(*) from channels) as channels from raw"),
        BUILD[1]], severities={TEST: "ERROR"}, models=[MODEL])
    then = ReplayPlan("catalog-after", "inv-1", "2026-12-06T00:00:00", plan.statements, plan.severities, plan.models)
    FirstBuild(plan, then, [("main", "channels")], FirstBuild.folder_of(store, before)).save(con)
    return FirstBuild.load(store, before)


def test_a_kept_first_build_loads_its_seeds_and_replays_on_a_new_warehouse(con, tmp_path):
    store = tmp_path / "first_builds"
    kept = first_build_in(con, store)
    assert kept is not None and kept.then.fingerprint == "catalog-after"
    with duckdb.connect(str(tmp_path / "new.duckdb")) as new:
        new.execute("CREATE TABLE raw AS SELECT * FROM (VALUES (DATE '2026-12-01', 3)) t(day, clicks)")
        replay(new, kept.plan, first=kept.seed_statements())
        assert new.execute("SELECT * FROM channels ORDER BY source").fetchall() == SEED_ROWS
        assert new.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'channels'"
                           ).fetchall() == [("source", "VARCHAR"), ("medium", "VARCHAR"), ("channel", "VARCHAR")]
        assert new.execute("SELECT day, clicks, channels FROM daily").fetchall() == [(dt.date(2026, 12, 1), 3, 2)]


def test_a_first_build_that_leaves_another_catalog_is_rolled_back_seeds_and_all(con, tmp_path):
    kept = first_build_in(con, tmp_path / "first_builds")

    def leaves_another_catalog(_con) -> None:
        raise ReplayRefused("the first build replayed from another warehouse left another catalog")

    with duckdb.connect(str(tmp_path / "new.duckdb")) as new:
        new.execute("CREATE TABLE raw AS SELECT * FROM (VALUES (DATE '2026-12-01', 3)) t(day, clicks)")
        with pytest.raises(ReplayRefused, match="left another catalog"):
            replay(new, kept.plan, first=kept.seed_statements(), before_commit=leaves_another_catalog)
        assert new.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall() == [("raw",)]


def test_no_kept_first_build_for_another_catalog_a_damaged_or_older_one(con, tmp_path):
    store = tmp_path / "first_builds"
    assert FirstBuild.load(store, "catalog-before") is None  # no store yet
    first_build_in(con, store)
    assert FirstBuild.load(store, "another-catalog") is None
    kept = FirstBuild.folder_of(store, "catalog-before") / "plan.json"
    data = json.loads(kept.read_text())
    kept.write_text(json.dumps({**data, "format": 0}))
    assert FirstBuild.load(store, "catalog-before") is None
    kept.write_text("{half a fi")
    assert FirstBuild.load(store, "catalog-before") is None


def test_the_store_keeps_the_most_recently_used_first_builds(con, tmp_path):
    store = tmp_path / "first_builds"
    first_build_in(con, store, "catalog-0")
    con.execute("DROP TABLE channels")
    assert FirstBuild.load(store, "catalog-0") is not None  # used: the newest
    for n in range(1, FIRST_BUILDS_KEPT + 1):
        os.utime(FirstBuild.folder_of(store, "catalog-0"), (1e9 + n, 1e9 + n))  # ...until the next ones
        first_build_in(con, store, f"catalog-{n}")
        con.execute("DROP TABLE channels")
    assert len(list(store.iterdir())) == FIRST_BUILDS_KEPT
    assert FirstBuild.load(store, "catalog-0") is None and FirstBuild.load(store, f"catalog-{FIRST_BUILDS_KEPT}") is not None


def test_a_first_build_under_way_is_waited_for_not_built_twice(tmp_path):
    store, waits, events = tmp_path / "first_builds", [], []

    def second_warehouse(timeout: float) -> None:
        with building_first(store, "catalog-before", on_wait=lambda: waits.append(timeout), timeout=timeout) as waited:
            events.append(("second holds", waited))

    with building_first(store, "catalog-before", on_wait=lambda: waits.append("first")) as waited:
        assert waited is False  # nobody else: this one builds
        other = threading.Thread(target=second_warehouse, args=(60,))
        other.start()
        while not waits:
            time.sleep(0.05)
        second_warehouse(timeout=0.6)  # gives up waiting: builds with dbt itself
        events.append(("first done", None))
    other.join(timeout=10)
    assert waits == [60, 0.6] and events == [("second holds", True), ("first done", None), ("second holds", True)]
    with building_first(store, "another-catalog", on_wait=lambda: waits.append("another")) as waited:
        assert waited is False and len(waits) == 2  # another catalog's first build does not wait


def test_a_log_without_the_tests_sql_records_nothing(tmp_path):
    log = tmp_path / "dbt.log"
    log.write_text(log_line("inv-3", BUILD[0].sql, MODEL) + "\n")
    run_results = {"metadata": {"invocation_id": "inv-3"}, "results": [{"unique_id": MODEL}, {"unique_id": TEST}]}
    with pytest.raises(ReplayRefused, match="holds no SQL for 1 of the build's nodes"):
        record(log, run_results, {"nodes": {TEST: {"config": {}}}})


def test_an_unreadable_or_older_plan_is_no_plan(tmp_path):
    assert ReplayPlan.load(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert ReplayPlan.load(tmp_path / "bad.json") is None
    (tmp_path / "old.json").write_text(json.dumps({"format": 0}))
    assert ReplayPlan.load(tmp_path / "old.json") is None


# --------------------------------------------------------------------------- the fingerprint


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "models" / "daily.sql").write_text("select 1")
    (root / "dbt_project.yml").write_text("name: p")
    (root / "target").mkdir()
    (root / "target" / "manifest.json").write_text("{}")
    return root


# The project builds into main and reads raw_ads.spend; the pipeline also keeps its own tables.
MANIFEST = {"nodes": {MODEL: {"resource_type": "model", "schema": "main"}},
            "sources": {"source.socialmart.ads.spend": {"schema": "raw_ads", "name": "spend", "identifier": "spend"}}}


def test_the_fingerprint_follows_what_decides_dbts_sql_and_not_the_data(con, project):
    env = {"SOCIALMART_REPORTING_CURRENCY": "USD"}

    def digest(args=("build",), environment=env) -> str:
        return fingerprint(con, project, list(args), environment, MANIFEST)

    con.execute("CREATE SCHEMA raw_ads")
    con.execute("CREATE TABLE raw_ads.spend (day DATE, spend DECIMAL(18, 2))")
    first = digest()
    con.execute("INSERT INTO raw VALUES (DATE '2026-12-03', 8)")
    (project / "target" / "manifest.json").write_text('{"changed": true}')
    con.execute("CREATE SCHEMA _socialmart")
    con.execute("CREATE TABLE _socialmart.publish_intent (run_id VARCHAR NOT NULL)")
    con.execute("CREATE TABLE raw_ads.spend__versions (day DATE)")
    assert digest() == first, "new rows, dbt's own output and tables no model reads decide nothing"
    assert digest(environment={**env, "HOME": "/another/warehouse"}) == first, "the warehouse's directory decides nothing"

    changes = {
        "a var": lambda: digest(args=("build", "--vars", "{a: 1}")),
        "the environment": lambda: digest(environment={"SOCIALMART_REPORTING_CURRENCY": "EUR"}),
    }
    for what, changed in changes.items():
        assert changed() != first, what

    catalog_changes = {
        "a model's SQL": lambda: (project / "models" / "daily.sql").write_text("select 2"),
        "a new relation": lambda: con.execute("CREATE VIEW weekly AS SELECT 1 AS x"),
        "a new column": lambda: con.execute("ALTER TABLE raw ADD COLUMN cost DECIMAL(18, 2)"),
        "a column's type": lambda: con.execute("ALTER TABLE raw ALTER cost TYPE DOUBLE"),
        "a source's new column": lambda: con.execute("ALTER TABLE raw_ads.spend ADD COLUMN clicks BIGINT"),
    }
    seen = {first}
    for what, change in catalog_changes.items():
        change()
        now = digest()
        assert now not in seen, what
        seen.add(now)
