"""wechat contract: payloads shaped as api-notes section 8 shows them, over real loopback HTTP."""

from __future__ import annotations

import datetime as dt
import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.http import ApiError, RetryPolicy, install_log_redaction, redact
from connectors.wechat import WeChatConnector, normalize_appid, parse_record

FAST = RetryPolicy(max_retries=3, read_timeout=2, connect_timeout=2)
APPID = "wx4e7c2a9b1d3f5a60"
SECRET = "wechat-app-secret-xyz"
TODAY = dt.date(2024, 5, 20)

# The api-notes examples, verbatim.
SUMMARY = {"list": [{"ref_date": "2024-05-01", "user_source": 0, "new_user": 12, "cancel_user": 3},
                    {"ref_date": "2024-05-01", "user_source": 30, "new_user": 5, "cancel_user": 0}]}
CUMULATE = {"list": [{"ref_date": "2024-05-01", "cumulate_user": 10234}]}
ARTICLES = {"list": [{"ref_date": "2024-05-01", "msgid": "2247483650_1", "title": "春季大促", "int_page_read_user": 1200,
                      "int_page_read_count": 1500, "share_user": 40, "share_count": 52, "add_to_fav_user": 10,
                      "add_to_fav_count": 11}]}


def token_body(n: int = 1, expires_in: int = 7200) -> dict:
    return {"access_token": f"ACCESS_TOKEN_{n}_abcdef", "expires_in": expires_in}


def connector(url: str, clock=None) -> WeChatConnector:
    settings = ChannelSettings("wechat", url, [APPID], {"secret": SECRET}, 7, {})
    return WeChatConnector(settings, policy=FAST, sleep=clock or (lambda s: None), snapshot_date=TODAY)


def rows_of(conn: WeChatConnector, stream: str, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 1)) -> list[dict]:
    return [r for b in conn.read(stream, APPID, start, end) for r in b.to_pylist()]


def query(request: dict) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request["path"]).query).items()}


def error(code: int, message: str) -> dict:
    return {"errcode": code, "errmsg": f"{message} rid: 6650f1a2-0d1e2f3a"}


# ------------------------------------------------------------------ parsing


def test_notes_rows_are_typed():
    summary = [parse_record("user_summary", r, Values("wechat", "user_summary")) for r in SUMMARY["list"]]
    assert summary == [{"ref_date": dt.date(2024, 5, 1), "user_source": 0, "new_user": 12, "cancel_user": 3},
                       {"ref_date": dt.date(2024, 5, 1), "user_source": 30, "new_user": 5, "cancel_user": 0}]
    article = parse_record("article_summary", ARTICLES["list"][0], Values("wechat", "article_summary"))
    assert article["msgid"] == "2247483650_1" and article["int_page_read_count"] == 1500
    assert article["add_to_fav_count"] == 11
    # fields the record omits (ori_page_read_*) are null, not zero
    assert article["ori_page_read_user"] is None


def test_unparseable_count_names_channel_stream_and_column():
    with pytest.raises(ParseError, match=r"wechat\.user_cumulate: column 'cumulate_user'"):
        parse_record("user_cumulate", {"ref_date": "2024-05-01", "cumulate_user": "lots"}, Values("wechat", "user_cumulate"))


@pytest.mark.parametrize("raw", ["wx; DROP TABLE x", "wx4e7c2a9b1d3f5a6$", "4e7c2a9b1d3f5a6000", "wx4e7c", "wx4e7c2a9b1d3f5a60'--"])
def test_appids_refuse_metacharacters(raw):
    with pytest.raises(ValueError, match="appid"):
        normalize_appid(raw)


# ------------------------------------------------------------ token flow


def test_token_is_fetched_once_cached_and_sent_in_the_query(scripted):
    scripted.add(200, token_body())
    scripted.add(200, SUMMARY)
    scripted.add(200, {"list": []})
    rows = rows_of(connector(scripted.url), "user_summary", dt.date(2024, 5, 1), dt.date(2024, 5, 10))
    assert len(rows) == 2
    token_request, *data_requests = scripted.requests
    assert token_request["method"] == "GET" and urlsplit(token_request["path"]).path == "/cgi-bin/token"
    assert query(token_request) == {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    assert len(data_requests) == 2  # 10 days in 7-day chunks, one token for both
    for request in data_requests:
        assert request["method"] == "POST" and urlsplit(request["path"]).path == "/datacube/getusersummary"
        assert query(request)["access_token"] == "ACCESS_TOKEN_1_abcdef"
    assert [json.loads(r["body"]) for r in data_requests] == [
        {"begin_date": "2024-05-01", "end_date": "2024-05-07"}, {"begin_date": "2024-05-08", "end_date": "2024-05-10"}]


def test_expiring_token_is_renewed_before_use(scripted):
    scripted.add(200, token_body(1, expires_in=60))  # shorter than the renewal margin
    scripted.add(200, CUMULATE)
    scripted.add(200, token_body(2))
    scripted.add(200, {"list": []})
    rows_of(connector(scripted.url), "user_cumulate", dt.date(2024, 5, 1), dt.date(2024, 5, 8))
    assert [query(r).get("access_token") for r in scripted.requests] == [
        None, "ACCESS_TOKEN_1_abcdef", None, "ACCESS_TOKEN_2_abcdef"]


def test_article_summary_is_one_day_per_call(scripted):
    scripted.add(200, token_body())
    for _ in range(3):
        scripted.add(200, ARTICLES)
    rows = rows_of(connector(scripted.url), "article_summary", dt.date(2024, 5, 1), dt.date(2024, 5, 3))
    assert len(rows) == 3
    assert [json.loads(r["body"]) for r in scripted.requests[1:]] == [
        {"begin_date": f"2024-05-0{d}", "end_date": f"2024-05-0{d}"} for d in (1, 2, 3)]


@pytest.mark.parametrize("errcode,errmsg", [(40001, "invalid credential, access_token is invalid or not latest"),
                                            (42001, "access_token expired")])
def test_token_error_refreshes_once_and_retries_with_the_new_token(scripted, errcode, errmsg):
    scripted.add(200, token_body(1))
    scripted.add(200, error(errcode, errmsg))
    scripted.add(200, token_body(2))
    scripted.add(200, CUMULATE)
    assert len(rows_of(connector(scripted.url), "user_cumulate")) == 1
    assert [query(r).get("access_token") for r in scripted.requests] == [
        None, "ACCESS_TOKEN_1_abcdef", None, "ACCESS_TOKEN_2_abcdef"]


def test_token_error_after_refresh_is_permanent_no_storm(scripted):
    scripted.add(200, token_body(1))
    scripted.add(200, error(42001, "access_token expired"))
    scripted.add(200, token_body(2))
    scripted.add(200, error(42001, "access_token expired"))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url), "user_cumulate")
    assert err.value.kind == "credentials" and err.value.code == 42001
    assert len(scripted.requests) == 4


def test_bad_secret_fails_at_the_token_endpoint_without_looping(scripted):
    scripted.add(200, error(40001, "invalid credential, access_token is invalid or not latest"))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url), "user_cumulate")
    assert err.value.kind == "credentials" and "/cgi-bin/token" in str(err.value)
    assert len(scripted.requests) == 1 and SECRET not in str(err.value)


# ------------------------------------------------------------------ dialect


def test_busy_minus_one_is_retried(scripted, clock):
    scripted.add(200, token_body())
    scripted.add(200, error(-1, "system error"))
    scripted.add(200, CUMULATE)
    conn = connector(scripted.url, clock)
    assert len(rows_of(conn, "user_cumulate")) == 1 and conn.client.stats.retries == 1


def test_minute_quota_is_a_throttle_of_one_minute(scripted, clock):
    scripted.add(200, token_body())
    scripted.add(200, error(45011, "api minute-quota reach limit  mustslower  retry next minute"))
    scripted.add(200, CUMULATE)
    conn = connector(scripted.url, clock)
    assert len(rows_of(conn, "user_cumulate")) == 1
    assert clock.waits == [60.0] and conn.client.stats.throttles == 1


def test_daily_quota_is_permanent_and_says_so(scripted, clock):
    scripted.add(200, token_body())
    scripted.add(200, error(45009, "reach max api daily quota limit"))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url, clock), "user_cumulate")
    assert err.value.kind == "permanent" and err.value.code == 45009 and clock.waits == []
    assert "daily API quota" in str(err.value) and "wechat" in str(err.value) and APPID in str(err.value)


def test_other_errcodes_are_permanent_naming_code_and_interface(scripted, clock):
    scripted.add(200, token_body())
    scripted.add(200, error(48001, "api unauthorized"))
    with pytest.raises(ApiError) as err:
        rows_of(connector(scripted.url, clock), "article_summary")
    text = str(err.value)
    assert err.value.kind == "permanent" and "48001" in text and "getarticlesummary" in text
    assert "ACCESS_TOKEN_1_abcdef" not in text


# ------------------------------------------------------- window and secrets


def test_window_end_is_clamped_to_yesterday(scripted, caplog):
    caplog.set_level(logging.INFO, logger="socialmart.wechat")
    scripted.add(200, token_body())
    scripted.add(200, {"list": []})
    rows_of(connector(scripted.url), "user_cumulate", TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=2))
    assert json.loads(scripted.requests[1]["body"]) == {"begin_date": "2024-05-17", "end_date": "2024-05-19"}
    assert "clamped to 2024-05-19" in caplog.text


def test_window_entirely_in_the_future_makes_no_data_call(scripted):
    scripted.add(200, token_body())
    assert rows_of(connector(scripted.url), "user_cumulate", TODAY, TODAY) == []
    assert scripted.requests == []


def test_token_and_secret_never_reach_a_log_line(scripted, caplog):
    install_log_redaction()
    scripted.add(200, token_body())
    scripted.add(200, error(-1, "system error"))
    scripted.add(200, CUMULATE)
    with caplog.at_level(logging.DEBUG):
        rows_of(connector(scripted.url), "user_cumulate")
    assert "ACCESS_TOKEN_1_abcdef" not in caplog.text and SECRET not in caplog.text
    assert redact("/datacube/getusercumulate?access_token=ACCESS_TOKEN_1_abcdef") == "/datacube/getusercumulate?access_token=***"
    assert "ACCESS_TOKEN_1_abcdef" not in redact("token ACCESS_TOKEN_1_abcdef in a message")


# ------------------------------------------------------------ getarticletotal (publish day)

# The shape WeChat documents for getarticletotal: ref_date is the day the
# article was mass-sent, details[] one entry per stat_date read so far.
ARTICLE_TOTAL = {"list": [{"ref_date": "2024-05-01", "msgid": "2247483650_1", "title": "春季大促", "details": [
    {"stat_date": "2024-05-01", "target_user": 10234, "int_page_read_user": 900, "int_page_read_count": 1100,
     "ori_page_read_user": 2, "ori_page_read_count": 2, "share_user": 30, "share_count": 41,
     "add_to_fav_user": 8, "add_to_fav_count": 9},
    {"stat_date": "2024-05-02", "target_user": 10234, "int_page_read_user": 300, "int_page_read_count": 350,
     "ori_page_read_user": 0, "ori_page_read_count": 0, "share_user": 10, "share_count": 11,
     "add_to_fav_user": 2, "add_to_fav_count": 2}]}]}


def test_article_total_rows_carry_the_send_day(scripted):
    scripted.add(200, token_body())
    scripted.add(200, ARTICLE_TOTAL)
    scripted.add(200, {"list": []})
    rows = rows_of(connector(scripted.url), "article_total", dt.date(2024, 5, 1), dt.date(2024, 5, 2))
    assert [{k: r[k] for k in ("ref_date", "msgid", "title", "target_user")} for r in rows] == [
        {"ref_date": dt.date(2024, 5, 1), "msgid": "2247483650_1", "title": "春季大促", "target_user": 10234}]
    assert json.loads(rows[0]["_record"])["details"][1]["stat_date"] == "2024-05-02"  # kept whole
    data_requests = scripted.requests[1:]
    assert [urlsplit(r["path"]).path for r in data_requests] == ["/datacube/getarticletotal"] * 2  # one day per call
    assert [json.loads(r["body"])["begin_date"] for r in data_requests] == ["2024-05-01", "2024-05-02"]


def test_follower_streams_are_pulled_through_the_snapshot_date():
    from connectors.wechat import STREAMS

    assert STREAMS["user_summary"].through_snapshot_date and STREAMS["user_cumulate"].through_snapshot_date
    assert not STREAMS["article_summary"].through_snapshot_date
