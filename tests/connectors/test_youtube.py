"""youtube contract tests on payloads shaped as api-notes section 4 shows them."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import ChannelSettings, ParseError, Values
from connectors.http import ApiClient, ApiError, RetryPolicy
from connectors.youtube import (
    STREAMS,
    YoutubeConnector,
    YoutubeDialect,
    channel_statistics_row,
    classify_video,
    duration_seconds,
    normalize_channel_id,
    parse_report,
    statistics_row,
    video_row,
)

FAST = RetryPolicy(max_retries=2, read_timeout=2, connect_timeout=2)
CHANNEL_ID = "UCn0rthw1ndOutdoorTrails"


def values(stream: str = "channel_daily") -> Values:
    return Values("youtube", stream)


def connector(url: str, clock) -> YoutubeConnector:
    settings = ChannelSettings("youtube", url, [CHANNEL_ID], {"access_token": "yt-secret-token"},
                               options={"data_api_base_url": url})
    return YoutubeConnector(settings, policy=FAST, sleep=clock, snapshot_date=dt.date(2024, 6, 1))


def test_rows_are_positional_and_read_through_column_headers():
    # api-notes' own example, with the metric columns in another order than asked.
    body = {"kind": "youtubeAnalytics#resultTable",
            "columnHeaders": [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
                              {"name": "likes", "columnType": "METRIC", "dataType": "INTEGER"},
                              {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
                              {"name": "subscribersGained", "columnType": "METRIC", "dataType": "INTEGER"},
                              {"name": "estimatedMinutesWatched", "columnType": "METRIC", "dataType": "INTEGER"}],
            "rows": [["2024-05-01", 48, 1520, 12, 4210], ["2024-05-02", 41, 1388, 9, 3902]]}
    metrics = {"views": ("views", "int"), "likes": ("likes", "int"), "subscribersGained": ("gained", "int"),
               "estimatedMinutesWatched": ("minutes", "int")}
    rows = list(parse_report(body, metrics, ("day",), values()))
    assert rows[0][0] == {"date_day": dt.date(2024, 5, 1), "views": 1520, "likes": 48, "gained": 12, "minutes": 4210}
    assert rows[1][1] == {"day": "2024-05-02", "likes": 41, "views": 1388, "subscribersGained": 9,
                          "estimatedMinutesWatched": 3902}


def test_a_metric_missing_from_the_headers_is_named():
    body = {"columnHeaders": [{"name": "day"}, {"name": "views"}], "rows": [["2024-05-01", 3]]}
    with pytest.raises(ParseError) as err:
        list(parse_report(body, {"views": "views", "likes": "likes"}, ("day",), values()))
    assert "likes" in str(err.value) and "youtube.channel_daily" in str(err.value)


def test_no_rows_key_means_no_data_yet():
    body = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": [{"name": "day"}, {"name": "views"}]}
    assert list(parse_report(body, {"views": "views"}, ("day",), values())) == []


@pytest.mark.parametrize("wire, seconds", [("PT45S", 45), ("PT1M", 60), ("PT1M1S", 61), ("PT1H2M3S", 3723),
                                           ("P1DT1S", 86401), ("P0D", 0), (None, None)])
def test_iso_durations(wire, seconds):
    assert duration_seconds(wire, values("videos")) == seconds


def test_a_bad_duration_is_a_parse_error():
    with pytest.raises(ParseError):
        duration_seconds("12 minutes", values("videos"))


def test_a_video_with_a_bad_duration_is_quarantined_and_the_others_land(scripted, clock):
    scripted.add(200, {"items": [{"id": CHANNEL_ID, "contentDetails": {"relatedPlaylists": {"uploads": "UUx"}}}]})
    scripted.add(200, {"items": [{"contentDetails": {"videoId": i}} for i in ("vGood", "vBad")]})
    scripted.add(200, {"items": [{"id": i, "snippet": {"publishedAt": "2024-05-01T10:00:00Z", "liveBroadcastContent": "none"},
                                  "contentDetails": {"duration": duration}}
                                 for i, duration in (("vGood", "PT5M"), ("vBad", "12 minutes"))]})
    yt = connector(scripted.url, clock)
    (batch,) = list(yt.read("videos", CHANNEL_ID, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    assert batch.column("video_id").to_pylist() == ["vGood"] and batch.column("duration_seconds").to_pylist() == [300]
    (held,) = yt.quarantined
    assert held.account_id == CHANNEL_ID and '"id":"vBad"' in held.record
    assert held.reason == "youtube.videos: column 'contentDetails.duration' got '12 minutes': not an ISO 8601 duration"


@pytest.mark.parametrize("video, seconds, expected", [
    ({"snippet": {"liveBroadcastContent": "none"}}, 45, ("short_video", "short")),
    ({"snippet": {"liveBroadcastContent": "none"}}, 60, ("short_video", "short")),
    ({"snippet": {"liveBroadcastContent": "none"}}, 61, ("video", "video")),
    ({"snippet": {"liveBroadcastContent": "live"}}, 0, ("live", "live")),
    ({"snippet": {"liveBroadcastContent": "upcoming"}}, 0, ("live", "upcoming")),
    ({"snippet": {"liveBroadcastContent": "none"}, "liveStreamingDetails": {"actualEndTime": "x"}}, 3600,
     ("live", "live_replay")),
])
def test_content_type_taxonomy(video, seconds, expected):
    assert classify_video(video, seconds) == expected


def test_video_row_and_string_statistics():
    video = {"kind": "youtube#video", "id": "dQw4w9WgXcQ",
             "snippet": {"publishedAt": "2024-05-13T15:04:05Z", "title": "Trail test", "liveBroadcastContent": "none"},
             "contentDetails": {"duration": "PT42S"},
             "statistics": {"viewCount": "48", "favoriteCount": "0", "commentCount": "2"}}
    row = video_row(video, values("videos"))
    assert row["published_at"] == dt.datetime(2024, 5, 13, 15, 4, 5, tzinfo=dt.UTC)
    assert row["content_type"] == "short_video" and row["permalink"] == "https://www.youtube.com/shorts/dQw4w9WgXcQ"
    stats = statistics_row(video, dt.date(2024, 6, 1), values("video_statistics"))
    # likeCount hidden by the owner: omitted on the wire, null here, never 0.
    assert stats == {"snapshot_date": dt.date(2024, 6, 1), "video_id": "dQw4w9WgXcQ", "views": 48, "likes": None,
                     "comments": 2, "favorites": 0}
    video["statistics"]["viewCount"] = "forty"
    with pytest.raises(ParseError) as err:
        statistics_row(video, dt.date(2024, 6, 1), values("video_statistics"))
    assert "statistics.viewCount" in str(err.value)


@pytest.mark.parametrize("raw", ["UCn0rthw1ndOutdoorTrail", "UCn0rthw1ndOutdoorTrail;", "UC'; drop table x; --aaaa",
                                 "UCn0rthw1ndOutdoor$(rm)", "", "channel==MINE"])
def test_malformed_channel_ids_are_refused(raw):
    with pytest.raises(ValueError, match="YouTube channel id"):
        normalize_channel_id(raw)


def test_channel_ids_pass_unchanged():
    assert normalize_channel_id(f" {CHANNEL_ID} ") == CHANNEL_ID


# ------------------------------------------------------------------------------- dialect over real HTTP


def google_error(code, message, reason=None, status=None):
    error = {"code": code, "message": message}
    if reason:
        error["errors"] = [{"message": message, "domain": "youtube.quota", "reason": reason}]
    if status:
        error["status"] = status
    return {"error": error}


def test_daily_quota_is_permanent_and_said_clearly(scripted, clock):
    scripted.add(403, google_error(403, "The request cannot be completed because you have exceeded your quota.",
                                   "quotaExceeded"))
    client = ApiClient("youtube", scripted.url, YoutubeDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/videos")
    assert err.value.kind == "permanent" and "DAILY" in str(err.value) and clock.waits == []


def test_rate_limit_is_a_throttle_with_retry_after(scripted, clock):
    scripted.add(403, google_error(403, "The request was rate limited.", "rateLimitExceeded"), {"Retry-After": "3"})
    scripted.add(200, {"items": []})
    client = ApiClient("youtube", scripted.url, YoutubeDialect(), policy=FAST, sleep=clock)
    assert client.request_json("GET", "/videos") == {"items": []}
    assert clock.waits == [3.0] and client.stats.throttles == 1


def test_unauthenticated_is_a_credentials_failure(scripted, clock):
    scripted.add(401, google_error(401, "Request had invalid authentication credentials.", status="UNAUTHENTICATED"))
    client = ApiClient("youtube", scripted.url, YoutubeDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/reports")
    assert err.value.kind == "credentials" and err.value.status == 401


def test_unknown_metric_names_the_metric(scripted, clock):
    scripted.add(400, google_error(400, "Unknown identifier (shares) given in field parameters.metrics.", "badRequest"))
    client = ApiClient("youtube", scripted.url, YoutubeDialect(), policy=FAST, sleep=clock)
    with pytest.raises(ApiError) as err:
        client.request_json("GET", "/reports", account=CHANNEL_ID)
    assert err.value.kind == "permanent" and "'shares'" in str(err.value) and str(err.value).startswith("youtube")


def test_backend_error_is_retried(scripted, clock):
    scripted.add(503, google_error(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"))
    scripted.add(200, {"items": []})
    client = ApiClient("youtube", scripted.url, YoutubeDialect(), policy=FAST, sleep=clock)
    client.request_json("GET", "/videos")
    assert client.stats.retries == 1


# --------------------------------------------------------------------------- streams over real HTTP


def test_video_report_pages_with_one_based_start_index(scripted, clock):
    headers = [{"name": "day"}, {"name": "video"}] + [
        {"name": m} for m in ("views", "estimatedMinutesWatched", "likes", "comments", "shares")]
    full = [["2024-05-01", f"vid{i:08d}", i, 2 * i, 1, 0, 0] for i in range(200)]
    scripted.add(200, {"columnHeaders": headers, "rows": full})
    scripted.add(200, {"columnHeaders": headers, "rows": [["2024-05-02", "vidX", 5, 9, 1, 0, 0]]})
    yt = connector(scripted.url, clock)
    batches = list(yt.read("video_daily", CHANNEL_ID, dt.date(2024, 5, 1), dt.date(2024, 5, 2)))
    assert sum(b.num_rows for b in batches) == 201
    first, second = scripted.requests
    assert "startIndex=1&" in first["path"] + "&" and "startIndex=201" in second["path"]
    assert "dimensions=day%2Cvideo" in first["path"] and "maxResults=200" in first["path"]
    assert first["headers"]["Authorization"] == "Bearer yt-secret-token"


def test_videos_walk_uploads_playlist_and_batch_ids_by_fifty(scripted, clock):
    scripted.add(200, {"items": [{"id": CHANNEL_ID, "contentDetails": {"relatedPlaylists": {"uploads": "UUx"}}}]})
    ids = [f"v{i:010d}" for i in range(60)]
    scripted.add(200, {"items": [{"contentDetails": {"videoId": i}} for i in ids[:50]], "nextPageToken": "CDIQAA"})
    scripted.add(200, {"items": [{"contentDetails": {"videoId": i}} for i in ids[50:]]})
    for batch in (ids[:50], ids[50:]):
        scripted.add(200, {"items": [{"id": i, "snippet": {"publishedAt": "2024-05-01T10:00:00Z",
                                                             "liveBroadcastContent": "none"},
                                      "contentDetails": {"duration": "PT5M"},
                                      "statistics": {"viewCount": "7"}} for i in batch]})
    yt = connector(scripted.url, clock)
    batches = list(yt.read("video_statistics", CHANNEL_ID, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    table = batches[0]
    assert table.num_rows == 60 and set(table.column("snapshot_date").to_pylist()) == {dt.date(2024, 6, 1)}
    paths = [r["path"] for r in scripted.requests]
    assert paths[0].startswith("/channels?") and f"id={CHANNEL_ID}" in paths[0]
    assert "pageToken=CDIQAA" in paths[2]
    id_lists = [parse_qs(urlsplit(p).query)["id"][0].split(",") for p in paths[3:]]
    assert id_lists == [ids[:50], ids[50:]]
    assert yt.client.stats.calls == 5  # both APIs count in the reported stats


# --------------------------------------------------------------------------- channel statistics (follower total)

# A channels.list item with part=statistics as the Data API reference documents
# it (ChannelStatistics: counts are strings, hiddenSubscriberCount a boolean).
CHANNEL_ITEM = {"kind": "youtube#channel", "etag": "x", "id": CHANNEL_ID,
                "statistics": {"viewCount": "1204513", "subscriberCount": "12300", "hiddenSubscriberCount": False,
                               "videoCount": "311"}}


def test_channel_statistics_are_typed_from_strings():
    row = channel_statistics_row(CHANNEL_ITEM, dt.date(2024, 6, 1), values("channel_statistics"))
    assert row == {"snapshot_date": dt.date(2024, 6, 1), "hidden_subscriber_count": False, "subscribers": 12300,
                   "views": 1204513, "videos": 311}


def test_a_hidden_subscriber_count_is_null_not_zero():
    item = {"id": CHANNEL_ID, "statistics": {"viewCount": "9", "subscriberCount": "0", "hiddenSubscriberCount": True,
                                             "videoCount": "2"}}
    row = channel_statistics_row(item, dt.date(2024, 6, 1), values("channel_statistics"))
    assert row["subscribers"] is None and row["hidden_subscriber_count"] is True and row["views"] == 9


def test_channel_statistics_pull_asks_channels_list_by_id(scripted, clock):
    scripted.add(200, {"kind": "youtube#channelListResponse", "items": [CHANNEL_ITEM]})
    yt = connector(scripted.url, clock)
    (batch,) = list(yt.read("channel_statistics", CHANNEL_ID, dt.date(2024, 5, 1), dt.date(2024, 5, 7)))
    assert batch.column("subscribers").to_pylist() == [12300]
    assert batch.column("snapshot_date").to_pylist() == [dt.date(2024, 6, 1)]  # the pull day, not the window
    query = parse_qs(urlsplit(scripted.requests[0]["path"]).query)
    assert query["part"] == ["statistics"] and query["id"] == [CHANNEL_ID]
    assert STREAMS["channel_statistics"].snapshot


def test_subscriber_changes_are_pulled_through_the_snapshot_date():
    assert STREAMS["channel_daily"].through_snapshot_date
    assert not STREAMS["video_daily"].through_snapshot_date
