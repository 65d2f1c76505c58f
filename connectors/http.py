"""The one HTTP client every channel connector uses.

Contract:
- `ApiClient.request_json` / `request_text` send one logical request and return
  the parsed body, after retrying what is transient (5xx, timeouts, connection
  errors, unparseable bodies) with exponential backoff and jitter, and waiting
  out throttles in each API's own dialect (the channel's `Dialect.classify`
  decides; HTTP 429 alone is not enough: Meta throttles with HTTP 400, TikTok
  under HTTP 200).
- Permanent failures (bad token, invalid metric, unknown account, bad request)
  raise `ApiError` at once, naming channel, account, endpoint, HTTP status and
  the API's error code. Never the token: URLs and messages pass `redact()`,
  which also knows each secret's escaped spellings (repr, JSON, URL encoding).
- Credentials stay on the configured `base_url`'s origin (scheme, host,
  port): a follow-up URL (Meta's `paging.next`) or a redirect to any other
  origin is refused before anything is sent to it.
- Every attempt has a wall-clock deadline (`http.request_deadline_seconds`;
  `read_timeout_seconds` alone bounds one read, which a server trickling a
  byte at a time resets forever), retried like a timeout; and a cap on the
  decompressed body (`http.max_response_mib`), read in chunks so that a gzip
  bomb is refused before its memory is spent, not retried.
- Waits go through an injectable `sleep` so tests run on a fake clock.
- `ApiClient.paginate(method, path, paginator)` pages in the four styles the
  channels use, each a `Paginator` configured once per endpoint: next-page
  URL (Meta `paging.next`), page token (X, YouTube, LinkedIn), page number
  (TikTok, Weibo) and offset (GA4, YouTube Analytics). Each one refuses a
  cursor that repeats.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus, urljoin, urlsplit

import orjson
import requests
import urllib3

log = logging.getLogger("socialmart.http")

# --------------------------------------------------------------------------- secrets

_SECRET_PARAM = re.compile(
    r"((?:access_token|appsecret_proof|secret|client_secret|refresh_token|token)=)[^&\s\"']+",
    re.IGNORECASE,
)
_secrets: set[str] = set()
_secret_spellings: list[str] = []  # every spelling of every secret, longest first
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a credential so that `redact` removes it from any text."""
    global _secret_spellings
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)
            spellings = {form for secret in _secrets for form in escaped_forms(secret) if len(form) >= 4}
            _secret_spellings = sorted(spellings, key=len, reverse=True)


def escaped_forms(secret: str) -> set[str]:
    """The secret as text that quotes it shows it: as itself, repr()-escaped
    (requests' repr of headers, tracebacks: a `\r` becomes two characters),
    JSON-escaped (Dagster's event log) and URL-encoded (query strings)."""
    return {
        secret,
        repr(secret)[1:-1],
        repr(secret.encode())[2:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }


def redact(text: str) -> str:
    """Remove registered secrets and secret-looking query parameters from text."""
    text = _SECRET_PARAM.sub(r"\1***", text)
    for spelling in _secret_spellings:  # longest first: an escaped form contains the plain parts
        if spelling in text:
            text = text.replace(spelling, "***")
    return text


def install_log_redaction() -> None:
    """Redact every log record at creation, whichever library logs it.

    A record factory sees records from all loggers (urllib3 logs full URLs at
    DEBUG), which a filter on one logger would not.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_socialmart_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return record
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return record

    factory._socialmart_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """A failure the pipeline cannot retry its way out of."""

    def __init__(
        self,
        channel: str,
        account: str | None,
        endpoint: str,
        status: int | None,
        code: str | int | None,
        message: str,
        kind: str = "permanent",
        rejected_fields: tuple[str, ...] = (),
    ) -> None:
        self.channel, self.account, self.endpoint = channel, account, endpoint
        self.status, self.code, self.kind = status, code, kind
        # Requested fields/metrics the API's refusal names: a metric retired
        # or renamed upstream (schema drift the pipeline must report by name).
        self.rejected_fields = rejected_fields
        self.api_message = redact(message)
        if rejected_fields:
            named = ", ".join(repr(f) for f in rejected_fields)
            message = f"the API rejected the requested field(s) {named} (deprecated, renamed or removed upstream): {message}"
        parts = [f"{channel}"]
        if account:
            parts.append(f"account {account}")
        parts.append(f"{redact(endpoint)}")
        where = ", ".join(parts)
        status_text = f"HTTP {status}" if status is not None else "no HTTP status"
        code_text = f", API error code {code}" if code is not None else ""
        super().__init__(f"{where}: {kind} failure ({status_text}{code_text}): {redact(message)}")


class PaginationError(ApiError):
    def __init__(self, channel: str, account: str | None, endpoint: str, message: str) -> None:
        super().__init__(channel, account, endpoint, None, None, message, kind="pagination")


class ForeignOriginError(ApiError):
    """A follow-up URL or redirect leading away from the configured base_url's
    origin: refused, so the credentials never reach another host."""

    def __init__(self, channel: str, account: str | None, endpoint: str, how: str, foreign: str, trusted: str) -> None:
        self.foreign_origin = foreign
        super().__init__(
            channel, account, endpoint, None, None,
            f"refused {how} to {foreign}: credentials are only sent to the configured base_url's origin {trusted}",
            kind="foreign origin",
        )


Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of a URL, the port spelled out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a port number: no origin it could share
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def origin_text(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}"


class _RedirectRefused(requests.RequestException):
    def __init__(self, target: str) -> None:
        super().__init__(f"redirect to {origin_text(origin_of(target))}")
        self.target = target


class _OriginBoundSession(requests.Session):
    """A Session that follows redirects only within one origin. Checked where
    requests reads the Location, before it sends anything there: a custom
    credential header (TikTok's `Access-Token`) is not one requests strips."""

    def __init__(self, origin: Origin) -> None:
        super().__init__()
        self.origin = origin

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None and origin_of(urljoin(resp.url, target)) != self.origin:
            resp.close()
            raise _RedirectRefused(urljoin(resp.url, target))
        return target


class _DeadlinePassed(Exception):
    """An attempt's wall-clock deadline passed while its body was arriving."""


@dataclass
class Verdict:
    """How a response is to be treated, as one API's dialect reads it.

    kind: "ok", "retry" (transient), "throttle" (wait, then retry, not counted
    against the error budget), "auth" (credentials: permanent, unless the
    channel can refresh them once) or "permanent".
    """

    kind: str
    status: int | None = None
    code: str | int | None = None
    message: str = ""
    wait_seconds: float | None = None


OK = Verdict("ok")


class Dialect:
    """The generic reading of HTTP: channels subclass it for their envelopes."""

    def classify(self, response: requests.Response, body: Any) -> Verdict:
        status = response.status_code
        if status < 400:
            return OK
        message = response.text[:300]
        if status == 429:
            return Verdict("throttle", status, None, message, retry_after(response))
        if status >= 500:
            return Verdict("retry", status, None, message, retry_after(response))
        if status in (401, 403):
            return Verdict("auth", status, None, message)
        return Verdict("permanent", status, None, message)


def header_value(response: requests.Response, name: str, read: Callable[[str], float | None]) -> float | None:
    """A wait (seconds) that header `name` announces, as `read` reads it:
    None when the header is absent or `read` cannot read it."""
    raw = response.headers.get(name)
    if not raw:
        return None
    try:
        return read(raw)
    except (ValueError, TypeError, AttributeError, OverflowError):
        return None


def retry_after(response: requests.Response) -> float | None:
    """Retry-After: seconds, or an HTTP date."""
    return header_value(response, "Retry-After", _seconds_or_date)


def _seconds_or_date(raw: str) -> float:
    try:
        return max(0.0, float(raw))
    except ValueError:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())


# --------------------------------------------------------------------------- client


@dataclass
class RetryPolicy:
    max_retries: int = 5  # transient failures per logical request
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    max_throttle_wait: float = 15 * 60.0  # total seconds one request may wait on throttles
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    # Wall-clock seconds one attempt may take, body included (checked between
    # reads, so it holds to within one read_timeout).
    request_deadline: float = 300.0
    max_response_mib: float = 256.0  # decompressed body size one response may have

    def backoff(self, attempt: int, rng: random.Random) -> float:
        # Full jitter (AWS architecture blog): spreads retries of parallel clients.
        return rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    throttles: int = 0
    throttle_wait_seconds: float = 0.0
    bytes: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "api_calls": self.calls,
            "retries": self.retries,
            "throttles": self.throttles,
            "throttle_wait_seconds": round(self.throttle_wait_seconds, 3),
            "bytes_received": self.bytes,
        }


@dataclass
class ApiClient:
    """A requests Session with one channel's base URL, auth, dialect and retries."""

    channel: str
    base_url: str
    dialect: Dialect = field(default_factory=Dialect)
    headers: dict[str, str] = field(default_factory=dict)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    seed: int | None = None
    # Called once when the API says the credentials expired; returns True when
    # it obtained fresh ones (WeChat tokens), so the request is tried once more.
    refresh_auth: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.origin = origin_of(self.base_url)
        self.session = _OriginBoundSession(self.origin)
        self.session.headers.update({"User-Agent": "socialmart/0.1", **self.headers})
        self.stats = CallStats()
        self._rng = random.Random(self.seed)
        for value in self.headers.values():
            if value.lower().startswith("bearer "):
                register_secret(value[7:])

    def url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request_json(self, method: str, path: str, *, account: str | None = None,
                     decode: Callable[[bytes], Any] = orjson.loads, **kwargs: Any) -> Any:
        """The answer's body as `decode` reads it (a ValueError: not readable,
        a cut-off transfer to retry); error answers are read as JSON, for
        the dialect. A volume endpoint's decoder reads its pages straight
        into Arrow, never building a Python object per value."""
        return self._request(method, path, account, decode, **kwargs)

    def request_text(self, method: str, path: str, *, account: str | None = None, **kwargs: Any) -> tuple[int, str]:
        return self._request(method, path, account, None, **kwargs)

    def paginate(self, method: str, path: str, paginator: Paginator, *, account: str | None = None,
                 params: dict[str, Any] | None = None, json: dict[str, Any] | None = None,
                 decode: Callable[[bytes], Any] = orjson.loads) -> Iterator[Any]:
        """Every page's body (read by `decode`, see request_json), the pages requested as `paginator` says."""
        request = paginator.first(PageRequest(path, params, json))
        seen: set[str] = set()
        while True:
            body = self.request_json(method, request.path, account=account, params=request.params, json=request.json,
                                     decode=decode)
            try:
                paginator.check(body, seen)
            except PageRefused as exc:
                raise PaginationError(self.channel, account, path, str(exc)) from None
            yield body
            try:
                request = paginator.next(request, body, seen)
            except PageRefused as exc:
                raise PaginationError(self.channel, account, path, str(exc)) from None
            if request is None:
                return

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ internals

    def _request(self, method: str, path: str, account: str | None, decode: Callable[[bytes], Any] | None,
                 **kwargs: Any) -> Any:
        url = self.url(path)
        endpoint = f"{method} {url.split('?', 1)[0]}"
        if origin_of(url) != self.origin:
            raise ForeignOriginError(self.channel, account, endpoint, "a follow-up URL",
                                     origin_text(origin_of(url)), origin_text(self.origin))
        timeout = (self.policy.connect_timeout, self.policy.read_timeout)
        failures = 0
        throttle_waited = 0.0
        refreshed = False
        while True:
            self.stats.calls += 1
            verdict: Verdict
            body: Any = None
            try:
                response = self._fetch(method, url, timeout, account, endpoint, **kwargs)
                body, parse_problem = _parse(response, decode)
                verdict = self.dialect.classify(response, body)
                if verdict.kind == "ok" and parse_problem and response.status_code < 300:
                    # A 200 whose body does not parse is a cut-off transfer.
                    verdict = Verdict("retry", response.status_code, None, parse_problem)
            except (requests.Timeout, requests.ConnectionError, urllib3.exceptions.ReadTimeoutError,
                    urllib3.exceptions.ProtocolError) as exc:
                verdict = Verdict("retry", None, None, f"{type(exc).__name__}: {exc}")
            except _DeadlinePassed:
                verdict = Verdict("retry", None, None, f"no complete answer within http.request_deadline_seconds "
                                                       f"({self.policy.request_deadline:g}s)")
            except _RedirectRefused as exc:
                raise ForeignOriginError(self.channel, account, endpoint, "a redirect",
                                         origin_text(origin_of(exc.target)), origin_text(self.origin)) from None
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                raise ApiError(self.channel, account, endpoint, None, None, str(exc)) from None

            if verdict.kind == "ok":
                if decode is not None:
                    return body
                return response.status_code, response.text

            if verdict.kind == "throttle":
                wait = verdict.wait_seconds
                if wait is None:
                    wait = self.policy.backoff(min(self.stats.throttles, 6), self._rng) + 1.0
                if throttle_waited + wait > self.policy.max_throttle_wait:
                    raise ApiError(
                        self.channel, account, endpoint, verdict.status, verdict.code,
                        f"still throttled after waiting {throttle_waited:.0f}s: {verdict.message}",
                        kind="throttle",
                    )
                self.stats.throttles += 1
                self.stats.throttle_wait_seconds += wait
                throttle_waited += wait
                log.warning("%s throttled (%s %s); waiting %.1fs", self.channel, verdict.status, verdict.code, wait)
                self.sleep(wait)
                continue

            if verdict.kind == "retry":
                if failures >= self.policy.max_retries:
                    raise ApiError(
                        self.channel, account, endpoint, verdict.status, verdict.code,
                        f"gave up after {failures + 1} attempts: {verdict.message}",
                        kind="transient",
                    )
                wait = verdict.wait_seconds
                if wait is None:
                    wait = self.policy.backoff(failures, self._rng)
                failures += 1
                self.stats.retries += 1
                log.info(
                    "%s %s: transient failure (%s %s), retry %d in %.1fs",
                    self.channel, redact(endpoint), verdict.status, verdict.code, failures, wait,
                )
                self.sleep(wait)
                continue

            if verdict.kind == "auth" and self.refresh_auth is not None and not refreshed:
                refreshed = True
                if self.refresh_auth():
                    continue
            if verdict.kind == "auth":
                raise ApiError(self.channel, account, endpoint, verdict.status, verdict.code, verdict.message, kind="credentials")
            raise ApiError(
                self.channel, account, endpoint, verdict.status, verdict.code, verdict.message,
                rejected_fields=named_in(verdict.message, requested_names(kwargs)) if verdict.status == 400 else (),
            )


    def _fetch(self, method: str, url: str, timeout: tuple[float, float], account: str | None, endpoint: str,
               **kwargs: Any) -> requests.Response:
        """One attempt: the response with its whole body read, in chunks,
        within the attempt's deadline and the size cap."""
        deadline = time.monotonic() + self.policy.request_deadline
        cap = int(self.policy.max_response_mib * 2**20)
        response = self.session.request(method, url, timeout=timeout, stream=True, **kwargs)
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(_CHUNK_BYTES, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    raise ApiError(
                        self.channel, account, endpoint, response.status_code, None,
                        f"the response is larger than http.max_response_mib ({self.policy.max_response_mib:g} MiB) "
                        "once decompressed; refused (raise http.max_response_mib if the API really sends that much)",
                        kind="oversized response",
                    )
                if time.monotonic() > deadline:
                    raise _DeadlinePassed
        except BaseException:
            response.close()  # the rest is never read: the connection cannot be reused
            raise
        self.stats.bytes += size
        # What `response.content` would have read: the dialects read .text.
        response._content = b"".join(chunks)
        return response


# Decompressed bytes per read: small enough that the deadline and the size cap
# are checked often, large enough to cost nothing on a fast transfer.
_CHUNK_BYTES = 1 << 20
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{2,}")


def requested_names(request: dict[str, Any]) -> set[str]:
    """Every field-like word of a request's query parameters and JSON body
    values (`fields=spend,reach`, GA4's `{"metrics": [{"name": "sessions"}]}`)."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            names.update(_NAME.findall(value))
        elif isinstance(value, dict):
            for child in value.values():
                walk(child)
        elif isinstance(value, (list, tuple)):
            for child in value:
                walk(child)

    walk(request.get("params"))
    walk(request.get("json"))
    return names


def named_in(message: str, names: set[str]) -> tuple[str, ...]:
    """The requested names an error message mentions as whole words."""
    return tuple(sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", message)))


def _parse(response: requests.Response, decode: Callable[[bytes], Any] | None) -> tuple[Any, str | None]:
    if decode is None:
        return None, None
    try:
        return (decode if response.status_code < 300 else orjson.loads)(response.content), None
    except ValueError as exc:  # orjson.JSONDecodeError is one
        declared = response.headers.get("Content-Length")
        return None, (f"response body is cut off or malformed ({exc}; {len(response.content)} bytes, "
                      f"Content-Length {declared})")


# --------------------------------------------------------------------------- pagination


@dataclass(frozen=True)
class PageRequest:
    """One page's request: what a paginator changes from page to page."""

    path: str  # relative to base_url, or an absolute URL on its origin (Meta's paging.next)
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


class PageRefused(Exception):
    """A page sequence that cannot be right (a repeat, a short result):
    raised by a paginator, reported by `ApiClient.paginate` as a PaginationError."""


class Paginator:
    """One API's paging style, configured once per endpoint and driven by
    `ApiClient.paginate` (in the manner of dlt's rest_client paginators).

    `seen` is one pagination's memory (cursors, URLs, tokens), so that a
    repeat is refused instead of looping or landing rows twice."""

    def first(self, request: PageRequest) -> PageRequest:
        """The first page's request."""
        return request

    def check(self, body: Any, seen: set[str]) -> None:
        """Refuse a page before its rows are read (its own cursor repeats)."""

    def next(self, request: PageRequest, body: Any, seen: set[str]) -> PageRequest | None:
        """The next page's request, or None after the last page."""
        raise NotImplementedError


def _once(seen: set[str], key: str, message: str) -> None:
    if key in seen:
        raise PageRefused(message)
    seen.add(key)


@dataclass(frozen=True)
class NextUrlPaginator(Paginator):
    """Follow the absolute next-page URL (Meta `paging.next`) until there is
    none. A page whose own cursor was seen before is a repeat (an API bug or
    a proxy cache): refusing it keeps its rows from landing twice."""

    next_url: Callable[[Any], str | None]
    page_cursor: Callable[[Any], str | None] = lambda body: None

    def check(self, body: Any, seen: set[str]) -> None:
        cursor = self.page_cursor(body)
        if cursor is not None:
            _once(seen, f"cursor {cursor}", f"page cursor {cursor!r} repeats: the API served the same page twice")

    def next(self, request: PageRequest, body: Any, seen: set[str]) -> PageRequest | None:
        url = self.next_url(body)
        if not url:
            return None
        _once(seen, f"url {url}", f"pagination cursor repeats ({redact(url)}); the page sequence would never end")
        return PageRequest(url)


@dataclass(frozen=True)
class TokenPaginator(Paginator):
    """Send the previous page's token back in query parameter `param` (X
    `pagination_token`, YouTube and LinkedIn `pageToken`)."""

    next_token: Callable[[Any], str | None]
    param: str = "pageToken"

    def next(self, request: PageRequest, body: Any, seen: set[str]) -> PageRequest | None:
        token = self.next_token(body)
        if not token:
            return None
        _once(seen, token, f"page token {token!r} repeats")
        return PageRequest(request.path, {**(request.params or {}), self.param: token}, request.json)


@dataclass(frozen=True)
class PageNumberPaginator(Paginator):
    """Pages start..total in query parameter `param` (TikTok `page_info.total_page`, Weibo `total_number`)."""

    total_pages: Callable[[Any], int]
    param: str = "page"
    start: int = 1
    max_pages: int = 100_000

    def first(self, request: PageRequest) -> PageRequest:
        return PageRequest(request.path, {**(request.params or {}), self.param: self.start}, request.json)

    def next(self, request: PageRequest, body: Any, seen: set[str]) -> PageRequest | None:
        page = (request.params or {})[self.param]
        if page >= self.total_pages(body) or page - self.start + 1 >= self.max_pages:
            return None
        return PageRequest(request.path, {**(request.params or {}), self.param: page + 1}, request.json)


@dataclass(frozen=True)
class OffsetPaginator(Paginator):
    """Offset against a total (GA4 `offset` in the JSON body and `rowCount`;
    YouTube Analytics `startIndex`, 1-based, in the query). An empty page
    before the total is reached is refused: the result would be incomplete."""

    page_rows: Callable[[Any], int]
    total_rows: Callable[[Any], float]
    param: str = "offset"
    in_json: bool = False  # the offset travels in the JSON body, not the query
    base: int = 0  # the wire value of the first row (1 for YouTube's startIndex)

    def first(self, request: PageRequest) -> PageRequest:
        return self._at(request, 0)

    def next(self, request: PageRequest, body: Any, seen: set[str]) -> PageRequest | None:
        got = self.page_rows(body)
        offset = ((request.json if self.in_json else request.params) or {})[self.param] - self.base + got
        total = self.total_rows(body)
        if offset >= total:
            return None
        if got == 0:
            raise PageRefused(f"empty page at offset {offset} while the API reports {total} rows: "
                              "the result would be incomplete")
        return self._at(request, offset)

    def _at(self, request: PageRequest, offset: int) -> PageRequest:
        if self.in_json:
            return PageRequest(request.path, request.params, {**(request.json or {}), self.param: offset + self.base})
        return PageRequest(request.path, {**(request.params or {}), self.param: offset + self.base}, request.json)


_DONE = object()


def prefetched(pages: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate `pages` in a background thread, up to `depth` pages ahead.

    The next request is on the wire (and the API computing it) while the
    caller parses this page, as a pipelined client would. Pages arrive in
    order; an exception of the page iterator is raised here, where the caller
    would have met it. Only the background thread touches the iterator (and
    its client) until it has finished, also when the caller stops early.
    """
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not offer((page, None)):
                    return
            offer((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed over to the caller's thread
            offer((_DONE, exc))

    worker = threading.Thread(target=produce, name="socialmart-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            page, error = ahead.get()
            if page is _DONE:
                if error is not None:
                    raise error
                return
            yield page
    finally:
        stop.set()
        worker.join()  # requests have timeouts: the page in flight ends
