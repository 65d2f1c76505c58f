"""The `socialmart` commands. orchestration/cli.py parses the command line and starts
the terminal before importing this module (Dagster, dbt, pandas, pyarrow: seconds).

Exit codes as in the CLI's help: 0 success, 1 the run failed or another run
holds the warehouse, 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
from orchestration.outcome import Outcome
from orchestration.progress import steps
from orchestration.terminal import Terminal
from orchestration.warehouse_lock import WarehouseBusy, hold_warehouse
from orchestration.window import PullWindow, pull_window, refresh_window

PROJECT_DIR = Path(__file__).resolve().parents[1]


def dispatch(args: argparse.Namespace, screen: Terminal) -> int:
    """Run the parsed command; its exit code."""
    install_log_redaction()
    try:
        return _command(args, screen)
    except ConfigError as exc:
        return _stopped(screen, f"socialmart: configuration error: {exc}", 2)
    except FileNotFoundError as exc:  # export or report before anything was published
        return _stopped(screen, f"socialmart: {exc}", 1)
    except (WarehouseBusy, BuildDatabaseUnusable) as exc:  # nothing ran
        return _stopped(screen, f"socialmart: {exc}", 1)
    except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback; nothing published, no cursor moved
        return _stopped(screen, "socialmart: interrupted", 130)


def _command(args: argparse.Namespace, screen: Terminal) -> int:
    if args.command == "run":
        return _run(args, screen)
    if args.command == "nightly":
        return _nightly(args, screen)
    if args.command == "backfill":
        return _backfill(args, screen)
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


def _stopped(screen: Terminal, message: str, code: int) -> int:
    screen.close_display()
    print(message, file=sys.stderr)
    return code


def _summary(screen: Terminal, outcome: Outcome) -> int:
    """The summary on stdout, once the live display has given the terminal back."""
    screen.close_display()
    print(outcome.summary())
    return 0 if outcome.success else 1


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
            steps.info(f"No configuration given: using the embedded API sandbox (config written to {path})")
    return load_settings(path, resolve_secrets=resolve_secrets), path


def _serve_apis(settings: Settings) -> None:
    """The embedded default's APIs: served by this process from here on."""
    from orchestration.sandbox_config import serve_embedded_sandbox

    if serve_embedded_sandbox(settings):
        steps.info(f"Started the embedded API sandbox at {settings.fx.base_url.rsplit('/', 1)[0]}")


def _run(args: argparse.Namespace, screen: Terminal) -> int:
    start, end = _parse_day(args.start, "--start"), _parse_day(args.end, "--end")
    _check_order(start, end)
    with ExitStack() as stack:
        settings, path = _settings(args.config)
        window = pull_window(settings, start=start, end=end)
        _check_window(settings, path, window.start, window.end)
        _hold_warehouse(settings, stack, "run")
        refresh = _refresh_window(settings, window) if start is None and end is None else None
        _serve_apis(settings)
        from orchestration.runner import run_nightly, run_pipeline

        if refresh is not None:
            outcome = run_nightly(settings, path, window=refresh, command="run", allow_shrink=args.allow_shrink)
        else:
            outcome = run_pipeline(settings, path, window.start, window.end, allow_shrink=args.allow_shrink)
        return _summary(screen, outcome)


def _refresh_window(settings: Settings, window: PullWindow) -> PullWindow | None:
    """A rerun's window when the warehouse already holds the default window's
    settled days (orchestration/window.py: refresh_window), said on screen."""
    if not settings.build_db.exists():
        return None
    import duckdb

    from orchestration.landing import landed_spans

    try:
        with duckdb.connect(str(settings.build_db), read_only=True) as con:
            refresh = refresh_window(settings, landed_spans(con))
    except duckdb.Error:
        return None  # an unreadable warehouse: the run itself says what is wrong with it
    if refresh is not None:
        steps.info(f"The warehouse holds every settled day of {window.start} .. {window.end}: re-pulling each channel's "
                   f"lookback only ({refresh.start} .. {refresh.end} at most); `--start {window.start}` re-pulls the whole window")
    return refresh


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


def _nightly(args: argparse.Namespace, screen: Terminal) -> int:
    with ExitStack() as stack:
        settings, path = _settings(args.config)
        _hold_warehouse(settings, stack, "nightly")
        _serve_apis(settings)
        from orchestration.runner import run_nightly

        outcome = run_nightly(settings, path, allow_shrink=args.allow_shrink)
        return _summary(screen, outcome)


def _backfill(args: argparse.Namespace, screen: Terminal) -> int:
    start, end = _parse_day(args.start, "--start"), _parse_day(args.end, "--end")
    _check_order(start, end)
    with ExitStack() as stack:
        settings, path = _settings(args.config)
        _check_window(settings, path, start, end)
        _hold_warehouse(settings, stack, "backfill")
        _serve_apis(settings)
        from orchestration.backfill import run_backfill

        outcome = run_backfill(settings, path, start, end, args.channel, allow_shrink=args.allow_shrink)
        return _summary(screen, outcome)


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


def _configured(explicit: str | None) -> Settings | None:
    """The configuration's settings without its secrets (commands that call no API), or None without one."""
    path = config_path(explicit)
    return load_settings(path, resolve_secrets=False) if path else None


def _warehouse_dir(explicit: str | None, settings: Settings | None = None) -> Path:
    """The configured warehouse.dir; without a config, ./warehouse, where a sandbox run publishes."""
    settings = settings or _configured(explicit)
    return settings.warehouse_dir if settings else Path("warehouse").resolve()


def _export(args: argparse.Namespace) -> int:
    from orchestration.export import export_marts
    from orchestration.lake import export_raw

    if args.raw:
        tables = export_raw(_warehouse_dir(args.config) / "build.duckdb", Path(args.out).resolve())
        for item in tables:
            parts = f" in {item.months} month partitions" if item.months else ""
            print(f"  {item.name:<48}{item.rows:>10,} rows{parts}")
        print(f"Exported {len(tables)} raw tables as a Parquet lake to {Path(args.out).resolve()}")
        return 0
    if args.format is None:
        print("socialmart export: --format parquet|csv is required (or --raw for the raw lake)", file=sys.stderr)
        return 2
    exported = export_marts(_warehouse_dir(args.config) / "marketing.duckdb", Path(args.out).resolve(), args.format)
    for item in exported:
        parts = f" in {item.months} month partitions" if item.path.is_dir() else ""
        print(f"  {item.name:<32}{item.rows:>10,} rows{parts}")
    print(f"Exported {len(exported)} marts as {args.format} to {Path(args.out).resolve()}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from orchestration.report import report_path, write_report

    warehouse = _warehouse_dir(args.config)
    print(f"Report: {write_report(warehouse / 'marketing.duckdb', report_path(warehouse))}")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from orchestration.dbt_docs import generate_docs, serve_docs

    settings = _configured(args.config)
    warehouse = _warehouse_dir(args.config, settings)
    if not (warehouse / "build.duckdb").exists():
        print("No build database yet (socialmart run makes one): docs from the project files alone, without column types.",
              file=sys.stderr)
    site = generate_docs(warehouse, settings)
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

