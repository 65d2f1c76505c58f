"""Facebook Page insights (Graph API) connector: channel `facebook_pages`.

Streams (raw_facebook_pages.*):
- page_insights:  one row per Page-local day x metric (long format, so a metric
                  retired by Meta is a config change, not a schema change):
                  page_follows (end-of-day total), page_daily_follows_unique,
                  page_daily_unfollows_unique, page_media_view,
                  page_total_media_view_unique, page_post_engagements,
                  page_negative_feedback. `date_column` date_day. Pulled
                  through the snapshot date (`Stream.through_snapshot_date`).
- posts:          the Page's posts: id, message, created_time, permalink_url,
                  status_type and a content type derived from the first
                  attachment (list: replaced whole each sync).
- post_snapshots: lifetime post insights recorded on the pull day
                  (snapshot=True): post_media_view, post_total_media_view_unique,
                  post_clicks, post_reactions_by_type_total (summed into likes).

Wire quirks handled (api-notes section 2):
- A daily value belongs to the day BEFORE its `end_time`, which is the next
  day's local midnight (07:00/08:00 UTC for Pacific pages). We round end_time
  to the nearest UTC midnight and step back one day, which is right for any
  Page time zone within +-12 h of UTC, so no zone needs configuring.
- At most 90 days between `since` and `until` per call: windows are chunked.
  `until` is exclusive of days (end_time <= until), so a chunk asks until=end+1.
- Insights `paging.next/previous` move the date window, they do not continue
  a result: following them would walk into the future, so they are ignored.
- Deprecated metrics (page_impressions_unique, page_fans, page_fan_adds) are
  never requested and refused in config. The metric lists are options
  (`metrics`, `post_metrics`) because deprecations keep coming; a metric the
  API no longer knows fails with a permanent error that names the metric and
  the channel (read from the message, else found by asking per metric).
- Errors use the Graph envelope (`MetaDialect`): throttles are codes
  4/17/32/613/80001, code 190 is an expired token.
- Graph ids are strings (post ids `pageid_postid`) and stay strings.

The Graph API's dialect, paging, timestamps and invalid-metric naming are
`connectors.graph`'s, shared with Meta Ads and Instagram.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from connectors.base import Stream, Values, as_sent
from connectors.graph import GRAPH_TIME, MetaOrganicConnector, graph_ids

CHANNEL = "facebook_pages"
MAX_DAYS_PER_CALL = 90
PAGE_LIMIT = 100

PAGE_METRICS = (
    "page_follows", "page_daily_follows_unique", "page_daily_unfollows_unique", "page_media_view",
    "page_total_media_view_unique", "page_post_engagements", "page_negative_feedback",
)
POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks", "post_reactions_by_type_total")
DEPRECATED_METRICS = frozenset({"page_impressions_unique", "page_fans", "page_fan_adds"})
POST_FIELDS = "id,message,created_time,permalink_url,status_type,attachments{media_type,type}"


normalize_page_id = graph_ids("a Facebook Page id")


STREAMS = Stream.by_name(
    # The newest reported page_follows total and the follows/unfollows up to
    # the pull day land with every pull, a backfill's too.
    Stream.of("page_insights", [("date_day", pa.date32()), ("metric", pa.string()), ("period", pa.string()),
                                ("value", pa.int64()), ("end_time", pa.timestamp("s", tz="UTC"))],
              key=("date_day", "metric"), date_column="date_day",
              description="Page daily insights, one row per Page-local day and metric (value of the day before end_time).",
              required_fields=("name", "value", "end_time"), every_day=True, through_snapshot_date=True),
    Stream.of("posts", [("post_id", pa.string()), ("created_time", pa.timestamp("s", tz="UTC")), ("message", pa.string()),
                        ("permalink_url", pa.string()), ("status_type", pa.string()), ("attachment_media_type", pa.string()),
                        ("attachment_type", pa.string()), ("platform_content_type", pa.string())],
              key=("post_id",),
              description="The Page's posts with the content type derived from status_type and the first attachment."),
    Stream.snapshots("post_snapshots", [("post_id", pa.string()), ("views", pa.int64()), ("reach", pa.int64()),
                                        ("clicks", pa.int64()), ("reactions", pa.int64())],
                     key=("post_id",), description="Lifetime post insights as of the pull day; daily deltas are derived downstream."),
)


def facebook_content_type(record: dict[str, Any]) -> str:
    """A post's type in Facebook's own words: photo, video, reel, live, link, album or status.

    The first attachment decides; a reel is a video whose permalink is a /reel/
    URL; live broadcasts carry attachment type `live_video` (unverified: the
    sandbox models it so). No attachment at all is a text status.
    """
    attachments = (record.get("attachments") or {}).get("data") or []
    first = attachments[0] if attachments else {}
    media_type, kind = first.get("media_type"), first.get("type")
    if kind == "album" or media_type == "album":
        return "album"
    if kind == "live_video":
        return "live"
    if media_type == "video":
        return "reel" if "/reel/" in (record.get("permalink_url") or "") else "video"
    if media_type == "photo":
        return "photo"
    if media_type == "link" or kind == "share":
        return "link"
    return "status"


def _post_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    attachments = (record.get("attachments") or {}).get("data") or [{}]
    return {
        **as_sent(record, "message", "permalink_url", "status_type", post_id="id"),
        "created_time": v.timestamp(record.get("created_time"), "created_time", GRAPH_TIME),
        "attachment_media_type": attachments[0].get("media_type"),
        "attachment_type": attachments[0].get("type"),
        "platform_content_type": facebook_content_type(record),
    }


def _lifetime_values(body: dict[str, Any], v: Values) -> dict[str, Any]:
    """metric -> its lifetime value; an empty `values` list is no data (null)."""
    out: dict[str, Any] = {}
    for entry in body.get("data") or []:
        values = entry.get("values") or []
        raw = values[-1].get("value") if values else None
        if isinstance(raw, dict):  # post_reactions_by_type_total: {"like": 10, "love": 2}
            out[entry.get("name")] = sum(v.int(n, f"{entry.get('name')}.{k}") or 0 for k, n in raw.items())
        else:
            out[entry.get("name")] = v.int(raw, str(entry.get("name")))
    return out


class FacebookPagesConnector(MetaOrganicConnector):
    channel = CHANNEL
    streams = STREAMS
    display_name = "Facebook Pages"
    option_types = {"metrics": list, "post_metrics": list, "snapshot_post_days": int}
    normalize_account = normalize_page_id

    @property
    def metrics(self) -> tuple[str, ...]:
        metrics = tuple(self.settings.options.get("metrics", PAGE_METRICS))
        retired = DEPRECATED_METRICS.intersection(metrics)
        if retired:
            raise ValueError(f"{CHANNEL}: metrics {sorted(retired)} were removed by Meta; use page_follows / page_media_view")
        return metrics

    @property
    def snapshot_post_days(self) -> int:
        # Lifetime counters of older posts barely move: snapshot recent posts only.
        return int(self.settings.options.get("snapshot_post_days", 90))

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream == "page_insights":
            return self.daily_series(account, f"/{account}/insights", self.metrics, start, end, MAX_DAYS_PER_CALL,
                                     values, keep=("period",))
        if stream == "posts":
            return ((_post_row(r, values), r) for r in self._posts(account))
        return self._post_snapshots(account, end, values)

    def _posts(self, page: str) -> Iterator[dict[str, Any]]:
        return self.paged(page, f"/{page}/posts", {"fields": POST_FIELDS, "limit": PAGE_LIMIT})

    def _post_snapshots(self, page: str, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        metrics = tuple(self.settings.options.get("post_metrics", POST_METRICS))
        oldest = dt.datetime.combine(end - dt.timedelta(days=self.snapshot_post_days), dt.time(), dt.UTC)
        for post in self.newest_first_since(self._posts(page), "created_time", "posts", oldest):
            body = self.insights(page, f"/{post['id']}/insights", metrics, {"period": "lifetime"})
            got = _lifetime_values(body, v)
            row = {"snapshot_date": self.snapshot_date, "post_id": post["id"],
                   "views": got.get("post_media_view"), "reach": got.get("post_total_media_view_unique"),
                   "clicks": got.get("post_clicks"), "reactions": got.get("post_reactions_by_type_total")}
            yield row, {"post_id": post["id"], "insights": body.get("data") or []}
