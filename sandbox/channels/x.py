"""X API v2 imitation, mounted at ``/x/2``.

Contract (see api-notes section 3)
----------------------------------
* ``GET /2/users/{id}?user.fields=...``: ``{"data": {id, name, username, [public_metrics]}}``.
* ``GET /2/users/{id}/tweets?tweet.fields=...&expansions=...&max_results=5..100
  &pagination_token=...&start_time=...&end_time=...``: the user's posts, newest
  first, limited to the newest 3,200; ``includes.tweets`` / ``includes.users`` /
  ``includes.media`` for the requested expansions; ``meta`` with
  ``result_count``, ``newest_id``, ``oldest_id`` and ``next_token`` (absent on
  the last page; no ``data`` key when nothing matches).
* Ids are int64 strings. ``created_at`` is ISO 8601 UTC with milliseconds.
* A few referenced posts are deleted: they are missing from ``includes`` and
  reported in ``errors[]`` beside ``data`` (HTTP 200 partial errors). An
  unknown user id is HTTP 200 with only ``errors[]``.
* Auth: app-only ``Authorization: Bearer``; otherwise 401 problem details.
  Every response carries ``x-rate-limit-limit/remaining/reset``; the throttle
  fault is HTTP 429 with ``x-rate-limit-reset`` (epoch s, ``params.seconds``
  ahead, default 60) and no Retry-After.
* Faults: throttle, server_error (``params.status``, default 503), stall,
  truncated, expired_token (401), remove_metric (400 invalid-request naming the
  field, when the request asks for it in ``tweet.fields``/``user.fields``),
  bad_data (on timeline posts, ``public_metrics.like_count`` style names),
  repeat_cursor (``next_token`` points back at the page just served).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import time
from typing import Any

from ..world_x import X_ACCOUNTS, XPost, XWorld, x_world
from .base import Channel, Request, Response, apply_overrides, json_response

REACHABLE_POSTS = 3200
_USER_RE = re.compile(r"^/2/users/([0-9]+)$")
_TWEETS_RE = re.compile(r"^/2/users/([0-9]+)/tweets$")
TWEET_FIELDS = frozenset({
    "article", "attachments", "author_id", "card_uri", "context_annotations", "conversation_id", "created_at",
    "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
    "note_tweet", "possibly_sensitive", "public_metrics", "referenced_tweets", "reply_settings", "source", "text",
    "withheld",
})
USER_FIELDS = frozenset({
    "created_at", "description", "entities", "id", "location", "name", "pinned_tweet_id", "profile_image_url",
    "protected", "public_metrics", "url", "username", "verified", "withheld",
})
MEDIA_FIELDS = frozenset({"duration_ms", "height", "media_key", "preview_image_url", "type", "url", "width",
                          "public_metrics", "alt_text", "variants"})
EXPANSIONS = frozenset({"attachments.media_keys", "author_id", "referenced_tweets.id",
                        "referenced_tweets.id.author_id", "in_reply_to_user_id"})
_PROBLEMS = "https://api.twitter.com/2/problems"
_DELETED_SHARE = 0.03  # referenced posts deleted since they were reshared


def _problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    body = {"title": title, "type": "about:blank", "status": status, "detail": detail or title, **extra}
    return json_response(status, body)


def _invalid(parameter: str, value: str, allowed: frozenset[str]) -> Response:
    return json_response(400, {
        "errors": [{"parameters": {parameter: [value]},
                    "message": f"The `{parameter}` query parameter value [{value}] is not one of "
                               f"[{','.join(sorted(allowed))}]"}],
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": f"{_PROBLEMS}/invalid-request",
    })


def _not_found(kind: str, parameter: str, value: str) -> dict[str, Any]:
    return {"value": value, "detail": f"Could not find {kind} with {parameter}: [{value}].",
            "title": "Not Found Error", "resource_type": kind, "parameter": parameter, "resource_id": value,
            "type": f"{_PROBLEMS}/resource-not-found"}


def _encode_token(offset: int) -> str:
    return base64.b32encode(f"nw{offset:08d}".encode()).decode().lower().rstrip("=")


def _decode_token(token: str) -> int:
    raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
    if not raw.startswith("nw"):
        raise ValueError(token)
    return int(raw[2:])


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _csv(req: Request, name: str) -> list[str]:
    return [x for x in (req.params.get(name) or "").split(",") if x]


class X(Channel):
    name = "x"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self._remaining: dict[str, int] = {}

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/2"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"bearer_token": credential, "accounts": [a.id for a in X_ACCOUNTS], "lookback_days": 7}

    # ------------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.bearer_token() == self.token:
            return None
        return _problem(401, "Unauthorized")

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        timeline = bool(_TWEETS_RE.match(req.subpath))
        if fault.kind == "remove_metric":
            return fault.params["metric"] in _csv(req, "tweet.fields") + _csv(req, "user.fields")
        return fault.kind in ("repeat_cursor", "bad_data") and timeline

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            resp = _problem(429, "Too Many Requests")
            resp.headers.update({"x-rate-limit-limit": "1500", "x-rate-limit-remaining": "0",
                                 "x-rate-limit-reset": str(int(time.time() + float(p.get("seconds", 60))))})
            return resp
        if fault.kind == "server_error":
            status = int(p.get("status", 503))
            return _problem(status, "Service Unavailable" if status == 503 else "Internal Server Error")
        if fault.kind == "expired_token":
            return _problem(401, "Unauthorized")
        if fault.kind == "remove_metric":
            metric = p["metric"]
            parameter = "tweet.fields" if metric in _csv(req, "tweet.fields") else "user.fields"
            allowed = (TWEET_FIELDS if parameter == "tweet.fields" else USER_FIELDS) - {metric}
            return _invalid(parameter, metric, allowed)
        raise ValueError(fault.kind)  # pragma: no cover - FaultBook routes only terminal kinds here

    def not_found(self, req: Request) -> Response:
        return _problem(404, "Not Found Error", f"Sorry, that page does not exist: {req.subpath}")

    def internal_error(self, req: Request) -> Response:
        return _problem(500, "Internal Server Error")

    def finalize(self, req: Request, resp: Response) -> None:
        if "x-rate-limit-reset" in resp.headers:
            return
        with self._lock:
            left = self._remaining[req.subpath] = (self._remaining.get(req.subpath, 1500) - 1) % 1500
        window_end = (int(time.time()) // 900 + 1) * 900  # 15-minute windows
        resp.headers.update({"x-rate-limit-limit": "1500", "x-rate-limit-remaining": str(left),
                             "x-rate-limit-reset": str(window_end)})

    # --------------------------------------------------------------- handlers
    def handle(self, req: Request) -> Response:
        if req.method != "GET":
            return self.not_found(req)
        xw = x_world(req.world)
        for parameter, allowed in (("tweet.fields", TWEET_FIELDS), ("user.fields", USER_FIELDS),
                                   ("media.fields", MEDIA_FIELDS), ("expansions", EXPANSIONS)):
            for value in _csv(req, parameter):
                if value not in allowed:
                    return _invalid(parameter, value, allowed)
        user = _USER_RE.match(req.subpath)
        if user:
            return self._user(req, xw, user.group(1))
        tweets = _TWEETS_RE.match(req.subpath)
        if tweets:
            return self._tweets(req, xw, tweets.group(1))
        return self.not_found(req)

    def _user_object(self, xw: XWorld, user_id: str, fields: list[str]) -> dict[str, Any]:
        full = xw.user(user_id)
        return {k: v for k, v in full.items() if k in ("id", "name", "username") or k in fields}

    def _user(self, req: Request, xw: XWorld, user_id: str) -> Response:
        if user_id not in xw.accounts:
            return json_response(200, {"errors": [_not_found("user", "id", user_id)]})
        return json_response(200, {"data": self._user_object(xw, user_id, _csv(req, "user.fields"))}, rows=1)

    def _tweets(self, req: Request, xw: XWorld, user_id: str) -> Response:
        if user_id not in xw.accounts:
            return json_response(200, {"errors": [_not_found("user", "id", user_id)]})
        p = req.params
        try:
            size = int(p.get("max_results", 10))
            start = dt.datetime.fromisoformat(p["start_time"].replace("Z", "+00:00")) if p.get("start_time") else None
            end = dt.datetime.fromisoformat(p["end_time"].replace("Z", "+00:00")) if p.get("end_time") else None
            offset = _decode_token(p["pagination_token"]) if p.get("pagination_token") else 0
        except (ValueError, KeyError, UnicodeDecodeError):
            return json_response(400, {"errors": [{"message": "Invalid max_results, start_time, end_time or "
                                                              "pagination_token"}],
                                       "title": "Invalid Request", "type": f"{_PROBLEMS}/invalid-request",
                                       "detail": "One or more parameters to your request was invalid."})
        if not 5 <= size <= 100:
            return _invalid("max_results", str(size), frozenset({"5..100"}))
        matching = []
        for n, post in enumerate(xw.timeline(user_id)):
            if n >= REACHABLE_POSTS or (start is not None and post.created_at < start):
                break
            if end is None or post.created_at < end:
                matching.append(post)
        page = matching[offset:offset + size]
        if not page:
            return json_response(200, {"meta": {"result_count": 0}})
        fields, expansions = _csv(req, "tweet.fields"), _csv(req, "expansions")
        data = []
        for post in page:
            row = self._tweet_object(xw, post, fields)
            apply_overrides(row, req.bad_data)
            data.append(row)
        body: dict[str, Any] = {"data": data}
        includes, errors = self._includes(req, xw, page, fields, expansions)
        if includes:
            body["includes"] = includes
        if errors:
            body["errors"] = errors
        meta: dict[str, Any] = {"result_count": len(page), "newest_id": page[0].id, "oldest_id": page[-1].id}
        if req.repeat_cursor:
            meta["next_token"] = _encode_token(offset)
        elif offset + size < len(matching):
            meta["next_token"] = _encode_token(offset + size)
        body["meta"] = meta
        return json_response(200, body, rows=len(page))

    def _tweet_object(self, xw: XWorld, post: XPost, fields: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {"author_id": post.author_id, "created_at": _iso(post.created_at)}
        if post.referenced_id:
            values["referenced_tweets"] = [{"type": post.kind, "id": post.referenced_id}]
            if post.kind == "replied_to":
                values["in_reply_to_user_id"] = post.referenced_author_id
        if post.media_key:
            values["attachments"] = {"media_keys": [post.media_key]}
        if post.content in ("link", "broadcast"):
            url = (f"https://x.com/i/broadcasts/1nw{post.id[-8:]}" if post.content == "broadcast"
                   else f"https://northwind-outdoor.example/blog/{post.id[-6:]}")
            values["entities"] = {"urls": [{"start": 0, "end": 23, "url": f"https://t.co/nw{post.id[-6:]}",
                                            "expanded_url": url, "display_url": url.split("//", 1)[1][:26]}]}
        values["public_metrics"] = xw.public_metrics(post) if "public_metrics" in fields else None
        row = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
        row.update({k: v for k, v in values.items() if k in fields and v is not None})
        return row

    def _includes(self, req: Request, xw: XWorld, page: list[XPost], fields: list[str],
                  expansions: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        includes: dict[str, list] = {}
        errors: list[dict[str, Any]] = []
        if "referenced_tweets.id" in expansions:
            authors: list[str] = []
            for post in page:
                if not post.referenced_id:
                    continue
                if req.world.h.u("x-deleted", post.referenced_id)[0] < _DELETED_SHARE:
                    errors.append(_not_found("tweet", "referenced_tweets.id", post.referenced_id))
                    continue
                original = xw.post(post.referenced_id)
                if original is None:  # pragma: no cover - world references only existing posts
                    continue
                includes.setdefault("tweets", []).append(self._tweet_object(xw, original, fields))
                if original.author_id not in authors:
                    authors.append(original.author_id)
            if "referenced_tweets.id.author_id" in expansions and authors:
                user_fields = _csv(req, "user.fields")
                includes["users"] = [self._user_object(xw, a, user_fields) for a in authors]
        if "attachments.media_keys" in expansions:
            media_fields = _csv(req, "media.fields")
            for post in page:
                if post.media_key:
                    media = {"media_key": post.media_key, "type": post.content}
                    if "duration_ms" in media_fields and post.duration_ms is not None:
                        media["duration_ms"] = post.duration_ms
                    includes.setdefault("media", []).append(media)
        return includes, errors
