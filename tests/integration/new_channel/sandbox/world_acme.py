"""Acme's part of the sandbox world: one brand account with ads and posts.

Deterministic: every number is a hash of what it describes, so two runs (and
the test computing what it expects) see the same world.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

ACCOUNT_ID = "acme-1"
CAMPAIGNS = (("c-101", "Spring Launch", "spring_launch"), ("c-102", "Always On", None))
POSTS = (("p-1", "video"), ("p-2", "image"), ("p-3", "text"))
FOLLOWERS = 4200


def number(*parts: object, low: int = 0, high: int = 1000) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


@dataclass(frozen=True)
class AcmeWorld:
    today: dt.date

    def post_published_at(self, post_id: str) -> dt.datetime:
        days_ago = 1 + number("published", post_id, high=3)
        return dt.datetime.combine(self.today - dt.timedelta(days=days_ago), dt.time(9, 30), tzinfo=dt.UTC)

    def campaign_day(self, campaign_id: str, day: dt.date) -> dict:
        impressions = number("impressions", campaign_id, day, low=1000, high=5000)
        clicks = number("clicks", campaign_id, day, high=impressions // 20)
        return {"date": day.isoformat(), "campaign_id": campaign_id,
                "spend": f"{number('spend', campaign_id, day, low=1000, high=9000) / 100:.2f}",
                "impressions": str(impressions), "clicks": str(clicks),
                "conversions": str(number("conversions", campaign_id, day, high=max(clicks // 10, 1))),
                "conversion_value": f"{number('value', campaign_id, day, high=50000) / 100:.2f}"}

    def audience_day(self, day: dt.date) -> dict:
        return {"date": day.isoformat(), "followers_gained": number("gained", day, high=40),
                "impressions": number("reach", day, low=500, high=3000), "engagements": number("engaged", day, high=300)}

    def post_day(self, post_id: str, day: dt.date) -> dict | None:
        if day < self.post_published_at(post_id).date():
            return None
        return {"date": day.isoformat(), "post_id": post_id, "views": number("views", post_id, day, low=10, high=900),
                "likes": number("likes", post_id, day, high=60)}


def acme_world(today: dt.date | None = None) -> AcmeWorld:
    return AcmeWorld(today or dt.datetime.now(dt.UTC).date())
