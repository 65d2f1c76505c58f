"""What a run reports while it works, as log records any handler can read.

Two loggers, two grains:
- `socialmart.progress`: one line per finished step (an audit, the dbt
  build, the publish, a backfill chunk). The terminal always shows them.
- `socialmart.progress.ingest`: the ingest's detail, one record per account
  pulled and per stream landed, plus the plan of an ingest run and its end.
  Each record carries its event (attribute `EVENT`) for the live display
  (orchestration/terminal.py); its text goes to the run log and, with
  --verbose, to the terminal.

The steps that report know nothing of terminals: they log. Standard library
only: the CLI imports this before anything heavy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

steps = logging.getLogger("socialmart.progress")
ingest = logging.getLogger("socialmart.progress.ingest")

# The LogRecord attribute that carries an event.
EVENT = "socialmart_event"


@dataclass(frozen=True)
class IngestPlan:
    """The streams an ingest run will pull: channel -> (streams, accounts per stream)."""

    channels: dict[str, tuple[int, int]]

    def line(self) -> str:
        streams = sum(n for n, _ in self.channels.values())
        return f"ingest: {streams} streams of {len(self.channels)} channels"


@dataclass(frozen=True)
class AccountPulled:
    channel: str
    stream: str
    account: str
    rows: int
    seconds: float
    # "<start>..<end>" for a dated stream, "" for a whole-account one.
    window: str = ""

    def line(self) -> str:
        span = f" {self.window}" if self.window else ""
        return f"{self.channel}.{self.stream} {self.account}{span}: {self.rows} rows in {self.seconds:.1f}s"


@dataclass(frozen=True)
class StreamLanded:
    channel: str
    stream: str
    rows: int
    seconds: float

    def line(self) -> str:
        return f"{self.channel}.{self.stream}: {self.rows} rows landed in {self.seconds:.1f}s"


@dataclass(frozen=True)
class IngestEnded:
    success: bool

    def line(self) -> str:
        return f"ingest: {'done' if self.success else 'FAILED'}"


Event = IngestPlan | AccountPulled | StreamLanded | IngestEnded


def report(event: Event) -> None:
    ingest.info(event.line(), extra={EVENT: event})
