"""Northwind Outdoor's WeChat Official Account: the sandbox world's WeChat part.

Contract
--------
* Deterministic in the shared ``World``'s seed; every day is computed on its
  own in O(1) (no walk from the start of history): the follower total is a
  closed-form curve (quadratic growth, a zero-sum weekly pattern, an annual
  wave) plus bounded per-day noise. Each day's net change is the difference of
  two totals, so ``cumulate(d) = cumulate(d-1) + new(d) - cancel(d)`` holds
  exactly, and noisy days give real losses as well as gains.
* New and cancelled followers are split over WeChat's ``user_source`` codes
  (0 other, 1 search, 17 business-card share, 30 QR code, 57 account name in an
  article, 100 WeChat ads, 161 reprints); a source with neither is omitted.
* Mass messages go out on Tuesdays, Thursdays and Saturdays with 1-3 articles
  (Chinese titles on the brand's themes); ``msgid`` is ``<msg_data_id>_<index>``
  with msg_data_id numbered in closed form. An article is read for a week after
  it is sent, most on the first day; a day's ``getarticlesummary`` lists every
  article read that day.
* Days are Beijing days; data for [world.history_start, world.today).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .world_common import _allocate, _jitter, _poisson

if TYPE_CHECKING:  # the World is built from the channel worlds: annotations only
    from .world import World

APPID = "wx4e7c2a9b1d3f5a60"
ACCOUNT_NAME = "北风户外 Northwind Outdoor"

_EPOCH = dt.date(2021, 12, 27)  # a Monday: weekday arithmetic stays simple
_START_FOLLOWERS = 12_000
_DAILY_GROWTH = 12.0
_GROWTH_ACCEL = 0.001  # per day squared
# Zero-sum weekly deviations of net growth: publishing days gain, Sundays lag.
_WEEKLY_NET = (-4.0, 9.0, -3.0, 7.0, -4.0, 3.0, -8.0)
_WEEKLY_LEVEL = tuple(sum(_WEEKLY_NET[: i + 1]) for i in range(7))
_NOISE = 22.0

SOURCES = (0, 1, 17, 30, 57, 100, 161)
_NEW_WEIGHTS = (0.10, 0.22, 0.08, 0.30, 0.18, 0.07, 0.05)
_CANCEL_WEIGHTS = (0.55, 0.10, 0.03, 0.15, 0.10, 0.05, 0.02)

PUBLISH_WEEKDAYS = (1, 3, 5)  # Tuesday, Thursday, Saturday
_MSG_DATA_ID_BASE = 2247483000
READ_DAYS = 7
_READ_DECAY = (0.55, 0.2, 0.1, 0.06, 0.04, 0.03, 0.02)
_OPEN_RATE = (0.065, 0.025, 0.015)  # head article, second, third

_TITLES_ALWAYS = (
    "越野跑入门：如何挑选你的第一双越野跑鞋",
    "防水冲锋衣保养指南：洗涤、晾干与复防水",
    "露营清单：周末出行必备的10件装备",
    "北风户外会员日｜积分翻倍，新品抢先试",
    "山野故事：跑者带你穿越十五公里山脊",
    "户外安全课：雷雨天气的徒步应对",
)
_TITLES_BY_MONTH = {
    (3, 4, 5): ("春季大促：北风户外装备低至七折", "春日越野跑路线推荐｜城市周边五条山径"),
    (6, 7, 8): ("夏日徒步路线推荐｜阿尔卑斯风格的高山步道", "防晒与补水：夏季长距离徒步攻略"),
    (9, 10): ("秋季登山季：分层穿衣法全解析", "国庆出行｜热门徒步线路避坑指南"),
    (11, 12, 1, 2): ("节日礼物指南：送给户外爱好者的12件好物", "冬季越野跑保暖装备清单"),
}


@dataclass(frozen=True, slots=True)
class Article:
    msgid: str
    title: str
    sent_on: dt.date
    index: int  # 1-based position in the mass message


@dataclass(frozen=True, slots=True)
class ArticleDay:
    article: Article
    read_user: int
    read_count: int
    ori_read_user: int
    ori_read_count: int
    share_user: int
    share_count: int
    fav_user: int
    fav_count: int


class WeChatWorld:
    def __init__(self, world: World) -> None:
        self.world = world
        self.appid = APPID
        self.name = ACCOUNT_NAME

    def served_days(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
        return max(start, self.world.history_start), min(end, self.world.last_day)

    # ------------------------------------------------------------- followers
    def cumulate(self, d: dt.date) -> int:
        n = (d - _EPOCH).days
        u = self.world.h.u("wechat-followers", d.toordinal())
        curve = _START_FOLLOWERS + _DAILY_GROWTH * n + _GROWTH_ACCEL * n * n
        curve += _WEEKLY_LEVEL[d.weekday()] + 150.0 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 60) / 365.25)
        return round(curve + _NOISE * (u[0] + u[1] - 1.0))

    def user_summary(self, d: dt.date) -> list[tuple[int, int, int]]:
        """(user_source, new_user, cancel_user) for one day; sources with neither omitted."""
        total = self.cumulate(d)
        net = total - self.cumulate(d - dt.timedelta(days=1))
        u = self.world.h.u("wechat-summary", d.toordinal())
        cancel = max(_poisson(total * 0.0004, u[0]), -net)
        new = net + cancel
        new_by = _allocate(new, [w * (0.7 + 0.6 * u[1 + i % 7]) for i, w in enumerate(_NEW_WEIGHTS)])
        cancel_by = _allocate(cancel, _CANCEL_WEIGHTS)
        return [(s, n, c) for s, n, c in zip(SOURCES, new_by, cancel_by, strict=False) if n or c]

    # -------------------------------------------------------------- articles
    def articles_sent(self, d: dt.date) -> tuple[Article, ...]:
        weeks, weekday = divmod((d - _EPOCH).days, 7)
        if weekday not in PUBLISH_WEEKDAYS:
            return ()
        msg_data_id = _MSG_DATA_ID_BASE + weeks * len(PUBLISH_WEEKDAYS) + PUBLISH_WEEKDAYS.index(weekday)
        u = self.world.h.u("wechat-message", msg_data_id)
        count = 1 + (u[0] < 0.5) + (u[0] < 0.2)
        seasonal = next(titles for months, titles in _TITLES_BY_MONTH.items() if d.month in months)
        pool = seasonal + _TITLES_ALWAYS
        first = int(u[1] * len(pool))
        return tuple(
            Article(f"{msg_data_id}_{i}", pool[(first + 3 * (i - 1)) % len(pool)], d, i)
            for i in range(1, count + 1)
        )

    def article_days(self, d: dt.date) -> list[ArticleDay]:
        """Every article read on day d (sent within the last week), by msgid."""
        out = []
        for age in range(READ_DAYS):
            sent = d - dt.timedelta(days=age)
            if not self.articles_sent(sent):
                continue
            audience = self.cumulate(sent)
            for article in self.articles_sent(sent):
                u = self.world.h.u("wechat-article-day", article.msgid, d.toordinal())
                base = audience * _OPEN_RATE[article.index - 1] * _jitter(u[0], u[1], 0.35)
                read_user = round(base * _READ_DECAY[age])
                if read_user <= 0:
                    continue
                read_count = round(read_user * (1.1 + 0.25 * u[2]))
                ori_user = round(read_user * 0.02 * u[3])
                share_user = _poisson(read_user * 0.03, u[4])
                fav_user = _poisson(read_user * 0.015, u[5])
                out.append(ArticleDay(
                    article, read_user, read_count, ori_user, ori_user + (ori_user and round(u[6])),
                    share_user, share_user + round(share_user * 0.3 * u[6]),
                    fav_user, fav_user + round(fav_user * 0.1 * u[7]),
                ))
        out.sort(key=lambda a: a.article.msgid)
        return out


_cache: weakref.WeakKeyDictionary[World, WeChatWorld] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def wechat_world(world: World) -> WeChatWorld:
    """The WeChat part of ``world``, built once per World object."""
    with _cache_lock:
        part = _cache.get(world)
        if part is None:
            part = _cache[world] = WeChatWorld(world)
        return part
