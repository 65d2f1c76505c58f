"""instagram contract: payloads shaped as api-notes section 2 shows them, over
real loopback HTTP (the `scripted` server) with a fake clock."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from connectors.base import ChannelSettings, Values
from connectors.http import ApiError, RetryPolicy
from connectors.instagram import InstagramConnector, normalize_ig_user_id, parse_demographics, parse_media_insights

USER = "17841400000000101"
FAST = RetryPolicy(max_retries=2, read_timeout=2, connect_timeout=2)
# api-notes' demographics example, verbatim.
DEMOGRAPHICS = {"data": [{"name": "follower_demographics", "period": "lifetime",
                          "total_value": {"breakdowns": [{"dimension_keys": ["age"], "results": [
                              {"dimension_values": ["25-34"], "value": 812}, {"dimension_values": ["18-24"], "value": 430}]}]}}]}
NOT_ENOUGH_VIEWERS = {"error": {"message": "(#10) Not enough viewers for the media to show insights",
                                "type": "OAuthException", "code": 10, "error_subcode": 2108006}}


def connector(scripted, clock, snapshot=dt.date(2024, 5, 20)) -> InstagramConnector:
    settings = ChannelSettings("instagram", scripted.url, [USER], {"access_token": "IGQV-token"}, 28, {})
    return InstagramConnector(settings, policy=FAST, sleep=clock, snapshot_date=snapshot)


def rows(conn, stream, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 2)):
    return [r for b in conn.read(stream, USER, start, end) for r in b.to_pylist()]


def query(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request["path"]).query).items()}


def series(name: str, *points: tuple[int, str]) -> dict:
    return {"data": [{"name": name, "period": "day", "values": [{"value": v, "end_time": t} for v, t in points]}]}


def total(day_values: dict[str, int]) -> dict:
    return {"data": [{"name": n, "period": "day", "total_value": {"value": v}} for n, v in day_values.items()]}


def test_account_insights_series_follower_count_window_and_daily_total_values(scripted, clock):
    scripted.add(200, series("reach", (5400, "2024-05-02T07:00:00+0000"), (6100, "2024-05-03T07:00:00+0000")))
    scripted.add(200, series("follower_count", (12, "2024-05-02T07:00:00+0000"), (9, "2024-05-03T07:00:00+0000")))
    scripted.add(200, total({"views": 9100, "total_interactions": 310}))
    scripted.add(200, total({"views": 8800, "total_interactions": 295}))
    got = {(r["date_day"], r["metric"]): r["value"] for r in rows(connector(scripted, clock), "account_insights")}
    assert got == {
        (dt.date(2024, 5, 1), "reach"): 5400, (dt.date(2024, 5, 2), "reach"): 6100,
        (dt.date(2024, 5, 1), "follower_count"): 12, (dt.date(2024, 5, 2), "follower_count"): 9,
        (dt.date(2024, 5, 1), "views"): 9100, (dt.date(2024, 5, 1), "total_interactions"): 310,
        (dt.date(2024, 5, 2), "views"): 8800, (dt.date(2024, 5, 2), "total_interactions"): 295,
    }
    queries = [query(r) for r in scripted.requests]
    assert [q["metric"] for q in queries] == ["reach", "follower_count", "views,total_interactions", "views,total_interactions"]
    # A total_value answer is one number for the whole range: one day per call.
    assert [(q["since"], q["until"], q.get("metric_type")) for q in queries[2:]] == [
        ("2024-05-01", "2024-05-02", "total_value"), ("2024-05-02", "2024-05-03", "total_value")]


def test_follower_count_is_not_asked_beyond_its_30_days(scripted, clock):
    for _ in range(10):
        scripted.add(200, {"data": []})
    # Pulled on 2024-07-01: May is more than 30 days back, so no follower_count call at all.
    rows(connector(scripted, clock, snapshot=dt.date(2024, 7, 1)), "account_insights")
    assert "follower_count" not in {query(r)["metric"] for r in scripted.requests}
    scripted.requests.clear()
    rows(connector(scripted, clock, snapshot=dt.date(2024, 6, 10)), "account_insights", dt.date(2024, 5, 1), dt.date(2024, 6, 9))
    asked = [query(r) for r in scripted.requests if query(r)["metric"] == "follower_count"]
    assert [(q["since"], q["until"]) for q in asked] == [("2024-05-11", "2024-06-10")]
    # The reach series is chunked to 30-day calls.
    reach = [query(r) for r in scripted.requests if query(r)["metric"] == "reach"]
    assert [(q["since"], q["until"]) for q in reach] == [("2024-05-01", "2024-05-31"), ("2024-05-31", "2024-06-10")]


def test_demographics_shape(scripted, clock):
    got = [row for row, _ in parse_demographics(DEMOGRAPHICS, dt.date(2024, 5, 20), Values("instagram", "follower_demographics"))]
    assert got == [
        {"snapshot_date": dt.date(2024, 5, 20), "dimension": "age", "bucket": "25-34", "followers": 812},
        {"snapshot_date": dt.date(2024, 5, 20), "dimension": "age", "bucket": "18-24", "followers": 430},
    ]
    for _ in range(3):
        scripted.add(200, DEMOGRAPHICS)
    rows(connector(scripted, clock), "follower_demographics")
    assert [query(r)["breakdown"] for r in scripted.requests] == ["age", "gender", "country"]
    assert {(q["period"], q["metric_type"]) for q in map(query, scripted.requests)} == {("lifetime", "total_value")}


def test_media_insights_missing_data_is_null_and_few_viewers_do_not_fail(scripted, clock):
    # Ids beyond 2**53 are strings on the wire and stay exact.
    media = [{"id": "17900000007397791", "media_type": "VIDEO", "media_product_type": "REELS", "timestamp": "2024-05-18T16:08:21+0000"},
             {"id": "17900000007397792", "media_type": "IMAGE", "media_product_type": "STORY", "timestamp": "2024-05-18T09:00:00+0000"},
             {"id": "17900000007397793", "media_type": "IMAGE", "media_product_type": "FEED", "timestamp": "2024-05-17T09:00:00+0000"}]
    scripted.add(200, {"data": media, "paging": {"cursors": {"before": "QVFH", "after": "QVFI"}}})
    scripted.add(200, {"data": [{"name": "reach", "period": "lifetime", "values": [{"value": "1520"}]},
                                {"name": "likes", "period": "lifetime", "values": [{"value": 48}]},
                                {"name": "views", "period": "lifetime", "values": []}]})
    scripted.add(200, {"data": [{"name": "reach", "period": "lifetime", "values": [{"value": 300}]},
                                {"name": "replies", "period": "lifetime", "values": [{"value": 2}]}]})
    scripted.add(400, NOT_ENOUGH_VIEWERS)
    got = rows(connector(scripted, clock), "media_insights")
    assert [r["media_id"] for r in got] == [m["id"] for m in media]
    reel, story, quiet = got
    assert (reel["reach"], reel["likes"], reel["views"], reel["insights_status"]) == (1520, 48, None, "ok")
    assert (story["replies"], story["likes"]) == (2, None)  # stories have no likes: null, not 0
    assert quiet["insights_status"] == "not_enough_viewers" and quiet["reach"] is None and quiet["views"] is None
    asked = [query(r)["metric"] for r in scripted.requests[1:]]
    assert "likes" not in asked[1] and "replies" in asked[1] and "saved" in asked[0]
    assert len(scripted.requests) == 4 and clock.waits == []  # (#10) is no reason to retry


def test_parse_media_insights_accepts_total_value_entries():
    body = {"data": [{"name": "views", "period": "lifetime", "total_value": {"value": 77}}]}
    assert parse_media_insights(body, Values("instagram", "media_insights")) == {"views": 77}


def test_invalid_metric_is_named_from_its_position(scripted, clock):
    scripted.add(200, {"data": []})  # reach series
    scripted.add(200, {"data": []})  # follower_count
    scripted.add(400, {"error": {"message": "(#100) metric[1] must be one of the following values: views, reach, likes, comments, shares, saves",
                                 "type": "OAuthException", "code": 100}})
    with pytest.raises(ApiError) as err:
        rows(connector(scripted, clock), "account_insights")
    text = str(err.value)
    assert "instagram" in text and "metric total_interactions is not valid" in text and "metric views" not in text


@pytest.mark.parametrize("status,code", [(400, 80002), (400, 4), (200, 613)])
def test_throttles_are_waited_out(scripted, clock, status, code):
    usage = orjson.dumps({USER: [{"type": "instagram", "call_count": 100, "total_cputime": 10, "total_time": 10,
                                  "estimated_time_to_regain_access": 2}]}).decode()
    scripted.add(status, {"error": {"message": "(#80002) There have been too many calls to this Instagram account.",
                                    "type": "OAuthException", "code": code}}, {"X-Business-Use-Case-Usage": usage})
    scripted.add(200, {"data": [{"id": "17900000007397791", "media_type": "CAROUSEL_ALBUM", "media_product_type": "FEED",
                                 "caption": "שביל 🏔️", "timestamp": "2024-05-18T16:08:21+0000"}]})
    conn = connector(scripted, clock)
    got = rows(conn, "media")
    assert got[0]["caption"] == "שביל 🏔️" and got[0]["media_id"] == "17900000007397791"
    assert clock.waits == [120.0] and conn.client.stats.throttles == 1


def test_expired_token_fails_at_once(scripted, clock):
    scripted.add(400, {"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}})
    with pytest.raises(ApiError) as err:
        rows(connector(scripted, clock), "media")
    assert err.value.kind == "credentials" and len(scripted.requests) == 1 and "IGQV-token" not in str(err.value)
    assert scripted.requests[0]["headers"]["Authorization"] == "Bearer IGQV-token"


@pytest.mark.parametrize("raw", ["178414; DROP TABLE media", "`id`", "1784 14", "17841400000000101&x=1", "abc"])
def test_account_ids_refuse_metacharacters(raw):
    with pytest.raises(ValueError, match="Instagram"):
        normalize_ig_user_id(raw)


# ------------------------------------------------------------------ follower total (IG User node)


def test_user_snapshot_reads_the_ig_user_node(scripted, clock):
    # The IG User reference's fields, numbers as JSON numbers and the id a string.
    scripted.add(200, {"followers_count": 267788, "follows_count": 512, "media_count": 1205, "id": USER})
    ig = connector(scripted, clock)
    (batch,) = list(ig.read("user_snapshots", USER, dt.date(2024, 5, 1), dt.date(2024, 5, 7)))
    assert batch.to_pylist()[0] | {"_record": None} == {
        "account_id": USER, "snapshot_date": dt.date(2024, 5, 20), "followers_count": 267788, "follows_count": 512,
        "media_count": 1205, "_record": None}
    request = scripted.requests[0]
    assert urlsplit(request["path"]).path == f"/{USER}"
    assert parse_qs(urlsplit(request["path"]).query)["fields"] == ["followers_count,follows_count,media_count"]


def test_a_count_the_node_leaves_out_is_null(scripted, clock):
    scripted.add(200, {"id": USER, "media_count": 3})
    (batch,) = list(connector(scripted, clock).read("user_snapshots", USER, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    assert batch.column("followers_count").to_pylist() == [None] and batch.column("media_count").to_pylist() == [3]
