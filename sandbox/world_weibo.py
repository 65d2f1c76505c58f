"""The Weibo part of the sandbox world: Northwind Outdoor's account matrix on Weibo.

Contract
--------
* A deterministic function of the World's ``(seed, today)`` (through
  ``world.h``); one (account, China-time day) of statuses is derived on demand
  from one keyed hash and memoised (bounded LRU). Statuses exist for days
  ``< world.today`` only, back to ``HISTORY_DAYS``.
* The matrix (账号矩阵): the core brand account 北风户外, two sub-brands
  (北风越野 Trail, 北风童装 Kids), the regional account 北风户外中国 and the CEO
  (family ``northwind_china``). Who reposts whom follows the family's
  pattern of the month (world_families: hub, dandelion or twin-star); a
  repost points at a family status of the same or the previous day, and its
  ``retweeted_status`` always at a status of this world.
* Content: text, pictures, long and short video, article, web link and live
  cards; texts are Chinese with emoji, ``#话题#`` topics as HTML anchors (as
  Weibo renders them), and now and then script-tag-looking or RTL text.
* Ids are int64 (> 2**53: a float would corrupt them; clients must read
  ``idstr``) derived from the creation time, so newer statuses have larger ids.
* Counts (reposts/comments/attitudes) are lifetime "as of today"; followers
  follow a trend with daily noise, so some days lose followers.
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

HISTORY_DAYS = 400
CHINA = dt.timezone(dt.timedelta(hours=8))
_WEEKLY_POSTS = (1.0, 1.1, 1.1, 1.05, 1.1, 0.85, 0.8)


@dataclass(frozen=True, slots=True)
class WeiboAccount:
    uid: str
    screen_name: str
    role: str  # core | sub_brand | regional | executive (world_families)
    posts_per_day: float
    followers_base: int
    followers_per_day: float
    engagement: float  # attitudes per original status, order of magnitude


WEIBO_ACCOUNTS: tuple[WeiboAccount, ...] = (
    WeiboAccount("5612030001", "北风户外NorthwindOutdoor", "core", 2.6, 386_000, 120.0, 420.0),
    WeiboAccount("5612030002", "北风越野NorthwindTrail", "sub_brand", 1.5, 64_000, 31.0, 110.0),
    WeiboAccount("5612030003", "北风童装NorthwindKids", "sub_brand", 1.0, 28_500, 14.0, 60.0),
    WeiboAccount("7745120004", "北风户外中国NorthwindChina", "regional", 1.8, 122_000, 55.0, 160.0),
    WeiboAccount("2381190005", "北风户外CEO_英格丽", "executive", 0.7, 46_000, 20.0, 150.0),
)

_TOPICS = ("春季大促", "越野跑", "夏日徒步", "品牌故事", "会员福利", "节日礼物")
_TEXTS = (
    "春季大促开启🌲全场户外装备8折，只限本周！",
    "新款越野跑鞋，400公里泥地实测🏃‍♀️ 准备好了吗？",
    "夏日徒步清单：水、分层衣物、地图，你还带什么？⛰️",
    "会员福利日：积分翻倍 & 新会员专享优惠 🎫",
    "مغامرة جديدة — 北风户外与你同行 🌍",
    "节日礼物指南：送给热爱山野的TA 🎁",
)
_CONTENT = (("text", 0.22), ("image", 0.36), ("video", 0.18), ("article", 0.07), ("webpage", 0.12), ("live", 0.05))


@dataclass(frozen=True, slots=True)
class WeiboStatus:
    id: int
    uid: str
    created_at: dt.datetime  # aware, +0800
    content: str  # text | image | video | article | webpage | live
    text: str
    pictures: int
    video_seconds: int | None
    original_id: int | None  # set on reposts

    @property
    def idstr(self) -> str:
        return str(self.id)


class WeiboWorld:
    """Lazy Weibo data for one World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.accounts = {a.uid: a for a in WEIBO_ACCOUNTS}
        self.first_day = world.today - dt.timedelta(days=HISTORY_DAYS)
        self._day = lru_cache(maxsize=1 << 13)(self._compute_day)
        self._totals: dict[str, int] = {}

    def statuses_on(self, uid: str, day: dt.date) -> tuple[WeiboStatus, ...]:
        """Statuses of one China-time day, oldest first; nothing for today or later."""
        if not self.first_day <= day < self.world.today:
            return ()
        return self._day(uid, day.toordinal())

    def _plan(self, account: WeiboAccount, ordinal: int):
        return reshare_plan(true_pattern(family_of("weibo"), dt.date.fromordinal(ordinal)), account.role)

    def _slots(self, account: WeiboAccount, ordinal: int) -> list[tuple[float, ...]]:
        u = self.world.h.u("weibo-posts", account.uid, ordinal)
        day = dt.date.fromordinal(ordinal)
        rate = account.posts_per_day * self._plan(account, ordinal).posting * _WEEKLY_POSTS[day.weekday()]
        n = _poisson(rate, u[0])
        return sorted((self.world.h.u("weibo-post", account.uid, ordinal, i) for i in range(n)), key=lambda s: s[0])

    def _is_repost(self, account: WeiboAccount, ordinal: int, u: float) -> bool:
        return u < self._plan(account, ordinal).share

    def _originals(self, uid: str, ordinal: int) -> list[tuple[dt.datetime, int]]:
        """(created_at, id) of a day's originals from the slots alone: no recursion between accounts."""
        if not self.first_day <= dt.date.fromordinal(ordinal) < self.world.today:
            return []
        account = self.accounts[uid]
        return [_identity(ordinal, i, s) for i, s in enumerate(self._slots(account, ordinal))
                if not self._is_repost(account, ordinal, s[1])]

    def _compute_day(self, uid: str, ordinal: int) -> tuple[WeiboStatus, ...]:
        account = self.accounts[uid]
        out = []
        for i, s in enumerate(self._slots(account, ordinal)):
            created, status_id = _identity(ordinal, i, s)
            original = (self._repost_target(account, ordinal, created, s[2], s[3])
                        if self._is_repost(account, ordinal, s[1]) else None)
            topic = _TOPICS[int(s[5] * len(_TOPICS))]
            anchor = f'<a href="https://s.weibo.com/weibo?q=%23{topic}%23">#{topic}#</a>'
            if original is not None:
                source = self.accounts[original[0]]
                text = f"转发微博 {anchor} //@{source.screen_name}: 一起出发！👍"
                out.append(WeiboStatus(status_id, uid, created, "text", text, 0, None, original[1]))
                continue
            content, seconds = _content(s[4], s[6])
            text = f"{anchor} {_TEXTS[int(s[7] * len(_TEXTS))]}"
            pictures = 1 + int(s[6] * 9) if content == "image" else 0
            out.append(WeiboStatus(status_id, uid, created, content, text, pictures, seconds, None))
        return tuple(out)

    def _repost_target(self, account: WeiboAccount, ordinal: int, created: dt.datetime,
                       u_who: float, u_which: float) -> tuple[str, int] | None:
        """A family status of the same or the previous day, by an account of the role the plan
        draws: the drawn account first, then the others of its roles in turn."""
        roles = pick_group(self._plan(account, ordinal), u_who)
        sources = [a for a in WEIBO_ACCOUNTS if a.role in roles and a.uid != account.uid]
        if not sources:
            return None
        first = int(u_which * len(sources))
        for k in range(len(sources)):
            source = sources[(first + k) % len(sources)]
            candidates = [sid for at, sid in self._originals(source.uid, ordinal - 1) + self._originals(source.uid, ordinal)
                          if at < created]
            if candidates:
                return source.uid, candidates[int((u_which * len(sources) % 1) * len(candidates))]
        return None

    def timeline(self, uid: str) -> Iterator[WeiboStatus]:
        """All served statuses, newest first."""
        day = self.world.today - dt.timedelta(days=1)
        while day >= self.first_day:
            yield from reversed(self.statuses_on(uid, day))
            day -= dt.timedelta(days=1)

    def total_number(self, uid: str) -> int:
        if uid not in self._totals:
            self._totals[uid] = sum(1 for _ in self.timeline(uid))
        return self._totals[uid]

    def status(self, status_id: int) -> WeiboStatus | None:
        """Look a status up by id: the id encodes its creation second."""
        created = dt.datetime.fromtimestamp(status_id >> 23, CHINA)
        for uid in self.accounts:
            for s in self.statuses_on(uid, created.date()):
                if s.id == status_id:
                    return s
        return None

    def counts(self, status: WeiboStatus) -> dict[str, int]:
        """Lifetime reposts/comments/attitudes as of today (saturating with age)."""
        account = self.accounts[status.uid]
        u = self.world.h.u("weibo-counts", status.id)
        now = dt.datetime.combine(self.world.today, dt.time(), CHINA)
        grown = 1.0 - math.exp(-max(0.0, (now - status.created_at).total_seconds() / 3600) / 16.0)
        scale = 0.25 if status.original_id else {"video": 1.6, "live": 1.4, "image": 1.2}.get(status.content, 1.0)
        attitudes = round(account.engagement * scale * (0.3 + 1.5 * u[0]) * grown)
        return {
            "reposts_count": round(attitudes * (0.1 + 0.3 * u[1])),
            "comments_count": round(attitudes * (0.05 + 0.2 * u[2])),
            "attitudes_count": attitudes,
        }

    def followers(self, uid: str, day: dt.date) -> int:
        """End-of-day followers: a trend plus daily noise, so some days lose followers."""
        account = self.accounts[uid]
        u = self.world.h.u("weibo-followers", uid, day.toordinal())
        noise = account.followers_per_day * 3.0 * (u[0] + u[1] - 1.0)
        return max(0, round(account.followers_base + account.followers_per_day * (day - self.first_day).days + noise))


def _identity(ordinal: int, index: int, s: tuple[float, ...]) -> tuple[dt.datetime, int]:
    """A slot's creation time (07:00-24:00 China time) and id (epoch seconds << 23 | hash | index)."""
    midnight = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), CHINA)
    created = midnight + dt.timedelta(seconds=int(7 * 3600 + s[0] * 17 * 3600 - 1))
    return created, (int(created.timestamp()) << 23) | (int(s[7] * (1 << 16)) << 7) | index


def _content(u_kind: float, u_len: float) -> tuple[str, int | None]:
    cumulative = 0.0
    for kind, p in _CONTENT:  # noqa: B007 - the loop walks the pairs; the name documents them
        cumulative += p
        if u_kind < cumulative:
            break
    if kind == "video":
        return kind, int(10 + u_len * 290)  # 10 s .. 5 min: short and long videos
    if kind == "live":
        return kind, int(1800 + u_len * 3600)
    return kind, None


_CACHE: weakref.WeakKeyDictionary[World, WeiboWorld] = weakref.WeakKeyDictionary()


def weibo_world(world: World) -> WeiboWorld:
    """The Weibo view of a World, built once per World object."""
    view = _CACHE.get(world)
    if view is None:
        view = _CACHE[world] = WeiboWorld(world)
    return view
