"""X API v2 connector: channel `x`.

Streams (raw_x.*), per configured user id:
- user_snapshots: the user's lifetime `public_metrics` (followers, following,
  posts, listed) as of the pull: `snapshot=True`, keyed by (snapshot_date).
- posts:          the user's posts created in the window (UTC days, X's own
  day boundary): text, content type (from the expanded media / links), and
  the primary reference (retweeted > quoted > replied_to) with the original
  post id and its author: how the brand's account family reshares each other.
- post_references: every `referenced_tweets` entry of those posts, with the
  referenced post's author and creation time from `includes.tweets` (the
  account matrix's reshare lag).
- post_metrics:   the posts' lifetime `public_metrics` as dated snapshots
  (`snapshot=True`): daily deltas are derived downstream.

Wire quirks handled (api-notes section 3):
- Ids are int64 strings: kept as strings end to end, never through a float.
- App-only `Authorization: Bearer` header: the token never enters a URL.
- Pagination: `meta.next_token` is sent back as `pagination_token`; the last
  page has none; a repeating token is refused (connectors.http.TokenPaginator).
- Throttling is HTTP 429 with an epoch `x-rate-limit-reset` and NO Retry-After:
  the wait is "until the reset" (+1 s for clock skew). 401 is `auth`.
- HTTP 200 may carry `errors[]` beside `data` (partial errors). Decision: an
  error about an expanded object (a deleted or protected referenced post) is
  recorded in the log and the reference keeps a null author; an answer with
  `errors[]` and NO `data` means the requested object itself is missing and
  fails the request (`permanent`).
- An invalid field (`tweet.fields`/`user.fields`: a removed metric) is HTTP
  400 `invalid-request` whose `errors[].message` names the field: the
  resulting ApiError names the channel and the field.
- Only the newest 3,200 posts are reachable. The timeline is read from the
  window's `start_time` with no `end_time` (posts after the window are dropped
  here), so when exactly that cap is served and the oldest post returned is
  still newer than the window start, the window reaches beyond what X serves:
  a warning says so, naming the account and the first day still covered.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import requests

from connectors.base import ISO_8601, AccountIds, Fields, OrganicConnector, Stream, Values
from connectors.http import ApiClient, Dialect, TokenPaginator, Verdict, header_value, retry_after

log = logging.getLogger("socialmart.x")

CHANNEL = "x"
PAGE_SIZE = 100  # max_results: X's maximum for the user timeline
REACHABLE_POSTS = 3200  # X serves only a user's newest 3,200 posts
TWEET_FIELDS = "created_at,public_metrics,referenced_tweets,author_id,attachments,entities"
EXPANSIONS = "referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys"
USER_FIELDS = "public_metrics,username,name"
MEDIA_FIELDS = "type,duration_ms"
# Which reference makes a post a repost of another, in order of precedence.
REFERENCE_PRECEDENCE = ("retweeted", "quoted", "replied_to")
BROADCAST_URL = re.compile(r"^https?://(?:www\.)?(?:x|twitter)\.com/i/broadcasts/")
POST_METRICS = Fields.snake(("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count"))
USER_METRICS = Fields.snake(("followers_count", "following_count", "tweet_count", "listed_count"))


# The numeric id as a string: an int64, so at most 19 digits and below 2**63.
normalize_user_id = AccountIds("an X user id", "the numeric id as a string of up to 19 digits", r"[0-9]{1,19}",
                               below=2**63)
TIMELINE_PAGES = TokenPaginator(next_token=lambda body: (body.get("meta") or {}).get("next_token"),
                                param="pagination_token")


class XDialect(Dialect):
    """X's problem-details envelope (`title`, `detail`, `type`, `errors[]`)."""

    def classify(self, response: requests.Response, body: Any) -> Verdict:
        status = response.status_code
        envelope = body if isinstance(body, dict) else {}
        message = _problem_message(envelope) or response.text[:300]
        if status == 429:
            return Verdict("throttle", status, envelope.get("title"), message, _until_reset(response))
        if status == 401:
            return Verdict("auth", status, envelope.get("title"), message)
        if status >= 500:
            return Verdict("retry", status, envelope.get("title"), message, retry_after(response))
        if status >= 400:
            return Verdict("permanent", status, envelope.get("title"), message)
        if envelope.get("errors") and "data" not in envelope and "meta" not in envelope:
            # Errors and nothing else: the requested object itself is missing.
            return Verdict("permanent", status, "partial error", message)
        return Verdict("ok")


def _problem_message(body: dict[str, Any]) -> str:
    """detail plus every errors[].message (which names an invalid field)."""
    parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
    for error in body.get("errors") or ():
        if isinstance(error, dict):
            parts.append(str(error.get("message") or error.get("detail") or error))
    return "; ".join(parts)


def _until_reset(response: requests.Response) -> float | None:
    """Seconds until `x-rate-limit-reset` (epoch s), +1 s for clock skew."""
    wait = header_value(response, "x-rate-limit-reset", lambda raw: max(0.0, float(raw) - time.time()) + 1.0)
    return retry_after(response) if wait is None else wait


STREAMS = Stream.by_name(
    Stream.snapshots("user_snapshots", [("username", pa.string()), ("name", pa.string()), *USER_METRICS.columns()],
                     key=(), description="The user's lifetime public_metrics as of the pull day.",
                     required_fields=("public_metrics.followers_count",)),
    Stream.of("posts", [("post_id", pa.string()), ("author_id", pa.string()), ("created_at", pa.timestamp("ms", tz="UTC")),
                        ("created_date", pa.date32()), ("text", pa.string()), ("platform_content_type", pa.string()),
                        ("media_duration_ms", pa.int64()), ("reference_type", pa.string()),
                        ("referenced_post_id", pa.string()), ("referenced_author_id", pa.string())],
              key=("post_id",), date_column="created_date",
              description="Posts of the user created on the window's UTC days, with their primary reference."),
    Stream.of("post_references", [("post_id", pa.string()), ("created_date", pa.date32()), ("reference_type", pa.string()),
                                  ("referenced_post_id", pa.string()), ("referenced_author_id", pa.string()),
                                  ("referenced_created_at", pa.timestamp("ms", tz="UTC"))],
              key=("post_id", "reference_type", "referenced_post_id"), date_column="created_date",
              description="Every referenced_tweets entry (retweeted/quoted/replied_to) with the original's author."),
    Stream.snapshots("post_metrics", [("post_id", pa.string()), ("created_date", pa.date32()), *POST_METRICS.columns()],
                     key=("post_id",), description="Lifetime public_metrics of the window's posts, snapshotted on the pull day."),
)


class XConnector(OrganicConnector):
    channel = CHANNEL
    streams = STREAMS
    default_base_url = "https://api.x.com/2"
    display_name = "X"
    platform = "X"
    day_timezone = "UTC"
    engagements_basis = "published_posts"
    credential_keys = ("bearer_token",)
    normalize_account = normalize_user_id

    def make_client(self) -> ApiClient:
        return self.bearer_client(XDialect(), "bearer_token")

    def records(self, stream: str, account: str, start: dt.date, end: dt.date,
                values: Values) -> Iterator[tuple[dict[str, Any], Any]]:
        if stream == "user_snapshots":
            body = self.client.request_json("GET", f"/users/{account}", account=account,
                                            params={"user.fields": USER_FIELDS})
            _log_partial_errors(body, account)
            yield user_row(body.get("data") or {}, self.snapshot_date, values), body.get("data")
            return
        for post, includes in self._timeline(account, start, end):
            for row in self._rows(stream, post, includes, values):
                yield row, post

    def _rows(self, stream: str, post: dict[str, Any], includes: Includes, v: Values) -> Iterator[dict[str, Any]]:
        if stream == "posts":
            yield post_row(post, includes, v)
        elif stream == "post_references":
            yield from reference_rows(post, includes, v)
        else:
            yield metrics_row(post, self.snapshot_date, v)

    def _timeline(self, user_id: str, start: dt.date, end: dt.date) -> Iterator[tuple[dict[str, Any], Includes]]:
        """The user's posts created on [start, end] (UTC), each with its page's includes."""
        path = f"/users/{user_id}/tweets"
        params = {
            "tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": "username",
            "media.fields": MEDIA_FIELDS, "max_results": PAGE_SIZE,
            "start_time": f"{start.isoformat()}T00:00:00Z",
        }

        # Read for the window only: a bad created_at is the streams' to quarantine.
        values = Values(CHANNEL, "posts", problems=[])
        served = 0
        oldest: dt.datetime | None = None
        for body in self.client.paginate("GET", path, TIMELINE_PAGES, account=user_id, params=params):
            _log_partial_errors(body, user_id)
            includes = Includes(body.get("includes") or {})
            for post in body.get("data") or ():
                served += 1
                created = values.timestamp(post.get("created_at"), "created_at", ISO_8601)
                oldest = created if oldest is None or (created and created < oldest) else oldest
                # No end_time is sent (see module docstring): drop what is newer than the window.
                # A post without a readable created_at is kept, to be quarantined, never dropped.
                if created is None or start <= created.date() <= end:
                    yield post, includes
        window_start = dt.datetime.combine(start, dt.time(), dt.UTC)
        if served >= REACHABLE_POSTS and oldest is not None and oldest > window_start:
            log.warning(
                "x user %s: only the newest %d posts are reachable and they reach back to %s only; "
                "posts of %s..%s are missing from this sync",
                user_id, REACHABLE_POSTS, oldest.date(), start, oldest.date(),
            )


class Includes:
    """A page's `includes`: referenced posts, their authors and media, by id."""

    def __init__(self, includes: dict[str, Any]) -> None:
        self.tweets = {t.get("id"): t for t in includes.get("tweets") or () if isinstance(t, dict)}
        self.media = {m.get("media_key"): m for m in includes.get("media") or () if isinstance(m, dict)}

    def author_of(self, post_id: str | None) -> str | None:
        return (self.tweets.get(post_id) or {}).get("author_id")

    def created_at_of(self, post_id: str | None) -> str | None:
        return (self.tweets.get(post_id) or {}).get("created_at")


def _log_partial_errors(body: Any, user_id: str) -> None:
    for error in (body.get("errors") or ()) if isinstance(body, dict) else ():
        # Routine (a deleted or protected tweet): a note, not a warning.
        log.info("x user %s: partial error kept out of the rows: %s", user_id,
                    error.get("detail") or error.get("title") or error)


def _primary_reference(post: dict[str, Any]) -> dict[str, Any] | None:
    refs = [r for r in post.get("referenced_tweets") or () if isinstance(r, dict)]
    for kind in REFERENCE_PRECEDENCE:
        for ref in refs:
            if ref.get("type") == kind:
                return ref
    return None


def _content(post: dict[str, Any], includes: Includes, v: Values) -> tuple[str, int | None]:
    """(platform content type, media duration): media type first, then links."""
    for key in (post.get("attachments") or {}).get("media_keys") or ():
        media = includes.media.get(key)
        if media:
            return str(media.get("type")), v.int(media.get("duration_ms"), "media.duration_ms")
    urls = [u.get("expanded_url") or u.get("url") or "" for u in (post.get("entities") or {}).get("urls") or ()]
    if any(BROADCAST_URL.match(u) for u in urls):
        return "broadcast", None
    if urls:
        return "link", None
    return "text", None


def post_row(post: dict[str, Any], includes: Includes, v: Values) -> dict[str, Any]:
    created = v.timestamp(post.get("created_at"), "created_at", ISO_8601)
    ref = _primary_reference(post)
    content_type, duration = _content(post, includes, v)
    return {
        "post_id": post.get("id"),
        "author_id": post.get("author_id"),
        "created_at": created,
        "created_date": created.date() if created else None,
        "text": post.get("text"),
        "platform_content_type": content_type,
        "media_duration_ms": duration,
        "reference_type": ref.get("type") if ref else None,
        "referenced_post_id": ref.get("id") if ref else None,
        "referenced_author_id": includes.author_of(ref.get("id")) if ref else None,
    }


def reference_rows(post: dict[str, Any], includes: Includes, v: Values) -> Iterator[dict[str, Any]]:
    for ref in post.get("referenced_tweets") or ():
        # Parsed per row: a problem belongs to the row added next, and a post without references adds none.
        created = v.timestamp(post.get("created_at"), "created_at", ISO_8601)
        yield {
            "post_id": post.get("id"),
            "created_date": created.date() if created else None,
            "reference_type": ref.get("type"),
            "referenced_post_id": ref.get("id"),
            "referenced_author_id": includes.author_of(ref.get("id")),
            # Null when X reported the referenced post missing (not in includes).
            "referenced_created_at": v.timestamp(includes.created_at_of(ref.get("id")), "includes.tweets.created_at", ISO_8601),
        }


def metrics_row(post: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    created = v.timestamp(post.get("created_at"), "created_at", ISO_8601)
    return {"snapshot_date": snapshot_date, "post_id": post.get("id"), "created_date": created.date() if created else None,
            **v.fields(post.get("public_metrics") or {}, POST_METRICS, "public_metrics.")}


def user_row(user: dict[str, Any], snapshot_date: dt.date, v: Values) -> dict[str, Any]:
    return {"snapshot_date": snapshot_date, "username": user.get("username"), "name": user.get("name"),
            **v.fields(user.get("public_metrics") or {}, USER_METRICS, "public_metrics.")}
