"""What the `socialmart` command shows on its terminal (stderr; stdout keeps the summary).

Quiet by default: one line per finished step (each channel's ingest, the
ingest, the audits, the dbt build, the publish, the cursors, a backfill
chunk) and the warnings of socialmart's own code. On a terminal, a live
display (rich) shows the ingest per channel and stream: accounts done of
total, rows, rate; it is transient, the finished lines stay. Piped (CI,
tests, cron) the same lines are printed and nothing else.

- `-v/--verbose`: also every account pulled, every routine API note
  (partial errors, retries, clamped windows) and dbt's node lines.
- `--log-level DEBUG`: everything, libraries included (every request URL, redacted).

Library warnings (Dagster, pyspark, Great Expectations) stay off the terminal
unless DEBUG; like everything else they are in the run log (orchestration/run_log.py).
Only the standard library and rich are imported here: the first line is on
the terminal before Dagster, dbt, pandas and pyarrow load (seconds).
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from orchestration.progress import EVENT, AccountPulled, IngestEnded, IngestPlan, StreamLanded, steps

# socialmart's own loggers: `socialmart` and `socialmart.<anything>`.
OWN = "socialmart"


def _own(record: logging.LogRecord) -> bool:
    return record.name == OWN or record.name.startswith(OWN + ".")


@dataclass
class _Channel:
    streams: int
    accounts: int
    landed: int = 0
    pulled: int = 0
    rows: int = 0
    began: float | None = None
    current: str = ""
    task: TaskID | None = None

    @property
    def total(self) -> int:
        return self.streams * self.accounts

    def rate(self) -> str:
        seconds = time.monotonic() - self.began if self.began else 0.0
        return f"{self.rows / seconds / 1000:,.1f}k rows/s" if seconds > 0.05 else ""


@dataclass
class _Ingest:
    channels: dict[str, _Channel]
    began: float = field(default_factory=time.monotonic)


class Terminal(logging.Handler):
    """The root logger's terminal handler, and the live display it drives."""

    def __init__(self, verbose: bool = False, everything: bool = False, console: Console | None = None) -> None:
        super().__init__()
        self.verbose = verbose or everything
        self.everything = everything
        # Bound to the real stderr now: a run redirects sys.stderr into its run log.
        self.console = console or Console(file=sys.stderr, highlight=False)
        self.live = self.console.is_terminal
        self.ingest: _Ingest | None = None
        self.progress: Progress | None = None
        self.status: TaskID | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close_display()

    def start(self, title: str) -> None:
        """On a terminal, at once: a spinner titled `title` that runs until the summary, showing the
        last finished step. (Piped, the first line is the pipeline's: an error before it is stderr's first line.)"""
        if self.live:
            self.progress = Progress(
                SpinnerColumn(), TextColumn("{task.description:<15}"), BarColumn(bar_width=20),
                TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                console=self.console, transient=True, redirect_stdout=False, redirect_stderr=False,
            )
            self.status = self.progress.add_task(title, total=None, detail="starting")
            self.progress.start()

    def close_display(self) -> None:
        """Before the summary: the live display gives the terminal back."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    # ------------------------------------------------------------------ logging

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = getattr(record, EVENT, None)
            if event is not None:
                self._event(event)
                if self.verbose:
                    self.line(record.getMessage(), record)
            elif record.name == steps.name:
                self.line(record.getMessage(), record)
                self._working(record.getMessage())
            elif self.everything or (_own(record) and (record.levelno >= logging.WARNING or self.verbose)):
                self.line(self.format(record) if record.exc_info else record.getMessage(), record)
        except Exception:  # noqa: BLE001 - logging must never break the run
            self.handleError(record)

    def line(self, text: str, record: logging.LogRecord | None = None) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created if record else None))
        level = f"{record.levelname} " if record is not None and record.levelno >= logging.WARNING else ""
        self.console.out(f"{stamp} {level}{text}", highlight=False)

    def _working(self, last: str) -> None:
        if self.progress is not None and self.status is not None:
            self.progress.update(self.status, detail=f"last: {last[:60]}")

    # ------------------------------------------------------------------ the ingest display

    def _event(self, event: object) -> None:
        if isinstance(event, IngestPlan):
            self._plan(event)
        elif self.ingest is None:
            return
        elif isinstance(event, AccountPulled):
            channel = self.ingest.channels.get(event.channel)
            if channel is not None:
                channel.began = channel.began or time.monotonic() - event.seconds
                channel.pulled += 1
                channel.rows += event.rows
                channel.current = f"{event.stream} {event.account}"
                self._show(event.channel, channel)
        elif isinstance(event, StreamLanded):
            channel = self.ingest.channels.get(event.channel)
            if channel is not None:
                channel.landed += 1
                if channel.landed == channel.streams:
                    self._finished(event.channel, channel)
        elif isinstance(event, IngestEnded):
            self._ended(event)

    def _plan(self, plan: IngestPlan) -> None:
        self.ingest = _Ingest({name: _Channel(streams, accounts) for name, (streams, accounts) in plan.channels.items()})
        if self.progress is not None:
            for name, channel in self.ingest.channels.items():
                channel.task = self.progress.add_task(name, total=channel.total, detail=f"0/{channel.total} accounts", start=False)

    def _show(self, name: str, channel: _Channel) -> None:
        if self.progress is None or channel.task is None:
            return
        self.progress.start_task(channel.task)
        self.progress.update(channel.task, completed=channel.pulled,
                             detail=f"{channel.pulled}/{channel.total} accounts  {channel.rows:>9,} rows  {channel.rate():>14}  {channel.current}")

    def _finished(self, name: str, channel: _Channel) -> None:
        if self.progress is not None and channel.task is not None:
            self.progress.remove_task(channel.task)
            channel.task = None
        seconds = time.monotonic() - channel.began if channel.began else 0.0
        accounts = f"{channel.accounts} account{'s' if channel.accounts != 1 else ''}"
        self.line(f"ingest {name}: {channel.streams} stream{'s' if channel.streams != 1 else ''} x {accounts}, "
                  f"{channel.rows:,} rows in {seconds:.1f}s")

    def _ended(self, event: IngestEnded) -> None:
        ingest, self.ingest = self.ingest, None
        for name, channel in ingest.channels.items():
            if channel.task is not None and self.progress is not None:
                self.progress.remove_task(channel.task)
            if channel.landed < channel.streams and channel.pulled:
                self.line(f"ingest {name}: stopped after {channel.landed} of {channel.streams} streams")
        rows = sum(c.rows for c in ingest.channels.values())
        streams = sum(c.landed for c in ingest.channels.values())
        outcome = "" if event.success else " (FAILED: see the summary)"
        text = f"ingest: {rows:,} rows from {streams} streams of {len(ingest.channels)} channels in {time.monotonic() - ingest.began:.1f}s{outcome}"
        self.line(text)
        self._working(text)


def install(level: str, verbose: bool) -> Terminal:
    """The terminal as the root logger's one handler, at `level`."""
    terminal = Terminal(verbose=verbose, everything=level.upper() == "DEBUG")
    root = logging.getLogger()
    root.handlers[:] = [terminal]
    root.setLevel(level.upper())
    # Library chatter below WARNING stays out of the run log too, unless DEBUG is asked for.
    if root.level > logging.DEBUG:
        for noisy in ("urllib3", "dagster", "dagster.builtin", "filelock", "alembic", "great_expectations"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return terminal
