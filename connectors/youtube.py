"""YouTube connector: channel `youtube` (Analytics API v2 + Data API v3).

Streams (raw_youtube.*), the account being a channel id (`UC` + 22 characters):
- channel_daily:    one row per day: views, estimatedMinutesWatched, likes,
                    comments, shares, subscribersGained, subscribersLost
                    (Analytics `reports`, dimensions=day). Pulled through
                    the snapshot date (`Stream.through_snapshot_date`): the
                    gains and losses back-cast channel_statistics' total.
- video_daily:      one row per day x video, the same engagement metrics
                    (Analytics `reports`, dimensions=day,video, paged with
                    maxResults / 1-based startIndex).
- videos:           the channel's uploads (Data API: channels.list -> uploads
                    playlist -> playlistItems.list pages -> videos.list in
                    batches of <= 50 ids) with the content type in the shared
                    taxonomy: live broadcasts and live replays -> live, a
                    duration <= 60 s -> short_video, else video.
- video_statistics: lifetime counters of every upload (viewCount, likeCount,
                    commentCount, favoriteCount), a `snapshot=True` stream
                    dated `snapshot_date`.
- channel_statistics: the channel's current subscriber total, lifetime views
                    and video count (Data API channels.list part=statistics),
                    a `snapshot=True` stream dated `snapshot_date`. The
                    counts are strings; `hiddenSubscriberCount: true` means the
                    owner hides the total: subscribers null, never zero. The
                    Data API abbreviates subscriberCount to three significant
                    figures for channels above 1,000 subscribers, so a total
                    back-cast from it inherits that rounding.

Wire quirks handled (api-notes section 4): Analytics rows are positional
arrays whose order is read from `columnHeaders`, never assumed; a requested
metric missing from the headers is a parse error naming it; the newest days
are silently missing until complete (the pipeline's lookback re-pulls them);
Data API statistics are strings and `likeCount` is omitted when the owner hides
it (null, not zero); ISO 8601 durations (`PT1M2S`). Two APIs, two base URLs:
`base_url` is the Analytics API, option `data_api_base_url` the Data API.
Errors are Google's envelope (`connectors.google`), extended for
YouTube's `errors[].reason`: `quotaExceeded` is the DAILY quota (permanent,
said clearly), `rateLimitExceeded`/`userRateLimitExceeded` are throttles, an
"Unknown identifier ... metrics" 400 is a removed metric, named.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from connectors.base import ISO_8601, ORGANIC_UNIONS, AccountIds, Fields, OrganicConnector, ParseError, Stream, UnionModels, Values, date_chunks
from connectors.google import GoogleConnector, YoutubeDialect
from connectors.http import ApiError, OffsetPaginator, TokenPaginator

CHANNEL = "youtube"
DATA_API_BASE_URL = "https://www.googleapis.com/youtube/v3"
# Analytics accepts up to 200 rows per page for dimensions=day,video.
VIDEO_PAGE_SIZE = 200
VIDEO_REPORT_DAYS = 31
PLAYLIST_PAGE_SIZE = 50
VIDEOS_PER_CALL = 50  # videos.list refuses more ids than this
SHORT_MAX_SECONDS = 60

# Wire field tables (connectors.base.Fields): every count an integer.
CHANNEL_METRICS = Fields.snake(("views", "estimatedMinutesWatched", "likes", "comments", "shares", "subscribersGained",
                                "subscribersLost"))
VIDEO_METRICS = Fields({k: v for k, v in CHANNEL_METRICS.items() if not k.startswith("subscribers")})
STATISTICS = Fields({"viewCount": ("views", "int"), "likeCount": ("likes", "int"), "commentCount": ("comments", "int"),
                     "favoriteCount": ("favorites", "int")})
CHANNEL_STATISTICS = Fields({"subscriberCount": ("subscribers", "int"), "viewCount": ("views", "int"), "videoCount": ("videos", "int")})
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


normalize_channel_id = AccountIds("a YouTube channel id", "UC followed by 22 letters, digits, - or _",
                                  r"UC[A-Za-z0-9_-]{22}")
# Analytics reports page by maxResults / 1-based startIndex and report no
# total: a short page is the last one.
REPORT_PAGES = OffsetPaginator(
    page_rows=lambda body: len(body.get("rows") or []),
    total_rows=lambda body: math.inf if len(body.get("rows") or []) == VIDEO_PAGE_SIZE else 0,
    param="startIndex", base=1,
)
PLAYLIST_PAGES = TokenPaginator(next_token=lambda body: body.get("nextPageToken"))


STREAMS = Stream.by_name(
    # subscribersGained/Lost back-cast the channel_statistics total.
    Stream.of("channel_daily", [("date_day", pa.date32()), *CHANNEL_METRICS.columns()], key=("date_day",),
              date_column="date_day",
              description="Channel totals per day (YouTube Analytics, dimensions=day); the newest days arrive late.",
              required_fields=("views", "subscribersGained", "subscribersLost"), every_day=True, through_snapshot_date=True,
              expectations=("nonnegative: views, likes, comments, shares, subscribers_gained, subscribers_lost",
                            "not_future: date_day")),
    Stream.of("video_daily", [("date_day", pa.date32()), ("video_id", pa.string()), *VIDEO_METRICS.columns()],
              key=("date_day", "video_id"), date_column="date_day",
              description="Per-video engagement per day (YouTube Analytics, dimensions=day,video)."),
    Stream.of("videos", [("video_id", pa.string()), ("published_at", pa.timestamp("s", tz="UTC")), ("title", pa.string()),
                         ("duration_seconds", pa.int64()), ("live_broadcast_content", pa.string()),
                         ("content_type", pa.string()), ("platform_content_type", pa.string()), ("permalink", pa.string())],
              key=("video_id",), description="The channel's uploads with their content type (video, short_video, live)."),
    Stream.snapshots("video_statistics", [("video_id", pa.string()), *STATISTICS.columns()], key=("video_id",),
                     description="Lifetime counters of every upload (Data API statistics), one snapshot per pull day."),
    Stream.snapshots("channel_statistics", [("hidden_subscriber_count", pa.bool_()), *CHANNEL_STATISTICS.columns()],
                     key=(), description="The channel's subscriber total, lifetime views and video count (Data API "
                                         "channels.list statistics), one snapshot per pull day."),
)


class YoutubeConnector(GoogleConnector, OrganicConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://youtubeanalytics.googleapis.com/v2"
    display_name = "YouTube"
    day_timezone = "America/Los_Angeles"
    dbt_unions = UnionModels(*ORGANIC_UNIONS, post_daily="stg_youtube__video_daily")
    engagements_basis = "account_daily"
    # Analytics are ~2 days behind: the newest complete day is 3 days back.
    expected_lag_days = 3
    dialect = YoutubeDialect
    option_types = {"data_api_base_url": str}
    normalize_account = normalize_channel_id

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_client = self.bearer_client(
            YoutubeDialect(), base_url=self.settings.options.get("data_api_base_url", DATA_API_BASE_URL))
        # Call statistics are reported from self.client: count both APIs there.
        self.data_client.stats = self.client.stats

    def close(self) -> None:
        self.data_client.close()
        super().close()

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream == "channel_daily":
            return self._channel_report(account, start, end, values)
        if stream == "video_daily":
            return self._video_report(account, start, end, values)
        if stream == "videos":
            return ((video_row(v, values), v) for v in self._videos(account))
        if stream == "video_statistics":
            return ((statistics_row(v, self.snapshot_date, values), v) for v in self._videos(account))
        channel = self._channel(account, "statistics")
        return iter([(channel_statistics_row(channel, self.snapshot_date, values), channel)])

    # ------------------------------------------------------------ Analytics API

    def _report_params(self, channel_id: str, start: dt.date, end: dt.date, metrics: Fields) -> dict[str, Any]:
        return {
            "ids": f"channel=={channel_id}",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "metrics": ",".join(metrics),
        }

    def _channel_report(self, channel_id: str, start: dt.date, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        params = {**self._report_params(channel_id, start, end, CHANNEL_METRICS), "dimensions": "day", "sort": "day"}
        body = self.client.request_json("GET", "/reports", account=channel_id, params=params)
        yield from parse_report(body, CHANNEL_METRICS, ("day",), v)

    def _video_report(self, channel_id: str, start: dt.date, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        for chunk_start, chunk_end in date_chunks(start, end, VIDEO_REPORT_DAYS):
            params = {
                **self._report_params(channel_id, chunk_start, chunk_end, VIDEO_METRICS),
                "dimensions": "day,video", "sort": "day", "maxResults": VIDEO_PAGE_SIZE,
            }
            for body in self.client.paginate("GET", "/reports", REPORT_PAGES, account=channel_id, params=params):
                yield from parse_report(body, VIDEO_METRICS, ("day", "video"), v)

    # ----------------------------------------------------------------- Data API

    def _channel(self, channel_id: str, part: str) -> dict[str, Any]:
        """The channel resource (channels.list by id) with the parts asked."""
        body = self.data_client.request_json("GET", "/channels", account=channel_id,
                                             params={"part": part, "id": channel_id})
        items = body.get("items") or []
        if not items:
            raise ApiError(CHANNEL, channel_id, "GET /channels", 200, None, "channels.list returned no such channel")
        return items[0]

    def _videos(self, channel_id: str) -> Iterator[dict[str, Any]]:
        uploads = self._channel(channel_id, "contentDetails")["contentDetails"]["relatedPlaylists"]["uploads"]

        params = {"part": "contentDetails", "playlistId": uploads, "maxResults": PLAYLIST_PAGE_SIZE}
        pages = self.data_client.paginate("GET", "/playlistItems", PLAYLIST_PAGES, account=channel_id, params=params)
        video_ids = [item["contentDetails"]["videoId"] for page in pages for item in page.get("items") or []]
        for i in range(0, len(video_ids), VIDEOS_PER_CALL):
            batch = video_ids[i:i + VIDEOS_PER_CALL]
            body = self.data_client.request_json(
                "GET", "/videos", account=channel_id,
                params={"part": "snippet,statistics,contentDetails,liveStreamingDetails", "id": ",".join(batch),
                        "maxResults": VIDEOS_PER_CALL},
            )
            yield from body.get("items") or []


def parse_report(
    body: dict[str, Any], metrics: Fields, dimensions: tuple[str, ...], v: Values
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(typed row, record) pairs of one Analytics resultTable; positions come from columnHeaders."""
    names = [header.get("name") for header in body.get("columnHeaders") or []]
    for wanted in (*dimensions, *metrics):
        if wanted not in names:
            raise ParseError(v.channel, v.stream, wanted, None, f"the report has no such column (got {names})")
    for values in body.get("rows") or []:
        record = dict(zip(names, values, strict=False))
        row: dict[str, Any] = {"date_day": v.date(record.get("day"), "day")}
        if "video" in dimensions:
            row["video_id"] = record.get("video")
        row.update(v.fields(record, metrics))
        yield row, record


def duration_seconds(value: str | None, v: Values) -> int | None:
    """ISO 8601 duration as YouTube writes it (`PT1H2M3S`, `P1DT2H`, `P0D` for
    live). Anything else is unparseable like any other value: in a pull, the
    video's record is quarantined and the rest of the stream lands."""
    if not value:
        return None
    match = _DURATION.match(value)
    if not match:
        v.unparseable("contentDetails.duration", value, "not an ISO 8601 duration")
        return None
    days, hours, minutes, seconds = (int(x or 0) for x in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def classify_video(video: dict[str, Any], seconds: int | None) -> tuple[str, str]:
    """(content_type in the shared taxonomy, YouTube's own surface for it)."""
    live_now = (video.get("snippet") or {}).get("liveBroadcastContent") or "none"
    if live_now != "none":
        return "live", live_now  # "live" or "upcoming"
    if video.get("liveStreamingDetails"):
        return "live", "live_replay"
    if seconds is not None and seconds <= SHORT_MAX_SECONDS:
        return "short_video", "short"
    return "video", "video"


def video_row(video: dict[str, Any], v: Values) -> dict[str, Any]:
    snippet = video.get("snippet") or {}
    seconds = duration_seconds((video.get("contentDetails") or {}).get("duration"), v)
    content_type, platform_type = classify_video(video, seconds)
    path = f"shorts/{video['id']}" if content_type == "short_video" else f"watch?v={video['id']}"
    return {
        "video_id": video["id"],
        "published_at": v.timestamp(snippet.get("publishedAt"), "snippet.publishedAt", ISO_8601),
        "title": snippet.get("title"),
        "duration_seconds": seconds,
        "live_broadcast_content": snippet.get("liveBroadcastContent"),
        "content_type": content_type,
        "platform_content_type": platform_type,
        "permalink": f"https://www.youtube.com/{path}",
    }


def statistics_row(video: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    stats = video.get("statistics") or {}
    return {"snapshot_date": snapshot_date, "video_id": video["id"], **v.fields(stats, STATISTICS, "statistics.")}


def channel_statistics_row(channel: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    """A channels.list item's statistics; a hidden subscriber count is null, not zero."""
    stats = channel.get("statistics") or {}
    hidden = stats.get("hiddenSubscriberCount")
    if hidden not in (None, True, False):
        raise ParseError(v.channel, v.stream, "statistics.hiddenSubscriberCount", hidden, "not a boolean")
    row = {"snapshot_date": snapshot_date, "hidden_subscriber_count": hidden, **v.fields(stats, CHANNEL_STATISTICS, "statistics.")}
    if hidden:
        row["subscribers"] = None  # the API still sends a (meaningless) number when hidden
    return row
