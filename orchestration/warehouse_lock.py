"""One run per warehouse: `run`, `nightly` and `backfill` hold `<warehouse>/.socialmart.lock`,
and so does every Dagster run that opens the build database (the daemon's
scheduled nights and sensor builds, materializations launched from the UI:
orchestration/defs/resources.py).

Two runs on one warehouse would interleave their landings, builds and
publishes, and the second would die on DuckDB's file lock with a root cause
that names neither run. The lock is an exclusive `flock` on the lock file,
which the kernel releases when its holder exits however it exits (`kill -9`
included), so a lock can never be left held by a dead process. The file also
records who holds it (pid, command, start time): the second run names the
holder, and a run that finds the record of a holder that is gone says it
takes over from it.

A process holds a warehouse once: the CLI holds it around the Dagster runs
it executes in-process, whose build database then finds it held already.
(A second flock on another descriptor of the file would refuse the process
that holds the first.)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("socialmart.lock")

LOCK_NAME = ".socialmart.lock"

# The warehouses this process holds: their holder records.
_held: dict[Path, dict] = {}


class WarehouseBusy(RuntimeError):
    """Another socialmart run holds the warehouse."""


def lock_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / LOCK_NAME


def describe(holder: dict) -> str:
    return (f"pid {holder.get('pid', '?')} ({holder.get('command', '?')}, "
            f"started {holder.get('started_at', '?')})")


@contextmanager
def hold_warehouse(warehouse_dir: Path, command: str) -> Iterator[dict]:
    """Hold the warehouse for this process, or raise WarehouseBusy naming the holder."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    key = warehouse_dir.resolve()
    if key in _held:  # held by this process (the outer hold releases it)
        yield _held[key]
        return
    path = lock_path(warehouse_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        previous = _read(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(
                f"another socialmart run holds the warehouse {warehouse_dir}: {describe(previous)}; "
                f"wait for it to finish (its lock: {path})"
            ) from None
        # Read again under the lock: the holder we saw may have finished meanwhile.
        previous = _read(fd)
        if previous:
            log.warning(f"taking over the stale warehouse lock of {describe(previous)}: that process is gone "
                        f"without releasing it ({path})")
        holder = {"pid": os.getpid(), "command": command,
                  "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        _write(fd, json.dumps(holder))
        _held[key] = holder
        try:
            yield holder
        finally:
            del _held[key]
            # An empty record means "released cleanly"; the flock goes with the close.
            _write(fd, "")
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Is process `pid` running (on this host)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    try:
        holder = json.loads(text) if text else {}
    except ValueError:
        return {"pid": "?", "command": f"unreadable lock record {text[:80]!r}"}
    return holder if isinstance(holder, dict) else {}


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)
