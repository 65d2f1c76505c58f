"""`socialmart run` (what `make run` runs) as a user runs it, in a new
directory without configuration (the embedded API sandbox, the default 90
days), then the same command again on the warehouse the first one built,
then a third time. Each is its own process, timed from start to exit,
output piped. The first pulls the whole window and builds every relation;
the rerun finds the window's settled days held and re-pulls each channel's
lookback only (orchestration/window.py: refresh_window) and replays the
first build's dbt SQL (orchestration/dbt_replay.py), its incremental facts
merging the days it landed, as the third run does. Repeated in new directories, alternately, so that machine noise
falls on each kind alike. Each first run is a fresh clone's: the project's
kept first builds are forgotten before it, which a new warehouse would
otherwise replay (orchestration/dbt_replay.py: FirstBuild)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import say, timed
from orchestration.defs.transform import FIRST_BUILDS

SOCIALMART = Path(sys.executable).with_name("socialmart")
KINDS = ("first run", "rerun", "third run")
REFRESH_LINE = "re-pulling each channel's lookback only"


@dataclass
class MakeRunResults:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    windows: dict[str, str] = field(default_factory=dict)  # kind -> the window its summary names


def _socialmart_run(cwd: Path) -> tuple[float, str, str]:
    """One `socialmart run` without arguments: its wall seconds, stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("SOCIALMART_CONFIG", "DAGSTER_HOME")}
    with timed() as timing:
        done = subprocess.run([str(SOCIALMART), "run"], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"socialmart run in {cwd} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return timing.wall, done.stdout, done.stderr


def run(workdir: Path, repeats: int) -> MakeRunResults:
    results = MakeRunResults()
    for attempt in range(repeats):
        directory = workdir / f"run_{attempt + 1}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for kind in KINDS:
            if kind == "first run":
                shutil.rmtree(FIRST_BUILDS, ignore_errors=True)
            seconds, stdout, stderr = _socialmart_run(directory)
            refreshed = REFRESH_LINE in stderr
            if refreshed != (kind != "first run"):
                raise RuntimeError(f"{kind} in {directory}: expected {'a' if kind != 'first run' else 'no'} refresh of "
                                   f"the lookbacks, the run said:\n{stderr[-3000:]}")
            results.seconds[kind].append(seconds)
            results.windows[kind] = next((line.split("(window ", 1)[1].split(";", 1)[0] for line in stdout.splitlines()
                                          if "SUCCEEDED" in line and "(window " in line), "?")
            say(f"make run #{attempt + 1}, {kind}: {seconds:.1f} s (window {results.windows[kind]})")
        shutil.rmtree(directory, ignore_errors=True)
    return results


def best(r: MakeRunResults, kind: str) -> float:
    return min(r.seconds[kind])


def markdown(r: MakeRunResults) -> str:
    lines = ["| run | window pulled | runs (s) | best (s) |", "|---|---|---|---:|"]
    for kind in KINDS:
        lines.append(f"| {kind} | {r.windows.get(kind, '?')} | {', '.join(f'{s:.1f}' for s in r.seconds[kind])} "
                     f"| {best(r, kind):.1f} |")
    first, rerun, third = (best(r, kind) for kind in KINDS)
    lines += ["", f"Rerun / first run: **{rerun / first:.2f}x**; third / first: {third / first:.2f}x "
                  f"(target: a rerun faster than the first, every rerun faster than every first run: "
                  f"{'met' if rerun_faster(r) else 'MISSED'})."]
    return "\n".join(lines)


def rerun_faster(r: MakeRunResults) -> bool:
    """Faster beyond the machine's noise: the slowest rerun beats the fastest first run."""
    return max(r.seconds["rerun"]) < min(r.seconds["first run"])
