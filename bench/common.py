"""What the benchmark sections share: progress lines, timing, the sandbox in
its own process, CPU accounting, and the facts about the machine.

CPU is accounted per process from /proc (Linux): the benchmark's own process,
the sandbox process, and the whole machine, so RESULTS.md can say how much of
the machine other programs used while the benchmarks ran.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.config import SANDBOX_TOKEN_VARIABLE

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
TOKEN = "bench-token"
_TICKS = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    """One progress line on the terminal (benchmarks run for minutes)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("nan")


# --------------------------------------------------------------------------- CPU and time


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of one running process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent not idle, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _TICKS


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0  # this process (all threads)


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall = time.perf_counter() - wall
        timing.cpu = time.process_time() - cpu


@dataclass
class MachineLoad:
    """How busy the machine was while the benchmarks ran, and with what."""

    started: float = field(default_factory=time.perf_counter)
    busy_at_start: float = field(default_factory=machine_busy_seconds)
    ours_at_start: float = field(default_factory=own_cpu_seconds)
    load_samples: list[float] = field(default_factory=list)

    def sample(self) -> None:
        self.load_samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        wall = time.perf_counter() - self.started
        busy = machine_busy_seconds() - self.busy_at_start
        ours = own_cpu_seconds() - self.ours_at_start  # the sandbox and dbt: waited-for children
        others = max(0.0, busy - ours)
        return {
            "wall_seconds": wall,
            "machine_busy_core_seconds": busy,
            "benchmark_core_seconds": ours,
            "other_core_seconds": others,
            "other_cores_average": others / wall if wall else 0.0,
            "load_min": min(self.load_samples, default=float("nan")),
            "load_max": max(self.load_samples, default=float("nan")),
        }


# --------------------------------------------------------------------------- the sandbox process


class SandboxProcess:
    """The API sandbox in a child process with a world of `accounts` ad
    accounts: its own interpreter and GIL, as a real API is another machine,
    so client and server do not share one core's worth of Python."""

    def __init__(self, accounts: int, accounts_per_property: int = 10) -> None:
        self.accounts, self.accounts_per_property = accounts, accounts_per_property
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.today: dt.date | None = None
        self.config: dict = {}

    def __enter__(self) -> SandboxProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sandbox_server", "--accounts", str(self.accounts),
             "--accounts-per-property", str(self.accounts_per_property), "--token", TOKEN],
            cwd=PROJECT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the sandbox process exited with status {self.proc.wait()} before it served")
        started = json.loads(line)
        self.url, self.today = started["url"], dt.date.fromisoformat(started["today"])
        # A socialmart.yaml for every channel it serves; the token through the environment.
        self.config = started["config"]
        os.environ[SANDBOX_TOKEN_VARIABLE] = TOKEN
        return self

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def base_url(self, channel: str) -> str:
        return {"meta_ads": f"{self.url}/meta_ads/v21.0", "ga4": f"{self.url}/ga4/v1beta"}[channel]

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.stdin.close()  # the server stops when its stdin closes
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------- the machine


def meminfo_gib(field: str) -> float:
    """A /proc/meminfo figure (MemTotal, MemAvailable, ...) in GiB."""
    return next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith(field + ":")) / 2**20


def machine_facts() -> dict[str, str]:
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor() or "unknown")
    versions = {name: importlib.metadata.version(name) for name in (
        "duckdb", "dlt", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "pyarrow", "orjson", "requests", "numpy")}
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model,
        "cores": str(os.cpu_count()),
        "ram": f"{meminfo_gib('MemTotal'):.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **versions,
    }
