"""Publishing swaps the BI file whole: readers see the old state or the new one, never a mix or an error."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import duckdb
import pytest

from orchestration.publish import publish

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
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE marts.fct_x AS SELECT i AS id, i * {version} AS amount, {version} AS version FROM range(20000) t(i)")


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
            publish(con, published)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    report = json.loads(out)
    assert report["error_count"] == 0, report["errors"]
    assert report["queries"] >= 50
    valid = {(20000, sum(range(20000)) * v, v) for v in (1, 2, 3)}
    seen = {tuple(state) for state in report["seen"]}
    assert seen <= valid and len(seen) >= 2, report


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
