"""YouTube imitation: Analytics API v2 at ``/youtube/v2``, Data API v3 at ``/youtube/youtube/v3``.

Contract (see api-notes section 4)
----------------------------------
* ``GET /v2/reports?ids=channel==MINE|channel==UC...&startDate&endDate&metrics&dimensions``:
  ``dimensions=day`` (one row per day) or ``day,video`` (one row per day x
  video with views), ``maxResults`` (<= 200 for video reports) and 1-based
  ``startIndex``. Body: ``kind``, ``columnHeaders`` (dimensions, then the
  metrics in the order asked), positional ``rows`` of JSON numbers (``rows``
  omitted when empty). The newest ``ANALYTICS_LAG_DAYS`` days are missing.
* ``GET /youtube/v3/channels?part=...&id=UC...|mine=true``,
  ``/playlistItems?playlistId=UU...&maxResults<=50&pageToken`` (``nextPageToken``),
  ``/videos?part=snippet,statistics,contentDetails,liveStreamingDetails&id=a,b``
  (at most 50 ids). Statistics are strings; ``likeCount`` is omitted for the
  few uploads that hide it. The channel's ``statistics.subscriberCount`` is the
  end-of-today total: yesterday's plus today's subscribersGained minus
  subscribersLost (which Analytics serves once the lag has passed).
* Errors: Google's envelope ``{"error": {"code", "message", "errors": [{"domain",
  "reason"}], "status"}}``. 401 UNAUTHENTICATED for a bad token; an unknown
  metric is a 400 "Unknown identifier (x) given in field parameters.metrics.".
* Faults: throttle (403 ``rateLimitExceeded``, or with ``params={"daily": True}``
  the daily 403 ``quotaExceeded``), server_error (503 backendError), stall,
  truncated, expired_token (401), remove_metric (the 400 above, Analytics
  only), bad_data (a report column or a ``statistics.<name>``/``snippet.<name>``
  of a video), repeat_cursor (playlistItems pages).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
from collections import OrderedDict
from typing import Any

from ..world_youtube import ANALYTICS_LAG_DAYS, UPLOADS_PLAYLIST, Video, YoutubeWorld
from .base import Channel, Request, Response, apply_overrides, json_response

METRICS = ("views", "estimatedMinutesWatched", "likes", "comments", "shares", "subscribersGained", "subscribersLost")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_VIDEO_ROWS = 200
MAX_PLAYLIST_PAGE = 50
MAX_VIDEO_IDS = 50
_REPORT_CACHE_SIZE = 16


class GoogleError(Exception):
    def __init__(self, code: int, message: str, reason: str, status: str, domain: str = "global") -> None:
        super().__init__(message)
        self.code, self.message, self.reason, self.status, self.domain = code, message, reason, status, domain

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message,
                          "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
                          "status": self.status}}


def _bad_request(message: str) -> GoogleError:
    return GoogleError(400, message, "badRequest", "INVALID_ARGUMENT")


def unknown_metric(name: str) -> GoogleError:
    return _bad_request(f"Unknown identifier ({name}) given in field parameters.metrics.")


UNAUTHENTICATED = GoogleError(
    401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential.", "authError", "UNAUTHENTICATED")


def _page_token(index: int) -> str:
    return base64.urlsafe_b64encode(f"yt:{index}".encode()).decode().rstrip("=")


def _page_index(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    prefix, _, number = raw.partition(":")
    if prefix != "yt":
        raise ValueError(token)
    return int(number)


def _iso_duration(seconds: int) -> str:
    if not seconds:
        return "P0D"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")


class Youtube(Channel):
    name = "youtube"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self._worlds: dict[int, tuple[Any, YoutubeWorld]] = {}
        self._reports_cache: OrderedDict[tuple, list[tuple[Any, ...]]] = OrderedDict()

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/v2"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {
            "access_token": credential,
            "accounts": [self._yt(self.sandbox.world).channel_id],
            "lookback_days": ANALYTICS_LAG_DAYS + 5,
            "data_api_base_url": f"{self.sandbox.url}/{self.name}/youtube/v3",
        }

    def _yt(self, world: Any) -> YoutubeWorld:
        """This channel's part of the world, built once per World object."""
        with self._lock:
            hit = self._worlds.get(id(world))
            if hit is None or hit[0] is not world:
                hit = (world, YoutubeWorld(world))
                self._worlds = {id(world): hit}
                self._reports_cache.clear()  # its keys name the replaced world
            return hit[1]

    # ------------------------------------------------------------- auth/faults
    def authenticate(self, req: Request) -> Response | None:
        if req.bearer_token() == self.token:
            return None
        return json_response(401, UNAUTHENTICATED.body())

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        if fault.kind == "remove_metric":
            return req.subpath == "/v2/reports" and fault.params["metric"] in req.params.get("metrics", "").split(",")
        if fault.kind == "repeat_cursor":
            return req.subpath == "/youtube/v3/playlistItems"
        if fault.kind == "bad_data":
            return req.subpath in ("/v2/reports", "/youtube/v3/videos")
        return False

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            err = (GoogleError(403, "The request cannot be completed because you have exceeded your quota.",
                               "quotaExceeded", "PERMISSION_DENIED", "youtube.quota") if p.get("daily")
                   else GoogleError(403, "The request was rate limited. Please try again later.",
                                    "rateLimitExceeded", "PERMISSION_DENIED", "usageLimits"))
        elif fault.kind == "server_error":
            err = GoogleError(int(p.get("status", 503)), "The service is currently unavailable.", "backendError",
                              "UNAVAILABLE")
        elif fault.kind == "expired_token":
            err = UNAUTHENTICATED
        elif fault.kind == "remove_metric":
            err = unknown_metric(p["metric"])
        else:  # pragma: no cover - FaultBook only routes terminal kinds here
            raise ValueError(fault.kind)
        resp = json_response(err.code, err.body())
        if "retry_after" in p:
            resp.headers["Retry-After"] = str(p["retry_after"])
        return resp

    def not_found(self, req: Request) -> Response:
        return json_response(404, GoogleError(404, "Not Found", "notFound", "NOT_FOUND").body())

    def internal_error(self, req: Request) -> Response:
        return json_response(500, GoogleError(500, "Internal error encountered.", "backendError", "INTERNAL").body())

    # ---------------------------------------------------------------- handler
    def handle(self, req: Request) -> Response:
        routes = {
            "/v2/reports": self._reports,
            "/youtube/v3/channels": self._channels,
            "/youtube/v3/playlistItems": self._playlist_items,
            "/youtube/v3/videos": self._videos,
        }
        route = routes.get(req.subpath)
        if route is None or req.method != "GET":
            return self.not_found(req)
        try:
            return route(req, self._yt(req.world))
        except GoogleError as err:
            return json_response(err.code, err.body())

    @staticmethod
    def _int_param(req: Request, name: str, default: int) -> int:
        try:
            return int(req.params.get(name, default))
        except ValueError:
            raise _bad_request(f"Invalid value '{req.params.get(name)}' for parameter {name}.") from None

    def _reports(self, req: Request, yt: YoutubeWorld) -> Response:
        p = req.params
        if p.get("ids") not in ("channel==MINE", f"channel=={yt.channel_id}"):
            raise GoogleError(403, "Forbidden", "forbidden", "PERMISSION_DENIED")
        start, end = _date(p, "startDate"), _date(p, "endDate")
        if start > end:
            raise _bad_request("The query's startDate must not be after its endDate.")
        metrics = [m for m in p.get("metrics", "").split(",") if m]
        if not metrics:
            raise _bad_request("Required parameter: metrics")
        for metric in metrics:
            if metric not in METRICS:
                raise unknown_metric(metric)
        dimensions = p.get("dimensions", "")
        if dimensions not in ("day", "day,video"):
            raise _bad_request(f"The sandbox serves dimensions=day or day,video (got {dimensions!r}).")
        if "filters" in p:
            raise _bad_request("filters are not supported by the socialmart sandbox.")
        max_results = self._int_param(req, "maxResults", MAX_VIDEO_ROWS if dimensions == "day,video" else 10_000)
        start_index = self._int_param(req, "startIndex", 1)
        if start_index < 1 or max_results < 1 or (dimensions == "day,video" and max_results > MAX_VIDEO_ROWS):
            raise _bad_request(f"startIndex must be >= 1 and maxResults between 1 and {MAX_VIDEO_ROWS} for video reports.")

        rows = self._report_rows(yt, start, end, dimensions, tuple(metrics))
        page = [list(row) for row in rows[start_index - 1:start_index - 1 + max_results]]
        names = dimensions.split(",")
        if req.bad_data:
            columns = [*names, *metrics]
            for row in page:
                for override in req.bad_data:
                    if override.name in columns and not override.match:
                        row[columns.index(override.name)] = override.value
        out: dict[str, Any] = {
            "kind": "youtubeAnalytics#resultTable",
            "columnHeaders": [{"name": n, "columnType": "DIMENSION", "dataType": "STRING"} for n in names]
            + [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics],
        }
        if page:
            out["rows"] = page
        return json_response(200, out, rows=len(page))

    def _report_rows(self, yt: YoutubeWorld, start: dt.date, end: dt.date, dimensions: str,
                     metrics: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """The whole report, memoised: paging through it re-asks the same question."""
        key = (id(yt), start, end, dimensions, metrics)
        with self._lock:
            hit = self._reports_cache.get(key)
            if hit is not None:
                self._reports_cache.move_to_end(key)
                return hit
        rows: list[tuple[Any, ...]] = []
        by_id = sorted(yt.videos, key=lambda v: v.id)
        day = start
        while day <= end:
            iso = day.isoformat()
            if dimensions == "day":
                found = yt.channel_day(day)
                if found is not None:
                    values = self._metric_values(*found)
                    rows.append((iso, *(values[m] for m in metrics)))
            else:
                for video in by_id:
                    vd = yt.video_day(video, day)
                    if vd is not None and vd.views > 0:
                        values = self._metric_values(vd, 0)
                        rows.append((iso, video.id, *(values[m] for m in metrics)))
            day += dt.timedelta(days=1)
        with self._lock:
            self._reports_cache[key] = rows
            while len(self._reports_cache) > _REPORT_CACHE_SIZE:
                self._reports_cache.popitem(last=False)
        return rows

    @staticmethod
    def _metric_values(vd: Any, lost: int) -> dict[str, int]:
        return {"views": vd.views, "estimatedMinutesWatched": vd.minutes, "likes": vd.likes,
                "comments": vd.comments, "shares": vd.shares, "subscribersGained": vd.subscribers_gained,
                "subscribersLost": lost}

    def _channels(self, req: Request, yt: YoutubeWorld) -> Response:
        p = req.params
        items = []
        if p.get("mine") == "true" or yt.channel_id in p.get("id", "").split(","):
            uploads = [v for v in yt.videos if not v.live_now]
            views = sum(yt.lifetime(v)["views"] for v in uploads)
            items.append({
                "kind": "youtube#channel", "id": yt.channel_id,
                "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS_PLAYLIST}},
                # The end-of-today total: yesterday's plus today's gains minus losses.
                "statistics": {"viewCount": str(views), "subscriberCount": str(yt.subscribers_on(req.world.today)),
                               "hiddenSubscriberCount": False, "videoCount": str(len(yt.videos))},
            })
        return json_response(200, {"kind": "youtube#channelListResponse",
                                   "pageInfo": {"totalResults": len(items), "resultsPerPage": 5}, "items": items},
                             rows=len(items))

    def _playlist_items(self, req: Request, yt: YoutubeWorld) -> Response:
        p = req.params
        if p.get("playlistId") != UPLOADS_PLAYLIST:
            raise GoogleError(404, "The playlist identified with the request's playlistId parameter cannot be found.",
                              "playlistNotFound", "NOT_FOUND", "youtube.playlistItem")
        size = self._int_param(req, "maxResults", 5)
        if not 0 <= size <= MAX_PLAYLIST_PAGE:
            raise _bad_request(f"maxResults must be between 0 and {MAX_PLAYLIST_PAGE}.")
        try:
            first = _page_index(p["pageToken"]) if p.get("pageToken") else 0
        except ValueError:
            raise _bad_request("The request specifies an invalid page token.") from None
        uploads = yt.uploads()
        page = uploads[first:first + size]
        out: dict[str, Any] = {"kind": "youtube#playlistItemListResponse"}
        if req.repeat_cursor:
            out["nextPageToken"] = p.get("pageToken") or _page_token(0)
        elif first + size < len(uploads):
            out["nextPageToken"] = _page_token(first + size)
        if first > 0:
            out["prevPageToken"] = _page_token(max(0, first - size))
        out["items"] = [{
            "kind": "youtube#playlistItem", "id": base64.urlsafe_b64encode(f"{UPLOADS_PLAYLIST}.{v.id}".encode()).decode(),
            "contentDetails": {"videoId": v.id, "videoPublishedAt": _timestamp(v.published_at)},
        } for v in page]
        out["pageInfo"] = {"totalResults": len(uploads), "resultsPerPage": size}
        return json_response(200, out, rows=len(page))

    def _videos(self, req: Request, yt: YoutubeWorld) -> Response:
        ids = [i for i in req.params.get("id", "").split(",") if i]
        if len(ids) > MAX_VIDEO_IDS:
            raise _bad_request(f"The request specifies more than {MAX_VIDEO_IDS} video ids.")
        parts = set(req.params.get("part", "").split(","))
        items = []
        for video_id in ids:
            video = yt.by_id.get(video_id)
            if video is not None:  # unknown ids are silently left out, as YouTube does
                item = self._video_resource(yt, video, parts)
                if req.bad_data:
                    apply_overrides(item, req.bad_data)
                items.append(item)
        return json_response(200, {"kind": "youtube#videoListResponse", "items": items,
                                   "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}},
                             rows=len(items))

    @staticmethod
    def _video_resource(yt: YoutubeWorld, video: Video, parts: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {"kind": "youtube#video", "id": video.id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": _timestamp(video.published_at), "channelId": yt.channel_id, "title": video.title,
                "description": f"{video.title}. Gear and trails from Northwind Outdoor.",
                "channelTitle": "Northwind Outdoor", "tags": [video.theme],
                "liveBroadcastContent": "live" if video.live_now else "none",
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {"duration": _iso_duration(video.duration_seconds), "dimension": "2d",
                                      "definition": "hd", "caption": "false", "licensedContent": True}
        if "statistics" in parts:
            life = yt.lifetime(video)
            stats = {"viewCount": str(life["views"]), "likeCount": str(life["likes"]), "favoriteCount": "0",
                     "commentCount": str(life["comments"])}
            if yt.hides_likes(video):
                del stats["likeCount"]
            item["statistics"] = stats
        if "liveStreamingDetails" in parts and video.kind == "live":
            started = video.published_at
            details = {"actualStartTime": _timestamp(started), "scheduledStartTime": _timestamp(started)}
            if video.live_now:
                details["concurrentViewers"] = "312"
            else:
                details["actualEndTime"] = _timestamp(started + dt.timedelta(seconds=video.duration_seconds))
            item["liveStreamingDetails"] = details
        return item


def _date(params: dict[str, str], name: str) -> dt.date:
    value = params.get(name, "")
    try:
        if _DATE_RE.match(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise _bad_request(f"Required parameter {name} must be a YYYY-MM-DD date (got {value!r}).")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
