"""The Instagram part of the sandbox world: Northwind Outdoor's business account.

Contract
--------
* Derived from the base ``World`` (seed via ``world.h``, ``today``); the
  posting calendar, captions and follower curve come from the shared helpers
  in ``world_facebook_pages`` so both organic channels tell one story.
* Lazy: a (account, day) slice and a media item's lifetime insights are
  computed on demand and memoised; only days ``< world.today`` exist.
* Media of every kind: IMAGE / VIDEO / CAROUSEL_ALBUM in the FEED, REELS
  (VIDEO) and STORY (IMAGE or VIDEO).
* Realistic gaps: a small share of media has too few viewers for insights
  (the API's ``(#10)`` error), and media published before ``views`` existed
  (``VIEWS_SINCE``) have an empty ``views`` series, not zero.
* Follower demographics are a lifetime snapshot as of ``today``: the account's
  follower total split over age, gender and country buckets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .world_common import _allocate, _jitter

if TYPE_CHECKING:  # the World is built from the channel worlds: annotations only
    from .world import World
from .world_facebook_pages import SocialDay, SocialPost, lifetime_share, posts_on, social_day

ACCOUNT_SPECS: tuple[dict, ...] = (
    dict(id="17841400000000101", username="northwind.outdoor", name="Northwind Outdoor",
         timezone="America/Los_Angeles", followers=86_000, growth=0.16, posts_per_week=6.0,
         views_per_follower=0.55, follows=412),
)
# (media_type, media_product_type) in the world's vocabulary, with shares.
MEDIA_KINDS = (("IMAGE/FEED", 0.24), ("CAROUSEL_ALBUM/FEED", 0.16), ("VIDEO/FEED", 0.06),
               ("VIDEO/REELS", 0.30), ("IMAGE/STORY", 0.14), ("VIDEO/STORY", 0.10))
_KIND_REACH = {"FEED": 0.22, "REELS": 0.6, "STORY": 0.08}
VIEWS_SINCE = dt.date(2024, 7, 1)  # media older than this have no `views` data
FOLLOWER_COUNT_DAYS = 30  # the API serves follower_count for the last 30 days only

AGE_BUCKETS = (("13-17", 0.01), ("18-24", 0.17), ("25-34", 0.36), ("35-44", 0.24), ("45-54", 0.13),
               ("55-64", 0.06), ("65+", 0.03))
GENDER_BUCKETS = (("F", 0.47), ("M", 0.50), ("U", 0.03))
COUNTRY_BUCKETS = (("US", 0.58), ("CA", 0.09), ("DE", 0.08), ("GB", 0.07), ("FR", 0.04), ("AT", 0.03),
                   ("CH", 0.03), ("AU", 0.03), ("IL", 0.02), ("AE", 0.02), ("NL", 0.01))
DEMOGRAPHICS = {"age": AGE_BUCKETS, "gender": GENDER_BUCKETS, "country": COUNTRY_BUCKETS}


@dataclass(frozen=True, slots=True)
class MediaLifetime:
    reach: int
    views: int | None  # None: the metric did not exist yet when the media ran
    likes: int
    comments: int
    saved: int
    shares: int
    replies: int

    @property
    def total_interactions(self) -> int:
        return self.likes + self.comments + self.saved + self.shares + self.replies


class InstagramWorld:
    def __init__(self, world: World, specs: Sequence[dict] = ACCOUNT_SPECS) -> None:
        self.world = world
        self.accounts = {s["id"]: s for s in specs}
        self.tz = {s["id"]: ZoneInfo(s["timezone"]) for s in specs}
        self.first_day = world.history_start
        self.day = lru_cache(maxsize=1 << 12)(self._day)
        self.media_of_day = lru_cache(maxsize=1 << 13)(self._media_of_day)
        self.lifetime = lru_cache(maxsize=1 << 13)(self._lifetime)

    def _day(self, account_id: str, ordinal: int) -> SocialDay:
        s = self.accounts[account_id]
        return social_day(self.world, account_id, s["followers"], s["growth"], s["views_per_follower"],
                          dt.date.fromordinal(ordinal))

    def _media_of_day(self, account_id: str, ordinal: int) -> tuple[SocialPost, ...]:
        s = self.accounts[account_id]
        # IG media ids are 17-18 digit numbers beyond double precision.
        return posts_on(self.world, account_id, lambda d, k: str(17_900_000_000_000_000 + d.toordinal() * 10 + k),
                        MEDIA_KINDS, s["posts_per_week"], self.tz[account_id], dt.date.fromordinal(ordinal))

    def media(self, account_id: str) -> Iterator[SocialPost]:
        """Newest first, as the /media edge lists them."""
        for ordinal in range(self.world.last_day.toordinal(), self.first_day.toordinal() - 1, -1):
            yield from reversed(self.media_of_day(account_id, ordinal))

    def medium(self, media_id: str) -> SocialPost | None:
        if not media_id.isdigit():
            return None
        ordinal, _ = divmod(int(media_id) - 17_900_000_000_000_000, 10)
        if not self.first_day.toordinal() <= ordinal < self.world.today.toordinal():
            return None
        for account_id in self.accounts:
            for m in self.media_of_day(account_id, ordinal):
                if m.id == media_id:
                    return m
        return None

    def too_few_viewers(self, media_id: str) -> bool:
        return self.world.h.u("ig-few-viewers", media_id)[0] < 0.06

    def _lifetime(self, media_id: str) -> MediaLifetime:
        m = self.medium(media_id)
        s = self.accounts[m.account_id]
        product = m.content_type.split("/")[1]
        u = self.world.h.u("ig-media-life", media_id)
        age = (dt.datetime.combine(self.world.today, dt.time(), self.tz[m.account_id]) - m.published_at).total_seconds()
        # Stories live for 24 hours: their counters stop growing after a day.
        share = lifetime_share(min(age / 86400, 1.0) * 6 if product == "STORY" else age / 86400)
        reach = round(s["followers"] * _KIND_REACH[product] * m.reach_weight * _jitter(u[0], u[1], 0.3) * share)
        views = round(reach * (1.3 + 0.9 * u[2])) if m.day >= VIEWS_SINCE else None
        story = product == "STORY"
        return MediaLifetime(
            reach=reach, views=views,
            likes=0 if story else round(reach * 0.05 * (0.7 + 0.6 * u[3])),
            comments=0 if story else round(reach * 0.004 * (0.5 + u[4])),
            saved=0 if story else round(reach * 0.008 * (0.5 + u[5])),
            shares=round(reach * 0.003 * (0.5 + u[6])),
            replies=round(reach * 0.002 * u[7]) if story else 0,
        )

    def demographics(self, account_id: str, dimension: str) -> list[tuple[str, int]]:
        """Follower counts per bucket as of yesterday (lifetime metric)."""
        followers = self.day(account_id, self.world.last_day.toordinal()).followers
        buckets = DEMOGRAPHICS[dimension]
        u = self.world.h.u("ig-demographics", account_id, dimension, self.world.today.toordinal())
        weights = [w * (0.95 + 0.1 * u[i % 8]) for i, (_, w) in enumerate(buckets)]
        return [(name, n) for (name, _), n in zip(buckets, _allocate(followers, weights), strict=False) if n]


@lru_cache(maxsize=8)
def instagram_world(world: World) -> InstagramWorld:
    """One lazily built Instagram world per base world (tests swap Sandbox.world)."""
    return InstagramWorld(world)
