"""`make bench` in miniature: the ingest benchmark end to end on a few
thousand rows (every contender against the sandbox in its own process, each
landing exactly the rows the API served), the sandbox's cold 90-day pull beside
its baseline, and the raw rows the dbt scaling benchmark generates. No timing is asserted: benchmarks measure, tests check."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

from bench import dbt_scaling

REPO = Path(__file__).resolve().parents[2]


def test_ingest_benchmark_runs_end_to_end_and_writes_results(tmp_path):
    out = tmp_path / "RESULTS.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.002", "--sections", "ingest,sandbox", "--out", str(out),
         "--workdir", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    text = out.read_text()
    for stream in ("meta_ads.insights", "ga4.traffic"):
        section = text.split(f"### {stream}: ", 1)[1].split("###", 1)[0]
        planned = int(section.split(" rows", 1)[0].replace(",", ""))
        table = re.findall(r"^\| ([a-z ()]+?) \| ([\d,]+) \|", section, re.M)
        landed = {name: int(rows.replace(",", "")) for name, rows in table}
        assert set(landed) == {"sandbox serving (no parsing)", "socialmart", "dlt default", "dlt fastest", "floor"}
        assert set(landed.values()) == {planned} and planned >= 2_000
        assert "| dlt default |" in section and "x |" in section  # the ratios against each baseline
    assert "## Machine" in text and "## Targets" in text and "cores" in text
    pull = text.split("## 5. The API sandbox: a cold 90-day pull", 1)[1]
    runs = re.findall(r"^\| cold pull \d \| [\d.]+ \| [\d.]+ \| ([\d,]+) \| ([\d,]+) \|$", pull, re.M)
    assert len(runs) == 3 and all(int(m.replace(",", "")) > 700 and int(g.replace(",", "")) > 1_500 for m, g in runs)
    assert "| baseline: the former test's limit | 1.50 | 1.50 |" in pull
    assert "| sandbox | cold 90-day pull" in text.split("## Targets", 1)[1]  # its row beside the other targets


def test_dbt_benchmark_raw_rows_are_a_coherent_world(tmp_path):
    db = tmp_path / "build.duckdb"
    rows = dbt_scaling.generate(db, 5_000)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_meta_ads.insights").fetchone()[0] == rows >= 5_000
        orphans = con.execute("""
            SELECT count(*) FROM raw_meta_ads.insights AS i
            LEFT JOIN raw_meta_ads.campaigns AS c USING (account_id, campaign_id)
            LEFT JOIN raw_meta_ads.accounts AS a USING (account_id)
            WHERE c.campaign_id IS NULL OR a.account_id IS NULL""").fetchone()[0]
        assert orphans == 0
        assert con.execute("SELECT count(*) FROM raw_ga4.traffic").fetchone()[0] > 0
        assert con.execute("SELECT count(DISTINCT currency) FROM raw_fx.ecb_rates").fetchone()[0] >= 2


def test_the_rerun_target_needs_every_rerun_faster_than_every_first_run():
    from bench import make_run
    from bench.results import Report

    noisy = make_run.MakeRunResults({"first run": [50.0, 60.0], "rerun": [45.0, 55.0], "third run": [30.0, 31.0]},
                                    {"first run": "2026-09-07 .. 2026-12-05", "rerun": "2026-11-07 .. 2026-12-05"})
    clear = make_run.MakeRunResults({"first run": [50.0, 60.0], "rerun": [40.0, 45.0], "third run": [30.0, 31.0]}, {})
    assert not make_run.rerun_faster(noisy) and make_run.rerun_faster(clear)
    assert "| rerun | 2026-11-07 .. 2026-12-05 | 45.0, 55.0 | 45.0 |" in make_run.markdown(noisy)
    assert "Rerun / first run: **0.90x**" in make_run.markdown(noisy) and "MISSED" in make_run.markdown(noisy)
    report = Report({"date": "today", "cpu": "a CPU", "cores": "2", "ram": "1 GiB", "os": "Linux"}, 1.0, ["run"],
                    make_run=clear)
    assert "| `make run` | a rerun faster than the first (every rerun than every first run) | best 40.0 s against 50.0 s (0.80x) | yes |" \
        in report._target_rows()
