"""The X part of the sandbox world: Northwind Outdoor's account family on X.

Contract
--------
* A deterministic function of the World's ``(seed, today)`` (through
  ``world.h``); nothing row-shaped is precomputed: one (account, UTC day) of
  posts is derived on demand from one keyed hash and memoised (bounded LRU).
  Posts exist for UTC days ``< world.today`` only, back to ``HISTORY_DAYS``.
* The family: a core brand account, two sub-brands (Trail, Kids), a regional
  account (UK) and the CEO (family ``northwind_global``). Who retweets or
  quotes whom follows the family's pattern of the month (world_families:
  hub, dandelion or twin-star); a reshare points at a family post of the same
  or the previous day, and every reference points at a post that exists in
  this world (same author table). Non-core accounts also reply to the core
  (a conversation, not a reshare).
* Content: text, photo, video (short and long), animated GIF, link and live
  broadcast cards; some texts carry emoji, Arabic/Hebrew (RTL) runs or
  HTML/script-looking text, as real posts do.
* Ids are int64 snowflakes (> 2**53: a float would corrupt them) derived from
  the creation time, so newer posts have larger ids, as on X.
* Lifetime public_metrics are "as of today": they grow towards a final value
  with post age. A pure retweet carries the original's retweet_count and zero
  elsewhere, as X reports it. Followers follow a trend with daily noise, so
  some days lose followers.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .world import World
from .world_common import _poisson
from .world_families import family_of, pick_group, reshare_plan, true_pattern

HISTORY_DAYS = 3 * 365
TWITTER_EPOCH_MS = 1288834974657
_WEEKLY_POSTS = (1.1, 1.15, 1.1, 1.05, 1.0, 0.8, 0.8)
THEMES = ("spring_sale", "trail_running", "summer_hiking", "brand_awareness", "newsletter_signups", "holiday_gift_guide")


@dataclass(frozen=True, slots=True)
class XAccount:
    id: str
    username: str
    name: str
    role: str  # core | sub_brand | regional | executive (world_families)
    posts_per_day: float
    followers_base: int  # followers on HISTORY anchor day
    followers_per_day: float
    impressions_per_post: float


X_ACCOUNTS: tuple[XAccount, ...] = (
    XAccount("3180223118", "NorthwindOutdoor", "Northwind Outdoor", "core", 3.0, 152_000, 48.0, 9_500),
    XAccount("1460571843917029377", "NorthwindTrail", "Northwind Trail", "sub_brand", 1.6, 31_000, 17.0, 3_100),
    XAccount("1460572290126491654", "NorthwindKids", "Northwind Kids", "sub_brand", 1.1, 12_400, 7.5, 1_600),
    XAccount("1522017755368435713", "NorthwindUK", "Northwind Outdoor UK", "regional", 1.3, 22_800, 9.0, 2_200),
    XAccount("1188402716553736192", "IngridNordvik", "Ingrid Nordvik (CEO, Northwind Outdoor)", "executive", 0.8, 8_900, 6.0, 2_700),
)

_TEXTS = (
    "Spring Sale is live: 20% off trail gear this week only 🌲🥾 #spring_sale",
    "New trail running shoes, tested on 400 km of mud. Ready when you are 🏃‍♀️ #trail_running",
    "Summer hiking checklist: water, layers, map. What's on yours? #summer_hiking",
    "مغامرة جديدة تبدأ اليوم — Northwind Outdoor في الجبال #trail_running",
    "הרפתקה חדשה מתחילה בשביל — join us on the trail #summer_hiking",
    "Our newsletter: trail tips & member deals, once a week, never spam #newsletter_signups",
    "Gift guide for the trail lover in your life 🎁 #holiday_gift_guide",
    "Rain jacket vs. wind shell? A thread 🧵 #brand_awareness",
)
_CONTENT = (  # (kind, probability) for originals; cumulative draw
    ("text", 0.28), ("photo", 0.30), ("video", 0.17), ("animated_gif", 0.05), ("link", 0.15), ("broadcast", 0.05),
)


@dataclass(frozen=True, slots=True)
class XPost:
    id: str
    author_id: str
    created_at: dt.datetime
    kind: str  # original | retweeted | quoted | replied_to
    content: str  # text | photo | video | animated_gif | link | broadcast
    text: str
    duration_ms: int | None
    referenced_id: str | None
    referenced_author_id: str | None

    @property
    def media_key(self) -> str | None:
        return f"{'3' if self.content == 'photo' else '7'}_{self.id}" if self.content in ("photo", "video", "animated_gif") else None


class XWorld:
    """Lazy X data for one World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.accounts = {a.id: a for a in X_ACCOUNTS}
        self.first_day = world.today - dt.timedelta(days=HISTORY_DAYS)
        self._day = lru_cache(maxsize=1 << 14)(self._compute_day)

    # ----------------------------------------------------------------- posts
    def posts_on(self, account_id: str, day: dt.date) -> tuple[XPost, ...]:
        """Posts of one UTC day, oldest first; nothing for today or later."""
        if not self.first_day <= day < self.world.today:
            return ()
        return self._day(account_id, day.toordinal())

    def _plan(self, account: XAccount, ordinal: int):
        return reshare_plan(true_pattern(family_of("x"), dt.date.fromordinal(ordinal)), account.role)

    def _slots(self, account: XAccount, ordinal: int) -> list[tuple[float, ...]]:
        u = self.world.h.u("x-posts", account.id, ordinal)
        day = dt.date.fromordinal(ordinal)
        rate = account.posts_per_day * self._plan(account, ordinal).posting * _WEEKLY_POSTS[day.weekday()]
        n = _poisson(rate, u[0])
        return sorted((self.world.h.u("x-post", account.id, ordinal, i) for i in range(n)), key=lambda s: s[0])

    def _reshare_kind(self, account: XAccount, ordinal: int, u: float) -> str:
        """The month's plan decides how often an account reshares (retweets three times in four, else quotes)."""
        share = self._plan(account, ordinal).share
        if u < share:
            return "retweeted" if u < share * 0.76 else "quoted"
        if account.role != "core" and u < share + 0.06:
            return "replied_to"
        return "original"

    def _originals(self, account_id: str, ordinal: int) -> list[tuple[dt.datetime, str]]:
        """(created_at, id) of an account's original posts of a day, read from the
        slots alone (no reshare lookups), so two accounts resharing each other never recurse."""
        if not self.first_day <= dt.date.fromordinal(ordinal) < self.world.today:
            return []
        account = self.accounts[account_id]
        return [_identity(ordinal, i, s) for i, s in enumerate(self._slots(account, ordinal))
                if self._reshare_kind(account, ordinal, s[1]) == "original"]

    def _compute_day(self, account_id: str, ordinal: int) -> tuple[XPost, ...]:
        account = self.accounts[account_id]
        posts = []
        for i, s in enumerate(self._slots(account, ordinal)):
            created, post_id = _identity(ordinal, i, s)
            kind = self._reshare_kind(account, ordinal, s[1])
            ref_id = ref_author = None
            if kind != "original":
                target = self._reshare_target(account, ordinal, created, kind, s[2], s[3])
                if target is None:
                    kind = "original"
                else:
                    ref_author, ref_id = target
            content, duration = self._content(s[4], s[5]) if kind in ("original", "quoted") else ("text", None)
            text = _TEXTS[int(s[5] * len(_TEXTS))]
            if kind == "retweeted":
                text = f"RT @{self.accounts[ref_author].username}: {text}"
            elif kind == "replied_to":
                text = f"@{self.accounts[ref_author].username} {text}"
            if content == "link":
                text += " https://t.co/nw" + post_id[-6:]
            posts.append(XPost(post_id, account_id, created, kind, content, text, duration, ref_id, ref_author))
        return tuple(posts)

    def _reshare_target(self, account: XAccount, ordinal: int, created: dt.datetime, kind: str,
                        u_who: float, u_which: float) -> tuple[str, str] | None:
        """A family post of the same or the previous day, by an account of the role the plan draws
        (replies go to the core); the drawn account first, then the others of its roles in turn."""
        roles = ("core",) if kind == "replied_to" else pick_group(self._plan(account, ordinal), u_who)
        sources = [a for a in X_ACCOUNTS if a.role in roles and a.id != account.id]
        if not sources:
            return None
        first = int(u_which * len(sources))
        for k in range(len(sources)):
            source = sources[(first + k) % len(sources)]
            candidates = [pid for at, pid in self._originals(source.id, ordinal - 1) + self._originals(source.id, ordinal)
                          if at < created]
            if candidates:
                return source.id, candidates[int((u_which * len(sources) % 1) * len(candidates))]
        return None

    @staticmethod
    def _content(u_kind: float, u_len: float) -> tuple[str, int | None]:
        cumulative = 0.0
        for kind, p in _CONTENT:  # noqa: B007 - the loop walks the pairs; the name documents them
            cumulative += p
            if u_kind < cumulative:
                break
        if kind == "video":
            return kind, int(8_000 + u_len * 170_000)  # 8 s .. 3 min: short and long videos
        return kind, None

    def timeline(self, account_id: str) -> Iterator[XPost]:
        """All served posts, newest first (for paging and the 3,200 cap)."""
        day = self.world.today - dt.timedelta(days=1)
        while day >= self.first_day:
            yield from reversed(self.posts_on(account_id, day))
            day -= dt.timedelta(days=1)

    def post(self, post_id: str) -> XPost | None:
        """Look a post up by id: the id encodes its creation time."""
        ms = (int(post_id) >> 22) + TWITTER_EPOCH_MS
        day = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()
        for account_id in self.accounts:
            for p in self.posts_on(account_id, day):
                if p.id == post_id:
                    return p
        return None

    # --------------------------------------------------------------- metrics
    def public_metrics(self, post: XPost) -> dict[str, int]:
        """Lifetime counters as of today (they saturate with age)."""
        if post.kind == "retweeted":
            original = self.post(post.referenced_id) if post.referenced_id else None
            rts = self.public_metrics(original)["retweet_count"] if original else 0
            return {"retweet_count": rts, "reply_count": 0, "like_count": 0, "quote_count": 0,
                    "bookmark_count": 0, "impression_count": 0}
        account = self.accounts[post.author_id]
        u = self.world.h.u("x-metrics", post.id)
        now = dt.datetime.combine(self.world.today, dt.time(), dt.UTC)
        age_hours = max(0.0, (now - post.created_at).total_seconds() / 3600)
        grown = 1.0 - math.exp(-age_hours / 20.0)
        boost = {"video": 1.5, "photo": 1.2, "broadcast": 1.3}.get(post.content, 1.0)
        final = account.impressions_per_post * boost * (0.4 + 1.4 * u[0])
        impressions = round(final * grown)
        likes = round(impressions * (0.01 + 0.025 * u[1]))
        return {
            "retweet_count": round(likes * (0.08 + 0.1 * u[2])),
            "reply_count": round(likes * (0.03 + 0.05 * u[3])),
            "like_count": likes,
            "quote_count": round(likes * 0.02 * u[4]),
            "bookmark_count": round(likes * (0.02 + 0.06 * u[5])),
            "impression_count": impressions,
        }

    # ------------------------------------------------------------- followers
    def followers(self, account_id: str, day: dt.date) -> int:
        """End-of-day followers: a trend plus daily noise, so some days lose followers."""
        account = self.accounts[account_id]
        t = (day - self.first_day).days
        u = self.world.h.u("x-followers", account_id, day.toordinal())
        noise = account.followers_per_day * 3.0 * (u[0] + u[1] - 1.0)
        return max(0, round(account.followers_base + account.followers_per_day * t + noise))

    def user(self, account_id: str) -> dict:
        account = self.accounts[account_id]
        yesterday = self.world.today - dt.timedelta(days=1)
        u = self.world.h.u("x-user", account_id)
        return {
            "id": account.id, "name": account.name, "username": account.username,
            "public_metrics": {
                "followers_count": self.followers(account_id, yesterday),
                "following_count": 180 + int(600 * u[0]),
                "tweet_count": round(account.posts_per_day * HISTORY_DAYS * (1.1 + 0.3 * u[1])),
                "listed_count": round(account.followers_base / 90),
                "like_count": 2_000 + int(9_000 * u[2]),
            },
        }


def _identity(ordinal: int, index: int, s: tuple[float, ...]) -> tuple[dt.datetime, str]:
    """A slot's creation time (06:00-23:00 UTC) and snowflake id (time << 22 | worker | sequence)."""
    midnight = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), dt.UTC)
    created = midnight + dt.timedelta(seconds=int(6 * 3600 + s[0] * 17 * 3600), milliseconds=int(s[7] * 1000))
    ms = int(created.timestamp() * 1000)
    return created, str(((ms - TWITTER_EPOCH_MS) << 22) | (int(s[6] * (1 << 12)) << 10) | index)


_CACHE: weakref.WeakKeyDictionary[World, XWorld] = weakref.WeakKeyDictionary()


def x_world(world: World) -> XWorld:
    """The X view of a World, built once per World object."""
    view = _CACHE.get(world)
    if view is None:
        view = _CACHE[world] = XWorld(world)
    return view
