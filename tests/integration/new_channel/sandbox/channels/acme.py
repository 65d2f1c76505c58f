"""Acme Social's API imitation, mounted at ``/acme/v1``.

* ``GET /v1/accounts/{id}``: the account's name, currency, time zone and follower total.
* ``GET /v1/accounts/{id}/campaigns``, ``/posts``: ``{"data": [...]}``.
* ``GET /v1/accounts/{id}/campaign_report|audience_report|post_report?since=&until=``:
  one row per day (and campaign or post), numbers of the ad report as strings.
* ``GET /v1/accounts/{id}/follower_breakdown``: followers by age bucket.
* Auth: ``Authorization: Bearer``; otherwise 401 ``{"error": {"code": 401, ...}}``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..world_acme import ACCOUNT_ID, CAMPAIGNS, FOLLOWERS, POSTS, acme_world, number
from .base import Channel, Request, Response, json_response

_PATH = re.compile(r"^/v1/accounts/([^/]+)(?:/([a-z_]+))?$")


class Acme(Channel):
    name = "acme"

    def client_config(self, credential: str) -> dict[str, Any]:
        return {"access_token": credential, "accounts": [ACCOUNT_ID], "lookback_days": 3}

    def authenticate(self, req: Request) -> Response | None:
        if req.bearer_token() == self.token:
            return None
        return json_response(401, {"error": {"code": 401, "message": "invalid token"}})

    def not_found(self, req: Request) -> Response:
        return json_response(404, {"error": {"code": 404, "message": f"no such path {req.subpath}"}})

    def handle(self, req: Request) -> Response:
        match = _PATH.match(req.subpath)
        if not match or match.group(1) != ACCOUNT_ID:
            return self.not_found(req)
        world = acme_world()
        what = match.group(2)
        if what is None:
            return json_response(200, {"id": ACCOUNT_ID, "name": "Acme Brand", "currency": "EUR", "timezone": "UTC",
                                       "followers": FOLLOWERS})
        if what == "campaigns":
            data = [{"id": cid, "name": name, "objective": "TRAFFIC", "status": "ACTIVE", "utm_campaign": utm}
                    for cid, name, utm in CAMPAIGNS]
        elif what == "posts":
            data = [{"id": pid, "type": kind, "created_at": world.post_published_at(pid).isoformat(),
                     "text": f"Acme post {pid}", "url": f"https://acme.example/p/{pid}",
                     "lifetime": {"views": number("lifetime views", pid, low=1000, high=9000),
                                  "likes": number("lifetime likes", pid, high=400)}} for pid, kind in POSTS]
        elif what == "follower_breakdown":
            data = [{"dimension": "age", "bucket": bucket, "followers": number("age", bucket, high=2000)}
                    for bucket in ("18-24", "25-34", "35-44")]
        else:
            days = _days(req)
            if what == "campaign_report":
                data = [world.campaign_day(cid, day) for day in days for cid, _, _ in CAMPAIGNS]
            elif what == "audience_report":
                data = [world.audience_day(day) for day in days]
            elif what == "post_report":
                data = [row for day in days for pid, _ in POSTS if (row := world.post_day(pid, day))]
            else:
                return self.not_found(req)
        return json_response(200, {"data": data}, rows=len(data))


def _days(req: Request) -> list[dt.date]:
    start, end = dt.date.fromisoformat(req.params["since"]), dt.date.fromisoformat(req.params["until"])
    end = min(end, acme_world().today)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
