"""The run log: everything a pipeline invocation did, in full, in one file.

`<warehouse>/logs/<command>-<YYYYMMDD-HHMMSS>.log`, named in the summary; the
newest `KEEP` are kept. While a pipeline runs, every log record at the root
logger's level goes there, whatever the terminal shows (orchestration/terminal.py):
every account pulled, every routine API note, library warnings (Python
`warnings` included), Dagster's own warnings and errors, and whatever a step
prints (dbt's node lines, echoed by dagster-dbt on stdout). Secrets are
redacted when a record is made (connectors.http.install_log_redaction).

Routine API notes (INFO records of the API clients in connectors/: X's
partial errors, retries, clamped windows) are also counted, by kind, for the
summary (`notes`).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import sys
from collections import Counter
from contextlib import ExitStack, redirect_stderr, redirect_stdout
from pathlib import Path

import connectors

KEEP = 30
CONNECTORS_DIR = str(Path(connectors.__file__).resolve().parent)
# What a step prints (dbt's node lines, Dagster's console logger) becomes records of this logger.
output_log = logging.getLogger("socialmart.output")


class NoteCounter(logging.Handler):
    """Counts the API clients' INFO records by kind: the same message with its numbers (ids, dates, counts) taken out."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.examples: dict[tuple[str, str], str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != logging.INFO or not record.pathname.startswith(CONNECTORS_DIR):
            return
        message = record.getMessage()
        kind = (record.name, re.sub(r"\d+", "#", message))
        self.counts[kind] += 1
        self.examples.setdefault(kind, message)

    def notes(self) -> list[tuple[int, str]]:
        """(count, first message) per kind, the most frequent first."""
        return [(count, self.examples[kind]) for kind, count in self.counts.most_common()]


class _RunLogFile(logging.FileHandler):
    """A run log that cannot be written (a full disk) stops; the run goes on, its
    summary and terminal still say what happened, and the summary says the log is short."""

    def __init__(self, path: Path) -> None:
        # Opened at the first record: a file that cannot be created is an error recorded like a failed write.
        super().__init__(path, encoding="utf-8", delay=True)
        self.error: OSError | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.error is not None:
            return
        try:
            super().emit(record)  # a failed write comes back through handleError
        except OSError as error:  # opening the file
            self.error = error

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
        self.error = self.error or error

    def close(self) -> None:
        try:
            super().close()
        except OSError as error:
            self.error = self.error or error


class _LineWriter(io.TextIOBase):
    """A text stream whose complete lines become log records."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = ""
        self._writing = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._writing:  # a handler writing to sys.stdout/err while we log: drop, never recurse
            return len(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        self._writing = True
        try:
            for line in lines:
                if line.strip():
                    output_log.info(line.rstrip())
        finally:
            self._writing = False
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            pending, self._pending = self._pending, ""
            output_log.info(pending.rstrip())


class RunLog:
    """Open for the life of a pipeline (orchestration/runner.py): `with RunLog(dir, command) as log: ...`."""

    def __init__(self, warehouse_dir: Path, command: str) -> None:
        folder = warehouse_dir / "logs"
        self.path = folder / f"{command}-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
        self.counter = NoteCounter()
        self._stack = ExitStack()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            older = sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name))
            for old in older[: max(0, len(older) - (KEEP - 1))]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # a full or read-only disk: the log's first write fails too, and records why (`error`)

    def __enter__(self) -> RunLog:
        root = logging.getLogger()
        self._file = handler = _RunLogFile(self.path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        for added in (handler, self.counter):
            root.addHandler(added)
            self._stack.callback(root.removeHandler, added)
        self._stack.callback(handler.close)
        logging.captureWarnings(True)
        self._stack.callback(logging.captureWarnings, False)
        writer = _LineWriter()
        self._stack.callback(writer.flush)
        self._stack.enter_context(redirect_stdout(writer))
        self._stack.enter_context(redirect_stderr(writer))
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def notes(self) -> list[tuple[int, str]]:
        return self.counter.notes()

    @property
    def error(self) -> OSError | None:
        """Why the run log stopped short, if it did."""
        return self._file.error
