"""`python -m bench [--scale S] [--sections ingest,nightly,dbt,overhead,sandbox,run] [--out FILE]`

Runs the benchmark sections and writes RESULTS.md (default bench/RESULTS.md).
--scale (or $BENCH_SCALE) multiplies every row count: 1 is the full run
(1M rows per ingest stream; dbt builds at 1M, 10M and 50M ad rows), 0.01 a
quick look. The nightly section's histories (90 days, 3 years) and the
`make run` section (the embedded sandbox's default world) do not scale; its
retired accounts' history (50M rows) does.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import warnings
from pathlib import Path

from bench.common import BENCH_DIR, MachineLoad, machine_facts, say, timed

SECTIONS = ("ingest", "nightly", "dbt", "overhead", "sandbox", "run")
INGEST_ROWS = 1_000_000
DBT_ROWS = (1_000_000, 10_000_000, 50_000_000)
MIN_ROWS = 2_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=2, help="timed nightly runs per history, and `make run` series (best counts)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "out", help="scratch space (gigabytes at full scale)")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; expected some of {', '.join(SECTIONS)}")

    # Steady state, not first start: where the environment turns bytecode
    # caches off, every process would compile dagster, dbt and pandas anew.
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # The connectors' notes on the sandbox's quirks (clamped windows, partial
    # errors) are the pipeline's business, not the measurement's.
    logging.getLogger("socialmart").setLevel(logging.ERROR)

    from bench import dbt_scaling, ingest, make_run, nightly, results, sandbox_pull

    args.workdir.mkdir(parents=True, exist_ok=True)
    load = MachineLoad()
    sampler = threading.Event()

    def sample() -> None:
        while not sampler.wait(10):
            load.sample()

    threading.Thread(target=sample, daemon=True).start()
    load.sample()
    report = results.Report(machine_facts(), args.scale, sections)
    say(f"benchmarks at scale {args.scale:g}: {', '.join(sections)}; results to {args.out}")
    with timed() as total:
        if "ingest" in sections:
            rows = max(MIN_ROWS, int(INGEST_ROWS * args.scale))
            report.ingest = ingest.run(rows, args.workdir / "ingest")
        if "nightly" in sections or "overhead" in sections:
            report.nightly = nightly.run(args.workdir / "nightly", args.repeats, with_overhead="overhead" in sections,
                                         retired_rows=max(MIN_ROWS, int(nightly.RETIRED_ROWS * args.scale)))
        if "dbt" in sections:
            sizes = [max(MIN_ROWS, int(n * args.scale)) for n in DBT_ROWS]
            report.dbt = dbt_scaling.run(sizes, args.workdir / "dbt")
        if "sandbox" in sections:
            report.sandbox = sandbox_pull.run()
        if "run" in sections:
            report.make_run = make_run.run(args.workdir / "make_run", args.repeats)
    sampler.set()
    load.sample()
    report.load = load.summary()
    report.seconds = total.wall
    args.out.write_text(report.markdown())
    say(f"done in {total.wall / 60:.1f} min; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
