"""X API v2 contract: payloads shaped as api-notes section 3 shows them, and X's error dialect."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.http import ApiClient, ApiError, PaginationError, RetryPolicy
from connectors.x import Includes, XConnector, XDialect, metrics_row, normalize_user_id, post_row, reference_rows, user_row

FAST = RetryPolicy(max_retries=3, backoff_base=0.01)
SNAPSHOT = dt.date(2024, 5, 20)

# Exactly the api-notes example page.
NOTES_PAGE = {
    "data": [{"id": "1790012345678901234", "text": "Launch day!", "created_at": "2024-05-13T15:04:05.000Z",
              "public_metrics": {"retweet_count": 3, "reply_count": 1, "like_count": 25, "quote_count": 0,
                                 "bookmark_count": 2, "impression_count": 1534}}],
    "meta": {"result_count": 1, "newest_id": "1790012345678901234", "oldest_id": "1790012345678901234",
             "next_token": "7140dibdnow9c7btw3z2vwioavpvutgzrzm9icis4ndix"},
}


def values(stream: str = "posts") -> Values:
    return Values("x", stream)


def connector(url: str, clock=None) -> XConnector:
    settings = ChannelSettings("x", url, ["3180223118"], {"bearer_token": "x-secret-bearer"}, 7)
    return XConnector(settings, policy=FAST, sleep=clock or (lambda s: None), snapshot_date=SNAPSHOT)


def test_notes_example_parses_with_string_ids_and_utc_milliseconds():
    post = NOTES_PAGE["data"][0]
    row = post_row(post, Includes({}), values())
    # 1790012345678901234 > 2**53: a float would have made it ...1200.
    assert row["post_id"] == "1790012345678901234" and float(row["post_id"]) != 1790012345678901234
    assert row["created_at"] == dt.datetime(2024, 5, 13, 15, 4, 5, tzinfo=dt.UTC)
    assert row["created_date"] == dt.date(2024, 5, 13)
    assert row["platform_content_type"] == "text" and row["reference_type"] is None
    metrics = metrics_row(post, SNAPSHOT, values("post_metrics"))
    assert metrics == {"snapshot_date": SNAPSHOT, "post_id": "1790012345678901234", "created_date": dt.date(2024, 5, 13),
                       "retweet_count": 3, "reply_count": 1, "like_count": 25, "quote_count": 0,
                       "bookmark_count": 2, "impression_count": 1534}


def test_day_boundary_is_utc():
    late = {"id": "1", "text": "t", "created_at": "2024-05-13T23:59:59.999Z"}
    early = {"id": "2", "text": "t", "created_at": "2024-05-14T00:00:00.000Z"}
    assert post_row(late, Includes({}), values())["created_date"] == dt.date(2024, 5, 13)
    assert post_row(early, Includes({}), values())["created_date"] == dt.date(2024, 5, 14)


def test_repost_links_to_the_original_and_its_author_with_retweet_precedence():
    post = {"id": "1790000000000000009", "text": "RT @NorthwindOutdoor: Launch day!", "created_at": "2024-05-13T16:00:00.000Z",
            "author_id": "1460571843917029377",
            "referenced_tweets": [{"type": "replied_to", "id": "1790000000000000001"},
                                  {"type": "retweeted", "id": "1790012345678901234"}]}
    includes = Includes({"tweets": [{"id": "1790012345678901234", "text": "Launch day!", "author_id": "3180223118"},
                                    {"id": "1790000000000000001", "text": "?", "author_id": "1188402716553736192"}]})
    row = post_row(post, includes, values())
    assert (row["reference_type"], row["referenced_post_id"], row["referenced_author_id"]) == (
        "retweeted", "1790012345678901234", "3180223118")
    refs = list(reference_rows(post, includes, values("post_references")))
    assert {(r["reference_type"], r["referenced_author_id"]) for r in refs} == {
        ("replied_to", "1188402716553736192"), ("retweeted", "3180223118")}


def test_reference_to_a_post_missing_from_includes_keeps_a_null_author():
    post = {"id": "5", "text": "quote", "created_at": "2024-05-13T16:00:00.000Z",
            "referenced_tweets": [{"type": "quoted", "id": "404"}]}
    row = post_row(post, Includes({}), values())
    assert row["referenced_post_id"] == "404" and row["referenced_author_id"] is None


@pytest.mark.parametrize("extra,includes,expected", [
    ({"attachments": {"media_keys": ["3_1"]}}, {"media": [{"media_key": "3_1", "type": "photo"}]}, ("photo", None)),
    ({"attachments": {"media_keys": ["7_1"]}}, {"media": [{"media_key": "7_1", "type": "video", "duration_ms": 42000}]}, ("video", 42000)),
    ({"entities": {"urls": [{"expanded_url": "https://x.com/i/broadcasts/1nwABC"}]}}, {}, ("broadcast", None)),
    ({"entities": {"urls": [{"expanded_url": "https://northwind.example/blog"}]}}, {}, ("link", None)),
    ({}, {}, ("text", None)),
])
def test_content_type_from_media_and_links(extra, includes, expected):
    post = {"id": "1", "text": "t", "created_at": "2024-05-13T16:00:00.000Z", **extra}
    row = post_row(post, Includes(includes), values())
    assert (row["platform_content_type"], row["media_duration_ms"]) == expected


def test_unparseable_metric_names_channel_stream_and_column():
    post = {**NOTES_PAGE["data"][0], "public_metrics": {"like_count": "lots"}}
    with pytest.raises(ParseError, match=r"x\.post_metrics: column 'public_metrics\.like_count'"):
        metrics_row(post, SNAPSHOT, values("post_metrics"))


def test_missing_metric_is_null_not_zero():
    post = {**NOTES_PAGE["data"][0], "public_metrics": {"like_count": 4}}
    row = metrics_row(post, SNAPSHOT, values("post_metrics"))
    assert row["like_count"] == 4 and row["impression_count"] is None


def test_user_public_metrics():
    user = {"id": "3180223118", "name": "Northwind Outdoor", "username": "NorthwindOutdoor",
            "public_metrics": {"followers_count": 152000, "following_count": 300, "tweet_count": 4100, "listed_count": 900}}
    row = user_row(user, SNAPSHOT, values("user_snapshots"))
    assert row["followers_count"] == 152000 and row["username"] == "NorthwindOutdoor"


@pytest.mark.parametrize("raw", ["3180223118", " 1460571843917029377 "])
def test_user_ids_normalize(raw):
    assert normalize_user_id(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["@NorthwindOutdoor", "1; DROP TABLE x", "1$(id)", "", "99999999999999999999", "12'--"])
def test_user_ids_refuse_names_and_metacharacters(raw):
    with pytest.raises(ValueError, match="X user id"):
        normalize_user_id(raw)


# ------------------------------------------------------------------ dialect over real HTTP
TOO_MANY = {"title": "Too Many Requests", "type": "about:blank", "status": 429, "detail": "Too Many Requests"}


def test_429_waits_until_x_rate_limit_reset_without_retry_after(scripted, clock):
    reset = int(time.time()) + 30
    scripted.add(429, TOO_MANY, {"x-rate-limit-limit": "1500", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    scripted.add(200, {"data": {"id": "1"}})
    client = ApiClient("x", scripted.url, XDialect(), policy=FAST, sleep=clock)
    assert client.request_json("GET", "/users/1") == {"data": {"id": "1"}}
    assert len(clock.waits) == 1 and 28 <= clock.waits[0] <= 32
    assert client.stats.throttles == 1


def test_401_is_a_credentials_failure_without_retry_and_without_the_token(scripted, clock):
    scripted.add(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    client = ApiClient("x", scripted.url, XDialect(), {"Authorization": "Bearer x-very-secret-bearer"}, policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/users/1", account="1")
    assert err.value.kind == "credentials" and len(scripted.requests) == 1 and clock.waits == []
    assert "x-very-secret-bearer" not in str(err.value)


def test_invalid_field_is_permanent_and_names_the_field(scripted, clock):
    scripted.add(400, {"errors": [{"parameters": {"tweet.fields": ["public_metrics"]},
                                   "message": "The `tweet.fields` query parameter value [public_metrics] is not one of [id,text]"}],
                       "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                       "type": "https://api.twitter.com/2/problems/invalid-request"})
    client = ApiClient("x", scripted.url, XDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/users/1/tweets", account="1")
    assert err.value.kind == "permanent" and "public_metrics" in str(err.value) and str(err.value).startswith("x,")


def test_200_with_only_errors_fails_and_200_with_data_and_errors_passes(scripted, clock):
    missing = {"value": "9", "detail": "Could not find user with id: [9].", "title": "Not Found Error",
               "resource_type": "user", "parameter": "id", "resource_id": "9",
               "type": "https://api.twitter.com/2/problems/resource-not-found"}
    scripted.add(200, {"errors": [missing]})
    scripted.add(200, {"data": [{"id": "1", "text": "t"}], "errors": [missing], "meta": {"result_count": 1}})
    client = ApiClient("x", scripted.url, XDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError, match="Could not find user"):
        client.request_json("GET", "/users/9")
    assert client.request_json("GET", "/users/1/tweets")["data"][0]["id"] == "1"


def test_5xx_is_retried(scripted, clock):
    scripted.add(503, {"title": "Service Unavailable", "type": "about:blank", "status": 503, "detail": "Service Unavailable"})
    scripted.add(200, {"data": {"id": "1"}})
    client = ApiClient("x", scripted.url, XDialect(), policy=FAST, sleep=clock)
    assert client.request_json("GET", "/users/1")["data"]["id"] == "1" and client.stats.retries == 1


# ------------------------------------------------------------------ connector over real HTTP
def _post(i: int, day: str) -> dict:
    return {"id": str(1790000000000000000 + i), "text": f"post {i}", "created_at": f"{day}T12:00:00.000Z",
            "author_id": "3180223118", "public_metrics": {"like_count": i}}


def test_timeline_follows_next_token_and_drops_posts_after_the_window(scripted, caplog):
    scripted.add(200, {"data": [_post(3, "2024-05-15"), _post(2, "2024-05-14")], "meta": {"result_count": 2, "next_token": "tok2"}})
    scripted.add(200, {"data": [_post(1, "2024-05-13")],
                       "errors": [{"detail": "Could not find tweet with referenced_tweets.id: [7].", "title": "Not Found Error"}],
                       "meta": {"result_count": 1}})
    x = connector(scripted.url)
    with caplog.at_level(logging.INFO, "socialmart.x"):  # a routine partial error is a note
        table = [b.to_pylist() for b in x.read("posts", "3180223118", dt.date(2024, 5, 13), dt.date(2024, 5, 14))][0]
    assert [r["post_id"] for r in table] == ["1790000000000000002", "1790000000000000001"]  # 05-15 is after the window
    first, second = scripted.requests
    assert "start_time=2024-05-13T00%3A00%3A00Z" in first["path"] and "pagination_token" not in first["path"]
    assert "pagination_token=tok2" in second["path"] and "max_results=100" in first["path"]
    assert first["headers"]["Authorization"] == "Bearer x-secret-bearer" and "x-secret-bearer" not in first["path"]
    assert "Could not find tweet" in caplog.text


def test_repeating_next_token_is_refused(scripted):
    scripted.add(200, {"data": [_post(2, "2024-05-14")], "meta": {"result_count": 1, "next_token": "same"}})
    scripted.add(200, {"data": [_post(2, "2024-05-14")], "meta": {"result_count": 1, "next_token": "same"}})
    with pytest.raises(PaginationError, match="repeats"):
        list(connector(scripted.url).read("posts", "3180223118", dt.date(2024, 5, 13), dt.date(2024, 5, 14)))


def test_window_beyond_the_3200_newest_posts_is_reported(scripted, caplog):
    for page in range(32):
        posts = [_post(10_000 - page * 100 - k, "2024-05-14") for k in range(100)]
        meta = {"result_count": 100, **({"next_token": f"t{page + 1}"} if page < 31 else {})}
        scripted.add(200, {"data": posts, "meta": meta})
    with caplog.at_level(logging.WARNING, "socialmart.x"):
        rows = sum(b.num_rows for b in connector(scripted.url).read("post_metrics", "3180223118", dt.date(2024, 5, 1), dt.date(2024, 5, 14)))
    assert rows == 3200
    assert "only the newest 3200 posts are reachable" in caplog.text and "2024-05-01..2024-05-14" in caplog.text


def test_user_snapshot_is_dated_on_the_pull_day(scripted):
    scripted.add(200, {"data": {"id": "3180223118", "name": "Northwind Outdoor", "username": "NorthwindOutdoor",
                                "public_metrics": {"followers_count": 5, "following_count": 1, "tweet_count": 2, "listed_count": 0}}})
    rows = [r for b in connector(scripted.url).read("user_snapshots", "3180223118", dt.date(2024, 5, 1), dt.date(2024, 5, 14)) for r in b.to_pylist()]
    assert rows[0]["snapshot_date"] == SNAPSHOT and rows[0]["followers_count"] == 5 and rows[0]["account_id"] == "3180223118"
    assert "user.fields=public_metrics" in scripted.requests[0]["path"].replace("%2C", ",")
