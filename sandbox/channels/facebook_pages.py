"""Facebook Page insights (Graph API) imitation, mounted at ``/facebook_pages/v{NN}.0``.

Contract (see api-notes section 2)
----------------------------------
* ``GET /{page-id}/insights?metric=a,b&period=day&since=YYYY-MM-DD&until=YYYY-MM-DD``:
  one entry per metric with ``values[]`` of ``{"value": N, "end_time":
  "<next local midnight in UTC>+0000"}`` for the days ``since <= d < until``
  (end_time ``<= until``), at most 90 days apart. ``paging.previous/next``
  shift the window, as Graph's do (they are not a continuation).
  Current metrics: page_follows, page_daily_follows_unique,
  page_daily_unfollows_unique, page_media_view, page_total_media_view_unique,
  page_post_engagements, page_negative_feedback. The removed ones
  (page_impressions_unique, page_fans, page_fan_adds) and any unknown name get
  ``(#100) The value must be a valid insights metric``, which, like the real
  one, does not say which metric.
* ``GET /{page-id}/posts?fields=...``: newest first, cursor paging
  (``limit`` default 25, max 100; ``paging.cursors``; ``next`` absent on the
  last page). Content types: photo, video, reel (``/reel/`` permalink), live
  (attachment type ``live_video``), link share, album, text status.
* ``GET /{post-id}/insights?metric=post_...&period=lifetime``: lifetime values
  ``[{"value": N}]``; ``post_reactions_by_type_total`` is a dict by reaction.
* Auth: ``Authorization: Bearer`` or ``access_token``; failures are Graph
  code 190. Errors use Graph's ``{"error": {...}}`` envelope.
* Faults in Graph's dialect: throttle (code 32 + ``X-Business-Use-Case-Usage``
  with ``estimated_time_to_regain_access`` = params.minutes), server_error
  (code 2, transient), expired_token (190/463), remove_metric (the invalid
  metric error above), repeat_cursor (the posts edge), bad_data (post fields
  or insight ``value``s), plus the generic stall and truncated.

``GraphChannel`` is the Graph plumbing shared with the Instagram channel.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import orjson

from ..world_facebook_pages import FacebookPagesWorld, SocialPost, facebook_pages_world
from .base import Channel, Request, Response, apply_overrides, json_response
from .meta_ads import GraphError, MetaAds, _decode_cursor, _encode_cursor

DEFAULT_VERSION = "v21.0"
_VERSION_RE = re.compile(r"^v\d+\.0$")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"

PAGE_METRICS: dict[str, tuple[str, str]] = {
    # name -> (SocialDay attribute, title)
    "page_follows": ("followers", "Lifetime Follows"),
    "page_daily_follows_unique": ("gained", "Daily New Follows"),
    "page_daily_unfollows_unique": ("lost", "Daily Unfollows"),
    "page_media_view": ("views", "Daily Media Views"),
    "page_total_media_view_unique": ("reach", "Daily Total Media Viewers"),
    "page_post_engagements": ("engagements", "Daily Post Engagements"),
    "page_negative_feedback": ("negative_feedback", "Daily Negative Feedback"),
}
POST_METRICS = frozenset({"post_media_view", "post_total_media_view_unique", "post_clicks",
                          "post_reactions_by_type_total"})
POST_FIELDS = frozenset({"id", "message", "created_time", "permalink_url", "status_type", "attachments"})
_ATTACHMENTS = {
    # world type -> (status_type, attachment media_type, attachment type)
    "photo": ("added_photos", "photo", "photo"),
    "video": ("added_video", "video", "video_inline"),
    "reel": ("added_video", "video", "video_inline"),
    "live": ("added_video", "video", "live_video"),
    "link": ("shared_story", "link", "share"),
    "album": ("added_photos", "album", "album"),
    "status": ("mobile_status_update", None, None),
}


def graph_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(GRAPH_TIME)


def parse_day(raw: str | None, name: str) -> dt.date:
    """since/until as Graph takes them: a date or a unix timestamp."""
    try:
        if raw and raw.isdigit():
            return dt.datetime.fromtimestamp(int(raw), dt.UTC).date()
        return dt.date.fromisoformat(raw or "")
    except (ValueError, OverflowError):
        raise GraphError(400, f"(#100) The parameter {name} is required and must be a date or a unix timestamp") from None


class GraphChannel(Channel):
    """Graph API plumbing: versioned routes, auth, the error envelope, cursor
    paging and the faults; subclasses set the throttle wording and handlers."""

    throttle_code = 4
    throttle_message = "(#4) Application request limit reached"
    usage_type = "pages"
    paged_edges: frozenset[str] = frozenset()

    def base_url(self, root: str) -> str:
        return f"{root}/{self.name}/{DEFAULT_VERSION}"

    def route(self, req: Request) -> tuple[str, str] | None:
        """-> (node, edge) for /vNN.0/node[/edge]."""
        parts = req.subpath.strip("/").split("/")
        if len(parts) not in (2, 3) or not _VERSION_RE.match(parts[0]):
            return None
        return parts[1], parts[2] if len(parts) == 3 else ""

    def authenticate(self, req: Request) -> Response | None:
        if req.params.get("access_token") == self.token or req.bearer_token() == self.token:
            return None
        return self.error(req, GraphError(
            400, "Error validating access token: The session has been invalidated", code=190, subcode=460))

    def requested_metrics(self, req: Request) -> list[str]:
        return [m for m in req.params.get("metric", "").split(",") if m]

    def applies(self, fault, req: Request) -> bool:
        if fault.kind in self.generic_fault_kinds or fault.kind == "expired_token":
            return True
        route = self.route(req)
        if fault.kind == "remove_metric":
            return fault.params["metric"] in self.requested_metrics(req)
        if fault.kind == "repeat_cursor":
            return bool(route) and route[1] in self.paged_edges
        return fault.kind == "bad_data" and bool(route)

    def fault_response(self, fault, req: Request) -> Response:
        p = fault.params
        if fault.kind == "throttle":
            resp = self.error(req, GraphError(400, self.throttle_message, code=self.throttle_code))
            minutes = math.ceil(float(p.get("minutes", 0)))  # Meta reports whole minutes
            route = self.route(req)
            resp.headers["X-Business-Use-Case-Usage"] = orjson.dumps({route[0] if route else "0": [{
                "type": self.usage_type, "call_count": 100, "total_cputime": 100, "total_time": 100,
                "estimated_time_to_regain_access": minutes}]}).decode()
        elif fault.kind == "server_error":
            resp = self.error(req, GraphError(
                int(p.get("status", 503)), "An unexpected error has occurred. Please retry your request later.",
                code=2, is_transient=True))
        elif fault.kind == "expired_token":
            resp = self.error(req, GraphError(400, MetaAds._expired_message(req.world), code=190, subcode=463))
        elif fault.kind == "remove_metric":
            resp = self.error(req, self.invalid_metric(req, p["metric"]))
        else:  # pragma: no cover - FaultBook only routes terminal kinds here
            raise ValueError(fault.kind)
        if "retry_after" in p:
            resp.headers["Retry-After"] = str(p["retry_after"])
        return resp

    def invalid_metric(self, req: Request, metric: str) -> GraphError:
        raise NotImplementedError

    def error(self, req: Request, err: GraphError) -> Response:
        body: dict[str, Any] = {"message": err.message, "type": err.type, "code": err.code}
        if err.subcode is not None:
            body["error_subcode"] = err.subcode
        body.update(err.extra)
        body["fbtrace_id"] = base64.urlsafe_b64encode(req.world.h.token("fbtrace", req.target, n=17)).decode().rstrip("=")
        return json_response(err.status, {"error": body})

    def not_found(self, req: Request) -> Response:
        return self.error(req, GraphError(404, f"Unknown path components: {req.subpath}", code=2500))

    def internal_error(self, req: Request) -> Response:
        return self.error(req, GraphError(500, "An unknown error occurred", code=1, is_transient=False))

    def no_object(self, node: str) -> GraphError:
        return GraphError(400, f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
                          "due to missing permissions, or does not support this operation.",
                          type_="GraphMethodException", code=100, subcode=33)

    def finalize(self, req: Request, resp: Response) -> None:
        resp.headers.setdefault("X-App-Usage", '{"call_count":1,"total_cputime":1,"total_time":1}')
        resp.headers.setdefault("facebook-api-version", DEFAULT_VERSION)

    def handle(self, req: Request) -> Response:
        route = self.route(req)
        if route is None or req.method != "GET":
            return self.not_found(req)
        try:
            return self.dispatch(req, *route)
        except GraphError as err:
            return self.error(req, err)

    def dispatch(self, req: Request, node: str, edge: str) -> Response:
        raise NotImplementedError

    def fields(self, req: Request, allowed: frozenset[str], default: str, node_type: str) -> list[str]:
        names = [f.split("{", 1)[0] for f in re.split(r",(?![^{]*})", req.params.get("fields") or default) if f]
        for name in names:
            if name not in allowed:
                raise GraphError(400, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")
        return names

    def paged(self, req: Request, items: list, render: Callable[[Any], dict]) -> Response:
        """One page of `items` by limit/after cursors, rendered row by row."""
        try:
            limit = min(max(int(req.params.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
            start = _decode_cursor(req.params["after"]) + 1 if req.params.get("after") else 0
        except ValueError:
            raise GraphError(400, "(#100) Invalid cursor or limit") from None
        start = min(max(start, 0), len(items))
        end = min(start + limit, len(items))
        data = []
        for item in items[start:end]:
            row = render(item)
            apply_overrides(row, req.bad_data)
            data.append(row)
        if not data:
            return json_response(200, {"data": []})
        # repeat_cursor: "after" points before this page, so next serves it again.
        after = start - 1 if req.repeat_cursor else end - 1
        paging: dict[str, Any] = {"cursors": {"before": _encode_cursor(start), "after": _encode_cursor(after)}}
        if end < len(items) or req.repeat_cursor:
            query = [(k, v) for k, v in req.query if k != "after"] + [("after", paging["cursors"]["after"])]
            paging["next"] = req.absolute_url(query)
        return json_response(200, {"data": data, "paging": paging}, rows=len(data))

    def daily_values(self, req: Request, days: list[dt.date], value_of: Callable[[dt.date], int | None],
                     tz: dt.tzinfo) -> list[dict]:
        """A day's value stamped with the next local midnight, as Graph does."""
        out = []
        for day in days:
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
            point = {"value": value_of(day), "end_time": graph_time(end)}
            apply_overrides(point, req.bad_data)
            out.append(point)
        return out

    def window(self, req: Request, max_days: int, first: dt.date) -> tuple[dt.date, dt.date, list[dt.date]]:
        since, until = parse_day(req.params.get("since"), "since"), parse_day(req.params.get("until"), "until")
        if until <= since:
            raise GraphError(400, "(#100) The since parameter must be before the until parameter")
        if (until - since).days > max_days:
            raise GraphError(400, f"(#100) There cannot be more than {max_days} days "
                             f"({max_days * 86400} s) between since and until")
        lo, hi = max(since, first), min(until - dt.timedelta(days=1), req.world.last_day)
        days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)] if lo <= hi else []
        return since, until, days

    def shifted_paging(self, req: Request, since: dt.date, until: dt.date) -> dict[str, str]:
        """Graph's insights paging: the same query one window earlier / later."""
        span = until - since
        base = [(k, v) for k, v in req.query if k not in ("since", "until")]
        return {
            "previous": req.absolute_url(base + [("since", (since - span).isoformat()), ("until", since.isoformat())]),
            "next": req.absolute_url(base + [("since", until.isoformat()), ("until", (until + span).isoformat())]),
        }


class FacebookPages(GraphChannel):
    name = "facebook_pages"
    throttle_code = 32
    throttle_message = "(#32) Page request limit reached"
    usage_type = "pages"
    paged_edges = frozenset({"posts"})

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"access_token": credential, "accounts": list(facebook_pages_world(self.sandbox.world).pages),
                "lookback_days": 28}

    def invalid_metric(self, req: Request, metric: str) -> GraphError:
        return GraphError(400, "(#100) The value must be a valid insights metric")

    def dispatch(self, req: Request, node: str, edge: str) -> Response:
        fb = facebook_pages_world(req.world)
        if node in fb.pages and edge == "insights":
            return self._page_insights(req, fb, node)
        if node in fb.pages and edge == "posts":
            return self._posts(req, fb, node)
        post = fb.post(node)
        if post is not None and edge == "insights":
            return self._post_insights(req, fb, post)
        if edge in ("", "insights", "posts"):
            raise self.no_object(node)
        return self.not_found(req)

    def _page_insights(self, req: Request, fb: FacebookPagesWorld, page_id: str) -> Response:
        metrics = self.requested_metrics(req)
        for metric in metrics:
            if metric not in PAGE_METRICS:
                raise self.invalid_metric(req, metric)
        if req.params.get("period") != "day":
            raise GraphError(400, "(#100) The sandbox serves Page insights with period=day only")
        since, until, days = self.window(req, 90, fb.first_day)
        data = []
        for metric in metrics:
            attribute, title = PAGE_METRICS[metric]
            values = self.daily_values(
                req, days, lambda d, attribute=attribute: getattr(fb.day(page_id, d.toordinal()), attribute), fb.tz[page_id])
            data.append({"name": metric, "period": "day", "values": values, "title": title,
                         "id": f"{page_id}/insights/{metric}/day"})
        return json_response(200, {"data": data, "paging": self.shifted_paging(req, since, until)},
                             rows=len(days) * len(metrics))

    def _posts(self, req: Request, fb: FacebookPagesWorld, page_id: str) -> Response:
        names = self.fields(req, POST_FIELDS, "id,message,created_time", "Post")
        return self.paged(req, list(fb.posts(page_id)), lambda p: self._post_row(p, names))

    @staticmethod
    def _post_row(p: SocialPost, names: list[str]) -> dict[str, Any]:
        status_type, media_type, kind = _ATTACHMENTS[p.content_type]
        page_id, _, number = p.id.partition("_")
        permalink = (f"https://www.facebook.com/reel/{number}" if p.content_type == "reel"
                     else f"https://www.facebook.com/{page_id}/posts/{number}")
        values: dict[str, Any] = {"id": p.id, "message": p.text, "created_time": graph_time(p.published_at),
                                  "permalink_url": permalink, "status_type": status_type}
        if media_type is not None:  # a text status has no attachments edge at all
            values["attachments"] = {"data": [{"media_type": media_type, "type": kind}]}
        return {name: values[name] for name in ["id", *names] if name in values}

    def _post_insights(self, req: Request, fb: FacebookPagesWorld, post: SocialPost) -> Response:
        metrics = self.requested_metrics(req)
        for metric in metrics:
            if metric not in POST_METRICS:
                raise self.invalid_metric(req, metric)
        life = fb.lifetime(post.id)
        lifetime = {"post_media_view": life.views, "post_total_media_view_unique": life.reach,
                    "post_clicks": life.clicks, "post_reactions_by_type_total": life.reactions}
        data = []
        for metric in metrics:
            point = {"value": lifetime[metric]}
            apply_overrides(point, req.bad_data)
            data.append({"name": metric, "period": "lifetime", "values": [point], "title": metric,
                         "id": f"{post.id}/insights/{metric}/lifetime"})
        return json_response(200, {"data": data}, rows=len(data))
