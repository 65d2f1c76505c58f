"""A publish patches a copy of the last one: only the days that differ are
rewritten. Whatever the build, the last publish or a writer on the published
file did, the swapped file must hold the build's marts row for row and nothing
else; a copy that cannot promise that is not used (a new file is written).
Real DuckDB files throughout."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest

import orchestration.publish as publishing
from orchestration.publish import PUBLISHED_STORAGE, publish

DAY0 = dt.date(2025, 3, 1)
DAILY = "marts.fct_ad_performance_daily"


def build(con: duckdb.DuckDBPyConnection, days: int = 60, rows_per_day: int = 3) -> None:
    """A daily mart (two channels, `rows_per_day` ads, a nullable metric, one row of no day) and a small mart."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        f"""CREATE OR REPLACE TABLE {DAILY} AS
            SELECT (?::DATE + d::INTEGER) AS date_day, c AS channel, a::INTEGER AS ad, 10.0 + d AS spend,
                   CASE WHEN a = 0 THEN NULL ELSE a * d END AS leads
            FROM range(?) t(d), (VALUES ('meta_ads'), ('tiktok_ads')) v(c), range(?) r(a)
            UNION ALL SELECT NULL, 'meta_ads', -1, 0.5, NULL""",
        [DAY0, days, rows_per_day],
    )
    con.execute("CREATE OR REPLACE TABLE marts.dim_channel AS SELECT * FROM (VALUES ('meta_ads'), ('tiktok_ads')) v(channel)")


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def assert_holds_the_build(con: duckdb.DuckDBPyConnection, published: Path) -> None:
    """The published marts are the build's, row for row (duplicates counted), and nothing else is in the file."""
    con.execute(f"ATTACH '{published}' AS bi (READ_ONLY)")
    try:
        built = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                                           "AND schema_name = 'marts'").fetchall()}
        shipped = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'bi' "
                                             "AND schema_name = 'marts'").fetchall()}
        assert shipped == built
        for table in built:
            for one, other in ((f"marts.{table}", f"bi.marts.{table}"), (f"bi.marts.{table}", f"marts.{table}")):
                extra = con.execute(f"SELECT * FROM {one} EXCEPT ALL SELECT * FROM {other}").fetchall()
                assert extra == [], f"{one} has rows {other} lacks: {extra[:3]}"
        assert publishing._unpublished_objects(con, "bi") == []
        version = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'bi'").fetchone()[0]
        assert version == f"{PUBLISHED_STORAGE}+"
    finally:
        con.execute("DETACH bi")


def test_the_days_that_differ_are_rewritten_and_the_file_holds_the_build_row_for_row(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    first = publish(con, published, "run-1")
    assert first.written_new_because == "there is no published file yet" and first.days_rewritten == {}
    assert first.tables == {DAILY: 60 * 2 * 3 + 1, "marts.dim_channel": 2}

    # The night: the last ten days restated, the first one gone, a new one, and quieter changes.
    con.execute(f"UPDATE {DAILY} SET spend = spend + 1 WHERE date_day >= ?", [day(50)])
    con.execute(f"DELETE FROM {DAILY} WHERE date_day = ?", [day(0)])
    con.execute(f"INSERT INTO {DAILY} VALUES (?, 'meta_ads', 0, 1.0, NULL)", [day(60)])
    # Missing becomes zero: a NULL and a 0 must not fingerprint alike.
    con.execute(f"UPDATE {DAILY} SET leads = 0 WHERE date_day = ? AND channel = 'meta_ads' AND ad = 0", [day(20)])
    # A row duplicated; on another day a row replaced by a copy of its neighbour (same count).
    con.execute(f"INSERT INTO {DAILY} SELECT * FROM {DAILY} WHERE date_day = ? AND ad = 1 AND channel = 'tiktok_ads'", [day(30)])
    con.execute(f"""UPDATE {DAILY} SET ad = 2, leads = 2 * 40
                    WHERE date_day = ? AND ad = 1 AND channel = 'meta_ads'""", [day(40)])
    con.execute(f"UPDATE {DAILY} SET spend = 0.25 WHERE date_day IS NULL")  # the row without a day
    con.execute("INSERT INTO marts.dim_channel VALUES ('linkedin_ads')")
    con.execute("CREATE TABLE marts.dim_new AS SELECT 1 AS id")

    second = publish(con, published, "run-2")
    assert second.written_new_because is None and second.compared_with_record
    assert second.days_rewritten == {DAILY: 10 + 1 + 1 + 1 + 1 + 1 + 1}
    assert second.tables[DAILY] == 60 * 2 * 3 + 1 - 6 + 1 + 1 and second.tables["marts.dim_new"] == 1
    assert_holds_the_build(con, published)

    # A mart the build no longer has leaves the published file too; an unchanged night rewrites no day.
    con.execute("DROP TABLE marts.dim_new")
    third = publish(con, published, "run-3")
    assert third.days_rewritten == {DAILY: 0} and "marts.dim_new" not in third.tables
    assert "(the last publish, patched: 0 day(s) rewritten in 0 of 1 daily marts, 1 other marts whole)" in third.describe()
    assert_holds_the_build(con, published)
    with duckdb.connect(str(published), read_only=True) as bi:
        assert bi.execute("SELECT run_id FROM meta.publish_info").fetchall() == [("run-3",)]


def test_the_record_of_the_last_publish_is_trusted_only_while_the_file_is_untouched(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    publish(con, published, "run-1")
    backup = tmp_path / "backup.duckdb"
    shutil.copy2(published, backup)  # an operator's backup, mtime kept
    with duckdb.connect(str(published), read_only=True) as bi:  # BI reads it: that changes nothing
        bi.execute(f"SELECT sum(spend) FROM {DAILY}").fetchall()
    con.execute(f"UPDATE {DAILY} SET spend = spend + 1 WHERE date_day >= ?", [day(50)])
    second = publish(con, published, "run-2")
    assert second.compared_with_record and second.days_rewritten == {DAILY: 10}

    # The backup restored over the published file, in place and with its mtime: the record describes
    # run-2's file, and trusting it would keep run-1's ten days. The copy's rows are read instead.
    shutil.copy2(backup, published)
    third = publish(con, published, "run-3")
    assert not third.compared_with_record and third.days_rewritten == {DAILY: 10}
    assert_holds_the_build(con, published)
    assert publish(con, published, "run-4").compared_with_record


def test_a_daily_mart_whose_columns_changed_is_written_whole(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    publish(con, published, "run-1")
    con.execute(f"ALTER TABLE {DAILY} ADD COLUMN clicks BIGINT")
    con.execute(f"UPDATE {DAILY} SET clicks = ad")
    result = publish(con, published, "run-2")
    assert result.written_new_because is None and DAILY not in result.days_rewritten
    assert_holds_the_build(con, published)
    # The same names, one type changed: whole again.
    con.execute(f"ALTER TABLE {DAILY} ALTER COLUMN clicks TYPE DOUBLE")
    assert DAILY not in publish(con, published, "run-3").days_rewritten
    assert_holds_the_build(con, published)


def test_edits_a_writer_checkpointed_into_the_published_file_do_not_survive_the_next_publish(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    publish(con, published, "run-1")
    with duckdb.connect(str(published)) as analyst:  # read-write; closing checkpoints the edits into the file
        analyst.execute(f"UPDATE {DAILY} SET spend = spend * 100 WHERE date_day = ?", [day(3)])
        analyst.execute(f"DELETE FROM {DAILY} WHERE date_day = ? AND ad = 2", [day(7)])
        analyst.execute("INSERT INTO marts.dim_channel VALUES ('made_up')")
        analyst.execute("DROP TABLE meta.check_results")
    result = publish(con, published, "run-2")
    assert result.written_new_because is None and result.days_rewritten == {DAILY: 2}
    assert not result.compared_with_record  # the file was written since the record: its rows are read
    assert_holds_the_build(con, published)
    with duckdb.connect(str(published), read_only=True) as bi:
        assert bi.execute("SELECT count(*) FROM meta.check_results").fetchone()[0] == 0


@pytest.mark.parametrize("statement, named", [
    ("CREATE VIEW marts.v_spend AS SELECT sum(spend) FROM marts.fct_ad_performance_daily", "view marts.v_spend"),
    ("CREATE MACRO marts.roas(a, b) AS a / b", "macro marts.roas"),
    ("CREATE TABLE main.scratch AS SELECT 1 AS x", "table main.scratch"),
    ("CREATE TABLE meta.notes AS SELECT 1 AS x", "table meta.notes"),
    ("CREATE SCHEMA sandbox", "schema sandbox"),
    ("CREATE SEQUENCE marts.ids", "sequence marts.ids"),
    ("CREATE TYPE marts.mood AS ENUM ('up', 'down')", "type marts.mood"),
    ("CREATE INDEX by_day ON marts.fct_ad_performance_daily (date_day)", "index marts.by_day"),
    ("COMMENT ON TABLE marts.dim_channel IS 'edited'", "table marts.dim_channel"),
    ("COMMENT ON COLUMN marts.dim_channel.channel IS 'edited'", "column marts.dim_channel.channel"),
    ("ALTER TABLE marts.dim_channel ALTER COLUMN channel SET DEFAULT 'meta_ads'", "column marts.dim_channel.channel"),
    ("ALTER TABLE marts.dim_channel ALTER COLUMN channel SET NOT NULL", "column marts.dim_channel.channel"),
])
def test_a_last_publish_holding_what_no_publish_writes_is_not_copied(tmp_path, statement, named):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    publish(con, published, "run-1")
    with duckdb.connect(str(published)) as analyst:
        analyst.execute(statement)
    result = publish(con, published, "run-2")
    assert result.written_new_because is not None and named in result.written_new_because
    assert result.written_new_because.startswith("the last publish holds what no publish writes")
    assert_holds_the_build(con, published)


def test_a_last_publish_of_another_storage_version_is_not_copied(tmp_path):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    with duckdb.connect() as other:  # written by a newer tool, in its own storage version
        other.execute(f"ATTACH '{published}' AS bi (STORAGE_VERSION 'v1.2.0')")
        other.execute("CREATE SCHEMA bi.marts")
        other.execute(f"CREATE TABLE bi.{DAILY} (date_day DATE, channel VARCHAR, ad INTEGER, spend DECIMAL(5,1), leads BIGINT)")
    result = publish(con, published, "run-1")
    assert "storage version" in result.written_new_because
    assert_holds_the_build(con, published)


def test_a_last_publish_that_is_mostly_free_space_is_written_new(tmp_path, monkeypatch):
    monkeypatch.setattr(publishing, "MIN_FREE_BYTES", 2**20)  # the share decides here, not the size of a test's file
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con, days=400, rows_per_day=500)
    publish(con, published, "run-1")
    # The build kept a tenth of the history (allowed, say): the patch deletes most rows, leaving their blocks free.
    con.execute(f"DELETE FROM {DAILY} WHERE date_day >= ?", [day(40)])
    assert publish(con, published, "run-2").written_new_because is None
    with duckdb.connect(str(published), read_only=True) as bi:
        total, free = bi.execute("SELECT total_blocks, free_blocks FROM pragma_database_size()").fetchone()
    assert free > publishing.MAX_FREE_SHARE * total and free * 2**18 >= publishing.MIN_FREE_BYTES
    size = published.stat().st_size

    result = publish(con, published, "run-3")
    assert result.written_new_because is not None and "free space" in result.written_new_because
    assert published.stat().st_size < size / 2
    assert_holds_the_build(con, published)


def test_a_last_publish_that_changes_while_it_is_copied_is_not_used(tmp_path, monkeypatch):
    published = tmp_path / "marketing.duckdb"
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    build(con)
    publish(con, published, "run-1")

    def copy_meanwhile_written(source: Path, target: Path) -> None:
        target.write_bytes(source.read_bytes())
        os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000))

    monkeypatch.setattr(publishing, "_copy_file", copy_meanwhile_written)
    result = publish(con, published, "run-2")
    assert result.written_new_because == "the published file changed while it was copied"
    assert_holds_the_build(con, published)
    assert not list(tmp_path.glob(".marketing.duckdb.*"))
