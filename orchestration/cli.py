"""The `socialmart` command.

  socialmart run [--start DATE] [--end DATE] [--config FILE] [--allow-shrink] [-v]
      Pull, build, test and publish through Dagster. Without a config (no
      --config, no $SOCIALMART_CONFIG, no ./socialmart.yaml) every command
      uses the embedded API sandbox: its config is generated once into
      ./warehouse/sandbox.socialmart.yaml, and the commands that call the APIs
      serve the sandbox themselves.
  socialmart nightly [--config FILE] [--allow-shrink] [-v]
      What the nightly schedule does, in this process: every channel re-pulls
      its lookback window plus yesterday, then build, audit, publish.
  socialmart backfill --start DATE --end DATE [--channel NAME] [--config FILE] [--allow-shrink] [-v]
      Ingest a long range in monthly chunks (resumable: a rerun skips what is
      materialized), then build, audit, publish once.
  socialmart status [--config FILE] [--json]
      Freshness per channel and account, the last runs, the last checks;
      exit 1 when anything is stale or failing. Calls no API: needs no secrets.
  socialmart check [--channel NAME] [--config FILE]
      Test every credential: per channel and account one cheap authenticated
      read; OK or the failure (HTTP status, API code, what to fix); exit 1 on any.
  socialmart sandbox [--port N]
      Serve the API sandbox alone and print a config that points at it.
  socialmart export --format parquet|csv --out DIR [--config FILE]
  socialmart export --raw --out DIR [--config FILE]
      The published marts as files, the large daily facts partitioned by month.
  socialmart report [--config FILE]
      Rebuild the HTML KPI report (<warehouse>/report/index.html) from the published file.
  socialmart docs [--config FILE] [--port N]
      Generate the dbt docs site and serve it on 127.0.0.1.
  socialmart ui [--config FILE] [--port N]
      The Dagster UI (`dagster dev` over workspace.yaml), sandbox as for run.

run, nightly and backfill show one line per finished step and, on a terminal,
a live display of the ingest; -v/--verbose adds every account pulled, routine
API notes and dbt's node lines; everything is in the run log
(<warehouse>/logs/), named in the summary (orchestration/terminal.py).

run, nightly and backfill hold the warehouse (one run per warehouse: a second
one exits 1 at once, naming the holder). --allow-shrink publishes even when a
mart would lose published days outside the run's window (the history_kept
check), e.g. to start over on purpose.

Exit codes: 0 success, 1 the run failed (nothing published), another run holds
the warehouse or, for status, something is stale or failing, 2 bad usage or
configuration (nothing ran), 130 interrupted by Ctrl-C (ui: 130/143 when
stopped by SIGINT/SIGTERM, its whole process group with it).
"""

from __future__ import annotations

import argparse
import os
import sys

from orchestration import terminal

LOG_LEVEL_HELP = ("DEBUG (everything on the terminal: every request, library warnings), INFO (the default), WARNING or ERROR; "
                  "default $SOCIALMART_LOG_LEVEL or INFO")
VERBOSE_HELP = "also every account pulled, routine API notes and dbt's node lines (the run log always has them)"
ALLOW_SHRINK_HELP = "publish even when a mart loses published days outside this run's window (history_kept)"
PIPELINE_COMMANDS = ("run", "nightly", "backfill")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="socialmart", description="Marketing data pipeline: channel APIs -> DuckDB -> dbt marts -> BI file.")
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="pull, build, test and publish")
    run.add_argument("--config", help="socialmart.yaml (default: $SOCIALMART_CONFIG, ./socialmart.yaml, else the embedded sandbox)")
    run.add_argument("--start", help="first day, YYYY-MM-DD (default: 90 days before --end)")
    run.add_argument("--end", help="last day, YYYY-MM-DD (default: yesterday in the reporting time zone)")
    run.add_argument("--allow-shrink", action="store_true", help=ALLOW_SHRINK_HELP)
    run.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"), help=LOG_LEVEL_HELP)
    run.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    nightly = sub.add_parser("nightly", help="the nightly run now: each channel's lookback window plus yesterday, build, publish")
    nightly.add_argument("--config", help="socialmart.yaml (default: as for run)")
    nightly.add_argument("--allow-shrink", action="store_true", help=ALLOW_SHRINK_HELP)
    nightly.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"), help=LOG_LEVEL_HELP)
    nightly.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    backfill = sub.add_parser("backfill", help="ingest a range in monthly chunks (resumable), then build and publish")
    backfill.add_argument("--config", help="socialmart.yaml (default: as for run)")
    backfill.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last day, YYYY-MM-DD")
    backfill.add_argument("--channel", help="only this channel (plus fx, whose rates the marts need)")
    backfill.add_argument("--allow-shrink", action="store_true", help=ALLOW_SHRINK_HELP)
    backfill.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"), help=LOG_LEVEL_HELP)
    backfill.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    status = sub.add_parser("status", help="freshness, last runs and checks; exit 1 when stale or failing")
    status.add_argument("--config", help="socialmart.yaml (default: as for run)")
    status.add_argument("--json", action="store_true", help="machine-readable output for monitoring")
    check = sub.add_parser("check", help="test every channel's credentials: one cheap call per account; exit 1 on any failure")
    check.add_argument("--config", help="socialmart.yaml (default: as for run)")
    check.add_argument("--channel", help="only this channel")
    sandbox = sub.add_parser("sandbox", help="serve the local API sandbox and print its config")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--warehouse", default="./warehouse", help="warehouse.dir written into the printed config")
    ui = sub.add_parser("ui", help="open the Dagster UI")
    ui.add_argument("--config")
    ui.add_argument("--port", type=int, default=3000)
    export = sub.add_parser("export", help="write the published marts as Parquet or CSV files")
    export.add_argument("--format", choices=["parquet", "csv"], help="the marts' file format (required without --raw)")
    export.add_argument("--raw", action="store_true",
                        help="write the raw tables of build.duckdb as a Parquet lake (<channel>/<stream>/month=YYYY-MM/) instead of the marts")
    export.add_argument("--out", required=True, help="output directory; each mart's previous export in it is replaced")
    export.add_argument("--config", help="socialmart.yaml (default: $SOCIALMART_CONFIG, ./socialmart.yaml, else ./warehouse)")
    report = sub.add_parser("report", help="rebuild the HTML KPI report from the published file")
    report.add_argument("--config", help="socialmart.yaml (default: as for export)")
    docs = sub.add_parser("docs", help="generate the dbt docs and serve them on 127.0.0.1")
    docs.add_argument("--config", help="socialmart.yaml (default: as for export)")
    docs.add_argument("--port", type=int, default=8080)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with terminal.install(getattr(args, "log_level", "INFO"), getattr(args, "verbose", False)) as screen:
        if args.command in PIPELINE_COMMANDS:
            screen.start(f"socialmart {args.command}")
        # Dagster, dbt, pandas and pyarrow load here (seconds): after the first line is on the terminal.
        from orchestration import commands

        return commands.dispatch(args, screen)


if __name__ == "__main__":
    sys.exit(main())
