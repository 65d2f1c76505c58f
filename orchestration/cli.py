"""The `socialmart` command.

  socialmart run [--start DATE] [--end DATE] [--config FILE] [--allow-shrink]
      Pull, build, test and publish through Dagster. Without a config (no
      --config, no $SOCIALMART_CONFIG, no ./socialmart.yaml) every command
      uses the embedded API sandbox: its config is generated once into
      ./warehouse/sandbox.socialmart.yaml, and the commands that call the APIs
      serve the sandbox themselves.
  socialmart nightly [--config FILE] [--allow-shrink]
      What the nightly schedule does, in this process: every channel re-pulls
      its lookback window plus yesterday, then build, audit, publish.
  socialmart backfill --start DATE --end DATE [--channel NAME] [--config FILE] [--allow-shrink]
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
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from connectors.http import install_log_redaction
from orchestration.build_database import BuildDatabaseUnusable
from orchestration.config import ConfigError, Settings, check_warehouse_dir, config_path, load_settings
from orchestration.instance import dagster_home
from orchestration.warehouse_lock import WarehouseBusy, hold_warehouse
from orchestration.window import pull_window

PROJECT_DIR = Path(__file__).resolve().parents[1]
LOG_LEVEL_HELP = ("DEBUG (every request, dbt's node lines), INFO (progress, the default), WARNING or ERROR; "
                  "default $SOCIALMART_LOG_LEVEL or INFO")
ALLOW_SHRINK_HELP = "publish even when a mart loses published days outside this run's window (history_kept)"
log = logging.getLogger("socialmart")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialmart", description="Marketing data pipeline: channel APIs -> DuckDB -> dbt marts -> BI file.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="pull, build, test and publish")
    run.add_argument("--config", help="socialmart.yaml (default: $SOCIALMART_CONFIG, ./socialmart.yaml, else the embedded sandbox)")
    run.add_argument("--start", help="first day, YYYY-MM-DD (default: 90 days before --end)")
    run.add_argument("--end", help="last day, YYYY-MM-DD (default: yesterday in the reporting time zone)")
    run.add_argument("--allow-shrink", action="store_true", help=ALLOW_SHRINK_HELP)
    run.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"), help=LOG_LEVEL_HELP)
    nightly = sub.add_parser("nightly", help="the nightly run now: each channel's lookback window plus yesterday, build, publish")
    nightly.add_argument("--config", help="socialmart.yaml (default: as for run)")
    nightly.add_argument("--allow-shrink", action="store_true", help=ALLOW_SHRINK_HELP)
    nightly.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"), help=LOG_LEVEL_HELP)
    backfill = sub.add_parser("backfill", help="ingest a range in monthly chunks (resumable), then build and publish")
    backfill.add_argument("--config", help="socialmart.yaml (default: as for run)")
    backfill.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last day, YYYY-MM-DD")
    backfill.add_argument("--channel", help="only this channel (plus fx, whose rates the marts need)")
    backfill.add_argument("--allow-shrink", action="store_true", help=ALLOW_SHRINK_HELP)
    backfill.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"), help=LOG_LEVEL_HELP)
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
    args = parser.parse_args(argv)

    _setup_logging(getattr(args, "log_level", "INFO"))
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "nightly":
            return _nightly(args)
        if args.command == "backfill":
            return _backfill(args)
        if args.command == "status":
            return _status(args)
        if args.command == "check":
            return _check(args)
        if args.command == "sandbox":
            return _serve_sandbox(args)
        if args.command == "export":
            return _export(args)
        if args.command == "report":
            return _report(args)
        if args.command == "docs":
            return _docs(args)
        return _ui(args)
    except ConfigError as exc:
        print(f"socialmart: configuration error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:  # export or report before anything was published
        print(f"socialmart: {exc}", file=sys.stderr)
        return 1
    except (WarehouseBusy, BuildDatabaseUnusable) as exc:  # nothing ran
        print(f"socialmart: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback; nothing published, no cursor moved
        print("socialmart: interrupted", file=sys.stderr)
        return 130


def _setup_logging(level: str) -> None:
    install_log_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library chatter stays out of the progress view unless DEBUG is asked for.
    if root.level > logging.DEBUG:
        for noisy in ("urllib3", "dagster", "dagster.builtin", "filelock", "alembic", "great_expectations"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _parse_day(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError("command line", flag, f"must be a date YYYY-MM-DD, got {value!r}") from None


def _settings(explicit: str | None, *, resolve_secrets: bool = True) -> tuple[Settings, Path]:
    """The configuration every command uses: --config, $SOCIALMART_CONFIG,
    ./socialmart.yaml, else the embedded API sandbox's (generated once)."""
    path = config_path(explicit)
    if path is None:
        from orchestration.sandbox_config import embedded_config

        path, generated = embedded_config()
        if generated:
            print(f"No configuration given: using the embedded API sandbox (config written to {path})", file=sys.stderr)
    return load_settings(path, resolve_secrets=resolve_secrets), path


def _serve_apis(settings: Settings) -> None:
    """The embedded default's APIs: served by this process from here on."""
    from orchestration.sandbox_config import serve_embedded_sandbox

    if serve_embedded_sandbox(settings):
        print(f"Started the embedded API sandbox at {settings.fx.base_url.rsplit('/', 1)[0]}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    start, end = _parse_day(args.start, "--start"), _parse_day(args.end, "--end")
    _check_order(start, end)
    with ExitStack() as stack:
        settings, path = _settings(args.config)
        window = pull_window(settings, start=start, end=end)
        start, end = window.start, window.end
        _check_window(settings, path, start, end)
        _hold_warehouse(settings, stack, "run")
        _serve_apis(settings)
        from orchestration.runner import run_pipeline

        outcome = run_pipeline(settings, path, start, end, allow_shrink=args.allow_shrink)
        print(outcome.summary())
        return 0 if outcome.success else 1


def _check_order(start: dt.date | None, end: dt.date | None) -> None:
    """What the command line alone can tell, before any configuration is read."""
    if start and end and start > end:
        raise ConfigError("command line", "--start", f"{start} is after --end {end}")


def _check_window(settings: Settings, path: Path, start: dt.date, end: dt.date) -> None:
    _check_order(start, end)
    if start < settings.history_start:
        raise ConfigError(path, "history_start", f"is {settings.history_start}, after the requested start {start}")
    if end >= settings.today():
        raise ConfigError("command line", "--end", f"{end} is not a finished day yet (today is {settings.today()} in {settings.reporting_timezone})")


def _hold_warehouse(settings: Settings, stack: ExitStack, command: str) -> None:
    """One run per warehouse, held until the command ends (see orchestration/warehouse_lock.py)."""
    check_warehouse_dir(settings)
    stack.enter_context(hold_warehouse(settings.warehouse_dir, f"socialmart {command}"))


def _nightly(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        settings, path = _settings(args.config)
        _hold_warehouse(settings, stack, "nightly")
        _serve_apis(settings)
        from orchestration.runner import run_nightly

        outcome = run_nightly(settings, path, allow_shrink=args.allow_shrink)
        print(outcome.summary())
        return 0 if outcome.success else 1


def _backfill(args: argparse.Namespace) -> int:
    start, end = _parse_day(args.start, "--start"), _parse_day(args.end, "--end")
    _check_order(start, end)
    with ExitStack() as stack:
        settings, path = _settings(args.config)
        _check_window(settings, path, start, end)
        _hold_warehouse(settings, stack, "backfill")
        _serve_apis(settings)
        from orchestration.backfill import run_backfill

        outcome = run_backfill(settings, path, start, end, args.channel, allow_shrink=args.allow_shrink)
        print(outcome.summary())
        return 0 if outcome.success else 1


def _status(args: argparse.Namespace) -> int:
    from orchestration.status import collect_status, render

    settings, _ = _settings(args.config, resolve_secrets=False)  # calls no API
    status = collect_status(settings)
    print(json.dumps(status.to_json(), indent=2) if args.json else render(status))
    return 0 if status.ok else 1


def _check(args: argparse.Namespace) -> int:
    from orchestration.check import check_sources, render

    settings, _ = _settings(args.config)
    _serve_apis(settings)
    results = check_sources(settings, args.channel)
    print(render(results))
    return 0 if all(r.ok for r in results) else 1


def _serve_sandbox(args: argparse.Namespace) -> int:
    from orchestration.sandbox_config import start_sandbox

    sandbox, path = start_sandbox(Path(args.warehouse).resolve(), port=args.port)
    print(f"API sandbox serving at {sandbox.url} (Ctrl-C to stop). Config: {path}")
    print(f"Its token: export SOCIALMART_SANDBOX_TOKEN={sandbox.token}\n")
    print(path.read_text())
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sandbox.stop()
    return 0


def _warehouse_dir(explicit: str | None) -> Path:
    """The configured warehouse.dir; without a config, ./warehouse, where a sandbox run publishes."""
    path = config_path(explicit)
    return load_settings(path, resolve_secrets=False).warehouse_dir if path else Path("warehouse").resolve()


def _export(args: argparse.Namespace) -> int:
    from orchestration.export import export_marts
    from orchestration.lake import export_raw

    if args.raw:
        tables = export_raw(_warehouse_dir(args.config) / "build.duckdb", Path(args.out).resolve())
        for item in tables:
            parts = f" in {item.months} month partitions" if item.months else ""
            print(f"  {item.table:<48}{item.rows:>10,} rows{parts}")
        print(f"Exported {len(tables)} raw tables as a Parquet lake to {Path(args.out).resolve()}")
        return 0
    if args.format is None:
        print("socialmart export: --format parquet|csv is required (or --raw for the raw lake)", file=sys.stderr)
        return 2
    exported = export_marts(_warehouse_dir(args.config) / "marketing.duckdb", Path(args.out).resolve(), args.format)
    for item in exported:
        parts = f" in {item.months} month partitions" if item.path.is_dir() else ""
        print(f"  {item.mart:<32}{item.rows:>10,} rows{parts}")
    print(f"Exported {len(exported)} marts as {args.format} to {Path(args.out).resolve()}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from orchestration.report import report_path, write_report

    warehouse = _warehouse_dir(args.config)
    print(f"Report: {write_report(warehouse / 'marketing.duckdb', report_path(warehouse))}")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from orchestration.dbt_docs import generate_docs, serve_docs

    warehouse = _warehouse_dir(args.config)
    if not (warehouse / "build.duckdb").exists():
        print("No build database yet (socialmart run makes one): docs from the project files alone, without column types.",
              file=sys.stderr)
    site = generate_docs(warehouse)
    print(f"dbt docs generated in {site}; serving at http://127.0.0.1:{args.port} (Ctrl-C to stop)", file=sys.stderr)
    return serve_docs(warehouse, args.port)


def _ui(args: argparse.Namespace) -> int:
    # The UI calls no API itself: its run workers serve the embedded sandbox when they need it.
    settings, path = _settings(args.config)
    env = {**os.environ, "SOCIALMART_CONFIG": str(path.resolve()), "DAGSTER_HOME": str(dagster_home(settings))}
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(PROJECT_DIR / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(args.port)]
    print(f"Dagster UI: http://127.0.0.1:{args.port} (Ctrl-C stops it, its daemon and code server)", file=sys.stderr)
    return supervise(command, env)


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def supervise(command: list[str], env: dict[str, str], grace_seconds: float = 20) -> int:
    """Run `command` in a process group of its own and end the whole group
    with it: `dagster dev` starts a webserver, a daemon and a code server, which
    must not outlive it (orphans would keep serving and scheduling). SIGINT
    and SIGTERM stop the group: SIGTERM first, SIGKILL after `grace_seconds`."""
    child = subprocess.Popen(command, env=env, cwd=PROJECT_DIR, start_new_session=True)

    def stop(signum: int, _frame: object) -> None:
        raise _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    except _Stopped as stopped:
        print(f"socialmart: {signal.Signals(stopped.signum).name}: stopping the Dagster UI, its daemon and code server",
              file=sys.stderr)
        code = 128 + stopped.signum
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _signal_group(child.pid, signal.SIGKILL)  # whatever the group still holds
    return code


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone


if __name__ == "__main__":
    sys.exit(main())
