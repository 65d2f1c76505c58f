"""Shared fixtures: a scripted loopback HTTP server for client unit tests; how
the test files are spread over pytest-xdist's workers."""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from xdist.scheduler import LoadScopeScheduling


class ScriptedServer:
    """Answers each request with the next scripted (status, headers, body, delay)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes, float]] = []
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                status, headers, payload, delay = outer.script.pop(0) if outer.script else (200, {}, b"{}", 0.0)
                if delay:
                    import time

                    time.sleep(delay)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # close()'s shutdown waits for the loop to look up from its poll:
        # at the default half second, half a second after each of ~90 tests.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def add(self, status: int = 200, body: object = None, headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.script.append((status, headers or {}, payload, delay))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


class FakeClock:
    """Stands in for time.sleep: records waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --------------------------------------------------------------------------- test distribution (pytest-xdist)
#
# `make test` runs `pytest -n auto --dist loadgroup --no-loadscope-reorder`
# with the scheduler below: each group runs whole on one worker (a module's
# fixtures are built once, on one worker, as with `--dist loadfile`), and the
# groups start in the order collected here. A group is a test file, or the
# files named together in GROUPS. The slowest groups start first: with two
# workers, a slow group started last leaves the other worker idle until it
# ends (xdist's default order, by the number of tests per group, put the
# one-test Spark parity file last).
#
# xdist's own loadgroup (`xdist_group` marks) cannot work here: it renames
# each test's node id, which pytest 9 no longer lets a plugin do; and the
# controller, which schedules, sees node ids only. So groups follow from paths.
GROUPS = (
    # The channel suite's files that read the warehouses built once per process
    # (tests/integration/conftest.py: ChannelBuilds); its fault file needs none.
    ("tests/integration/test_channel_contract_faults.py", None),
    ("tests/integration/test_channel_*.py", "channel-warehouses"),
    # Files sharing a warehouse (a package- or session-scoped fixture: one
    # pipeline run per process that uses it): on one worker, it is built once.
    ("tests/report/test_*.py", "report: published"),
    ("tests/integration/test_pipeline.py", "integration: first_run"),
    ("tests/integration/test_marts_by_hand.py", "integration: first_run"),
    ("tests/ops/test_ops_nightly.py", "ops: nightly_env"),
    ("tests/ops/test_ops_status.py", "ops: nightly_env"),
    ("tests/ops/test_ops_ui.py", "ops: nightly_env"),
)
# Longest first (worker seconds of a full run on 2026-12-06, the machine
# shared: test_pipeline 911, test_run_safety 797, the nightly_env files 754,
# the channel suite ~580, test_warehouse_guards 312, ...); Spark parity
# (~6 minutes alone) was never reached by that run and goes first.
SLOW_FIRST = (
    "tests/spark/test_spark_parity.py",
    "integration: first_run",
    "tests/reliability/test_run_safety.py",
    "ops: nightly_env",
    "channel-warehouses",
    "tests/reliability/test_warehouse_guards.py",
    "tests/quality/test_guards.py",
    "tests/ops/test_first_hour.py",
    "tests/integration/test_adding_a_channel.py",
    "tests/ops/test_ops_backfill.py",
    "report: published",
    "tests/export/test_export.py",
    "tests/reliability/test_bad_input.py",
    "tests/integration/test_channel_contract_faults.py",
)


def group_of(nodeid: str) -> str:
    path = nodeid.split("::")[0]
    for pattern, group in GROUPS:
        if fnmatch.fnmatchcase(path, pattern):
            return group or path
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {group: i for i, group in enumerate(SLOW_FIRST)}
    # Stable: a group's tests keep their order, unnamed groups keep theirs.
    items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    class PathGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return PathGroupScheduling(config, log)
