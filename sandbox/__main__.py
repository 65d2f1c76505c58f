"""``python -m sandbox --port N [--seed S] [--today YYYY-MM-DD] [--token T]``

Serves the sandbox until Ctrl-C, printing the base URLs and the token so a
pipeline in another process can point at it (faults via ``/_sandbox/faults``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import threading

from .server import Sandbox


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765, help="TCP port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=None,
                    help="the world's current date (default: today in UTC)")
    ap.add_argument("--token", default="sandbox-token")
    args = ap.parse_args(argv)

    done = threading.Event()
    # SIGTERM too, so `kill PID` shuts down as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    sb = Sandbox(seed=args.seed, today=args.today, port=args.port, token=args.token).start()
    print(f"socialmart sandbox on {sb.url} (seed={args.seed}, today={sb.world.today}, "
          f"data through {sb.world.last_day})")
    for name, url in sb.base_urls().items():
        print(f"  {name:<10} {url}")
    print(f"  token      {sb.token}")
    print(f"  control    {sb.url}/_sandbox/{{faults,restate,stats}}")
    print("Ctrl-C to stop.", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
