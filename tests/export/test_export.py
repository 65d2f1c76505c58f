"""`socialmart export`: every mart as Parquet or CSV, the daily facts in month partitions, nothing lost."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.config import Settings, load_settings
from orchestration.export import PARTITIONED_BY_MONTH, export_marts
from orchestration.runner import run_pipeline
from orchestration.sandbox_config import start_sandbox

SOCIALMART = Path(sys.executable).with_name("socialmart")
TODAY = dt.datetime.now(dt.UTC).date()
# A week across the start of a month, so that the daily facts span two month partitions.
MONTH_START = (TODAY - dt.timedelta(days=5)).replace(day=1)
START, END = MONTH_START - dt.timedelta(days=3), MONTH_START + dt.timedelta(days=3)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Settings:
    """A real published file: Meta ads and GA4 through the sandbox (organic marts stay empty)."""
    warehouse = tmp_path_factory.mktemp("export_warehouse")
    sandbox, generated = start_sandbox(warehouse, today=TODAY)
    try:
        config = yaml.safe_load(generated.read_text())
        config["channels"] = {name: config["channels"][name] for name in ("meta_ads", "ga4")}
        config.pop("families")  # the X and Weibo families' accounts are not pulled here
        path = warehouse / "socialmart.yaml"
        path.write_text(yaml.safe_dump(config))
        settings = load_settings(path)
        outcome = run_pipeline(settings, path, START, END)
    finally:
        sandbox.stop()
    assert outcome.success, outcome.summary()
    return settings


def mart_rows(published_db: Path) -> dict[str, int]:
    with duckdb.connect(str(published_db), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()]
        return {name: con.execute(f'SELECT count(*) FROM marts."{name}"').fetchone()[0] for name in names}


def exported_rows(out: Path, mart: str, file_format: str) -> tuple[int, set[str]]:
    """Rows of one exported mart, and the months of its partitions, read back by DuckDB."""
    reader = "read_parquet" if file_format == "parquet" else "read_csv"
    if mart not in PARTITIONED_BY_MONTH:
        return duckdb.execute(f"SELECT count(*) FROM {reader}('{out / f'{mart}.{file_format}'}')").fetchone()[0], set()
    files = sorted((out / mart).glob(f"month=*/*.{file_format}"))
    if not files:
        return 0, set()
    months = {f.parent.name.removeprefix("month=") for f in files}
    count = duckdb.execute(f"SELECT count(*) FROM {reader}('{out / mart}/**/*.{file_format}', hive_partitioning = true)").fetchone()[0]
    return count, months


def test_cli_exports_the_raw_lake_table_by_table(published, tmp_path):
    out = tmp_path / "lake"
    env = {k: v for k, v in os.environ.items() if k not in ("SOCIALMART_CONFIG", "DAGSTER_HOME")}
    done = subprocess.run([str(SOCIALMART), "export", "--raw", "--out", str(out), "--config", str(published.source)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(str(published.build_db), read_only=True) as con:
        landed = con.execute("SELECT count(*) FROM raw_meta_ads.insights").fetchone()[0]
    line = next(x for x in done.stdout.splitlines() if x.split()[:1] == ["raw_meta_ads.insights"])
    assert landed > 0 and f"{landed:,} rows" in line and "month partitions" in line
    lake = duckdb.execute(f"SELECT count(*) FROM read_parquet('{out}/meta_ads/insights/**/*.parquet')").fetchone()[0]
    assert lake == landed and "raw tables as a Parquet lake" in done.stdout
    assert not list(out.glob(".export-*"))  # the scratch folder is gone


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_cli_exports_every_mart_with_month_partitions_and_all_rows(published, tmp_path, file_format):
    out = tmp_path / "exports"
    env = {k: v for k, v in os.environ.items() if k not in ("SOCIALMART_CONFIG", "DAGSTER_HOME")}
    done = subprocess.run([str(SOCIALMART), "export", "--format", file_format, "--out", str(out), "--config", str(published.source)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = mart_rows(published.published_db)
    assert len(expected) >= 14 and f"Exported {len(expected)} marts as {file_format}" in done.stdout
    for mart, rows in expected.items():
        count, months = exported_rows(out, mart, file_format)
        assert count == rows, f"{mart}: {count} rows exported, {rows} in the mart"
        if mart in PARTITIONED_BY_MONTH and rows:
            with duckdb.connect(str(published.published_db), read_only=True) as con:
                in_mart = {r[0] for r in con.execute(f"SELECT DISTINCT strftime(date_day, '%Y-%m') FROM marts.{mart}").fetchall()}
            assert months == in_mart, f"{mart}: partitions {sorted(months)}, months in the mart {sorted(in_mart)}"
    # The window crosses a month: the ad facts land in two partitions.
    assert exported_rows(out, "fct_ad_performance_daily", file_format)[1] == {f"{START:%Y-%m}", f"{END:%Y-%m}"}
    assert (out / "fct_audience_daily").is_dir()  # an empty mart keeps its (empty) directory
    assert not [p for p in out.iterdir() if p.name.startswith(".export-")]  # no scratch left behind


def test_a_new_export_replaces_a_mart_s_old_partitions(tmp_path):
    published = tmp_path / "marketing.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_ad_performance_daily AS SELECT DATE '2026-04-30' AS date_day, 1.5 AS spend")
    out = tmp_path / "out"
    (out / "fct_ad_performance_daily" / "month=2020-01").mkdir(parents=True)
    (out / "fct_ad_performance_daily" / "month=2020-01" / "data_0.parquet").write_bytes(b"stale")
    (out / "notes.txt").write_text("not ours")
    [item] = export_marts(published, out, "parquet")
    assert item.rows == 1 and item.months == 1
    assert sorted(p.name for p in (out / "fct_ad_performance_daily").iterdir()) == ["month=2026-04"]
    assert (out / "notes.txt").read_text() == "not ours"


def test_export_names_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="export format must be one of parquet, csv, got 'xlsx'"):
        export_marts(tmp_path / "marketing.duckdb", tmp_path / "out", "xlsx")
    with pytest.raises(FileNotFoundError, match="no published warehouse at .*marketing.duckdb: run `socialmart run` first"):
        export_marts(tmp_path / "marketing.duckdb", tmp_path / "out", "csv")
    env = {k: v for k, v in os.environ.items() if k not in ("SOCIALMART_CONFIG", "DAGSTER_HOME")}
    done = subprocess.run([str(SOCIALMART), "export", "--format", "csv", "--out", "out"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "no published warehouse at" in done.stderr
