"""Instagram Graph API (business account) imitation, mounted at ``/instagram/v{NN}.0``.

Contract (see api-notes section 2)
----------------------------------
* ``GET /{ig-user-id}?fields=followers_count,follows_count,media_count`` (also
  ``id``, ``username``, ``name``): the account now; followers_count is the
  end-of-today total, so it equals yesterday's total plus today's new followers
  minus today's unfollows in the world.
* ``GET /{ig-user-id}/insights``:
  - ``metric=reach,follower_count&period=day&since&until`` -> time series
    ``values[{"value", "end_time"}]`` (end_time = next local midnight in UTC),
    at most 30 days apart; ``follower_count`` only for the last 30 days
    (an older ``since`` is a code 100 error);
  - ``metric=views,reach,total_interactions,likes,comments,shares,saves&metric_type=total_value``
    -> ``"total_value": {"value": N}`` summed over the days in since..until;
  - ``metric=follower_demographics&period=lifetime&metric_type=total_value&breakdown=age|gender|country``
    -> ``total_value.breakdowns[{dimension_keys, results[{dimension_values, value}]}]``.
* ``GET /{ig-user-id}/media?fields=id,caption,media_type,media_product_type,timestamp,permalink``:
  newest first, cursor paging (``paging.cursors.after``, ``next``).
* ``GET /{ig-media-id}/insights?metric=...``: lifetime ``values[{"value"}]``;
  ``views`` of media older than the metric is an empty ``values`` list;
  low-reach media answer ``(#10) Not enough viewers for the media to show insights``;
  media of the last two days (the API's up-to-48-hour delay) have empty series.
* Unknown or unsupported metrics: ``(#100) metric[i] must be one of the
  following values: ...`` (names the position, like the real API).
* Faults: as the Facebook Pages channel (``GraphChannel``), throttle in
  Instagram's words (code 80002, usage type ``instagram``); repeat_cursor on
  the media edge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..world_facebook_pages import SocialPost
from ..world_instagram import DEMOGRAPHICS, FOLLOWER_COUNT_DAYS, InstagramWorld, instagram_world
from .base import Request, Response, apply_overrides, json_response
from .facebook_pages import GraphChannel, graph_time
from .meta_ads import GraphError

# name -> SocialDay attribute. follower_count is the day's NEW followers, not the total.
SERIES_METRICS = {"reach": "reach", "follower_count": "gained"}
TOTAL_VALUE_METRICS = ("views", "reach", "total_interactions", "likes", "comments", "shares", "saves")
FEED_METRICS = ("reach", "likes", "comments", "saved", "shares", "total_interactions", "views", "follows",
                "profile_visits")
STORY_METRICS = ("reach", "replies", "shares", "total_interactions", "views", "navigation", "follows",
                 "profile_visits")
INSIGHTS_DELAY_DAYS = 2
MEDIA_FIELDS = frozenset({"id", "caption", "media_type", "media_product_type", "timestamp", "permalink",
                          "username"})
USER_FIELDS = frozenset({"id", "username", "name", "followers_count", "follows_count", "media_count"})


class Instagram(GraphChannel):
    name = "instagram"
    throttle_code = 80002
    throttle_message = "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again."
    usage_type = "instagram"
    paged_edges = frozenset({"media"})

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"access_token": credential, "accounts": list(instagram_world(self.sandbox.world).accounts),
                "lookback_days": 28}

    def invalid_metric(self, req: Request, metric: str, allowed: tuple[str, ...] = TOTAL_VALUE_METRICS) -> GraphError:
        requested = self.requested_metrics(req)
        index = requested.index(metric) if metric in requested else 0
        valid = ", ".join(m for m in allowed if m != metric)
        return GraphError(400, f"(#100) metric[{index}] must be one of the following values: {valid}")

    def dispatch(self, req: Request, node: str, edge: str) -> Response:
        ig = instagram_world(req.world)
        if node in ig.accounts and edge == "":
            return self._user(req, ig, node)
        if node in ig.accounts and edge == "insights":
            return self._account_insights(req, ig, node)
        if node in ig.accounts and edge == "media":
            names = self.fields(req, MEDIA_FIELDS, "id", "IGMedia")
            return self.paged(req, list(ig.media(node)), lambda m: self._media_row(ig, m, names))
        media = ig.medium(node)
        if media is not None and edge == "insights":
            return self._media_insights(req, ig, media)
        if edge in ("", "insights", "media"):
            raise self.no_object(node)
        return self.not_found(req)

    def _user(self, req: Request, ig: InstagramWorld, user: str) -> Response:
        names = self.fields(req, USER_FIELDS, "id", "IGUser")
        spec = ig.accounts[user]
        values = {"id": user, "username": spec["username"], "name": spec["name"],
                  "followers_count": ig.day(user, req.world.today.toordinal()).followers,
                  "follows_count": spec["follows"], "media_count": sum(1 for _ in ig.media(user))}
        row = {name: values[name] for name in ["id", *names]}
        apply_overrides(row, req.bad_data)
        return json_response(200, row, rows=1)

    @staticmethod
    def _media_row(ig: InstagramWorld, m: SocialPost, names: list[str]) -> dict[str, Any]:
        media_type, product = m.content_type.split("/")
        code = ig.world.h.token("ig-shortcode", m.id, n=8).hex()[:11]
        values = {"id": m.id, "caption": m.text, "media_type": media_type, "media_product_type": product,
                  "timestamp": graph_time(m.published_at), "username": ig.accounts[m.account_id]["username"],
                  "permalink": f"https://www.instagram.com/{'reel' if product == 'REELS' else 'p'}/{code}/"}
        if product == "STORY":
            values["permalink"] = f"https://www.instagram.com/stories/{values['username']}/{m.id}/"
        return {name: values[name] for name in ["id", *names]}

    def _account_insights(self, req: Request, ig: InstagramWorld, user: str) -> Response:
        metrics = self.requested_metrics(req)
        if metrics == ["follower_demographics"]:
            return self._demographics(req, ig, user)
        if req.params.get("period") != "day":
            raise GraphError(400, "(#100) The sandbox serves account insights with period=day "
                             "(or follower_demographics with period=lifetime)")
        total_value = req.params.get("metric_type") == "total_value"
        allowed = TOTAL_VALUE_METRICS if total_value else tuple(SERIES_METRICS)
        for metric in metrics:
            if metric not in allowed:
                raise self.invalid_metric(req, metric, allowed)
        since, until, days = self.window(req, 30, ig.first_day)
        if "follower_count" in metrics and since < req.world.today - dt.timedelta(days=FOLLOWER_COUNT_DAYS):
            raise GraphError(400, "(#100) follower_count is only available for the last 30 days, "
                             "excluding the current day")
        data = []
        for metric in metrics:
            entry: dict[str, Any] = {"name": metric, "period": "day", "title": metric.replace("_", " ").title()}
            if total_value:
                point = {"value": sum(self._day_total(ig, user, d, metric) for d in days)}
                apply_overrides(point, req.bad_data)
                entry["total_value"] = point
            else:
                attribute = SERIES_METRICS[metric]
                entry["values"] = self.daily_values(
                    req, days, lambda d, attribute=attribute: getattr(ig.day(user, d.toordinal()), attribute), ig.tz[user])
            entry["id"] = f"{user}/insights/{metric}/day"
            data.append(entry)
        return json_response(200, {"data": data, "paging": self.shifted_paging(req, since, until)},
                             rows=len(days) * len(metrics))

    @staticmethod
    def _day_total(ig: InstagramWorld, user: str, day: dt.date, metric: str) -> int:
        d = ig.day(user, day.toordinal())
        # Interactions split in fixed shares: likes dominate, saves and shares trail.
        shares = {"likes": 0.78, "comments": 0.07, "shares": 0.06, "saves": 0.09}
        if metric in ("views", "reach"):
            return getattr(d, metric)
        if metric == "total_interactions":
            return d.engagements
        return round(d.engagements * shares[metric])

    def _demographics(self, req: Request, ig: InstagramWorld, user: str) -> Response:
        dimension = req.params.get("breakdown")
        if req.params.get("period") != "lifetime" or req.params.get("metric_type") != "total_value":
            raise GraphError(400, "(#100) follower_demographics needs period=lifetime and metric_type=total_value")
        if dimension not in DEMOGRAPHICS:
            raise GraphError(400, "(#100) breakdown must be one of the following values: age, gender, country, city")
        results = []
        for bucket, n in ig.demographics(user, dimension):
            result = {"dimension_values": [bucket], "value": n}
            apply_overrides(result, req.bad_data)
            results.append(result)
        data = [{"name": "follower_demographics", "period": "lifetime", "title": "Follower demographics",
                 "total_value": {"breakdowns": [{"dimension_keys": [dimension], "results": results}]},
                 "id": f"{user}/insights/follower_demographics/lifetime"}]
        return json_response(200, {"data": data}, rows=len(results))

    def _media_insights(self, req: Request, ig: InstagramWorld, m: SocialPost) -> Response:
        allowed = STORY_METRICS if m.content_type.endswith("/STORY") else FEED_METRICS
        metrics = self.requested_metrics(req)
        for metric in metrics:
            if metric not in allowed:
                raise self.invalid_metric(req, metric, allowed)
        if ig.too_few_viewers(m.id):
            raise GraphError(400, "(#10) Not enough viewers for the media to show insights", code=10,
                             subcode=2108006)
        life = ig.lifetime(m.id)
        # Insights lag up to 48 hours: newer media answer with empty series.
        settled = ig.world.today - m.day > dt.timedelta(days=INSIGHTS_DELAY_DAYS)
        data = []
        for metric in metrics:
            value = getattr(life, metric, None) if settled else None
            points = [] if value is None else [{"value": value}]  # no data: an empty list, not 0
            for point in points:
                apply_overrides(point, req.bad_data)
            data.append({"name": metric, "period": "lifetime", "values": points,
                         "title": metric.replace("_", " ").title(), "id": f"{m.id}/insights/{metric}/lifetime"})
        return json_response(200, {"data": data}, rows=len(data))
