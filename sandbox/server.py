"""The sandbox HTTP server and its Python handle, ``Sandbox``.

Contract
--------
* A real ``ThreadingHTTPServer`` on 127.0.0.1 (daemon threads, HTTP/1.1
  keep-alive, every response carries Content-Length). ``port=0`` picks a free
  port; ``Sandbox.url`` tells which.
* ``/<channel>/...`` is routed to the channel module registered under that
  name (see ``channels/__init__.py``); the channel authenticates, the fault
  book decides what misbehaves, the channel answers in its own dialect.
* ``/_sandbox/...`` is the control plane for a sandbox running in another
  process: ``POST /_sandbox/faults`` ``{"faults": [{...Fault fields...}]}``,
  ``GET``/``DELETE /_sandbox/faults``, ``POST /_sandbox/restate``,
  ``GET /_sandbox/stats``. It needs no token and is not counted in stats.
* Given (seed, today, revision), a request's response body is byte-identical
  across runs and processes; only headers such as Date and usage counters move.
"""

from __future__ import annotations

import datetime as dt
import functools
import socket
import sys
import threading
import traceback
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from .channels import CHANNEL_CLASSES, Channel
from .channels.base import Request, Response, json_response
from .faults import Fault, FaultBook, Firing
from .world import World
from .world_families import families_config
from .world_weibo import WEIBO_ACCOUNTS
from .world_x import X_ACCOUNTS


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # benchmarks open many keep-alive connections

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._conn_lock:
            (self._connections.add if alive else self._connections.discard)(conn)

    def close_connections(self) -> None:
        # Keep-alive handler threads block in recv() until the client hangs up;
        # shutting their sockets down lets stop() leave nothing behind.
        with self._conn_lock:
            conns, self._connections = list(self._connections), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body
    # waits for the client's delayed ACK (~40 ms per request on keep-alive).
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "socialmart-sandbox/1.0"

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # tests and benchmarks would drown in access logs

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    # ------------------------------------------------------------------ I/O
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, resp: Response, truncate: bool = False, trickle_seconds_per_byte: float = 0.0) -> None:
        body = resp.body[: len(resp.body) // 2] if truncate else resp.body
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command == "HEAD":
                return
            if not trickle_seconds_per_byte:
                self.wfile.write(body)
                return
            # Every byte arrives well within any read timeout, the whole never.
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                if self.server.sandbox._stopping.wait(trickle_seconds_per_byte):
                    break
        except (ConnectionError, OSError):
            self.close_connection = True  # client gave up (e.g. its read timeout fired)

    # ------------------------------------------------------------- routing
    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        body = self._read_body()
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            self._send(sandbox._control(self.command, path, body))
            return
        _, name, rest = (path.split("/", 2) + ["", ""])[:3]
        channel = sandbox._channels.get(name)
        if channel is None:
            sandbox._record(None, 0, 0)
            self._send(json_response(404, {"error": {"code": 404, "message": f"No sandbox channel at /{name}",
                                                     "channels": sorted(sandbox._channels)}}))
            return
        world = sandbox.world
        req = Request(
            method=self.command,
            target=self.path,
            path=path,
            subpath="/" + rest if rest else "",
            query=urllib.parse.parse_qsl(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            host=self.headers.get("Host") or sandbox.url.removeprefix("http://"),
            world=world,
            revision=world.revision,
        )
        resp, firing = self._answer(channel, req)
        try:
            channel.finalize(req, resp)
        except Exception:  # noqa: BLE001 - headers are best effort
            traceback.print_exc(file=sys.stderr)
        if firing.foreign_origin:
            resp.body = resp.body.replace(sandbox.url.encode(), firing.foreign_origin.encode())
        if firing.gzip_bomb_mib:
            resp.body = _gzip_bomb(firing.gzip_bomb_mib)
            resp.headers["Content-Encoding"] = "gzip"
        sandbox._record(channel.name, resp.rows, firing.fired)
        self._send(resp, firing.truncate, firing.trickle_seconds_per_byte)

    def _answer(self, channel: Channel, req: Request) -> tuple[Response, Firing]:
        sandbox = self.server.sandbox
        try:
            denied = channel.authenticate(req)
            if denied is not None:
                return denied, Firing()
            firing = sandbox._faults.evaluate(channel.name, req.target, lambda f: channel.applies(f, req))
            if firing.stall_seconds:
                # Interruptible, so stop() never waits on a stalled request.
                sandbox._stopping.wait(firing.stall_seconds)
            if firing.terminal is not None and firing.terminal.kind == "redirect":
                location = str(firing.terminal.params["to"]).rstrip("/") + req.target
                return Response(307, b"", headers={"Location": location}), firing
            if firing.terminal is not None:
                return channel.fault_response(firing.terminal, req), firing
            req.repeat_cursor = firing.repeat_cursor
            req.bad_data = firing.bad_data
            return channel.handle(req), firing
        except Exception:  # noqa: BLE001 - a sandbox bug must surface as a 500, not a hung client
            traceback.print_exc(file=sys.stderr)
            return channel.internal_error(req), Firing()


@functools.lru_cache(maxsize=2)
def _gzip_bomb(mib: int) -> bytes:
    """`mib` MiB of zeros, gzipped: about a thousandth of that on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join([*(compressor.compress(zeros) for _ in range(mib)), compressor.flush()])


class Sandbox:
    """Local imitation of the channel APIs. Use as a context manager or start()/stop()."""

    def __init__(self, seed: int = 7, today: dt.date | None = None, port: int = 0,
                 token: str = "sandbox-token") -> None:
        self.seed = seed
        self.token = token
        self.port = port
        self.world = World(seed, today)
        self.url = f"http://127.0.0.1:{port}" if port else ""
        self._channels: dict[str, Channel] = {cls.name: cls(self) for cls in CHANNEL_CLASSES}
        self._faults = FaultBook()
        self._stopping = threading.Event()
        self._stats_lock = threading.Lock()
        self._requests = 0
        self._by_channel = {name: 0 for name in self._channels}
        self._rows = {name: 0 for name in self._channels}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --------------------------------------------------------------- control
    def base_urls(self) -> dict[str, str]:
        return {name: ch.base_url(self.url) for name, ch in self._channels.items()}

    def client_configs(self, credential: str) -> dict[str, dict]:
        """socialmart.yaml channel entries for every channel the sandbox serves."""
        configs = {}
        for name, channel in self._channels.items():
            entry = channel.client_config(credential)
            if entry is not None:
                configs[name] = {"base_url": channel.base_url(self.url), **entry}
        return configs

    def families_config(self) -> dict[str, dict]:
        """socialmart.yaml's `families:` entry: the world's account families (world_families)."""
        members = {"x": [(a.id, a.role) for a in X_ACCOUNTS], "weibo": [(a.uid, a.role) for a in WEIBO_ACCOUNTS]}
        return families_config(members)

    def inject(self, *faults: Fault) -> None:
        for f in faults:
            if not isinstance(f, Fault):
                raise TypeError(f"expected Fault, got {type(f).__name__}")
            if f.channel != "*" and f.channel not in self._channels:
                raise ValueError(f"unknown channel {f.channel!r}; expected '*' or one of {sorted(self._channels)}")
        self._faults.add(list(faults))

    def clear_faults(self) -> None:
        self._faults.clear()

    def restate(self) -> None:
        with self._stats_lock:
            self.world.revision += 1

    def stats(self) -> dict:
        with self._stats_lock:
            return {
                "requests": self._requests,
                "by_channel": dict(self._by_channel),
                "faults_fired": self._faults.fired_total,
                "rows_served": dict(self._rows),
            }

    # -------------------------------------------------------------- internals
    def _record(self, channel: str | None, rows: int, fired: int) -> None:
        with self._stats_lock:
            self._requests += 1
            if channel is not None:
                self._by_channel[channel] += 1
                self._rows[channel] += rows

    def _control(self, method: str, path: str, body: bytes) -> Response:
        if path == "/_sandbox/faults":
            if method == "POST":
                try:
                    payload = orjson.loads(body or b"{}")
                    faults = [Fault.from_dict(d) for d in payload.get("faults", [])]
                    self.inject(*faults)
                except (ValueError, TypeError, AttributeError) as exc:
                    return json_response(400, {"error": str(exc)})
                return json_response(200, {"armed": len(self._faults.snapshot())})
            if method == "DELETE":
                self.clear_faults()
                return json_response(200, {"armed": 0})
            if method == "GET":
                return json_response(200, {"faults": self._faults.snapshot()})
        elif path == "/_sandbox/restate" and method == "POST":
            self.restate()
            return json_response(200, {"revision": self.world.revision})
        elif path == "/_sandbox/stats" and method == "GET":
            return json_response(200, self.stats())
        return json_response(404, {"error": f"no control endpoint {method} {path}"})
