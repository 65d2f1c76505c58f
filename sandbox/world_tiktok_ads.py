"""Northwind Outdoor on TikTok Ads: the sandbox world's TikTok part.

Contract
--------
* A pure, deterministic function of the shared ``World``'s seed (its
  ``Hasher``), ``today`` and flights anchored to ``today.year``, exactly like
  the Meta campaigns in ``world.py``. Nothing row-shaped is precomputed: a
  (campaign, day) slice is derived on demand and memoised in a bounded LRU.
* Two advertisers: US (USD, America/New_York) and China (CNY, Asia/Shanghai).
  Report days are local to the advertiser, money in its currency. Data exists
  for days in [world.history_start, world.today).
* Campaigns mirror the Meta themes (spring_sale, trail_running, brand
  awareness, holiday gift guide, summer hiking). Ads carry landing page URLs
  with ``utm_source=tiktok&utm_medium=paid_social&utm_campaign=<slug>``, except
  the China summer-hiking campaign (untagged, the realistic gap) and
  video-view ads, which have no landing page at all.
* TikTok's "-" (not available): ``reach`` for the newest day (reach is computed
  later) and ``conversion`` for REACH / VIDEO_VIEWS campaigns, which optimise
  for no conversion event. Ids are 19-digit (beyond 2**53).
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .world_common import _FLIGHTS, _SPEND_WEEKLY, _annual, _holiday_peak, _jitter, _poisson, _trend

if TYPE_CHECKING:  # the World is built from the channel worlds: annotations only
    from .world import World

SITE = "https://www.northwindoutdoor.com"
NOT_AVAILABLE = "-"
REACH_DELAY_DAYS = 1  # reach of the newest day is reported as "-"

# objective -> (ctr, purchases per click, optimisation conversions per click or None)
_OBJECTIVE_ECON = {
    "WEB_CONVERSIONS": (0.011, 0.022, None),  # the optimisation event is the purchase itself
    "TRAFFIC": (0.017, 0.004, 0.82),  # landing page views
    "REACH": (0.006, 0.001, None),
    "VIDEO_VIEWS": (0.004, 0.001, None),
}
_NO_CONVERSION_EVENT = frozenset({"REACH", "VIDEO_VIEWS"})

ADVERTISER_SPECS: tuple[dict, ...] = (
    dict(id="7301234567890123401", name="Northwind Outdoor US", currency="USD", timezone="America/New_York",
         aov=108.0,
         campaigns=(
             dict(name="Spring Sale - TikTok", slug="spring_sale", objective="WEB_CONVERSIONS", flight="always",
                  spend=95.0, cpm=6.5, page="/collections/spring-sale"),
             dict(name="Trail Running Creators", slug="trail_running", objective="TRAFFIC", flight="always",
                  spend=70.0, cpm=5.0, page="/products/trail-shoes"),
             dict(name="Brand Awareness US - TikTok", slug="brand_awareness_us", objective="REACH", flight="always",
                  spend=50.0, cpm=3.2, page="/"),
             dict(name="Holiday Gift Guide - TikTok", slug="holiday_gift_guide", objective="WEB_CONVERSIONS",
                  flight="holiday", spend=130.0, cpm=7.8, page="/collections/gifts"),
         )),
    dict(id="7301234567890123402", name="北风户外 Northwind Outdoor China", currency="CNY", timezone="Asia/Shanghai",
         aov=760.0,
         campaigns=(
             dict(name="春季大促 Spring Sale CN", slug="spring_sale_cn", objective="WEB_CONVERSIONS", flight="always",
                  spend=650.0, cpm=38.0, page="/cn/collections/spring-sale"),
             dict(name="越野跑 Trail Running CN", slug="trail_running_cn", objective="TRAFFIC", flight="always",
                  spend=480.0, cpm=30.0, page="/cn/products/trail-shoes"),
             dict(name="夏日徒步 Summer Hiking CN", slug="summer_hiking_cn", objective="VIDEO_VIEWS",
                  flight="launched", spend=300.0, cpm=22.0, page="/cn/products/hiking-boots", untagged=True),
         )),
)


@dataclass(frozen=True, slots=True)
class TikTokAd:
    id: str
    name: str
    campaign_id: str
    landing_page_url: str | None


@dataclass(frozen=True, slots=True)
class TikTokCampaign:
    id: str
    advertiser_id: str
    name: str
    slug: str
    objective_type: str
    start: dt.date
    stop: dt.date | None
    ads: tuple[TikTokAd, ...]
    base_spend: float
    cpm: float
    ctr: float
    cvr: float
    aov: float

    @property
    def operation_status(self) -> str:
        return "ENABLE" if self.stop is None else "DISABLE"

    def active_on(self, d: dt.date) -> bool:
        return self.start <= d and (self.stop is None or d <= self.stop)


@dataclass(frozen=True, slots=True)
class TikTokAdvertiser:
    id: str
    name: str
    currency: str
    timezone: str
    campaigns: tuple[TikTokCampaign, ...]  # sorted by id


@dataclass(frozen=True, slots=True)
class TikTokDay:
    """One campaign-day as the report shows it; None is TikTok's "-"."""

    spend: float
    impressions: int
    clicks: int
    reach: int | None
    conversion: int | None
    complete_payment: int
    complete_payment_value: float


class TikTokWorld:
    def __init__(self, world: World) -> None:
        self.world = world
        self.advertisers: dict[str, TikTokAdvertiser] = {
            spec["id"]: self._build(k, spec) for k, spec in enumerate(ADVERTISER_SPECS, start=1)
        }
        self.campaigns = {c.id: c for a in self.advertisers.values() for c in a.campaigns}
        self._day = lru_cache(maxsize=1 << 14)(self._compute_day)

    def _build(self, k: int, spec: dict) -> TikTokAdvertiser:
        h, year = self.world.h, self.world.today.year
        campaigns = []
        for ci, cs in enumerate(spec["campaigns"], start=1):
            cid = str(1790000000000000000 + k * 100000 + ci * 100)
            u = h.u("tiktok-campaign", cid)
            ads = []
            for ai, fmt in enumerate(("In-Feed Video", "Spark Ad"), start=1):
                if cs["objective"] == "VIDEO_VIEWS":
                    url = None  # video-view ads send nobody anywhere
                elif cs.get("untagged"):
                    url = f"{SITE}{cs['page']}"
                else:
                    url = f"{SITE}{cs['page']}?utm_source=tiktok&utm_medium=paid_social&utm_campaign={cs['slug']}"
                ads.append(TikTokAd(str(int(cid) + ai), f"{cs['name']} - {fmt}", cid, url))
            ctr, cvr, _ = _OBJECTIVE_ECON[cs["objective"]]
            start, stop = _FLIGHTS[cs["flight"]](year)
            campaigns.append(TikTokCampaign(
                id=cid, advertiser_id=spec["id"], name=cs["name"], slug=cs["slug"], objective_type=cs["objective"],
                start=start, stop=stop, ads=tuple(ads),
                base_spend=cs["spend"] * _jitter(u[0], u[1], 0.2), cpm=cs["cpm"] * _jitter(u[2], u[3], 0.1),
                ctr=ctr * _jitter(u[4], u[5], 0.2), cvr=cvr * _jitter(u[6], u[7], 0.2), aov=spec["aov"],
            ))
        campaigns.sort(key=lambda c: c.id)
        return TikTokAdvertiser(spec["id"], spec["name"], spec["currency"], spec["timezone"], tuple(campaigns))

    def served_days(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
        """[start, end] clipped to the days that have data (possibly empty: lo > hi)."""
        return max(start, self.world.history_start), min(end, self.world.last_day)

    def day(self, campaign: TikTokCampaign, d: dt.date) -> TikTokDay:
        return self._day(campaign.id, d.toordinal())

    def _compute_day(self, campaign_id: str, ordinal: int) -> TikTokDay:
        c = self.campaigns[campaign_id]
        d = dt.date.fromordinal(ordinal)
        u = self.world.h.u("tiktok-day", campaign_id, ordinal)
        v = self.world.h.u("tiktok-day-2", campaign_id, ordinal)
        season = _SPEND_WEEKLY[d.weekday()] * _annual(d) * _trend(d)
        if c.objective_type == "WEB_CONVERSIONS":
            season *= _holiday_peak(d)
        spend = round(c.base_spend * season * _jitter(u[0], u[1], 0.25), 2)
        impressions = max(1, round(spend / (c.cpm * _jitter(u[2], u[3], 0.15)) * 1000))
        clicks = round(impressions * c.ctr * _jitter(u[4], u[5], 0.3))
        reach = min(impressions, round(impressions / (1.2 + 0.7 * u[6])))
        if (self.world.today - d).days <= REACH_DELAY_DAYS:
            reach = None
        purchases = _poisson(clicks * c.cvr * (1.1 if d.weekday() >= 5 else 1.0), u[7])
        value = round(purchases * c.aov * _jitter(v[0], v[1], 0.3), 2) if purchases else 0.0
        per_click = _OBJECTIVE_ECON[c.objective_type][2]
        if c.objective_type in _NO_CONVERSION_EVENT:
            conversion = None
        elif per_click is None:
            conversion = purchases
        else:
            conversion = round(clicks * per_click * (0.9 + 0.2 * v[2]))
        return TikTokDay(spend, impressions, clicks, reach, conversion, purchases, value)


_cache: weakref.WeakKeyDictionary[World, TikTokWorld] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def tiktok_world(world: World) -> TikTokWorld:
    """The TikTok part of ``world``, built once per World object."""
    with _cache_lock:
        part = _cache.get(world)
        if part is None:
            part = _cache[world] = TikTokWorld(world)
        return part
