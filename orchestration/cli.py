"""The `socialmart` command.

  socialmart run [--start DATE] [--end DATE] [--config FILE]
      Pull, build, test and publish through Dagster. Without a config (no
      --config, no $SOCIALMART_CONFIG, no ./socialmart.yaml) it starts the
      embedded API sandbox on a free loopback port and generates the config.
  socialmart sandbox [--port N]
      Serve the API sandbox alone and print a config that points at it.
  socialmart ui [--config FILE] [--port N]
      The Dagster UI (`dagster dev` over workspace.yaml), sandbox as for run.

Exit codes: 0 success, 1 the run failed (nothing published), 2 bad usage or
configuration (nothing ran).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from connectors.http import install_log_redaction
from orchestration.config import ConfigError, Settings, config_path, load_settings
from orchestration.runner import dagster_home

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_WINDOW_DAYS = 90
log = logging.getLogger("socialmart")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialmart", description="Marketing data pipeline: channel APIs -> DuckDB -> dbt marts -> BI file.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="pull, build, test and publish")
    run.add_argument("--config", help="socialmart.yaml (default: $SOCIALMART_CONFIG, ./socialmart.yaml, else the embedded sandbox)")
    run.add_argument("--start", help="first day, YYYY-MM-DD (default: 90 days before --end)")
    run.add_argument("--end", help="last day, YYYY-MM-DD (default: yesterday in the reporting time zone)")
    run.add_argument("--log-level", default=os.environ.get("SOCIALMART_LOG_LEVEL", "INFO"))
    sandbox = sub.add_parser("sandbox", help="serve the local API sandbox and print its config")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--warehouse", default="./warehouse", help="warehouse.dir written into the printed config")
    ui = sub.add_parser("ui", help="open the Dagster UI")
    ui.add_argument("--config")
    ui.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)

    _setup_logging(getattr(args, "log_level", "INFO"))
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "sandbox":
            return _serve_sandbox(args)
        return _ui(args)
    except ConfigError as exc:
        print(f"socialmart: configuration error: {exc}", file=sys.stderr)
        return 2


def _setup_logging(level: str) -> None:
    install_log_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library chatter stays out of the progress view unless DEBUG is asked for.
    if root.level > logging.DEBUG:
        for noisy in ("urllib3", "dagster", "filelock"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _parse_day(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError("command line", flag, f"must be a date YYYY-MM-DD, got {value!r}") from None


def _settings_or_sandbox(explicit: str | None, stack: ExitStack) -> tuple[Settings, Path]:
    path = config_path(explicit)
    if path is None:
        from orchestration.sandbox_config import start_sandbox

        sandbox, path = start_sandbox(Path("warehouse").resolve())
        stack.callback(sandbox.stop)
        print(f"No configuration given: started the API sandbox at {sandbox.url} and wrote {path}", file=sys.stderr)
    settings = load_settings(path)
    return settings, path


def _run(args: argparse.Namespace) -> int:
    start, end = _parse_day(args.start, "--start"), _parse_day(args.end, "--end")
    with ExitStack() as stack:
        settings, path = _settings_or_sandbox(args.config, stack)
        end = end or settings.today() - dt.timedelta(days=1)
        start = start or end - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        if start > end:
            raise ConfigError("command line", "--start", f"{start} is after --end {end}")
        if start < settings.history_start:
            raise ConfigError(path, "history_start", f"is {settings.history_start}, after the requested start {start}")
        if end >= settings.today():
            raise ConfigError("command line", "--end", f"{end} is not a finished day yet (today is {settings.today()} in {settings.reporting_timezone})")
        from orchestration.runner import run_pipeline

        outcome = run_pipeline(settings, path, start, end)
        print(outcome.summary())
        return 0 if outcome.success else 1


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


def _ui(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        settings, path = _settings_or_sandbox(args.config, stack)
        env = {**os.environ, "SOCIALMART_CONFIG": str(path.resolve()), "DAGSTER_HOME": str(dagster_home(settings))}
        dagster = Path(sys.executable).with_name("dagster")
        command = [str(dagster), "dev", "-w", str(PROJECT_DIR / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(args.port)]
        print(f"Dagster UI: http://127.0.0.1:{args.port}", file=sys.stderr)
        return subprocess.call(command, env=env, cwd=PROJECT_DIR)


if __name__ == "__main__":
    sys.exit(main())
