"""The Facebook Page part of the sandbox world, plus the organic-social helpers
the Instagram part shares (posting calendar, captions, follower curve).

Contract
--------
* Everything derives from the base ``World``'s seed (``world.h``), ``today``
  and absolute calendar days: moving ``today`` only adds days and ages posts.
* Nothing is precomputed over the history: a (page, day) slice and a post's
  lifetime counters are computed on demand and memoised in bounded LRUs.
  The follower total of a day is a closed-form curve (trend, season, seeded
  wobble), so no running sum over years is needed; a day's gains and losses
  are derived from the day-over-day change plus seeded churn, so both are
  always present and ``gains - losses`` equals the change exactly.
* Days ``< world.today`` exist; posts are published on those days only.
* Brand "Northwind Outdoor": one Page (Pacific time, like the US ad account),
  posting several times a week about the Meta campaign themes, in every
  content type a Page has. Captions include emoji, right-to-left text and
  HTML/SQL-looking text: hostile content the pipeline must store verbatim.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .world_common import _annual, _jitter, _poisson, _trend
from .world_meta_ads import META_ACCOUNT_SPECS

if TYPE_CHECKING:  # the World is built from the channel worlds: annotations only
    from .world import World

# Campaign themes shared with the paid side, so organic and paid talk alike.
THEMES: tuple[str, ...] = tuple(c["slug"] for a in META_ACCOUNT_SPECS for c in a["campaigns"])
_THEME_TEXT = {
    "spring_sale": "Spring Sale is on: 25% off rain shells and packs",
    "trail_shoes_prospecting": "Meet the Ridge Runner 2, our lightest trail shoe yet",
    "brand_awareness_us": "Built in Portland, tested on every trail we could find",
    "holiday_gift_guide": "Gifts for the hiker who has everything",
    "newsletter_signups": "Trail notes every Tuesday: sign up for the newsletter",
    "trail_running_eu": "Trail running season in the Alps starts now",
    "summer_hiking_eu": "Summer hiking checklist: what we pack for a hut-to-hut trek",
    "retargeting_eu": "Still thinking about those boots?",
    "brand_awareness_eu": "Northwind Outdoor, now shipping across Europe",
}
# The languages and symbols a real brand's posts carry, which must survive the
# pipeline byte for byte. Hostile text (markup, scripts, SQL) belongs in the
# tests' worlds (injected as faults), not in the demo.
_DECORATIONS = (
    "",
    " 🏔️🥾✨",
    " — مغامرة جديدة على الطريق",  # Arabic, right to left
    " | שביל חדש מחכה לכם",  # Hebrew, right to left
    " 春季徒步季，装备八折 🌸",
    " — Trail-Tipp: früh starten, Wasser & Karte mitnehmen",
    " 👟 #trailrunning #northwind",
    "",
)
# Weekly rhythm of organic attention: weekend planning and Sunday scrolling.
_SOCIAL_WEEKLY = (0.95, 0.97, 1.00, 0.98, 1.02, 1.08, 1.12)
_POSTING_WEEKLY = (1.2, 1.1, 1.2, 1.1, 1.0, 0.7, 0.7)  # the social team works weekdays


@dataclass(frozen=True, slots=True)
class SocialPost:
    id: str
    account_id: str
    day: dt.date  # account-local publishing day
    published_at: dt.datetime  # aware, UTC
    content_type: str  # the platform's own type name (world vocabulary, see the specs)
    theme: str
    text: str
    reach_weight: float  # how far this post travels relative to the account's norm


@dataclass(frozen=True, slots=True)
class SocialDay:
    followers: int  # end of day
    gained: int
    lost: int
    views: int
    reach: int
    engagements: int
    negative_feedback: int


def caption(world: World, account_id: str, theme: str, key: object) -> str:
    u = world.h.u("caption", account_id, key)
    text = _THEME_TEXT.get(theme, theme.replace("_", " ").capitalize())
    return text + _DECORATIONS[int(u[0] * len(_DECORATIONS))]


def pick(weights: Sequence[tuple[str, float]], u: float) -> str:
    total = sum(w for _, w in weights)
    acc = 0.0
    for name, w in weights:
        acc += w / total
        if u < acc:
            return name
    return weights[-1][0]


def followers_on(world: World, account_id: str, base: int, growth_per_year: float, day: dt.date) -> int:
    """End-of-day follower total: trend and season plus a seeded wobble."""
    years = (day.toordinal() - dt.date(2024, 1, 1).toordinal()) / 365.25
    level = base * (1.0 + growth_per_year * years) * (1.0 + 0.01 * math.sin(2 * math.pi * years))
    u = world.h.u("followers", account_id, day.toordinal())
    return max(0, round(level + base * 0.0012 * (u[0] + u[1] - 1.0)))


def social_day(world: World, account_id: str, base: int, growth: float, reach_per_follower: float,
               day: dt.date) -> SocialDay:
    today_total = followers_on(world, account_id, base, growth, day)
    net = today_total - followers_on(world, account_id, base, growth, day - dt.timedelta(days=1))
    u = world.h.u("social-day", account_id, day.toordinal())
    lost = max(0, -net) + _poisson(base * 0.0004, u[0])
    season = _SOCIAL_WEEKLY[day.weekday()] * _annual(day) * _trend(day)
    views = round(today_total * reach_per_follower * season * _jitter(u[1], u[2], 0.3))
    reach = round(views / (1.5 + 0.6 * u[3]))
    engagements = round(views * 0.035 * _jitter(u[4], u[5], 0.4))
    return SocialDay(today_total, net + lost, lost, views, reach, engagements, _poisson(views * 0.0003, u[6]))


def posts_on(world: World, account_id: str, id_of, types: Sequence[tuple[str, float]], per_week: float,
             tz: dt.tzinfo, day: dt.date) -> tuple[SocialPost, ...]:
    """The posts of one local day, ordered by time."""
    if day >= world.today:
        return ()
    u = world.h.u("posts", account_id, day.toordinal())
    n = _poisson(per_week / 7 * _POSTING_WEEKLY[day.weekday()], u[0])
    out = []
    for k in range(min(n, 3)):
        v = world.h.u("post", account_id, day.toordinal(), k)
        local = dt.datetime.combine(day, dt.time(8 + 4 * k + int(4 * v[0]), int(60 * v[1]), int(60 * v[2])), tz)
        theme = THEMES[int(v[3] * len(THEMES))]
        out.append(SocialPost(
            id=id_of(day, k), account_id=account_id, day=day,
            published_at=local.astimezone(dt.UTC), content_type=pick(types, v[4]), theme=theme,
            text=caption(world, account_id, theme, (day.toordinal(), k)), reach_weight=0.4 + 1.4 * v[5] ** 2,
        ))
    return tuple(out)


def lifetime_share(age_days: float) -> float:
    """Share of a post's final lifetime counters reached after `age_days`."""
    return 1.0 - math.exp(-max(age_days, 0.0) / 1.8) if age_days > 0 else 0.0


# --------------------------------------------------------------------------- Facebook Page
PAGE_SPECS: tuple[dict, ...] = (
    dict(id="104857600100001", name="Northwind Outdoor", username="northwindoutdoor",
         timezone="America/Los_Angeles", followers=48_000, growth=0.11, posts_per_week=5.5,
         views_per_follower=0.42),
)
# Page post types in the sandbox's vocabulary, with their share of posts.
PAGE_POST_TYPES = (("photo", 0.30), ("video", 0.14), ("reel", 0.18), ("link", 0.14), ("status", 0.10),
                   ("album", 0.09), ("live", 0.05))
_TYPE_VIEWS = {"photo": 1.0, "video": 1.6, "reel": 2.6, "link": 0.6, "status": 0.5, "album": 1.2, "live": 1.4}


@dataclass(frozen=True, slots=True)
class PostLifetime:
    views: int
    reach: int
    clicks: int
    reactions: dict[str, int]


class FacebookPagesWorld:
    """The Page(s) of Northwind Outdoor, computed lazily from the base world."""

    def __init__(self, world: World, specs: Sequence[dict] = PAGE_SPECS) -> None:
        from zoneinfo import ZoneInfo

        self.world = world
        self.pages = {s["id"]: s for s in specs}
        self.tz = {s["id"]: ZoneInfo(s["timezone"]) for s in specs}
        self.first_day = world.history_start
        self.day = lru_cache(maxsize=1 << 12)(self._day)
        self.posts_of_day = lru_cache(maxsize=1 << 13)(self._posts_of_day)
        self.lifetime = lru_cache(maxsize=1 << 13)(self._lifetime)

    def _day(self, page_id: str, ordinal: int) -> SocialDay:
        s = self.pages[page_id]
        return social_day(self.world, page_id, s["followers"], s["growth"], s["views_per_follower"],
                          dt.date.fromordinal(ordinal))

    def _posts_of_day(self, page_id: str, ordinal: int) -> tuple[SocialPost, ...]:
        s = self.pages[page_id]
        return posts_on(self.world, page_id, lambda d, k: f"{page_id}_{10**15 + d.toordinal() * 10 + k}",
                        PAGE_POST_TYPES, s["posts_per_week"], self.tz[page_id], dt.date.fromordinal(ordinal))

    def posts(self, page_id: str) -> Iterator[SocialPost]:
        """Newest first, as Graph lists a Page's posts."""
        for ordinal in range(self.world.last_day.toordinal(), self.first_day.toordinal() - 1, -1):
            yield from reversed(self.posts_of_day(page_id, ordinal))

    def post(self, post_id: str) -> SocialPost | None:
        page_id, _, number = post_id.partition("_")
        if page_id not in self.pages or not number.isdigit():
            return None
        ordinal, k = divmod(int(number) - 10**15, 10)
        if not self.first_day.toordinal() <= ordinal < self.world.today.toordinal():
            return None
        found = [p for p in self.posts_of_day(page_id, ordinal) if p.id == post_id]
        return found[0] if found else None

    def _lifetime(self, post_id: str) -> PostLifetime:
        """Counters as of the start of world.today (the newest complete day)."""
        p = self.post(post_id)
        s = self.pages[p.account_id]
        u = self.world.h.u("fb-post-life", post_id)
        final_views = p.reach_weight * _TYPE_VIEWS[p.content_type] * s["followers"] * 0.35 * _jitter(u[0], u[1], 0.3)
        age = (dt.datetime.combine(self.world.today, dt.time(), self.tz[p.account_id]) - p.published_at).total_seconds()
        views = round(final_views * lifetime_share(age / 86400))
        reactions = {"like": round(views * 0.021 * (0.8 + 0.4 * u[2])), "love": round(views * 0.004 * u[3]),
                     "wow": round(views * 0.001 * u[4])}
        clicks = round(views * (0.03 if p.content_type == "link" else 0.008) * (0.7 + 0.6 * u[5]))
        return PostLifetime(views, round(views / (1.2 + 0.5 * u[6])), clicks, {k: v for k, v in reactions.items() if v})


@lru_cache(maxsize=8)
def facebook_pages_world(world: World) -> FacebookPagesWorld:
    """One lazily built Page world per base world (tests swap Sandbox.world)."""
    return FacebookPagesWorld(world)
