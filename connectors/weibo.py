"""Weibo Open API connector: channel `weibo`.

Streams (raw_weibo.*), per configured uid:
- user_snapshots: `users/show.json` lifetime counters (followers, friends,
  statuses) as of the pull: `snapshot=True`.
- posts:          statuses created on the window's days, China time (+0800,
  the account's own day boundary): text, content type, and for a repost the
  original post (`retweeted_status.idstr`) and its author
  (`retweeted_status.user.idstr`): how the brand's account family reshares.
- post_snapshots: those statuses' lifetime `reposts_count`, `comments_count`,
  `attitudes_count` as dated snapshots (`snapshot=True`).

Wire quirks handled (api-notes section 8):
- `access_token` is a query parameter (Weibo demands it): it is registered
  with the redactor, and `access_token=` is redacted from every URL anyway.
- `id` is an int64 that loses precision through a float: only `idstr` is read.
- `created_at` looks like "Tue May 31 17:46:55 +0800 2011": parsed with its
  offset, stored in UTC, dated in +0800.
- Errors arrive under HTTP 200 or 4xx as `{"error_code": "21327", ...}`
  (`error_code` may be a string): 10022/10023/10024 are rate limits
  (`throttle`), 21327/21332 expired/invalid tokens (`auth`), others permanent.
- Page-number pagination (`count=100&page=N`) against `total_number`, newest
  first: paging stops once a page reaches back before the window; a status
  that shifts onto the next page while we read is kept once (by `idstr`).
- Weibo takes no metric list, so a removed metric shows as a counter key that
  no status on a page carries any more: that fails permanently, naming the
  metric and the channel, instead of landing silent nulls. A key missing on
  single statuses is null (never zero).
- A repost's content type is its original's (the repost shows that content).
- A repost whose original was deleted carries `retweeted_status` without a
  `user`: the original id is kept, its author is null (and so is its
  creation time: the placeholder's `created_at` is the repost's own).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import requests

from connectors.base import AccountIds, Fields, OrganicConnector, Stream, Values
from connectors.http import ApiClient, ApiError, Dialect, PageNumberPaginator, Verdict, register_secret

CHANNEL = "weibo"
PAGE_SIZE = 100  # `count`: Weibo's maximum
CHINA = dt.timezone(dt.timedelta(hours=8))
THROTTLE_CODES = {"10022", "10023", "10024"}
AUTH_CODES = {"21327", "21332"}
# Weibo's own "system busy/error" codes: worth a retry.
TRANSIENT_CODES = {"10001", "10009"}
STATUS_COUNTERS = Fields.snake(("reposts_count", "comments_count", "attitudes_count"))
USER_COUNTERS = Fields.snake(("followers_count", "friends_count", "statuses_count"))
CREATED_AT_FORMAT = "%a %b %d %H:%M:%S %z %Y"


normalize_uid = AccountIds("a Weibo uid", "digits only", r"[0-9]{1,20}")
TIMELINE_PAGES = PageNumberPaginator(total_pages=lambda body: math.ceil(int(body.get("total_number") or 0) / PAGE_SIZE))


class WeiboDialect(Dialect):
    def classify(self, response: requests.Response, body: Any) -> Verdict:
        status = response.status_code
        code = body.get("error_code") if isinstance(body, dict) else None
        if code is None:
            return super().classify(response, body)
        code = str(code)
        message = f"{body.get('error', '')} (request {body.get('request', '?')})"
        if code in THROTTLE_CODES:
            return Verdict("throttle", status, code, message)
        if code in AUTH_CODES:
            return Verdict("auth", status, code, message)
        if code in TRANSIENT_CODES or status >= 500:
            return Verdict("retry", status, code, message)
        return Verdict("permanent", status, code, message)


STREAMS = Stream.by_name(
    Stream.snapshots("user_snapshots", [("screen_name", pa.string()), *USER_COUNTERS.columns()], key=(),
                     description="users/show.json lifetime counters as of the pull day.", required_fields=("followers_count",)),
    Stream.of("posts", [("post_id", pa.string()), ("author_id", pa.string()), ("created_at", pa.timestamp("s", tz="UTC")),
                        ("created_date", pa.date32()), ("text", pa.string()), ("platform_content_type", pa.string()),
                        ("video_duration_seconds", pa.int64()), ("original_post_id", pa.string()),
                        ("original_author_id", pa.string()), ("original_created_at", pa.timestamp("s", tz="UTC"))],
              key=("post_id",), date_column="created_date",
              description="Statuses created on the window's +0800 days; reposts link to their original and its author."),
    Stream.snapshots("post_snapshots", [("post_id", pa.string()), ("created_date", pa.date32()),
                                        *STATUS_COUNTERS.columns()],
                     key=("post_id",),
                     description="Lifetime reposts/comments/attitudes of the window's statuses, snapshotted on the pull day."),
)


class WeiboConnector(OrganicConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://api.weibo.com/2"
    display_name = "Weibo"
    platform = "Sina"
    day_timezone = "Asia/Shanghai"
    engagements_basis = "published_posts"
    normalize_account = normalize_uid

    def make_client(self) -> ApiClient:
        register_secret(self.settings.credentials["access_token"])
        return ApiClient(CHANNEL, self.settings.base_url, WeiboDialect(), policy=self.policy, sleep=self.sleep)

    def _params(self, uid: str, **params: Any) -> dict[str, Any]:
        """`uid` and the token as query parameters (Weibo takes no auth header)."""
        return {"access_token": self.settings.credentials["access_token"], "uid": uid, **params}

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream == "user_snapshots":
            user = self.client.request_json("GET", "/users/show.json", account=account, params=self._params(account))
            _refuse_removed_counters([user], USER_COUNTERS, account, "/users/show.json")
            yield user_row(user, self.snapshot_date, values), user
            return
        parse = post_row if stream == "posts" else lambda s, v: snapshot_row(s, self.snapshot_date, v)
        for status in self._statuses(account, start, end):
            yield parse(status, values), status

    def _statuses(self, uid: str, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
        """The uid's statuses created on [start, end] (+0800), newest first."""
        path = "/statuses/user_timeline.json"
        # Read for the window only: a bad created_at is the streams' to quarantine.
        values = Values(CHANNEL, "posts", problems=[])
        seen: set[str] = set()
        pages = self.client.paginate("GET", path, TIMELINE_PAGES, account=uid, params=self._params(uid, count=PAGE_SIZE))
        for body in pages:
            statuses = [s for s in body.get("statuses") or () if isinstance(s, dict)]
            _refuse_removed_counters(statuses, STATUS_COUNTERS, uid, path)
            reached_back = False
            for status in statuses:
                created = values.timestamp(status.get("created_at"), "created_at", CREATED_AT_FORMAT)
                day = created.astimezone(CHINA).date() if created else None
                if day is not None and day < start:
                    reached_back = True
                    continue
                post_id = status.get("idstr")
                # A status without a readable created_at is kept, to be quarantined, never dropped.
                if (day is not None and day > end) or post_id in seen:
                    continue
                seen.add(post_id)
                yield status
            if reached_back or not statuses:
                return


def _refuse_removed_counters(records: list[dict[str, Any]], counters: Fields, uid: str, path: str) -> None:
    """A counter no record of a response carries is a metric Weibo stopped serving."""
    for counter in counters:
        if records and all(counter not in r for r in records):
            raise ApiError(
                CHANNEL, uid, f"GET {path}", 200, None,
                f"metric {counter!r} is missing from every record: Weibo no longer serves it (removed metric?)",
            )


def content_type(status: dict[str, Any], v: Values) -> tuple[str, int | None]:
    """(platform content type, video seconds): the card (`page_info`) first, then pictures."""
    page_info = status.get("page_info") or {}
    kind = page_info.get("object_type") or page_info.get("type")
    if kind:
        duration = (page_info.get("media_info") or {}).get("duration")
        return str(kind), v.int(duration, "page_info.media_info.duration")
    if status.get("pic_ids"):
        return "image", None
    return "text", None


def post_row(status: dict[str, Any], v: Values) -> dict[str, Any]:
    created = v.timestamp(status.get("created_at"), "created_at", CREATED_AT_FORMAT)
    original = status.get("retweeted_status")
    kind, duration = content_type(original if isinstance(original, dict) else status, v)
    row = {
        "post_id": status.get("idstr"),
        "author_id": (status.get("user") or {}).get("idstr"),
        "created_at": created,
        "created_date": created.astimezone(CHINA).date() if created else None,
        "text": status.get("text"),
        "platform_content_type": kind,
        "video_duration_seconds": duration,
        "original_post_id": None,
        "original_author_id": None,
        "original_created_at": None,
    }
    if isinstance(original, dict):
        row["original_post_id"] = original.get("idstr")
        row["original_author_id"] = (original.get("user") or {}).get("idstr")
        if original.get("user"):  # a deleted original's placeholder carries no time of its own
            row["original_created_at"] = v.timestamp(original.get("created_at"), "retweeted_status.created_at",
                                                     CREATED_AT_FORMAT)
    return row


def snapshot_row(status: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    created = v.timestamp(status.get("created_at"), "created_at", CREATED_AT_FORMAT)
    return {"snapshot_date": snapshot_date, "post_id": status.get("idstr"),
            "created_date": created.astimezone(CHINA).date() if created else None, **v.fields(status, STATUS_COUNTERS)}


def user_row(user: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    return {"snapshot_date": snapshot_date, "screen_name": user.get("screen_name"), **v.fields(user, USER_COUNTERS)}
