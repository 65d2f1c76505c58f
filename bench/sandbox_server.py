"""`python -m bench.sandbox_server --accounts N [--accounts-per-property K] --token T`

The API sandbox over a scaled world (N Meta ad accounts, one GA4 property per
K of them), for the benchmarks. Prints one JSON line {"url", "today"} once it
serves, then serves until its stdin closes (the benchmark process ending, for
whatever reason, ends it too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orchestration.sandbox_config import sandbox_config
from sandbox import Sandbox, World
from sandbox.world import scaled_world_specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_server", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--accounts-per-property", type=int, default=10)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sandbox = Sandbox(seed=args.seed, token=args.token)
    sandbox.world = World(args.seed, sandbox.world.today, **scaled_world_specs(args.accounts, args.accounts_per_property))
    with sandbox:
        config = sandbox_config(sandbox, Path("warehouse"))
        print(json.dumps({"url": sandbox.url, "today": sandbox.world.today.isoformat(), "config": config}), flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
