"""Northwind Outdoor on LinkedIn in the sandbox world: a company page and two
sponsored ad accounts.

Contract
--------
* Same determinism as ``world.py``: numbers come from ``world.h`` keyed by
  (object, absolute day); slices are computed on demand and memoised in
  bounded LRUs. Accounts, campaigns and demographic shares are small and built
  eagerly.
* Page: follower net gains per UTC day (organic gains minus unfollows, so
  ``organicFollowerGain`` is sometimes negative; paid gains while the
  follower campaign runs), B2B weekly seasonality (weekdays high), and share
  statistics. The follower total is the page's starting count plus every net
  gain since the page's creation day.
* Ad accounts: US (USD) and UK (GBP); campaigns carry the Meta campaigns'
  themes (spring_sale, trail_running, brand_awareness, summer_hiking, ...).
  Ad analytics are per UTC day, for days < ``world.today`` inside each flight.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .world_common import _allocate

if TYPE_CHECKING:  # the World is built from the channel worlds: annotations only
    from .world import World

ORGANIZATION_ID = "10457311"
PAGE_CREATED = dt.date(2021, 3, 1)
FOLLOWERS_AT_CREATION = 1200

# LinkedIn is a weekday network.
_WEEKLY = (1.10, 1.18, 1.15, 1.08, 0.95, 0.55, 0.50)

# (urn, share) of the followers
COUNTRIES = (("urn:li:geo:103644278", 0.46), ("urn:li:geo:101165590", 0.18), ("urn:li:geo:101282230", 0.12),
             ("urn:li:geo:101174742", 0.09), ("urn:li:geo:105015875", 0.06), ("urn:li:geo:102890719", 0.05),
             ("urn:li:geo:106693272", 0.04))  # US, GB, DE, CA, FR, NL, CH
FUNCTIONS = (("urn:li:function:15", 0.31), ("urn:li:function:4", 0.22), ("urn:li:function:18", 0.17),
             ("urn:li:function:8", 0.16), ("urn:li:function:25", 0.14))  # marketing, business dev, ops, eng, sales
SENIORITIES = (("urn:li:seniority:3", 0.38), ("urn:li:seniority:4", 0.27), ("urn:li:seniority:5", 0.19),
               ("urn:li:seniority:6", 0.11), ("urn:li:seniority:8", 0.05))
INDUSTRIES = (("urn:li:industry:27", 0.34), ("urn:li:industry:80", 0.24), ("urn:li:industry:40", 0.2),
              ("urn:li:industry:4", 0.12), ("urn:li:industry:124", 0.1))  # retail, marketing, sports, software, health

ACCOUNT_SPECS = (
    dict(id="508123456", name="Northwind Outdoor US - LinkedIn", currency="USD", fx=1.0, campaigns=(
        dict(name="Spring Sale - Sponsored Content", slug="spring_sale", objective="WEBSITE_CONVERSION",
             type="SPONSORED_UPDATES", status="ACTIVE", spend=95.0, flight=(1, 2, None)),
        dict(name="Trail Running - Lead Gen", slug="trail_running", objective="LEAD_GENERATION",
             type="SPONSORED_UPDATES", status="ACTIVE", spend=70.0, flight=(2, 5, None)),
        dict(name="Brand Awareness US - Video", slug="brand_awareness_us", objective="BRAND_AWARENESS",
             type="SPONSORED_UPDATES", status="ACTIVE", spend=55.0, flight=(3, 1, None)),
        dict(name="Page Followers - Always On", slug="page_followers", objective="ENGAGEMENT",
             type="SPONSORED_UPDATES", status="ACTIVE", spend=25.0, flight=(3, 1, None)),
        dict(name="Holiday Gift Guide - Text Ads", slug="holiday_gift_guide", objective="WEBSITE_VISIT",
             type="TEXT_AD", status="COMPLETED", spend=40.0, flight=(1, 11, (0, 1))),
    )),
    dict(id="508123457", name="Northwind Outdoor UK - LinkedIn", currency="GBP", fx=0.79, campaigns=(
        dict(name="Summer Hiking UK", slug="summer_hiking_uk", objective="WEBSITE_VISIT",
             type="SPONSORED_UPDATES", status="ACTIVE", spend=60.0, flight=(1, 4, None)),
        dict(name="Trail Running UK - Conversions", slug="trail_running_uk", objective="WEBSITE_CONVERSION",
             type="SPONSORED_UPDATES", status="PAUSED", spend=45.0, flight=(2, 3, (1, 3))),
    )),
)
# objective -> (cpm, ctr, landing share of clicks, conversion rate, order value in USD)
_ECON = {
    "WEBSITE_CONVERSION": (38.0, 0.0065, 0.72, 0.035, 120.0),
    "LEAD_GENERATION": (42.0, 0.0070, 0.30, 0.0, 0.0),
    "BRAND_AWARENESS": (18.0, 0.0035, 0.55, 0.004, 110.0),
    "ENGAGEMENT": (22.0, 0.0090, 0.15, 0.0, 0.0),
    "WEBSITE_VISIT": (30.0, 0.0080, 0.85, 0.01, 105.0),
}


@dataclass(frozen=True, slots=True)
class LiCampaign:
    id: str
    account_id: str
    group_id: str
    name: str
    slug: str
    objective: str
    type: str
    status: str
    start: dt.date
    end: dt.date | None  # last delivering day, inclusive
    base_spend: float

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


# Where a campaign's landing page clicks arrive (GA4 landingPage); others: "/".
LANDING_PAGES = {"spring_sale": "/collections/spring-sale", "trail_running": "/products/trail-shoes",
                 "trail_running_uk": "/products/trail-shoes", "summer_hiking_uk": "/products/hiking-boots",
                 "holiday_gift_guide": "/collections/gifts"}


@dataclass(frozen=True, slots=True)
class LiAccount:
    id: str
    name: str
    currency: str
    fx: float  # local currency per USD, for coherent order values
    campaigns: tuple[LiCampaign, ...]


class LinkedinWorld:
    def __init__(self, world: World) -> None:
        self.world = world
        self.organization_id = ORGANIZATION_ID
        self.accounts = {spec["id"]: self._account(k, spec) for k, spec in enumerate(ACCOUNT_SPECS, start=1)}
        self.campaigns = {c.id: c for a in self.accounts.values() for c in a.campaigns}
        self._campaign_day = lru_cache(maxsize=1 << 15)(self._compute_campaign_day)
        self._page_day = lru_cache(maxsize=1 << 13)(self._compute_page_day)
        self._followers_before = lru_cache(maxsize=64)(self._compute_followers_before)

    def _account(self, k: int, spec: dict) -> LiAccount:
        year = self.world.today.year
        campaigns = []
        for i, cs in enumerate(spec["campaigns"], start=1):
            years_back, month, stop = cs["flight"]
            start = dt.date(year - years_back, month, 1)
            end = None if stop is None else dt.date(year - stop[0], stop[1], 15)
            cid = str(360000000 + k * 1000 + i * 7)
            u = self.world.h.u("li-campaign", cid)
            campaigns.append(LiCampaign(
                cid, spec["id"], str(610000000 + k * 100 + i), cs["name"], cs["slug"], cs["objective"], cs["type"],
                cs["status"], start, end, cs["spend"] * spec["fx"] * (0.8 + 0.4 * u[0]),
            ))
        return LiAccount(spec["id"], spec["name"], spec["currency"], spec["fx"], tuple(campaigns))

    # ---------------------------------------------------------------- paid
    def campaign_day(self, campaign: LiCampaign, day: dt.date) -> dict[str, float | int] | None:
        if not campaign.active_on(day) or day >= self.world.today:
            return None
        return self._campaign_day(campaign.id, day.toordinal())

    def _compute_campaign_day(self, campaign_id: str, ordinal: int) -> dict[str, float | int]:
        c = self.campaigns[campaign_id]
        day = dt.date.fromordinal(ordinal)
        u = self.world.h.u("li-campaign-day", campaign_id, ordinal)
        w = self.world.h.u("li-campaign-day-2", campaign_id, ordinal)
        cpm, ctr, landing, cvr, aov = _ECON[c.objective]
        fx = self.accounts[c.account_id].fx
        cost = round(c.base_spend * _WEEKLY[day.weekday()] * (0.75 + 0.5 * u[0]), 6)
        impressions = max(1, round(cost / (cpm * fx * (0.85 + 0.3 * u[1])) * 1000))
        clicks = round(impressions * ctr * (0.7 + 0.6 * u[2]))
        landing_clicks = min(clicks, round(clicks * landing * (0.9 + 0.2 * u[3])))
        conversions = round(landing_clicks * cvr * (0.5 + u[4]))
        likes = round(impressions * 0.002 * (0.5 + w[0]))
        comments = round(likes * 0.1 * w[1])
        shares = round(likes * 0.08 * w[2])
        follows = round(impressions * (0.0012 if c.objective == "ENGAGEMENT" else 0.0002) * (0.5 + w[3]))
        video_views = round(impressions * 0.3 * (0.7 + 0.6 * w[4])) if c.objective == "BRAND_AWARENESS" else 0
        leads = round(clicks * 0.12 * (0.5 + w[5])) if c.objective == "LEAD_GENERATION" else 0
        other = round(clicks * 0.05 * w[6])
        return {
            "impressions": impressions, "clicks": clicks, "landingPageClicks": landing_clicks,
            "costInLocalCurrency": cost, "costInUsd": round(cost / fx, 6),
            "externalWebsiteConversions": conversions,
            "conversionValueInLocalCurrency": round(conversions * aov * fx * (0.8 + 0.4 * w[7]), 2),
            "oneClickLeads": leads, "likes": likes, "comments": comments, "shares": shares, "follows": follows,
            "reactions": likes, "totalEngagements": clicks + likes + comments + shares + follows + other,
            "videoViews": video_views, "videoCompletions": round(video_views * 0.28), "otherEngagements": other,
            "companyPageClicks": round(clicks * 0.04 * w[6]), "opens": 0, "sends": 0,
        }

    @staticmethod
    def landing_page(campaign: LiCampaign) -> str:
        return LANDING_PAGES.get(campaign.slug, "/")

    # --------------------------------------------------------------- organic
    def page_day(self, day: dt.date) -> dict[str, int]:
        return self._page_day(day.toordinal())

    def _paid_follows(self, day: dt.date) -> int:
        # Today's follows count too (the API serves them only later): a day's
        # net gain must not change when `today` moves past it.
        return sum(int(self._campaign_day(c.id, day.toordinal())["follows"])
                   for c in self.campaigns.values() if c.active_on(day))

    def _compute_page_day(self, ordinal: int) -> dict[str, int]:
        day = dt.date.fromordinal(ordinal)
        u = self.world.h.u("li-page-day", ordinal)
        season = _WEEKLY[day.weekday()]
        growth = 1.0 + (ordinal - PAGE_CREATED.toordinal()) / 1500
        gains = round(14 * season * growth * (0.4 + 1.2 * u[0]))
        unfollows = round(5 * growth * (0.3 + 1.4 * u[1]))
        impressions = round(2600 * season * growth * (0.7 + 0.6 * u[2]))
        unique = round(impressions * (0.62 + 0.12 * u[3]))
        clicks = round(impressions * 0.014 * (0.6 + 0.8 * u[4]))
        likes = round(impressions * 0.011 * (0.6 + 0.8 * u[5]))
        comments = round(likes * 0.09 * (0.5 + u[6]))
        shares = round(likes * 0.07 * (0.5 + u[7]))
        return {"organic_gain": gains - unfollows, "paid_gain": self._paid_follows(day),
                "impressions": impressions, "unique_impressions": unique, "clicks": clicks,
                "likes": likes, "comments": comments, "shares": shares}

    def _compute_followers_before(self, ordinal: int) -> int:
        total = FOLLOWERS_AT_CREATION
        for o in range(PAGE_CREATED.toordinal(), ordinal):
            day = self._compute_page_day(o)
            total += day["organic_gain"] + day["paid_gain"]
        return total

    def total_followers(self) -> int:
        """Followers now, the end-of-today total: every net gain through
        today, so it equals yesterday's total plus today's gain."""
        return self._followers_before(self.world.today.toordinal() + 1)

    def demographics(self) -> dict[str, list[tuple[str, int, int]]]:
        """facet -> [(bucket urn, organic, paid)] summing (per facet) to the total."""
        total = self.total_followers()
        paid = round(total * 0.08)
        out = {}
        for facet, buckets in (("followerCountsByGeoCountry", COUNTRIES), ("followerCountsByFunction", FUNCTIONS),
                               ("followerCountsBySeniority", SENIORITIES), ("followerCountsByIndustry", INDUSTRIES)):
            organic_split = _allocate(total - paid, [s for _, s in buckets])
            paid_split = _allocate(paid, [s for _, s in buckets])
            out[facet] = [(urn, o, p) for (urn, _), o, p in zip(buckets, organic_split, paid_split, strict=False)]
        return out


_cache: weakref.WeakKeyDictionary[World, LinkedinWorld] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def linkedin_world(world: World) -> LinkedinWorld:
    """The LinkedIn part of ``world``, built once per World object."""
    with _cache_lock:
        part = _cache.get(world)
        if part is None:
            part = _cache[world] = LinkedinWorld(world)
        return part
