"""The Meta ad accounts of the sandbox world: accounts, campaigns, ads, and
every campaign-day's delivery, computed on demand (counter-based, numpy).

Meta restates purchases for 28 days (attribution): a campaign-day younger
than that is reported below its settled value until ``revision`` catches up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .world_common import _FLIGHTS, _SPEND_WEEKLY, _jitter, _poisson_vec, _season_vec

META_RESTATEMENT_DAYS = 28
META_HISTORY_MONTHS = 37  # Meta rejects time ranges starting further back.


# --------------------------------------------------------------------------- #
# Dimension data
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class Ad:
    id: str
    name: str
    campaign_id: str
    creative_id: str
    url_tags: str | None  # None -> the key is omitted on the wire
    ga4_source: str  # where its clicks land in GA4 (facebook / instagram)
    weight: float  # share of the campaign's clicks


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    account_id: str  # "act_1001"
    name: str
    slug: str
    objective: str
    status: str
    start: dt.date
    stop: dt.date | None  # last delivering day, inclusive; None = still running
    ads: tuple[Ad, ...]
    landing_pages: tuple[tuple[str, float], ...]
    tagged: bool
    # Per-campaign economics (drawn from the seed).
    base_spend: float
    cpm: float
    ctr: float
    link_ratio: float
    cvr: float
    aov: float
    lead_rate: float
    holiday_sensitive: bool

    @property
    def ga4_campaign_name(self) -> str:
        return self.slug if self.tagged else "(not set)"

    def active_on(self, d: dt.date) -> bool:
        return self.start <= d and (self.stop is None or d <= self.stop)


@dataclass(frozen=True, slots=True)
class AdAccount:
    id: str  # "act_1001"
    number: str  # "1001" (Meta's account_id field)
    name: str
    currency: str
    timezone_name: str
    campaigns: tuple[Campaign, ...]  # sorted by id


@dataclass(frozen=True, slots=True)
class CampaignDay:
    spend: float
    impressions: int
    reach: int
    clicks: int
    link_clicks: int
    landing_page_views: int
    purchases: int
    purchase_value: float
    leads: int


@dataclass(frozen=True, slots=True)
class CampaignDays:
    """Many campaign-days at once, one numpy array per measure (money in cents)."""

    spend_cents: np.ndarray
    impressions: np.ndarray
    reach: np.ndarray
    clicks: np.ndarray
    link_clicks: np.ndarray
    landing_page_views: np.ndarray
    purchases: np.ndarray
    purchase_value_cents: np.ndarray
    leads: np.ndarray

    def day(self, i: int) -> CampaignDay:
        return CampaignDay(
            int(self.spend_cents[i]) / 100, int(self.impressions[i]), int(self.reach[i]), int(self.clicks[i]),
            int(self.link_clicks[i]), int(self.landing_page_views[i]), int(self.purchases[i]),
            int(self.purchase_value_cents[i]) / 100, int(self.leads[i]),
        )


_OBJECTIVE_ECON = {
    # ctr, link_ratio, cvr (purchases per link click), lead_rate
    "OUTCOME_SALES": (0.016, 0.74, 0.028, 0.0),
    "OUTCOME_TRAFFIC": (0.024, 0.86, 0.006, 0.0),
    "OUTCOME_AWARENESS": (0.009, 0.62, 0.002, 0.0),
    "OUTCOME_LEADS": (0.014, 0.78, 0.003, 0.07),
}

_FB = "facebook"
_IG = "instagram"

META_ACCOUNT_SPECS: tuple[dict, ...] = (
    dict(
        number="1001",
        name="Northwind Outdoor US",
        currency="USD",
        timezone="America/Los_Angeles",
        aov=112.0,
        campaigns=(
            dict(name="Spring Sale", slug="spring_sale", objective="OUTCOME_SALES", status="ACTIVE",
                 flight="always", spend=185.0, cpm=11.5,
                 pages=(("/collections/spring-sale", 0.6), ("/", 0.25), ("/pricing", 0.15)),
                 ads=(("Spring Sale - Carousel", _FB), ("Spring Sale - Video", _FB))),
            dict(name="Trail Shoes Prospecting", slug="trail_shoes_prospecting", objective="OUTCOME_TRAFFIC",
                 status="ACTIVE", flight="always", spend=120.0, cpm=9.0,
                 pages=(("/products/trail-shoes", 0.8), ("/", 0.2)),
                 ads=(("Trail Shoes - Static", _FB), ("Trail Shoes - Reels", _IG), ("Trail Shoes - Story", _FB))),
            dict(name="Brand Awareness US", slug="brand_awareness_us", objective="OUTCOME_AWARENESS",
                 status="ACTIVE", flight="always", spend=90.0, cpm=5.2,
                 pages=(("/", 1.0),),
                 ads=(("Brand Film 30s", _FB), ("Brand Film 15s", _FB))),
            dict(name="Holiday Gift Guide", slug="holiday_gift_guide", objective="OUTCOME_SALES",
                 status="PAUSED", flight="holiday", spend=240.0, cpm=13.5,
                 pages=(("/collections/gifts", 0.7), ("/products/rain-jacket", 0.3)),
                 ads=(("Gift Guide - Carousel", _FB), ("Gift Guide - Collection", _FB))),
            dict(name="Newsletter Signups", slug="newsletter_signups", objective="OUTCOME_LEADS",
                 status="ACTIVE", flight="always", spend=60.0, cpm=8.0,
                 pages=(("/newsletter", 1.0),),
                 ads=(("Newsletter - Lead Form", _FB), ("Newsletter - Static", _FB))),
        ),
    ),
    dict(
        number="1002",
        name="Northwind Outdoor EU",
        currency="EUR",
        timezone="Europe/Berlin",
        aov=96.0,
        campaigns=(
            dict(name="Trail Running EU", slug="trail_running_eu", objective="OUTCOME_SALES", status="ACTIVE",
                 flight="always", spend=140.0, cpm=8.5,
                 pages=(("/products/trail-shoes", 0.55), ("/eu/", 0.3), ("/pricing", 0.15)),
                 ads=(("Trail Running - Carousel", _FB), ("Trail Running - Video", _FB),
                      ("Trail Running - Static", _FB))),
            dict(name="Summer Hiking EU", slug="summer_hiking_eu", objective="OUTCOME_TRAFFIC",
                 status="ACTIVE", flight="launched", spend=75.0, cpm=7.0,
                 pages=(("/products/hiking-boots", 0.7), ("/blog/alpine-trails", 0.3)),
                 ads=(("Summer Hiking - Video", _FB), ("Summer Hiking - Static", _FB))),
            # The realistic gap: this campaign's ads carry no url_tags at all.
            dict(name="Retargeting EU", slug="retargeting_eu", objective="OUTCOME_SALES", status="ACTIVE",
                 flight="always", spend=55.0, cpm=14.0, untagged=True,
                 pages=(("/cart", 0.6), ("/products/trail-shoes", 0.4)),
                 ads=(("Retargeting - Dynamic", None), ("Retargeting - Static", None))),
            dict(name="Brand Awareness EU", slug="brand_awareness_eu", objective="OUTCOME_AWARENESS",
                 status="ACTIVE", flight="always", spend=70.0, cpm=4.6,
                 pages=(("/eu/", 1.0),),
                 ads=(("Brand Film EU 30s", _FB), ("Brand Film EU 15s", _FB))),
        ),
    ),
)

def scaled_meta_account_specs(n_accounts: int) -> tuple[dict, ...]:
    """``n_accounts`` ad accounts cycling through the two Northwind templates.

    The first two are the regular act_1001/act_1002; the clones repeat the
    templates' quirks (untagged campaign, instagram ad) under their own
    campaign slugs (``spring_sale_1003``), so their GA4 traffic stays apart.
    "Exactly one" world-level invariants hold only for the default world.
    """
    out = []
    for i in range(n_accounts):
        base = META_ACCOUNT_SPECS[i % len(META_ACCOUNT_SPECS)]
        if i < len(META_ACCOUNT_SPECS):
            out.append(base)
        else:
            number = str(1001 + i)
            campaigns = tuple(dict(c, slug=f"{c['slug']}_{number}") for c in base["campaigns"])
            out.append(dict(base, number=number, name=f"{base['name']} #{i + 1}", campaigns=campaigns))
    return tuple(out)


class MetaAdsWorld:
    """The Meta ad accounts of the ``World`` (a part of it: the state lives there)."""

    # ------------------------------------------------------------------ build
    def _build_account(self, k: int, spec: dict) -> AdAccount:
        act_id = f"act_{spec['number']}"
        campaigns = []
        for ci, cs in enumerate(spec["campaigns"], start=1):
            cid = str(120200000000000000 + k * 10000 + ci * 100)
            u = self.h.u("campaign", cid)
            untagged = cs.get("untagged", False)
            ads = []
            raw_weights = [0.6 + 0.8 * x for x in self.h.u("ad-weights", cid)]
            for ai, (ad_name, source) in enumerate(cs["ads"], start=1):
                ad_id = str(120210000000000000 + k * 10000 + ci * 100 + ai)
                creative_id = str(120220000000000000 + k * 10000 + ci * 100 + ai)
                url_tags = (
                    None
                    if untagged
                    else f"utm_source={source}&utm_medium=paid_social&utm_campaign={cs['slug']}"
                )
                ads.append(Ad(ad_id, ad_name, cid, creative_id, url_tags, source or _FB, raw_weights[ai - 1]))
            total_w = sum(a.weight for a in ads)
            ads = [Ad(a.id, a.name, a.campaign_id, a.creative_id, a.url_tags, a.ga4_source, a.weight / total_w)
                   for a in ads]
            ctr, link_ratio, cvr, lead_rate = _OBJECTIVE_ECON[cs["objective"]]
            if cs["slug"].startswith("retargeting"):
                cvr *= 2.0  # warm audiences convert better
            start, stop = _FLIGHTS[cs["flight"]](self.today.year) if isinstance(cs["flight"], str) else cs["flight"]
            campaigns.append(
                Campaign(
                    id=cid, account_id=act_id, name=cs["name"], slug=cs["slug"], objective=cs["objective"],
                    status=cs["status"], start=start, stop=stop, ads=tuple(ads),
                    landing_pages=tuple(cs["pages"]), tagged=not untagged,
                    base_spend=cs["spend"] * _jitter(u[0], u[1], 0.2),
                    cpm=cs["cpm"] * _jitter(u[2], u[3], 0.1),
                    ctr=ctr * _jitter(u[4], u[5], 0.2),
                    link_ratio=link_ratio,
                    cvr=cvr * _jitter(u[6], u[7], 0.2),
                    aov=spec["aov"],
                    lead_rate=lead_rate,
                    holiday_sensitive=cs["objective"] == "OUTCOME_SALES",
                )
            )
        campaigns.sort(key=lambda c: c.id)
        return AdAccount(act_id, spec["number"], spec["name"], spec["currency"], spec["timezone"], tuple(campaigns))

    # ------------------------------------------------------------------- meta
    def meta_segments(
        self, account: AdAccount, since: dt.date, until: dt.date
    ) -> list[tuple[int, int, tuple[Campaign, ...]]]:
        """Split [since, until] (clipped to served history) into runs of days
        with a constant set of delivering campaigns.

        Returns (first_day_ordinal, n_days, campaigns) triples. Insight rows
        are ordered (day, campaign_id), so a row index maps to a (day,
        campaign) pair with integer arithmetic: pages can be served without
        enumerating the rows before them.
        """
        lo = max(since, self.history_start).toordinal()
        hi = min(until, self.last_day).toordinal()
        if lo > hi:
            return []
        cuts = {lo, hi + 1}
        for c in account.campaigns:
            for edge in (c.start.toordinal(), c.stop.toordinal() + 1 if c.stop else None):
                if edge is not None and lo < edge <= hi:
                    cuts.add(edge)
        edges = sorted(cuts)
        out = []
        for a, b in zip(edges, edges[1:], strict=False):
            day = dt.date.fromordinal(a)
            active = tuple(c for c in account.campaigns if c.active_on(day))
            if active:
                out.append((a, b - a, active))
        return out

    def campaign_day_final(self, campaign: Campaign, day: dt.date) -> CampaignDay:
        """Settled numbers for one campaign-day. Does not check the flight:
        callers decide which days exist (``meta_segments`` / ``active_on``)."""
        return self._campaign_day(campaign.id, day.toordinal())

    def _compute_campaign_day(self, campaign_id: str, ordinal: int) -> CampaignDay:
        days = self.campaign_days(np.array([self.campaign_position[campaign_id]]), np.array([ordinal]))
        return days.day(0)

    def campaign_day(self, campaign: Campaign, day: dt.date, revision: int | None = None) -> CampaignDay:
        """The day as Meta reports it now: recent purchases not fully attributed yet."""
        rev = self.revision if revision is None else revision
        days = self.campaign_days(np.array([self.campaign_position[campaign.id]]), np.array([day.toordinal()]), rev)
        return days.day(0)

    def campaign_days(self, positions: np.ndarray, ordinals: np.ndarray, revision: int | None = None) -> CampaignDays:
        """Many campaign-days in one pass: positions index ``campaign_list``.

        revision=None gives the settled numbers; a revision gives them as Meta
        reports them at that revision (recent purchases not fully attributed).
        """
        positions = np.asarray(positions, dtype=np.int64)
        ordinals = np.asarray(ordinals, dtype=np.int64)
        econ = {name: values[positions] for name, values in self._campaign_econ.items()}
        u = self.vh.uniforms("meta-day", self._campaign_ids[positions], ordinals)
        v = self.vh.uniforms("meta-day-2", self._campaign_ids[positions], ordinals)
        season, peak, weekday, month = _season_vec(ordinals, _SPEND_WEEKLY)
        season = np.where(self._holiday_sensitive[positions], season * peak, season)
        spend_cents = np.rint(econ["base_spend"] * season * _jitter(u[0], u[1], 0.24) * 100).astype(np.int64)
        cpm = econ["cpm"] * _jitter(u[2], u[3], 0.16) * np.where((month == 11) | (month == 12), 1.12, 1.0)
        impressions = np.maximum(1, np.rint(spend_cents / 100 / cpm * 1000)).astype(np.int64)
        frequency = 1.12 + 0.55 * u[4]
        reach = np.minimum(np.maximum(1, np.rint(impressions / frequency)), np.maximum(1, impressions - 1))
        clicks = np.rint(impressions * econ["ctr"] * _jitter(u[5], u[6], 0.3)).astype(np.int64)
        link_clicks = np.minimum(clicks, np.rint(clicks * econ["link_ratio"] * (0.9 + 0.15 * u[7]))).astype(np.int64)
        landing_page_views = np.rint(link_clicks * (0.72 + 0.18 * v[0])).astype(np.int64)
        # Weekend shoppers convert a bit better; Poisson gives natural zero days.
        purchases = _poisson_vec(link_clicks * econ["cvr"] * np.where(weekday >= 5, 1.1, 1.0), v[1])
        purchases[v[2] < 0.03] = 0  # occasional pixel outage: a day with no purchases at all
        value_cents = np.where(
            purchases > 0, np.rint(purchases * econ["aov"] * _jitter(v[3], v[4], 0.3) * 100), 0).astype(np.int64)
        leads = np.where(econ["lead_rate"] > 0, _poisson_vec(link_clicks * econ["lead_rate"], v[5]), 0)
        if revision is not None:
            age = self.today.toordinal() - ordinals
            young = (age < META_RESTATEMENT_DAYS) & (purchases > 0)
            share = np.where(young, 0.4 * (META_RESTATEMENT_DAYS - age) / META_RESTATEMENT_DAYS * 0.5**revision, 0.0)
            purchases = purchases - np.rint(purchases * share).astype(np.int64)
            value_cents = value_cents - np.rint(value_cents * share).astype(np.int64)
        return CampaignDays(spend_cents, impressions, reach.astype(np.int64), clicks, link_clicks,
                            landing_page_views, purchases, value_cents, leads.astype(np.int64))
