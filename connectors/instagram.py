"""Instagram Graph API (business account) connector: channel `instagram`.

Streams (raw_instagram.*):
- account_insights:      one row per account-local day x metric (long format):
                         `reach` and `follower_count` as daily time series
                         (`values[].end_time`), `views` and
                         `total_interactions` as `metric_type=total_value`
                         asked one day at a time (a total_value answer is one
                         number for the whole since..until range).
- user_snapshots:        the account's current followers_count, follows_count
                         and media_count (`GET /{ig-user-id}?fields=...`),
                         recorded on the pull day (snapshot=True): the only
                         follower TOTAL Instagram serves (the daily insights
                         give new followers only).
- follower_demographics: lifetime follower counts per age / gender / country
                         bucket, recorded on the pull day (snapshot=True).
- media:                 every media item: media_type (IMAGE, VIDEO,
                         CAROUSEL_ALBUM), media_product_type (FEED, REELS,
                         STORY), caption, timestamp, permalink (list).
- media_insights:        lifetime insights per media item (reach, likes,
                         comments, saved, shares, total_interactions, views;
                         stories: reach, replies, shares, total_interactions,
                         views), recorded on the pull day (snapshot=True).

Wire quirks handled (api-notes section 2):
- `follower_count` (per day: the day's NEW followers, not the total) exists
  for the last 30 days only: it is asked for the
  window's days within the 30 days before the pull day (`snapshot_date`) and
  not at all for older days, which have no follower_count row (null
  downstream), never a made-up number.
- A daily value belongs to the day before its `end_time` (see
  `connectors.graph.insight_day`); time series calls span <= 30 days.
- Media with too few viewers answer `(#10) Not enough viewers for the media to
  show insights`: that media gets a row of nulls with
  insights_status='not_enough_viewers', the sync goes on.
- Missing data is an empty `values` list: null, not 0 (so are the newest
  media during the API's up-to-48-hour insights delay).
- Media ids are 17-18 digit numbers: kept as strings (a double loses them).
- An invalid metric (code 100, "metric[i] must be one of ...") fails with the
  metric and the channel named; throttles (codes 4/17/32/613/80002) and
  expired tokens (190) are read by `MetaDialect`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from connectors.base import ORGANIC_UNIONS, Fields, ParseError, Stream, UnionModels, Values, as_sent, date_chunks
from connectors.graph import GRAPH_TIME, MetaOrganicConnector, graph_ids
from connectors.http import ApiError

CHANNEL = "instagram"
MAX_DAYS_PER_CALL = 30
FOLLOWER_COUNT_DAYS = 30
PAGE_LIMIT = 100
NOT_ENOUGH_VIEWERS_CODE = 10

SERIES_METRICS = ("reach",)
TOTAL_VALUE_METRICS = ("views", "total_interactions")
DEMOGRAPHIC_DIMENSIONS = ("age", "gender", "country")
MEDIA_FIELDS = "id,caption,media_type,media_product_type,timestamp,permalink"
USER_FIELDS = Fields.snake(("followers_count", "follows_count", "media_count"))
FEED_METRICS = ("reach", "likes", "comments", "saved", "shares", "total_interactions", "views")
STORY_METRICS = ("reach", "replies", "shares", "total_interactions", "views")
MEDIA_COLUMNS = ("reach", "likes", "comments", "saved", "shares", "replies", "total_interactions", "views")


normalize_ig_user_id = graph_ids("an Instagram business account id (ig-user-id)")


STREAMS = Stream.by_name(
    Stream.of("account_insights", [("date_day", pa.date32()), ("metric", pa.string()), ("value", pa.int64()),
                                   ("end_time", pa.timestamp("s", tz="UTC"))],
              key=("date_day", "metric"), date_column="date_day",
              description="Account daily insights, one row per account-local day and metric.",
              required_fields=("name",), every_day=True),
    Stream.snapshots("user_snapshots", USER_FIELDS.columns(), key=(),
                     description="The account's follower total, follows and media count as of the pull day.",
                     required_fields=("followers_count",)),
    Stream.snapshots("follower_demographics", [("dimension", pa.string()), ("bucket", pa.string()), ("followers", pa.int64())],
                     key=("dimension", "bucket"),
                     description="Lifetime follower counts per age, gender and country bucket, as of the pull day."),
    Stream.of("media", [("media_id", pa.string()), ("published_at", pa.timestamp("s", tz="UTC")),
                        ("media_type", pa.string()), ("media_product_type", pa.string()), ("caption", pa.string()),
                        ("permalink", pa.string())],
              key=("media_id",), description="Every media item of the account (feed posts, reels, stories)."),
    Stream.snapshots("media_insights", [("media_id", pa.string()), ("insights_status", pa.string()),
                                        *Fields.snake(MEDIA_COLUMNS).columns()],
                     key=("media_id",), description="Lifetime media insights as of the pull day; nulls where the API has no data."),
)


class InstagramConnector(MetaOrganicConnector):
    channel = CHANNEL
    streams = STREAMS
    display_name = "Instagram"
    dbt_unions = UnionModels(*ORGANIC_UNIONS, "follower_demographics")
    option_types = {"snapshot_media_days": int}
    normalize_account = normalize_ig_user_id

    @property
    def snapshot_media_days(self) -> int:
        return int(self.settings.options.get("snapshot_media_days", 90))

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        return {
            "account_insights": lambda: self._account_insights(account, start, end, values),
            "user_snapshots": lambda: self._user_snapshot(account, values),
            "follower_demographics": lambda: self._demographics(account, values),
            "media": lambda: ((_media_row(r, values), r) for r in self._media(account)),
            "media_insights": lambda: self._media_insights(account, end, values),
        }[stream]()

    # ------------------------------------------------------------------ account

    def _account_insights(self, user: str, start: dt.date, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        path = f"/{user}/insights"
        yield from self.daily_series(user, path, SERIES_METRICS, start, end, MAX_DAYS_PER_CALL, v)
        # The API keeps follower_count for the 30 days before today: asking
        # for older days is an error, so a backfill simply has none.
        newest = min(end, self.snapshot_date - dt.timedelta(days=1))
        oldest = max(start, self.snapshot_date - dt.timedelta(days=FOLLOWER_COUNT_DAYS))
        if oldest <= newest:
            yield from self.daily_series(user, path, ("follower_count",), oldest, newest, MAX_DAYS_PER_CALL, v)
        for day, _ in date_chunks(start, end, 1):
            params = {"period": "day", "metric_type": "total_value", "since": day.isoformat(),
                      "until": (day + dt.timedelta(days=1)).isoformat()}
            body = self.insights(user, path, TOTAL_VALUE_METRICS, params)
            for entry in body.get("data") or []:
                total = entry.get("total_value") or {}
                row = {"date_day": day, "metric": entry.get("name"),
                       "value": v.int(total.get("value"), str(entry.get("name"))), "end_time": None}
                yield row, {"date": day.isoformat(), **entry}

    def _user_snapshot(self, user: str, v: Values) -> Iterator[tuple[dict, dict]]:
        body = self.get(user, f"/{user}", {"fields": ",".join(USER_FIELDS)})
        yield user_snapshot_row(body, self.snapshot_date, v), body

    def _demographics(self, user: str, v: Values) -> Iterator[tuple[dict, dict]]:
        for dimension in DEMOGRAPHIC_DIMENSIONS:
            params = {"period": "lifetime", "metric_type": "total_value", "breakdown": dimension}
            body = self.insights(user, f"/{user}/insights", ("follower_demographics",), params)
            yield from parse_demographics(body, self.snapshot_date, v)

    # -------------------------------------------------------------------- media

    def _media(self, user: str) -> Iterator[dict[str, Any]]:
        return self.paged(user, f"/{user}/media", {"fields": MEDIA_FIELDS, "limit": PAGE_LIMIT})

    def _media_insights(self, user: str, end: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
        oldest = dt.datetime.combine(end - dt.timedelta(days=self.snapshot_media_days), dt.time(), dt.UTC)
        for media in self.newest_first_since(self._media(user), "timestamp", "media", oldest):
            metrics = STORY_METRICS if media.get("media_product_type") == "STORY" else FEED_METRICS
            row: dict[str, Any] = {"snapshot_date": self.snapshot_date, "media_id": media["id"]}
            try:
                body = self.insights(user, f"/{media['id']}/insights", metrics, {})
            except ApiError as exc:
                if exc.code != NOT_ENOUGH_VIEWERS_CODE:
                    raise
                # Too few viewers: the API withholds the numbers; that is not a failure.
                row["insights_status"] = "not_enough_viewers"
                yield row, {"media_id": media["id"], "error": exc.api_message}
                continue
            row["insights_status"] = "ok"
            row.update(parse_media_insights(body, v))
            yield row, {"media_id": media["id"], "insights": body.get("data") or []}


def parse_media_insights(body: dict[str, Any], v: Values) -> dict[str, int | None]:
    """metric -> lifetime value; an empty `values` list means no data (null)."""
    out: dict[str, int | None] = {}
    for entry in body.get("data") or []:
        name = entry.get("name")
        if name not in MEDIA_COLUMNS:
            continue
        values = entry.get("values") or []
        total = entry.get("total_value")
        raw = values[-1].get("value") if values else (total or {}).get("value")
        out[name] = v.int(raw, name)
    return out


def parse_demographics(body: dict[str, Any], snapshot_date: dt.date, v: Values) -> Iterator[tuple[dict, dict]]:
    for entry in body.get("data") or []:
        for breakdown in (entry.get("total_value") or {}).get("breakdowns") or []:
            keys = breakdown.get("dimension_keys") or []
            if len(keys) != 1:
                raise ParseError(CHANNEL, v.stream, "dimension_keys", keys, "expected exactly one breakdown dimension")
            for result in breakdown.get("results") or []:
                bucket = (result.get("dimension_values") or [None])[0]
                row = {"snapshot_date": snapshot_date, "dimension": keys[0], "bucket": bucket,
                       "followers": v.int(result.get("value"), f"follower_demographics.{keys[0]}")}
                yield row, {"dimension_keys": keys, **result}


def _media_row(record: dict[str, Any], v: Values) -> dict[str, Any]:
    return {
        **as_sent(record, "media_type", "media_product_type", "caption", "permalink", media_id="id"),
        "published_at": v.timestamp(record.get("timestamp"), "timestamp", GRAPH_TIME),
    }


def user_snapshot_row(body: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    """The IG User node's counts; a field the API left out is null, not zero."""
    return {"snapshot_date": snapshot_date, **v.fields(body, USER_FIELDS)}
