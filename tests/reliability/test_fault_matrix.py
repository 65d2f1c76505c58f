"""What the APIs throw at a sync, channel by channel, through the sandbox's
real HTTP: throttles in each dialect, server errors, stalls, truncated pages,
repeating cursors, expired tokens, a dead host behind a URL that carries a
token. Waits run on a fake clock.

Each case syncs one stream of one channel into a DuckDB file with the same
`sync_stream` the Dagster assets call.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import tracemalloc

import duckdb
import pytest

from connectors.http import ApiError, ForeignOriginError, PaginationError, install_log_redaction
from orchestration.ingest import sync_stream
from orchestration.landing import raw_table
from sandbox import Fault
from tests.reliability.helpers import END, TOKEN, channel_settings, rows

START = END - dt.timedelta(days=6)
HTTP = {"read_timeout_seconds": 10}


@pytest.fixture(autouse=True)
def _clear_faults(sandbox):
    yield
    sandbox.clear_faults()


def sync(sandbox, channel: str, stream: str, path, clock, http: dict | None = None, start: dt.date = START):
    settings, policy = channel_settings(sandbox, channel, http or HTTP)
    with duckdb.connect(str(path)) as con:
        return sync_stream(con, settings, stream, start, END, policy=policy, sleep=clock,
                           snapshot_date=sandbox.world.today)


def content(path, channel: str, stream: str) -> list[tuple]:
    """The landed rows without their pull time: what two syncs must agree on."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * EXCLUDE (_synced_at) FROM {raw_table(channel, stream)} ORDER BY ALL").fetchall()


def landed_state(path, channel: str, stream: str) -> tuple[list[tuple], list[tuple]]:
    """The raw table (pull times included) and the pending cursors."""
    return rows(path, raw_table(channel, stream)), rows(path, "_socialmart.sync_state_pending")


# channel, stream, throttle fault params, (HTTP status, API code) as the dialect reads them, least wait
THROTTLES = [
    ("fx", "ecb_rates", {"retry_after": 7}, (429, None), 7.0),  # plain 429 + Retry-After
    ("linkedin", "ad_accounts", {"retry_after": 30}, (429, 101), 30.0),
    ("ga4", "traffic", {"retry_after": 5}, (429, "RESOURCE_EXHAUSTED"), 5.0),
    ("ga4", "traffic", {}, (429, "RESOURCE_EXHAUSTED"), 1.0),  # no hint: backoff
    # x-rate-limit-reset: an epoch second 60 s ahead, read when the answer arrives (slack for a slow machine)
    ("x", "user_snapshots", {"seconds": 60}, (429, "Too Many Requests"), 50.0),
    ("meta_ads", "insights", {"minutes": 2}, (400, 80004), 120.0),  # X-Business-Use-Case-Usage
    ("facebook_pages", "page_insights", {"minutes": 1}, (400, 32), 60.0),
    ("instagram", "account_insights", {"minutes": 1}, (400, 80002), 60.0),
    ("tiktok_ads", "campaign_daily", {}, (200, 40100), 1.0),  # code under HTTP 200
    ("weibo", "user_snapshots", {}, (403, "10023"), 1.0),
    ("youtube", "channel_daily", {}, (403, "rateLimitExceeded"), 1.0),
    ("wechat", "user_summary", {}, (200, 45011), 60.0),  # errcode under HTTP 200: "next minute"
]


@pytest.mark.parametrize(("channel", "stream", "params", "reading", "least_wait"), THROTTLES,
                         ids=[f"{t[0]}-{t[3][1]}" + ("-hinted" if t[2] else "") for t in THROTTLES])
def test_throttle_is_recognised_waited_out_then_succeeds(sandbox, clock, tmp_path, caplog, channel, stream, params,
                                                         reading, least_wait):
    caplog.set_level(logging.WARNING, logger="socialmart.http")
    sandbox.inject(Fault(channel, "throttle", params=params))
    result = sync(sandbox, channel, stream, tmp_path / "throttled.duckdb", clock)
    assert result.api["throttles"] == 1 and result.api["retries"] == 0
    status, code = reading
    assert f"{channel} throttled ({status} {code})" in caplog.text
    assert len(clock.waits) == 1 and clock.waits[0] >= least_wait
    if params.get("retry_after") or params.get("minutes"):
        assert clock.waits[0] == least_wait  # the API said how long: exactly that
    # Nothing lost to the throttle: the same rows as an undisturbed sync.
    sync(sandbox, channel, stream, tmp_path / "clean.duckdb", clock)
    assert result.rows > 0
    assert content(tmp_path / "throttled.duckdb", channel, stream) == content(tmp_path / "clean.duckdb", channel, stream)


SERVER_ERRORS = [
    ("meta_ads", "insights"), ("ga4", "traffic"), ("fx", "ecb_rates"), ("facebook_pages", "page_insights"),
    ("instagram", "account_insights"), ("x", "user_snapshots"), ("weibo", "user_snapshots"),
    ("youtube", "channel_daily"), ("linkedin", "ad_accounts"), ("tiktok_ads", "campaign_daily"),
    ("wechat", "user_summary"),
]


@pytest.mark.parametrize(("channel", "stream"), SERVER_ERRORS, ids=[c for c, _ in SERVER_ERRORS])
def test_server_error_three_times_then_success(sandbox, clock, tmp_path, channel, stream):
    sandbox.inject(Fault(channel, "server_error", times=3))
    result = sync(sandbox, channel, stream, tmp_path / "retried.duckdb", clock)
    assert result.api["retries"] == 3 and len(clock.waits) == 3
    # Exponential backoff with full jitter: each wait within its doubling cap.
    assert all(0 <= wait <= 2**attempt for attempt, wait in enumerate(clock.waits))
    sync(sandbox, channel, stream, tmp_path / "clean.duckdb", clock)
    assert result.rows > 0
    assert content(tmp_path / "retried.duckdb", channel, stream) == content(tmp_path / "clean.duckdb", channel, stream)


def test_server_errors_beyond_the_budget_fail_naming_the_call_and_land_nothing(sandbox, clock, tmp_path):
    path = tmp_path / "build.duckdb"
    sync(sandbox, "meta_ads", "insights", path, clock)
    before = landed_state(path, "meta_ads", "insights")
    sandbox.inject(Fault("meta_ads", "server_error", times=-1, path_contains="act_1002/insights"))
    with pytest.raises(ApiError) as err:
        sync(sandbox, "meta_ads", "insights", path, clock, http={**HTTP, "max_retries": 2})
    assert err.value.kind == "transient" and err.value.status == 503 and err.value.account == "act_1002"
    assert "meta_ads, account act_1002" in str(err.value) and "gave up after 3 attempts" in str(err.value)
    # act_1001 was fetched fine, but nothing of the stream landed: all or nothing.
    assert landed_state(path, "meta_ads", "insights") == before


def test_stalled_response_times_out_and_is_retried(sandbox, clock, tmp_path):
    """`http.read_timeout_seconds` bounds a response that never comes."""
    fired = sandbox.stats()["faults_fired"]
    sandbox.inject(Fault("meta_ads", "stall", path_contains="/insights", params={"seconds": 2}))
    result = sync(sandbox, "meta_ads", "insights", tmp_path / "stalled.duckdb", clock, http={"read_timeout_seconds": 0.5})
    assert sandbox.stats()["faults_fired"] - fired == 1  # the sandbox did hold a response back
    assert result.api["retries"] == 1 and len(clock.waits) == 1
    sync(sandbox, "meta_ads", "insights", tmp_path / "clean.duckdb", clock)
    assert content(tmp_path / "stalled.duckdb", "meta_ads", "insights") == content(tmp_path / "clean.duckdb", "meta_ads", "insights")


def test_truncated_page_is_detected_and_retried(sandbox, clock, tmp_path):
    sandbox.inject(Fault("x", "truncated", path_contains="/tweets"))
    result = sync(sandbox, "x", "posts", tmp_path / "cut.duckdb", clock)
    assert result.api["retries"] == 1
    sync(sandbox, "x", "posts", tmp_path / "clean.duckdb", clock)
    assert content(tmp_path / "cut.duckdb", "x", "posts") == content(tmp_path / "clean.duckdb", "x", "posts")


def test_a_page_that_stays_truncated_lands_no_partial_window(sandbox, clock, tmp_path):
    path = tmp_path / "build.duckdb"
    sync(sandbox, "x", "posts", path, clock)
    before = landed_state(path, "x", "posts")
    # The third account's timeline is cut off every time: two accounts' pages
    # were good, yet none of their rows may land.
    third = channel_settings(sandbox, "x")[0].accounts[2]
    sandbox.inject(Fault("x", "truncated", times=-1, path_contains=f"/users/{third}/tweets"))
    with pytest.raises(ApiError) as err:
        sync(sandbox, "x", "posts", path, clock, http={**HTTP, "max_retries": 2})
    assert err.value.kind == "transient" and "cut off or malformed" in str(err.value)
    assert landed_state(path, "x", "posts") == before


REPEATS = [("meta_ads", "insights", None), ("x", "posts", "/tweets"), ("facebook_pages", "posts", None),
           ("youtube", "videos", None), ("linkedin", "campaigns", None)]


@pytest.mark.parametrize(("channel", "stream", "path_contains"), REPEATS, ids=[r[0] for r in REPEATS])
def test_repeating_cursor_is_refused_and_lands_nothing(sandbox, clock, tmp_path, channel, stream, path_contains):
    path = tmp_path / "build.duckdb"
    sync(sandbox, channel, stream, path, clock)
    before = landed_state(path, channel, stream)
    sandbox.inject(Fault(channel, "repeat_cursor", times=-1, path_contains=path_contains))
    with pytest.raises(PaginationError) as err:
        sync(sandbox, channel, stream, path, clock)
    assert channel in str(err.value) and "repeats" in str(err.value)
    assert landed_state(path, channel, stream) == before


# channel, stream, (HTTP status, API code) of the expired-token answer
EXPIRED_TOKENS = [
    ("meta_ads", "accounts", (400, 190)),
    ("facebook_pages", "page_insights", (400, 190)),
    ("instagram", "account_insights", (400, 190)),
    ("ga4", "traffic", (401, "UNAUTHENTICATED")),
    ("linkedin", "ad_accounts", (401, 65600)),
    ("x", "user_snapshots", (401, "Unauthorized")),
    ("youtube", "channel_daily", (401, "UNAUTHENTICATED")),
    ("tiktok_ads", "advertisers", (200, 40105)),
    ("weibo", "user_snapshots", (200, "21327")),
]


@pytest.mark.parametrize(("channel", "stream", "answer"), EXPIRED_TOKENS, ids=[e[0] for e in EXPIRED_TOKENS])
def test_expired_token_fails_at_once_naming_channel_account_and_code(sandbox, clock, tmp_path, channel, stream, answer):
    settings, _ = channel_settings(sandbox, channel)
    before = sandbox.stats()["by_channel"][channel]
    sandbox.inject(Fault(channel, "expired_token", times=-1))
    with pytest.raises(ApiError) as err:
        sync(sandbox, channel, stream, tmp_path / "build.duckdb", clock)
    assert sandbox.stats()["by_channel"][channel] - before == 1  # no retry storm: one call, then stop
    assert clock.waits == []
    status, code = answer
    assert (err.value.kind, err.value.status, err.value.code) == ("credentials", status, code)
    message = str(err.value)
    assert message.startswith(f"{channel}, account {settings.accounts[0]}, ")
    assert f"HTTP {status}, API error code {code}" in message
    assert TOKEN not in message


def test_wechat_expired_token_is_refreshed_once_then_the_call_succeeds(sandbox, clock, tmp_path):
    before = sandbox.stats()["by_channel"]["wechat"]
    sandbox.inject(Fault("wechat", "expired_token", path_contains="/datacube/"))
    result = sync(sandbox, "wechat", "user_cumulate", tmp_path / "build.duckdb", clock)
    assert result.rows == 7 and clock.waits == []
    # token, 42001, fresh token, the same call again: one refresh, no loop.
    assert sandbox.stats()["by_channel"]["wechat"] - before == 4


def test_wechat_token_rejected_after_its_refresh_fails_without_a_storm(sandbox, clock, tmp_path):
    before = sandbox.stats()["by_channel"]["wechat"]
    sandbox.inject(Fault("wechat", "expired_token", times=-1, path_contains="/datacube/"))
    with pytest.raises(ApiError) as err:
        sync(sandbox, "wechat", "user_cumulate", tmp_path / "build.duckdb", clock)
    assert sandbox.stats()["by_channel"]["wechat"] - before == 4  # token, call, token, call: then stop
    assert (err.value.kind, err.value.code) == ("credentials", 42001)
    appid = channel_settings(sandbox, "wechat")[0].accounts[0]
    assert str(err.value).startswith(f"wechat, account {appid}, ") and "API error code 42001" in str(err.value)
    assert TOKEN not in str(err.value)


def test_a_connection_failure_on_a_url_carrying_the_token_never_shows_it(sandbox, clock, tmp_path, caplog):
    """Weibo takes access_token in the query string; requests puts the whole
    URL into its connection errors, and urllib3 logs every URL at DEBUG."""
    install_log_redaction()  # what the CLI does first
    caplog.set_level(logging.DEBUG)
    sync(sandbox, "weibo", "user_snapshots", tmp_path / "logged.duckdb", clock)
    settings, policy = channel_settings(sandbox, "weibo", {**HTTP, "max_retries": 1})
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        settings.base_url = f"http://127.0.0.1:{closed.getsockname()[1]}/weibo/2"
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con, pytest.raises(ApiError) as err:
        sync_stream(con, settings, "user_snapshots", START, END, policy=policy, sleep=clock)
    assert err.value.kind == "transient" and "ConnectionError" in str(err.value)
    assert "access_token=***" in str(err.value)  # the URL is there, its token is not
    assert TOKEN not in str(err.value) and TOKEN not in repr(err.value)
    assert "access_token=***" in caplog.text and TOKEN not in caplog.text


# --------------------------------------------------------------- hostile transport

# channel, stream, requests whose paging.next is moved, days synced (Meta's insights
# page at 500 rows: 200 days of the sandbox's campaigns take two pages)
FOLLOW_UPS = [("meta_ads", "insights", "/insights", 200), ("facebook_pages", "posts", "/posts", 7),
              ("instagram", "media", "/media", 7)]


@pytest.mark.parametrize(("channel", "stream", "path_contains", "days"), FOLLOW_UPS, ids=[f[0] for f in FOLLOW_UPS])
def test_a_paging_next_to_another_origin_is_refused_and_the_token_never_leaves(sandbox, clock, tmp_path, scripted,
                                                                              channel, stream, path_contains, days):
    """A `paging.next` on another host (a compromised proxy, an API bug) would
    receive the Bearer token; it is refused before anything is sent there."""
    path = tmp_path / "build.duckdb"
    start = END - dt.timedelta(days=days - 1)
    sync(sandbox, channel, stream, path, clock, start=start)
    before = landed_state(path, channel, stream)
    sandbox.inject(Fault(channel, "foreign_origin", times=-1, path_contains=path_contains,
                         params={"origin": scripted.url}))
    with pytest.raises(ForeignOriginError) as err:
        sync(sandbox, channel, stream, path, clock, start=start)
    foreign = scripted.url
    assert err.value.channel == channel and err.value.account in channel_settings(sandbox, channel)[0].accounts
    assert err.value.foreign_origin == foreign
    assert f"refused a follow-up URL to {foreign}" in str(err.value) and TOKEN not in str(err.value)
    assert scripted.requests == []  # nothing, let alone the token, reached the other origin
    assert landed_state(path, channel, stream) == before


def test_a_redirect_to_another_origin_is_refused_and_the_token_never_leaves(sandbox, clock, tmp_path, scripted):
    """TikTok's `Access-Token` is a custom header, which requests keeps on a
    cross-host redirect; the other host's empty answer would replace the window."""
    path = tmp_path / "build.duckdb"
    sync(sandbox, "tiktok_ads", "campaign_daily", path, clock)
    before = landed_state(path, "tiktok_ads", "campaign_daily")
    sandbox.inject(Fault("tiktok_ads", "redirect", times=-1, path_contains="/report/", params={"to": scripted.url}))
    with pytest.raises(ForeignOriginError) as err:
        sync(sandbox, "tiktok_ads", "campaign_daily", path, clock)
    assert err.value.channel == "tiktok_ads" and err.value.foreign_origin == scripted.url
    assert f"refused a redirect to {scripted.url}" in str(err.value) and TOKEN not in str(err.value)
    assert scripted.requests == []
    assert landed_state(path, "tiktok_ads", "campaign_daily") == before
    # A redirect within the configured origin is followed as before.
    sandbox.clear_faults()
    sandbox.inject(Fault("tiktok_ads", "redirect", path_contains="/report/", params={"to": sandbox.url}))
    sync(sandbox, "tiktok_ads", "campaign_daily", tmp_path / "redirected.duckdb", clock)
    assert content(tmp_path / "redirected.duckdb", "tiktok_ads", "campaign_daily") == content(path, "tiktok_ads", "campaign_daily")


def test_a_trickling_response_is_cut_off_by_the_request_deadline_and_retried(sandbox, clock, tmp_path):
    """One byte at a time resets `read_timeout_seconds` on every byte; the
    per-attempt wall-clock deadline ends the attempt, which is retried."""
    http = {"read_timeout_seconds": 10, "request_deadline_seconds": 1, "max_retries": 1}
    path = tmp_path / "build.duckdb"
    sync(sandbox, "meta_ads", "insights", path, clock)
    before = landed_state(path, "meta_ads", "insights")
    sandbox.inject(Fault("meta_ads", "trickle", times=-1, path_contains="/insights", params={"seconds_per_byte": 0.1}))
    with pytest.raises(ApiError) as err:
        sync(sandbox, "meta_ads", "insights", path, clock, http=http)
    assert err.value.kind == "transient" and "gave up after 2 attempts" in str(err.value)
    assert "no complete answer within http.request_deadline_seconds (1s)" in str(err.value)
    assert landed_state(path, "meta_ads", "insights") == before
    sandbox.clear_faults()
    sandbox.inject(Fault("meta_ads", "trickle", path_contains="/insights", params={"seconds_per_byte": 0.1}))
    result = sync(sandbox, "meta_ads", "insights", tmp_path / "retried.duckdb", clock, http=http)
    assert result.api["retries"] == 1
    assert content(tmp_path / "retried.duckdb", "meta_ads", "insights") == content(path, "meta_ads", "insights")


def test_a_gzip_bomb_is_refused_at_the_size_cap_before_its_memory_is_spent(sandbox, clock, tmp_path):
    """256 MiB of zeros in ~256 KB of gzip: refused once 4 MiB are decompressed, not retried."""
    path = tmp_path / "build.duckdb"
    sync(sandbox, "meta_ads", "insights", path, clock)
    before = landed_state(path, "meta_ads", "insights")
    fired = sandbox.stats()["faults_fired"]
    sandbox.inject(Fault("meta_ads", "gzip_bomb", times=-1, path_contains="/insights", params={"mib": 256}))
    tracemalloc.start()
    try:
        with pytest.raises(ApiError) as err:
            sync(sandbox, "meta_ads", "insights", path, clock, http={**HTTP, "max_response_mib": 4})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.kind == "oversized response" and err.value.channel == "meta_ads" and "/insights" in err.value.endpoint
    assert "larger than http.max_response_mib (4 MiB) once decompressed" in str(err.value)
    assert sandbox.stats()["faults_fired"] - fired == 1 and clock.waits == []  # refused at once, not retried
    assert peak < 64 * 2**20  # the bomb was never inflated whole
    assert landed_state(path, "meta_ads", "insights") == before
