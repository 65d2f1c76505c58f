"""Storage of the append-only restatement history (landing.py's <stream>__versions).

One meta_ads account, 800 campaigns x 365 days landed, then 60 nightly
re-pulls of the 29-day lookback in which 10% of the window's rows change
(restated conversions). Prints the current table's rows, the versions
table's rows, and the bound landing keeps: days before the window hold at
most 2 versions (first and latest), so versions <= 2 x current + the
window's own restatements. Run: .venv/bin/python -m bench.restatement_storage
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from connectors import CONNECTORS
from orchestration.landing import replace_window

CAMPAIGNS, DAYS, NIGHTS, LOOKBACK, CHANGED = 800, 365, 60, 29, 0.10
STREAM = CONNECTORS["meta_ads"].streams["insights"]


def day_rows(first: dt.date, days: int, night: int) -> pa.Table:
    n = days * CAMPAIGNS
    index = pa.array(range(n))
    columns = {}
    for field in STREAM.arrow_schema:
        if field.name == "account_id":
            columns[field.name] = pa.array(["act_1"] * n)
        elif field.name == "date_day":
            columns[field.name] = pa.array([first + dt.timedelta(days=i // CAMPAIGNS) for i in range(n)], pa.date32())
        elif field.name == "campaign_id":
            columns[field.name] = pa.array([str(i % CAMPAIGNS) for i in range(n)])
        elif field.name == "conversions":
            # a tenth of the window's rows restated each night
            restated = pc.less(pc.bit_wise_and(pc.add(index, night * 7), 15), int(16 * CHANGED))
            base = [float(i % 50) for i in range(n)]
            columns[field.name] = pa.array([b + (night if r else 0) for b, r in zip(base, restated.to_pylist(), strict=True)]).cast(field.type)
        elif pa.types.is_integer(field.type):
            columns[field.name] = pa.array(range(n), field.type)
        elif pa.types.is_string(field.type):
            columns[field.name] = pa.array(["x"] * n)
        else:
            columns[field.name] = pa.nulls(n, field.type)
    return pa.table(columns, schema=STREAM.arrow_schema)


def main() -> None:
    start = dt.date(2025, 1, 1)
    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(str(Path(scratch) / "build.duckdb"))
        replace_window(con, "meta_ads", STREAM, {"act_1": day_rows(start, DAYS, 0).to_batches()},
                       start, start + dt.timedelta(days=DAYS - 1), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        began = time.perf_counter()
        for night in range(1, NIGHTS + 1):
            end = start + dt.timedelta(days=DAYS - 1 + night)
            first = end - dt.timedelta(days=LOOKBACK - 1)
            replace_window(con, "meta_ads", STREAM, {"act_1": day_rows(first, LOOKBACK, night).to_batches()},
                           first, end, dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=night))
        seconds = time.perf_counter() - began
        current = con.execute("SELECT count(*) FROM raw_meta_ads.insights").fetchone()[0]
        versions, most = con.execute(
            "SELECT sum(n), max(n) FILTER (WHERE date_day < ?) FROM (SELECT date_day, campaign_id, count(*) AS n "
            "FROM raw_meta_ads.insights__versions GROUP BY ALL)", [end - dt.timedelta(days=LOOKBACK - 1)]).fetchone()
        print(f"{NIGHTS} nightly re-pulls of {LOOKBACK} days x {CAMPAIGNS} campaigns, {CHANGED:.0%} restated each night: "
              f"{seconds / NIGHTS:.2f} s per night")
        print(f"current rows {current:,}; version rows {versions:,} ({versions / current:.2f} x current); "
              f"most versions of a settled day: {most}")
        assert most <= 2 and versions <= 2 * current + LOOKBACK * CAMPAIGNS * NIGHTS * CHANGED * 2


if __name__ == "__main__":
    main()
