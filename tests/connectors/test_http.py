"""The shared client over real loopback HTTP: retries, throttles, permanent errors, redaction."""

from __future__ import annotations

import logging

import orjson
import pytest

from connectors.google import GoogleDialect
from connectors.graph import MetaDialect
from connectors.http import (
    ApiClient,
    ApiError,
    NextUrlPaginator,
    OffsetPaginator,
    PaginationError,
    RetryPolicy,
    install_log_redaction,
    redact,
    register_secret,
)

FAST = RetryPolicy(max_retries=3, read_timeout=0.5, connect_timeout=0.5)


def test_retries_5xx_then_succeeds(scripted, clock):
    for _ in range(3):
        scripted.add(503, {"error": {"message": "busy", "code": 2, "is_transient": True}})
    scripted.add(200, {"data": [1]})
    client = ApiClient("meta_ads", scripted.url, MetaDialect(), policy=FAST, sleep=clock, seed=1)
    assert client.request_json("GET", "/x") == {"data": [1]}
    assert client.stats.retries == 3 and len(clock.waits) == 3
    assert all(0 <= w <= 8 for w in clock.waits)


def test_gives_up_after_the_retry_budget(scripted, clock):
    for _ in range(4):
        scripted.add(500, b"oops")
    client = ApiClient("ga4", scripted.url, GoogleDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/x", account="123")
    assert err.value.kind == "transient" and err.value.status == 500
    assert "ga4" in str(err.value) and "account 123" in str(err.value) and "HTTP 500" in str(err.value)


def test_retry_after_is_honoured(scripted, clock):
    scripted.add(429, b"slow down", {"Retry-After": "7"})
    scripted.add(200, {"ok": True})
    client = ApiClient("fx", scripted.url, policy=FAST, sleep=clock)
    client.request_json("GET", "/x")
    assert clock.waits == [7.0]
    assert client.stats.throttles == 1


def test_meta_throttle_is_http_400_with_code_and_usage_header(scripted, clock):
    body = {"error": {"message": "(#80004) There have been too many calls to this ad-account.", "type": "OAuthException", "code": 80004, "error_subcode": 2446079}}  # noqa: E501
    usage = '{"1001":[{"type":"ads_insights","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":2}]}'
    scripted.add(400, body, {"X-Business-Use-Case-Usage": usage})
    scripted.add(200, {"data": []})
    client = ApiClient("meta_ads", scripted.url, MetaDialect(), policy=FAST, sleep=clock)
    client.request_json("GET", "/act_1001/insights")
    assert clock.waits == [120.0]  # 2 minutes from estimated_time_to_regain_access


def test_ga4_resource_exhausted_is_a_throttle(scripted, clock):
    scripted.add(429, {"error": {"code": 429, "message": "Exhausted property tokens per hour.", "status": "RESOURCE_EXHAUSTED"}})
    scripted.add(200, {"rows": []})
    client = ApiClient("ga4", scripted.url, GoogleDialect(), policy=FAST, sleep=clock)
    client.request_json("POST", "/properties/1:runReport", json={})
    assert client.stats.throttles == 1 and client.stats.retries == 0


def test_expired_token_fails_fast_naming_everything_but_the_token(scripted, clock):
    register_secret("EAAB-very-secret-token")
    scripted.add(400, {"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}})
    client = ApiClient("meta_ads", scripted.url, MetaDialect(), {"Authorization": "Bearer EAAB-very-secret-token"}, policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/act_1001/insights?access_token=EAAB-very-secret-token", account="act_1001")
    text = str(err.value)
    assert err.value.kind == "credentials" and err.value.code == 190 and err.value.status == 400
    assert "act_1001" in text and "/act_1001/insights" in text and "190" in text
    assert "EAAB-very-secret-token" not in text
    assert clock.waits == [] and len(scripted.requests) == 1  # no retry storm


def test_invalid_metric_is_permanent(scripted, clock):
    scripted.add(400, {"error": {"code": 400, "message": "Field conversions is not a valid metric.", "status": "INVALID_ARGUMENT"}})
    client = ApiClient("ga4", scripted.url, GoogleDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("POST", "/properties/1:runReport", account="1", json={})
    assert err.value.code == "INVALID_ARGUMENT" and "conversions" in str(err.value)


def test_stalled_response_times_out_and_is_retried(scripted, clock):
    scripted.add(200, {"late": True}, delay=1.5)
    scripted.add(200, {"on_time": True})
    client = ApiClient("fx", scripted.url, policy=FAST, sleep=clock)
    assert client.request_json("GET", "/x") == {"on_time": True}
    assert client.stats.retries == 1


def test_truncated_json_is_retried_not_parsed(scripted, clock):
    scripted.add(200, b'{"data": [{"spend": "1')
    scripted.add(200, {"data": []})
    client = ApiClient("meta_ads", scripted.url, MetaDialect(), policy=FAST, sleep=clock)
    assert client.request_json("GET", "/x") == {"data": []}
    assert client.stats.retries == 1


def test_a_decoder_reads_answers_and_the_dialect_reads_errors(scripted, clock):
    # A volume endpoint's decoder (GA4's reads pages into Arrow) gets the
    # answers' bytes; error answers stay JSON for the dialect, and an answer
    # the decoder cannot read is a cut-off transfer, retried.
    scripted.add(429, {"error": {"code": 429, "message": "Exhausted property tokens per hour.", "status": "RESOURCE_EXHAUSTED"}})
    scripted.add(200, b'{"rows": [')
    scripted.add(200, {"rows": [1, 2]})
    client = ApiClient("ga4", scripted.url, GoogleDialect(), policy=FAST, sleep=clock, seed=1)
    got = client.request_json("POST", "/x", decode=lambda content: ("decoded", len(orjson.loads(content)["rows"])))
    assert got == ("decoded", 2)
    assert client.stats.throttles == 1 and client.stats.retries == 1


def test_repeating_cursor_is_refused(scripted, clock):
    page = {"data": [1], "paging": {"next": f"{scripted.url}/page2"}}
    scripted.add(200, page)
    scripted.add(200, page)
    scripted.add(200, page)
    client = ApiClient("meta_ads", scripted.url, MetaDialect(), policy=FAST, sleep=clock)
    pages = client.paginate("GET", "/first", NextUrlPaginator(lambda b: b["paging"].get("next")), account="act_1", params={})
    with pytest.raises(PaginationError, match="repeats"):
        list(pages)


def test_offset_pagination_refuses_short_results(scripted, clock):
    scripted.add(200, {"rows": [1, 2], "rowCount": 5})
    scripted.add(200, {"rowCount": 5})
    client = ApiClient("ga4", scripted.url, GoogleDialect(), policy=FAST, sleep=clock)
    paginator = OffsetPaginator(lambda b: len(b.get("rows") or []), lambda b: b["rowCount"], in_json=True)
    pages = client.paginate("POST", "/r", paginator, account="1", json={})
    with pytest.raises(PaginationError, match="incomplete"):
        list(pages)


def test_redaction_of_urls_and_log_records(caplog):
    register_secret("tok-123456")
    assert redact("GET https://x/y?access_token=abc&limit=5") == "GET https://x/y?access_token=***&limit=5"
    assert "tok-123456" not in redact("Bearer tok-123456")
    install_log_redaction()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3.connectionpool").debug("GET /v21.0/act_1/insights?access_token=%s&x=1", "tok-123456")
    assert "tok-123456" not in caplog.text and "access_token=***" in caplog.text


def test_redaction_covers_every_escaped_spelling_of_a_secret():
    """requests' repr() of headers shows `\\r` as two characters; the event log
    stores JSON; query strings are URL-encoded: each spelling is the secret."""
    import json
    from urllib.parse import quote, quote_plus

    secret = 'tök+en/\\with"quote\r\n'
    register_secret(secret)
    for shown in (repr({"Authorization": f"Bearer {secret}"}), json.dumps({"token": secret}),
                  json.dumps(secret, ensure_ascii=False), f"?access-key={quote(secret, safe='')}",
                  f"?k={quote_plus(secret)}", repr(secret.encode())):
        cleaned = redact(shown)
        assert "***" in cleaned, shown
        assert "tök" not in cleaned and "t\\xf6k" not in cleaned and "t%C3%B6k" not in cleaned and "t\\u00f6k" not in cleaned
