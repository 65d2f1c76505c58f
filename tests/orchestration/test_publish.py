"""Publishing swaps the BI file whole: readers see the old state or the new one, never a mix or an error.
Publish and cursor advance are two Dagster steps: the cursors move only after the same run's publish."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.build_database import open_build_database
from orchestration.config import parse_settings
from orchestration.defs.publish import CURSORS_KEY, PUBLISH_KEY, cursors_asset, publish_asset
from orchestration.defs.resources import BuildDatabase
from orchestration.landing import ensure_state_table
from orchestration.outcome import Outcome
from orchestration.publish import publish, publish_intent, published_run_id

READER = textwrap.dedent("""
    import json, os, sys, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    seen, errors, queries = set(), [], 0
    while not os.path.exists(stop) or queries < 50:
        try:
            with duckdb.connect(path, read_only=True) as con:
                n, total = con.execute("SELECT count(*), sum(amount) FROM marts.fct_x").fetchone()
                version = con.execute("SELECT max(version) FROM marts.fct_x").fetchone()[0]
                seen.add((n, int(total), version))
        except Exception as exc:
            errors.append(repr(exc))
        queries += 1
    print(json.dumps({"queries": queries, "errors": errors[:3], "error_count": len(errors), "seen": sorted(seen)}))
""")


def build(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """A daily mart: after the first, each publish patches a copy of the last one, rewriting every day."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"""CREATE OR REPLACE TABLE marts.fct_x AS SELECT DATE '2025-03-01' + (i % 50)::INTEGER AS date_day,
                    i AS id, i * {version} AS amount, {version} AS version FROM range(20000) t(i)""")


def test_readers_see_whole_states_during_20_publishes(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con, 1)
    publish(con, published)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        for i in range(20):
            build(con, 2 + i % 2)
            assert publish(con, published).days_rewritten == {"marts.fct_x": 50}
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    report = json.loads(out)
    assert report["error_count"] == 0, report["errors"]
    assert report["queries"] >= 50
    valid = {(20000, sum(range(20000)) * v, v) for v in (1, 2, 3)}
    seen = {tuple(state) for state in report["seen"]}
    assert seen <= valid and len(seen) >= 2, report


# DuckDB's main header and two database headers, ahead of the blocks.
HEADERS = 3 * 4096


def marts_state(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, tuple]:
    """Each mart's row count and sum of row hashes."""
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = "
                                        "'marts' ORDER BY 1", [catalog]).fetchall()]
    return {t: con.execute(f"SELECT count(*), sum(hash(*COLUMNS(*))::HUGEINT) FROM {catalog}.marts.{t}").fetchone()
            for t in tables}


def file_state(path: Path) -> dict[str, tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return marts_state(con, path.stem)


def build_mixed(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """fct_x, daily: its first days change with each version, and odd versions drop its last 5 days (the file
    shrinks); dim_y is rewritten whole; extra exists in versions divisible by 3."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"""CREATE OR REPLACE TABLE marts.fct_x AS SELECT DATE '2025-03-01' + (i % 50)::INTEGER AS date_day, i AS id,
                    CASE WHEN i % 50 < {version * 3} THEN i * {version} ELSE i END AS amount, md5(i::VARCHAR) AS note
                    FROM range(40000) t(i) WHERE {version % 2} = 0 OR i % 50 < 45""")
    con.execute(f"CREATE OR REPLACE TABLE marts.dim_y AS SELECT i AS k, i * {version} AS v FROM range(1000 * {version}) t(i)")
    if version % 3 == 0:
        con.execute("CREATE OR REPLACE TABLE marts.extra AS SELECT 1 AS a")
    else:
        con.execute("DROP TABLE IF EXISTS marts.extra")


@pytest.mark.parametrize("build_version", [build, build_mixed], ids=["every day rewritten", "some days, some tables"])
def test_a_reader_pairing_the_last_headers_with_the_new_file_sees_the_last_publish(tmp_path, build_version):
    """DuckDB 2.0 reads a file's headers through one open of its name and its blocks through another: a reader
    connecting during the swap can pair the last publish's headers with the new file. It must see the last
    publish whole, whichever way the marts changed (rewriting every day frees the blocks at the file's end,
    which DuckDB truncates) and however often the writer's setting checkpoints."""
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute("SET checkpoint_threshold = '1 KiB'")
    build_version(con, 1)
    publish(con, published)
    for version in range(2, 8):
        last_publish, last_state = published.read_bytes(), file_state(published)
        build_version(con, version)
        assert publish(con, published).written_new_because is None
        assert file_state(published) == marts_state(con, "build")
        racing = tmp_path / "racing.duckdb"
        racing.write_bytes(last_publish[:HEADERS] + published.read_bytes()[HEADERS:])
        assert file_state(racing) == last_state, f"version {version}"
    assert con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0] == "1.0 KiB"


def test_a_failed_publish_leaves_the_file_byte_identical(tmp_path, monkeypatch):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con, 1)
    publish(con, published)
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    build(con, 2)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("orchestration.publish.os.replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish(con, published)
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob(".marketing.duckdb.*"))  # the staged file is cleaned up


# --------------------------------------------------------------------------- the step boundary

DAY0 = dt.date(2025, 3, 1)


def land(con: duckdb.DuckDBPyConnection, last_day: int) -> None:
    """A window landed by an ingest run, pending its publish."""
    ensure_state_table(con)
    con.execute("INSERT OR REPLACE INTO _socialmart.sync_state_pending VALUES ('meta_ads', 'insights', 'act_1', ?, ?, 1, now())",
                [DAY0, DAY0 + dt.timedelta(days=last_day)])


def cursor_ends(build_db) -> list:
    with duckdb.connect(str(build_db)) as con:
        return [r[0] for r in con.execute("SELECT window_end FROM _socialmart.sync_state").fetchall()]


def test_cursors_move_in_their_own_step_only_after_the_same_runs_publish(tmp_path, monkeypatch):
    settings = parse_settings({"warehouse": {"dir": str(tmp_path)}, "channels": {"meta_ads": {
        "access_token": "${SOCIALMART_SANDBOX_TOKEN}", "accounts": ["act_1"]}}}, resolve_secrets=False)
    steps = [publish_asset(settings, []), cursors_asset(settings)]
    # The pipeline's own resource: it closes its connection when a step fails.
    resources = {"duckdb": BuildDatabase(database=str(settings.build_db))}

    def run(selection=None) -> dg.ExecuteInProcessResult:
        return dg.materialize(steps, resources=resources, raise_on_error=False, selection=selection)

    with duckdb.connect(str(settings.build_db)) as con:
        build(con, 1)
        land(con, 2)

    # A failed publish: the cursor step never runs, the cursors stay.
    def disk_full(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("orchestration.publish.os.replace", disk_full)
    failed = run()
    monkeypatch.undo()
    assert not failed.success and not settings.published_db.exists()
    assert [e.step_key for e in failed.all_events if e.is_step_start] == ["published__marketing_duckdb"]
    assert cursor_ends(settings.build_db) == []

    # The publish succeeds, the cursor step fails: the publish stands, the cursors stay pending...
    def broken(_con):
        raise RuntimeError("cursor table unwritable")
    monkeypatch.setattr("orchestration.publish.promote_sync_state", broken)
    half = run()
    monkeypatch.undo()
    assert not half.success
    assert [m.asset_key for m in half.get_asset_materialization_events()] == [PUBLISH_KEY]
    assert published_run_id(settings.published_db) == half.run_id
    assert cursor_ends(settings.build_db) == []
    with duckdb.connect(str(settings.build_db)) as con:
        assert publish_intent(con) == half.run_id
    # ...and the published file already says where they will be: nothing is lost.
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert con.execute("SELECT window_end FROM meta.sync_state").fetchall() == [(DAY0 + dt.timedelta(days=2),)]

    # A cursor step alone, in a run that published nothing, refuses.
    alone = run(selection=[CURSORS_KEY])
    assert not alone.success and cursor_ends(settings.build_db) == []

    # The next run advances them before it starts, then re-pulls and publishes in full.
    open_build_database(settings)
    assert cursor_ends(settings.build_db) == [DAY0 + dt.timedelta(days=2)]
    with duckdb.connect(str(settings.build_db)) as con:
        build(con, 2)
        land(con, 3)
    whole = run()
    assert whole.success
    assert {m.asset_key: m.materialization.metadata["cursors_advanced"].value
            for m in whole.get_asset_materialization_events() if m.asset_key == CURSORS_KEY} == {CURSORS_KEY: 1}
    assert cursor_ends(settings.build_db) == [DAY0 + dt.timedelta(days=3)]
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM marts.fct_x").fetchone()[0] == 2


def test_the_summary_says_when_a_publish_stands_with_its_cursors_pending(tmp_path):
    settings = parse_settings({"warehouse": {"dir": str(tmp_path)}, "channels": {"meta_ads": {
        "access_token": "${SOCIALMART_SANDBOX_TOKEN}", "accounts": ["act_1"]}}}, resolve_secrets=False)
    pending = Outcome(settings, DAY0, DAY0, False, 1.0, ["ingest-run", "build-run-1234"], published_by="build-run-1234",
                      cursors_pending=True, run_log=tmp_path / "logs" / "run.log", notes=[(33, "x user 1: partial error")])
    text = pending.summary()
    assert "(published by run build-ru; cursors NOT advanced: the next run advances them)" in text
    assert "API notes: 33, routine, each in the run log" in text and f"Run log:             {tmp_path / 'logs' / 'run.log'}" in text
