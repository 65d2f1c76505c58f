"""Weibo contract: payloads shaped as api-notes section 8 shows them, and Weibo's error dialect."""

from __future__ import annotations

import datetime as dt
import json

import orjson
import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.http import ApiClient, ApiError, RetryPolicy, redact
from connectors.weibo import WeiboConnector, WeiboDialect, normalize_uid, post_row, snapshot_row, user_row

FAST = RetryPolicy(max_retries=3, backoff_base=0.01)
SNAPSHOT = dt.date(2024, 5, 20)

# Exactly the api-notes example status (its `retweeted_status` filled in).
NOTES_STATUS = {"created_at": "Tue May 31 17:46:55 +0800 2011", "id": 11488058246, "idstr": "11488058246", "text": "...",
                "reposts_count": 5, "comments_count": 2, "attitudes_count": 9,
                "retweeted_status": {"created_at": "Tue May 31 09:00:00 +0800 2011", "id": 11488000001, "idstr": "11488000001",
                                     "text": "北风户外 春季大促", "user": {"id": 5612030001, "idstr": "5612030001"}}}


def values(stream: str = "posts") -> Values:
    return Values("weibo", stream)


def connector(url: str) -> WeiboConnector:
    settings = ChannelSettings("weibo", url, ["5612030001"], {"access_token": "weibo-secret-token"}, 7)
    return WeiboConnector(settings, policy=FAST, sleep=lambda s: None, snapshot_date=SNAPSHOT)


def test_notes_example_parses_with_its_offset_and_links_the_repost():
    row = post_row(NOTES_STATUS, values())
    assert row["post_id"] == "11488058246"
    assert row["created_at"] == dt.datetime(2011, 5, 31, 9, 46, 55, tzinfo=dt.UTC)
    assert row["created_date"] == dt.date(2011, 5, 31)
    assert (row["original_post_id"], row["original_author_id"]) == ("11488000001", "5612030001")
    snap = snapshot_row(NOTES_STATUS, SNAPSHOT, values("post_snapshots"))
    assert (snap["reposts_count"], snap["comments_count"], snap["attitudes_count"]) == (5, 2, 9)


def test_the_day_is_china_time_not_utc():
    status = {**NOTES_STATUS, "created_at": "Wed Jun 01 00:30:00 +0800 2011"}
    row = post_row(status, values())
    assert row["created_at"].date() == dt.date(2011, 5, 31)  # still May 31 in UTC
    assert row["created_date"] == dt.date(2011, 6, 1)


def test_idstr_is_used_never_the_int64_id_through_a_float():
    big = 4990123456789012345  # > 2**53
    raw = json.dumps({"statuses": [{**NOTES_STATUS, "id": big, "idstr": str(big)}]}).encode()
    lossy = json.loads(raw, parse_int=float)["statuses"][0]["id"]  # what a float-based JSON reader sees
    assert int(lossy) != big
    status = orjson.loads(raw)["statuses"][0]
    assert post_row({**status, "id": lossy}, values())["post_id"] == str(big)


def test_deleted_original_keeps_its_id_and_a_null_author():
    status = {**NOTES_STATUS, "retweeted_status": {"id": 11488000001, "idstr": "11488000001", "deleted": "1",
                                                   "text": "抱歉，此微博已被作者删除。"}}
    row = post_row(status, values())
    assert row["original_post_id"] == "11488000001" and row["original_author_id"] is None


@pytest.mark.parametrize("status,expected", [
    ({"pic_ids": ["a", "b"]}, ("image", None)),
    ({"page_info": {"type": "video", "object_type": "video", "media_info": {"duration": 42}}}, ("video", 42)),
    ({"page_info": {"type": "video", "object_type": "live", "media_info": {"duration": "3600"}}}, ("live", 3600)),
    ({"page_info": {"type": "article", "object_type": "article"}}, ("article", None)),
    ({"page_info": {"type": "webpage", "object_type": "webpage"}}, ("webpage", None)),
    ({"pic_ids": []}, ("text", None)),
])
def test_content_type_from_card_and_pictures(status, expected):
    record = {"created_at": "Tue May 31 17:46:55 +0800 2011", "idstr": "1", "text": "🌲 <script>x</script>", **status}
    row = post_row(record, values())
    assert (row["platform_content_type"], row["video_duration_seconds"]) == expected
    assert row["text"] == "🌲 <script>x</script>"  # kept verbatim


def test_counts_as_strings_dashes_and_missing_keys():
    status = {**NOTES_STATUS, "reposts_count": "5", "comments_count": "-"}
    del status["attitudes_count"]
    row = snapshot_row(status, SNAPSHOT, values("post_snapshots"))
    assert (row["reposts_count"], row["comments_count"], row["attitudes_count"]) == (5, None, None)
    with pytest.raises(ParseError, match=r"weibo\.post_snapshots: column 'reposts_count'"):
        snapshot_row({**NOTES_STATUS, "reposts_count": "1.2万"}, SNAPSHOT, values("post_snapshots"))


def test_unparseable_created_at_names_the_column():
    with pytest.raises(ParseError, match="created_at"):
        post_row({**NOTES_STATUS, "created_at": "2011-05-31 17:46:55"}, values())


def test_user_counters():
    row = user_row({"id": 5612030001, "idstr": "5612030001", "screen_name": "北风户外", "followers_count": 386000,
                    "friends_count": 120, "statuses_count": 1500}, SNAPSHOT, values("user_snapshots"))
    assert row["followers_count"] == 386000 and row["screen_name"] == "北风户外"


@pytest.mark.parametrize("raw", ["5612030001", " 2381190005 "])
def test_uids_normalize(raw):
    assert normalize_uid(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["北风户外", "1; DROP TABLE x", "1|ls", "", "12'--", "u123"])
def test_uids_refuse_names_and_metacharacters(raw):
    with pytest.raises(ValueError, match="Weibo uid"):
        normalize_uid(raw)


# ------------------------------------------------------------------ dialect over real HTTP
def test_string_error_code_under_http_200_is_an_expired_token(scripted, clock):
    scripted.add(200, {"request": "/2/statuses/user_timeline.json", "error_code": "21327", "error": "expired_token"})
    client = ApiClient("weibo", scripted.url, WeiboDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/statuses/user_timeline.json", params={"access_token": "weibo-secret-token"})
    assert err.value.kind == "credentials" and err.value.code == "21327" and len(scripted.requests) == 1


@pytest.mark.parametrize("status,code", [(403, 10023), (200, "10022"), (403, "10024")])
def test_rate_limit_codes_are_throttles(scripted, clock, status, code):
    scripted.add(status, {"request": "/2/users/show.json", "error_code": code, "error": "User requests out of rate limit!"})
    scripted.add(200, {"idstr": "1", "followers_count": 1})
    client = ApiClient("weibo", scripted.url, WeiboDialect(), policy=FAST, sleep=clock)
    assert client.request_json("GET", "/users/show.json")["idstr"] == "1"
    assert client.stats.throttles == 1 and len(clock.waits) == 1


def test_invalid_token_and_other_codes(scripted, clock):
    scripted.add(401, {"request": "/2/users/show.json", "error_code": 21332, "error": "invalid_access_token"})
    scripted.add(400, {"request": "/2/users/show.json", "error_code": 20003, "error": "User does not exists!"})
    scripted.add(503, {"request": "/2/users/show.json", "error_code": 10001, "error": "system error!"})
    scripted.add(200, {"idstr": "1"})
    client = ApiClient("weibo", scripted.url, WeiboDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/users/show.json")
    assert err.value.kind == "credentials"
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/users/show.json")
    assert err.value.kind == "permanent" and "User does not exists" in str(err.value)
    assert client.request_json("GET", "/users/show.json") == {"idstr": "1"} and client.stats.retries == 1


def test_the_query_string_token_never_reaches_a_message():
    connector("http://127.0.0.1:9")  # registers the secret
    assert "weibo-secret-token" not in redact("GET /2/x.json?uid=1&access_token=weibo-secret-token&page=2")
    assert "weibo-secret-token" not in redact("token was weibo-secret-token")


# ------------------------------------------------------------------ connector over real HTTP
def _status(i: int, created: str) -> dict:
    return {"created_at": created, "id": 4990000000000000000 + i, "idstr": str(4990000000000000000 + i), "text": f"#{i}",
            "user": {"idstr": "5612030001"}, "reposts_count": i, "comments_count": 0, "attitudes_count": 1}


def test_pages_by_number_until_the_window_is_passed_and_keeps_shifted_statuses_once(scripted):
    page1 = [_status(5, "Sat Jun 01 10:00:00 +0800 2024"), _status(4, "Fri May 31 23:59:00 +0800 2024"),
             _status(3, "Fri May 31 09:00:00 +0800 2024")]
    # A new status arrived between the calls: #3 shifts onto page 2 and is served again.
    page2 = [_status(3, "Fri May 31 09:00:00 +0800 2024"), _status(2, "Thu May 30 12:00:00 +0800 2024"),
             _status(1, "Wed May 29 12:00:00 +0800 2024")]
    scripted.add(200, {"statuses": page1, "total_number": 950})
    scripted.add(200, {"statuses": page2, "total_number": 951})
    rows = [r for b in connector(scripted.url).read("posts", "5612030001", dt.date(2024, 5, 30), dt.date(2024, 5, 31))
            for r in b.to_pylist()]
    assert [r["post_id"] for r in rows] == ["4990000000000000004", "4990000000000000003", "4990000000000000002"]
    assert len(scripted.requests) == 2  # page 2 reached back before the window: no page 3 of 10
    first = scripted.requests[0]["path"]
    assert "count=100" in first and "page=1" in first and "uid=5612030001" in first
    assert "page=2" in scripted.requests[1]["path"]


def test_a_counter_missing_from_every_status_is_a_removed_metric(scripted):
    statuses = [_status(2, "Fri May 31 10:00:00 +0800 2024"), _status(1, "Fri May 31 09:00:00 +0800 2024")]
    for s in statuses:
        del s["attitudes_count"]
    scripted.add(200, {"statuses": statuses, "total_number": 2})
    with pytest.raises(ApiError) as err:
        list(connector(scripted.url).read("post_snapshots", "5612030001", dt.date(2024, 5, 31), dt.date(2024, 5, 31)))
    assert "attitudes_count" in str(err.value) and str(err.value).startswith("weibo,") and err.value.kind == "permanent"


def test_user_snapshot(scripted):
    scripted.add(200, {"id": 5612030001, "idstr": "5612030001", "screen_name": "北风户外", "followers_count": 7,
                       "friends_count": 1, "statuses_count": 2})
    rows = [r for b in connector(scripted.url).read("user_snapshots", "5612030001", dt.date(2024, 5, 1), dt.date(2024, 5, 2))
            for r in b.to_pylist()]
    assert rows == [{"account_id": "5612030001", "snapshot_date": SNAPSHOT, "screen_name": "北风户外", "followers_count": 7,
                     "friends_count": 1, "statuses_count": 2, "_record": rows[0]["_record"]}]
