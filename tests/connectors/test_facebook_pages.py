"""facebook_pages contract: payloads shaped as api-notes section 2 shows them,
over real loopback HTTP (the `scripted` server) with a fake clock."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import ChannelSettings
from connectors.facebook_pages import DEPRECATED_METRICS, FacebookPagesConnector, facebook_content_type, normalize_page_id
from connectors.graph import insight_day
from connectors.http import ApiError, RetryPolicy

PAGE = "1234"
FAST = RetryPolicy(max_retries=2, read_timeout=2, connect_timeout=2)
# api-notes' example, verbatim.
INSIGHTS = {"data": [{"name": "page_post_engagements", "period": "day",
                      "values": [{"value": 131, "end_time": "2024-05-02T07:00:00+0000"},
                                 {"value": 98, "end_time": "2024-05-03T07:00:00+0000"}],
                      "title": "Daily Post Engagements", "id": "1234/insights/page_post_engagements/day"}],
            "paging": {"previous": "https://graph.facebook.com/v21.0/1234/insights?since=1", "next": "https://graph.facebook.com/v21.0/1234/insights?since=2"}}


def connector(scripted, clock, **options) -> FacebookPagesConnector:
    settings = ChannelSettings("facebook_pages", scripted.url, [PAGE], {"access_token": "EAAG-page-token"}, 28, options)
    return FacebookPagesConnector(settings, policy=FAST, sleep=clock, snapshot_date=dt.date(2024, 5, 20))


def rows(conn, stream, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 2)):
    return [r for b in conn.read(stream, PAGE, start, end) for r in b.to_pylist()]


def query(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request["path"]).query).items()}


@pytest.mark.parametrize("end_time,day", [
    ("2024-05-02T07:00:00+0000", dt.date(2024, 5, 1)),  # Pacific daylight time
    ("2024-12-02T08:00:00+0000", dt.date(2024, 12, 1)),  # Pacific standard time
    ("2024-05-01T22:00:00+0000", dt.date(2024, 5, 1)),  # a Berlin page: local midnight is 22:00 UTC the day before
])
def test_a_daily_value_belongs_to_the_day_before_its_end_time(end_time, day):
    assert insight_day(dt.datetime.strptime(end_time, "%Y-%m-%dT%H:%M:%S%z")) == day


def test_page_insights_parse_and_ignore_window_shifting_paging(scripted, clock):
    scripted.add(200, INSIGHTS)
    got = rows(connector(scripted, clock, metrics=["page_post_engagements"]), "page_insights")
    assert [(r["date_day"], r["metric"], r["value"]) for r in got] == [
        (dt.date(2024, 5, 1), "page_post_engagements", 131), (dt.date(2024, 5, 2), "page_post_engagements", 98)]
    # paging.next of insights moves the date window: following it would never end.
    assert len(scripted.requests) == 1
    q = query(scripted.requests[0])
    assert (q["since"], q["until"], q["period"]) == ("2024-05-01", "2024-05-03", "day")


def test_token_travels_in_the_header_never_the_url(scripted, clock):
    scripted.add(200, {"data": []})
    rows(connector(scripted, clock), "page_insights")
    request = scripted.requests[0]
    assert request["headers"]["Authorization"] == "Bearer EAAG-page-token" and "EAAG" not in request["path"]


def test_windows_are_chunked_to_90_days_and_deprecated_metrics_never_asked(scripted, clock):
    scripted.add(200, {"data": []})
    scripted.add(200, {"data": []})
    rows(connector(scripted, clock), "page_insights", dt.date(2024, 1, 1), dt.date(2024, 4, 29))  # 120 days
    spans = []
    for request in scripted.requests:
        q = query(request)
        spans.append((dt.date.fromisoformat(q["until"]) - dt.date.fromisoformat(q["since"])).days)
        assert not DEPRECATED_METRICS & set(q["metric"].split(","))
        assert "page_follows" in q["metric"]
    assert spans == [90, 30]


def test_deprecated_metrics_are_refused_before_any_call(scripted, clock):
    with pytest.raises(ValueError, match="page_fans"):
        rows(connector(scripted, clock, metrics=["page_follows", "page_fans"]), "page_insights")
    assert scripted.requests == []


def test_an_invalid_metric_is_found_and_named_when_the_message_does_not(scripted, clock):
    invalid = {"error": {"message": "(#100) The value must be a valid insights metric", "type": "OAuthException", "code": 100}}
    scripted.add(400, invalid)  # the whole request
    scripted.add(200, {"data": []})  # probe: page_follows alone is fine
    scripted.add(400, invalid)  # probe: page_negative_feedback alone is not
    with pytest.raises(ApiError) as err:
        rows(connector(scripted, clock, metrics=["page_follows", "page_negative_feedback"]), "page_insights")
    text = str(err.value)
    assert err.value.kind == "permanent" and "facebook_pages" in text
    assert "metric page_negative_feedback is not valid" in text and "page_follows is" not in text


def test_an_invalid_metric_named_by_the_api_needs_no_probe(scripted, clock):
    scripted.add(400, {"error": {"message": "(#100) Invalid metric: page_negative_feedback", "type": "OAuthException", "code": 100}})
    with pytest.raises(ApiError, match="metric page_negative_feedback is not valid"):
        rows(connector(scripted, clock, metrics=["page_follows", "page_negative_feedback"]), "page_insights")
    assert len(scripted.requests) == 1


@pytest.mark.parametrize("status,code", [(400, 32), (400, 4), (400, 80001), (200, 17)])
def test_throttles_in_graph_dialect_wait_the_time_meta_gives(scripted, clock, status, code):
    usage = '{"1234":[{"type":"pages","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":4}]}'
    scripted.add(status, {"error": {"message": f"(#{code}) Page request limit reached", "type": "OAuthException", "code": code}},
                 {"X-Business-Use-Case-Usage": usage})
    scripted.add(200, INSIGHTS)
    conn = connector(scripted, clock, metrics=["page_post_engagements"])
    assert len(rows(conn, "page_insights")) == 2
    assert clock.waits == [240.0] and conn.client.stats.throttles == 1


def test_expired_token_is_a_credentials_failure_without_retries(scripted, clock):
    scripted.add(400, {"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}})
    with pytest.raises(ApiError) as err:
        rows(connector(scripted, clock), "page_insights")
    assert err.value.kind == "credentials" and err.value.code == 190
    assert len(scripted.requests) == 1 and clock.waits == [] and "EAAG-page-token" not in str(err.value)


def test_an_unparseable_value_is_quarantined_naming_channel_stream_and_metric(scripted, clock):
    bad = {"data": [{**INSIGHTS["data"][0], "values": [{"value": "12,5", "end_time": "2024-05-02T07:00:00+0000"}]}]}
    scripted.add(200, bad)
    conn = connector(scripted, clock, metrics=["page_post_engagements"])
    assert rows(conn, "page_insights") == []
    [held] = conn.quarantined
    assert "facebook_pages.page_insights: column 'page_post_engagements' got '12,5'" in held.reason
    assert '"12,5"' in held.record


def post(kind: str | None, media_type: str | None, permalink: str = "https://www.facebook.com/1234/posts/1") -> dict:
    record = {"id": "1234_1000000000000001", "message": "hi", "created_time": "2024-05-01T16:04:05+0000",
              "permalink_url": permalink, "status_type": "added_photos"}
    if kind or media_type:
        record["attachments"] = {"data": [{"media_type": media_type, "type": kind}]}
    return record


@pytest.mark.parametrize("record,expected", [
    (post("photo", "photo"), "photo"),
    (post("video_inline", "video"), "video"),
    (post("video_inline", "video", "https://www.facebook.com/reel/1000000000000001"), "reel"),
    (post("live_video", "video"), "live"),
    (post("share", "link"), "link"),
    (post("album", "album"), "album"),
    (post(None, None), "status"),
])
def test_post_content_types(record, expected):
    assert facebook_content_type(record) == expected


def test_posts_page_through_cursors_and_keep_text_and_ids_exactly(scripted, clock):
    hostile = "Trail day 🥾 — مغامرة <script>alert(1)</script>'; DROP TABLE posts;--"
    first = {"data": [{**post("photo", "photo"), "message": hostile}],
             "paging": {"cursors": {"before": "QVFIUj", "after": "QVFIUk"}, "next": f"{scripted.url}/1234/posts?after=QVFIUk"}}
    last = {"data": [{**post(None, None), "id": "1234_1000000000000002", "created_time": "2024-04-30T23:59:59+0000"}],
            "paging": {"cursors": {"before": "QVFIUl", "after": "QVFIUm"}}}
    scripted.add(200, first)
    scripted.add(200, last)
    got = rows(connector(scripted, clock), "posts")
    assert [r["post_id"] for r in got] == ["1234_1000000000000001", "1234_1000000000000002"]
    assert got[0]["message"] == hostile and got[0]["platform_content_type"] == "photo"
    assert got[0]["created_time"] == dt.datetime(2024, 5, 1, 16, 4, 5, tzinfo=dt.UTC)
    assert got[1]["platform_content_type"] == "status" and got[1]["attachment_type"] is None


def test_post_snapshots_sum_reactions_and_keep_missing_values_null(scripted, clock):
    scripted.add(200, {"data": [post("photo", "photo")]})
    scripted.add(200, {"data": [
        {"name": "post_media_view", "period": "lifetime", "values": [{"value": "4210"}]},
        {"name": "post_total_media_view_unique", "period": "lifetime", "values": []},
        {"name": "post_reactions_by_type_total", "period": "lifetime", "values": [{"value": {"like": 40, "love": 3}}]},
    ]})
    got = rows(connector(scripted, clock), "post_snapshots")
    assert got == [{**got[0], "snapshot_date": dt.date(2024, 5, 20), "post_id": "1234_1000000000000001",
                    "views": 4210, "reach": None, "clicks": None, "reactions": 43}]


@pytest.mark.parametrize("raw", ["1234; DROP TABLE x", "$(reboot)", "12 34", "act_1234", "1234'--", ""])
def test_page_ids_refuse_metacharacters(raw):
    with pytest.raises(ValueError, match="Facebook Page"):
        normalize_page_id(raw)


def test_other_code_100_errors_are_not_blamed_on_metrics(scripted, clock):
    scripted.add(400, {"error": {"message": "(#100) Unsupported get request. Object with ID '1234' does not exist",
                                 "type": "GraphMethodException", "code": 100, "error_subcode": 33}})
    with pytest.raises(ApiError) as err:
        rows(connector(scripted, clock), "page_insights")
    assert "does not exist" in str(err.value) and "is not valid" not in str(err.value)
    assert len(scripted.requests) == 1  # no probing
