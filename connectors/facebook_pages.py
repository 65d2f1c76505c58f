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

Shared with `connectors.instagram` (same Graph API): `GraphConnector`
(client, paging, invalid-metric naming), `GRAPH_TIME`, `insight_day`,
`normalize_graph_id`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterator

import pyarrow as pa

from connectors.base import Connector, Stream, Values, date_chunks
from connectors.http import ApiClient, ApiError, paginate_cursor_url
from connectors.meta_ads import GRAPH_TIME, MetaDialect

CHANNEL = "facebook_pages"
MAX_DAYS_PER_CALL = 90
PAGE_LIMIT = 100
GRAPH_ID = re.compile(r"^[0-9]{1,25}$")
INVALID_METRIC_CODE = 100

PAGE_METRICS = (
    "page_follows", "page_daily_follows_unique", "page_daily_unfollows_unique", "page_media_view",
    "page_total_media_view_unique", "page_post_engagements", "page_negative_feedback",
)
POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks", "post_reactions_by_type_total")
DEPRECATED_METRICS = frozenset({"page_impressions_unique", "page_fans", "page_fan_adds"})
POST_FIELDS = "id,message,created_time,permalink_url,status_type,attachments{media_type,type}"


def normalize_graph_id(raw: str, what: str) -> str:
    text = str(raw).strip()
    if not GRAPH_ID.match(text):
        raise ValueError(f"not a {what} id (expected digits only): {raw!r}")
    return text


def normalize_page_id(raw: str) -> str:
    return normalize_graph_id(raw, "Facebook Page")




def insight_day(end_time: dt.datetime | None) -> dt.date | None:
    """The local day a daily value belongs to: the day before its end_time
    (none without one: the row is quarantined for its missing date).

    end_time is the following local midnight expressed in UTC; rounding it to
    the nearest UTC midnight recovers that local date for offsets up to 12 h.
    """
    if end_time is None:
        return None
    return (end_time + dt.timedelta(hours=12)).date() - dt.timedelta(days=1)


class GraphConnector(Connector):
    """What the Graph API channels share: Bearer auth, Meta's error dialect,
    cursor paging and naming the metric behind an "invalid metric" error."""

    credential_keys = ("access_token",)

    def make_client(self) -> ApiClient:
        # Header, not the access_token query parameter: tokens stay out of URLs.
        token = self.settings.credentials["access_token"]
        return ApiClient(self.channel, self.settings.base_url, MetaDialect(), {"Authorization": f"Bearer {token}"},
                         policy=self.policy, sleep=self.sleep)

    def get(self, account: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.request_json("GET", path, account=account, params=params)

    def paged(self, account: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        next_url = lambda body: (body.get("paging") or {}).get("next")  # noqa: E731
        cursor = lambda body: ((body.get("paging") or {}).get("cursors") or {}).get("after")  # noqa: E731
        fetch = lambda url, p: self.get(account, url, p)  # noqa: E731
        for body in paginate_cursor_url(fetch, path, params, next_url, cursor, channel=self.channel, account=account):
            yield from body.get("data", [])

    def insights(self, account: str, path: str, metrics: tuple[str, ...], params: dict[str, Any]) -> Any:
        """One insights call; an invalid-metric error is re-raised naming the metric."""
        try:
            return self.get(account, path, {"metric": ",".join(metrics), **params})
        except ApiError as exc:
            # Code 100 is Graph's generic "invalid parameter" (unknown object,
            # bad since/until too): only a message about metrics is ours to explain.
            if exc.kind != "permanent" or exc.code != INVALID_METRIC_CODE or "metric" not in exc.api_message.lower():
                raise
            bad = self._invalid_metrics(exc, metrics, lambda m: self.get(account, path, {"metric": m, **params}))
            if not bad:
                raise
            raise ApiError(
                self.channel, account, exc.endpoint, exc.status, exc.code,
                f"{self.channel}: metric {', '.join(bad)} is not valid any more (removed or renamed by the API). "
                f"API said: {exc.api_message}",
            ) from None

    @staticmethod
    def _invalid_metrics(exc: ApiError, metrics: tuple[str, ...], probe: Callable[[str], Any]) -> list[str]:
        # Instagram names the position: "(#100) metric[2] must be one of the
        # following values: <the valid ones>", so the list after it blames nobody.
        positions = [int(i) for i in re.findall(r"metric\[(\d+)\]", exc.api_message) if int(i) < len(metrics)]
        if positions:
            return [metrics[i] for i in positions]
        message = exc.api_message.split("must be one of", 1)[0]
        named = [m for m in metrics if re.search(rf"\b{re.escape(m)}\b", message)]
        if named:
            return named
        if len(metrics) == 1:
            return list(metrics)
        # The message names nothing: ask for each metric alone.
        bad = []
        for metric in metrics:
            try:
                probe(metric)
            except ApiError as probe_exc:
                if probe_exc.code != INVALID_METRIC_CODE:
                    raise
                bad.append(metric)
        return bad


STREAMS = {
    "page_insights": Stream(
        "page_insights",
        pa.schema([("date_day", pa.date32()), ("metric", pa.string()), ("period", pa.string()),
                   ("value", pa.int64()), ("end_time", pa.timestamp("s", tz="UTC"))]),
        key=("account_id", "date_day", "metric"),
        date_column="date_day",
        description="Page daily insights, one row per Page-local day and metric (value of the day before end_time).",
        required_fields=("name", "value", "end_time"),
        every_day=True,
        # The newest reported page_follows total and the follows/unfollows up
        # to the pull day land with every pull, a backfill's too.
        through_snapshot_date=True,
    ),
    "posts": Stream(
        "posts",
        pa.schema([("post_id", pa.string()), ("created_time", pa.timestamp("s", tz="UTC")), ("message", pa.string()),
                   ("permalink_url", pa.string()), ("status_type", pa.string()),
                   ("attachment_media_type", pa.string()), ("attachment_type", pa.string()),
                   ("platform_content_type", pa.string())]),
        key=("account_id", "post_id"),
        date_column=None,
        description="The Page's posts with the content type derived from status_type and the first attachment.",
    ),
    "post_snapshots": Stream(
        "post_snapshots",
        pa.schema([("snapshot_date", pa.date32()), ("post_id", pa.string()), ("views", pa.int64()),
                   ("reach", pa.int64()), ("clicks", pa.int64()), ("reactions", pa.int64())]),
        key=("account_id", "snapshot_date", "post_id"),
        date_column="snapshot_date",
        description="Lifetime post insights as of the pull day; daily deltas are derived downstream.",
        snapshot=True,
    ),
}


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
        "post_id": record.get("id"),
        "created_time": v.timestamp(record.get("created_time"), "created_time", GRAPH_TIME),
        "message": record.get("message"),
        "permalink_url": record.get("permalink_url"),
        "status_type": record.get("status_type"),
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


class FacebookPagesConnector(GraphConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://graph.facebook.com/v21.0"
    kind = "organic"
    display_name = "Facebook Pages"
    platform = "Meta"
    day_timezone = "America/Los_Angeles"
    paid_channel = "meta_ads"
    dbt_unions = {"account_daily": "stg_facebook_pages__account_daily", "posts": "stg_facebook_pages__posts",
                  "post_snapshots": "stg_facebook_pages__post_snapshots"}
    engagements_basis = "account_daily"
    expected_lag_days = 1
    option_types = {"metrics": list, "post_metrics": list, "snapshot_post_days": int}
    normalize_account = staticmethod(normalize_page_id)

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

    def read(self, stream: str, account: str, start: dt.date, end: dt.date) -> Iterator[pa.RecordBatch]:
        page = normalize_page_id(account)
        builder = self.builder(stream, page)
        values = builder.values
        rows = {
            "page_insights": lambda: self._page_insights(page, start, end, values),
            "posts": lambda: ((_post_row(r, values), r) for r in self._posts(page)),
            "post_snapshots": lambda: self._post_snapshots(page, end, values),
        }[stream]()
        for row, record in rows:
            builder.add(row, record)
            if builder.full():
                yield builder.flush()
        batch = builder.flush()
        if batch is not None:
            yield batch

    def _posts(self, page: str) -> Iterator[dict[str, Any]]:
        return self.paged(page, f"/{page}/posts", {"fields": POST_FIELDS, "limit": PAGE_LIMIT})

    def _page_insights(self, page: str, start: dt.date, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        metrics = self.metrics
        for since, until in date_chunks(start, end, MAX_DAYS_PER_CALL):
            params = {"period": "day", "since": since.isoformat(), "until": (until + dt.timedelta(days=1)).isoformat()}
            body = self.insights(page, f"/{page}/insights", metrics, params)
            for entry in body.get("data") or []:
                for point in entry.get("values") or []:
                    end_time = v.timestamp(point.get("end_time"), "end_time", GRAPH_TIME)
                    day = insight_day(end_time)
                    if day is not None and not since <= day <= until:
                        continue  # since/until are instants: a boundary value of a neighbouring day is not ours
                    row = {"date_day": day, "metric": entry.get("name"), "period": entry.get("period"),
                           "value": v.int(point.get("value"), str(entry.get("name"))), "end_time": end_time}
                    yield row, {"name": entry.get("name"), "period": entry.get("period"), **point}

    def _post_snapshots(self, page: str, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        metrics = tuple(self.settings.options.get("post_metrics", POST_METRICS))
        oldest = dt.datetime.combine(end - dt.timedelta(days=self.snapshot_post_days), dt.time(), dt.timezone.utc)
        for post in self._posts(page):
            # Read for the cut-off only: a bad created_time is the posts stream's to quarantine.
            created = Values(CHANNEL, "posts", problems=[]).timestamp(post.get("created_time"), "created_time", GRAPH_TIME)
            if created is not None and created < oldest:
                break  # newest first: every later post is older still
            body = self.insights(page, f"/{post['id']}/insights", metrics, {"period": "lifetime"})
            got = _lifetime_values(body, v)
            row = {"snapshot_date": self.snapshot_date, "post_id": post["id"],
                   "views": got.get("post_media_view"), "reach": got.get("post_total_media_view_unique"),
                   "clicks": got.get("post_clicks"), "reactions": got.get("post_reactions_by_type_total")}
            yield row, {"post_id": post["id"], "insights": body.get("data") or []}
