"""The sandbox's synthetic marketing world: pure data and pure functions, no HTTP.

Contract
--------
* Everything is a deterministic function of ``(seed, today, revision)`` and the
  key asked for. Two ``World`` objects built with the same seed and today give
  identical numbers; there is no hidden state besides ``revision`` and caches.
* Metric values for a given calendar day are keyed on the absolute date, not on
  its distance from ``today``. Moving ``today`` forward therefore only adds new
  days (and moves the restatement window); old, settled days keep their values.
  Campaign flights are anchored to ``today.year`` so they only shift when the
  year changes.
* Nothing row-shaped is precomputed. A (campaign, day) or (property, day) slice
  is derived on demand from a keyed blake2b hash of (seed, key) and memoised in
  a bounded LRU; only small dimension data (accounts, campaigns, ads, GA4
  properties, FX currency table) is built eagerly.
* Data exists for every day ``< today`` (the spec's simplification: "yesterday"
  is the newest complete day in every account time zone). Nothing for today or
  later.
* Restatement: Meta purchases/purchase values for days younger than 28 days and
  GA4 session counts for days younger than 3 days are reported below their
  final value; ``revision`` (bumped by ``Sandbox.restate``) shrinks the gap.

Brand: "Northwind Outdoor". Two Meta ad accounts (US/USD/Los Angeles,
EU/EUR/Berlin), one GA4 property (USD/Los Angeles) whose paid-social traffic is
derived from the Meta link clicks of *both* accounts, and ECB-style FX rates.
Extend by adding entries to ``META_ACCOUNT_SPECS`` / ``GA4_PROPERTY_SPECS`` /
``FX_CURRENCIES`` or by passing your own specs to ``World``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import math
import random
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Iterator, Sequence

# --------------------------------------------------------------------------- #
# Tunables that the channel modules and tests refer to.
# --------------------------------------------------------------------------- #
META_RESTATEMENT_DAYS = 28
GA4_RESTATEMENT_DAYS = 3
META_HISTORY_MONTHS = 37  # Meta rejects time ranges starting further back.
FX_LEAD_DAYS = 10  # FX history starts a little before the ad history so the
# first ad day can carry a rate forward from a preceding business day.

# Days of the week are Monday=0 .. Sunday=6.
_SPEND_WEEKLY = (0.90, 0.95, 0.97, 1.00, 1.05, 1.12, 1.10)  # outdoor shoppers: weekends
_WEB_WEEKLY = (1.05, 1.02, 1.00, 0.98, 0.95, 0.90, 0.97)
_NEWSLETTER_WEEKLY = (0.6, 2.2, 1.4, 0.9, 0.8, 0.6, 0.5)  # send day is Tuesday

_TREND_EPOCH = dt.date(2022, 1, 1).toordinal()


# --------------------------------------------------------------------------- #
# Calendar helpers
# --------------------------------------------------------------------------- #
def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping the day to the target month's end."""
    y, m = divmod(d.year * 12 + (d.month - 1) + months, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def easter_sunday(year: int) -> dt.date:
    """Anonymous Gregorian computus (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=256)
def target_holidays(year: int) -> frozenset[dt.date]:
    """TARGET2 closing days: no ECB reference rates are published on these."""
    easter = easter_sunday(year)
    return frozenset(
        {
            dt.date(year, 1, 1),
            easter - dt.timedelta(days=2),  # Good Friday
            easter + dt.timedelta(days=1),  # Easter Monday
            dt.date(year, 5, 1),
            dt.date(year, 12, 25),
            dt.date(year, 12, 26),
        }
    )


def is_target_business_day(d: dt.date) -> bool:
    return d.weekday() < 5 and d not in target_holidays(d.year)


def daterange(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Inclusive day range."""
    for o in range(start.toordinal(), end.toordinal() + 1):
        yield dt.date.fromordinal(o)


# --------------------------------------------------------------------------- #
# Deterministic randomness
# --------------------------------------------------------------------------- #
_U64x8 = struct.Struct("<8Q")
_STD_NORMAL = NormalDist()
_INV64 = 2.0**-64


class Hasher:
    """Keyed blake2b -> 8 uniforms in [0, 1). One call per (entity, day) slice.

    blake2b is in the stdlib, stable across platforms and Python versions, and
    ~1 us per call, which is what lets us compute any slice lazily instead of
    walking a PRNG from the beginning of history.
    """

    __slots__ = ("_key",)

    def __init__(self, seed: int) -> None:
        self._key = hashlib.blake2b(f"socialmart-sandbox/{seed}".encode(), digest_size=32).digest()

    def u(self, *parts: object) -> tuple[float, ...]:
        digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=64, key=self._key).digest()
        return tuple(x * _INV64 for x in _U64x8.unpack(digest))

    def token(self, *parts: object, n: int = 8) -> bytes:
        return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=n, key=self._key).digest()


def _jitter(u1: float, u2: float, spread: float) -> float:
    """Triangular noise around 1.0 with +/- spread: cheap and bell-ish."""
    return 1.0 + spread * (u1 + u2 - 1.0)


def _poisson(lam: float, u: float) -> int:
    """Inverse-CDF Poisson draw from one uniform (small lambdas only)."""
    if lam <= 0:
        return 0
    if lam > 60:  # normal approximation keeps the loop bounded
        z = _STD_NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return max(0, round(lam + z * math.sqrt(lam)))
    p = math.exp(-lam)
    cdf, k = p, 0
    while u > cdf and k < 400:
        k += 1
        p *= lam / k
        cdf += p
    return k


def _annual(d: dt.date) -> float:
    # Outdoor retail peaks in early summer.
    return 1.0 + 0.18 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 100) / 365.25)


def _holiday_peak(d: dt.date) -> float:
    # Black Friday to Christmas: sales campaigns spend more.
    if (d.month == 11 and d.day >= 20) or (d.month == 12 and d.day <= 20):
        return 1.35
    return 1.0


def _trend(d: dt.date) -> float:
    return 1.0 + 0.05 * (d.toordinal() - _TREND_EPOCH) / 365.25


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split an integer total by weights (largest remainder, stable ties)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    short = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[:short]:
        out[i] += 1
    return out


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
class Ga4Property:
    id: str
    name: str
    currency: str
    time_zone: str
    meta_accounts: tuple[str, ...]  # ad accounts whose paid clicks land here


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


# One fine-grained GA4 row: (source, medium, campaign, landingPage,
# sessions, engagedSessions, keyEvents, totalRevenue). Tuples keep the per-day
# cache small.
Ga4Row = tuple[str, str, str, str, int, int, int, float]

_OBJECTIVE_ECON = {
    # ctr, link_ratio, cvr (purchases per link click), lead_rate
    "OUTCOME_SALES": (0.016, 0.74, 0.028, 0.0),
    "OUTCOME_TRAFFIC": (0.024, 0.86, 0.006, 0.0),
    "OUTCOME_AWARENESS": (0.009, 0.62, 0.002, 0.0),
    "OUTCOME_LEADS": (0.014, 0.78, 0.003, 0.07),
}

# Flights are anchored to today's year (see module docstring).
_FLIGHTS = {
    "always": lambda y: (dt.date(y - 4, 1, 9), None),
    "holiday": lambda y: (dt.date(y - 2, 11, 4), dt.date(y - 1, 1, 6)),
    "launched": lambda y: (dt.date(y - 1, 4, 14), None),
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

    For benchmarks: ``sb.world = World(seed, today,
    meta_account_specs=scaled_meta_account_specs(200))`` serves ~1M insight
    rows over the 37-month history, still computed lazily. The first two are
    the regular act_1001/act_1002, so the GA4 property stays coherent; the
    clones repeat the templates' quirks (untagged campaign, instagram ad), so
    "exactly one" world-level invariants hold only for the default world.
    """
    out = []
    for i in range(n_accounts):
        base = META_ACCOUNT_SPECS[i % len(META_ACCOUNT_SPECS)]
        if i < len(META_ACCOUNT_SPECS):
            out.append(base)
        else:
            out.append(dict(base, number=str(1001 + i), name=f"{base['name']} #{i + 1}"))
    return tuple(out)


GA4_PROPERTY_SPECS: tuple[dict, ...] = (
    dict(id="123456", name="Northwind Outdoor - Web", currency="USD", time_zone="America/Los_Angeles",
         meta_accounts=("act_1001", "act_1002")),
)

# code -> (level around which the rate wanders, decimals on the wire, ECB title)
FX_CURRENCIES: dict[str, tuple[float, int, str]] = {
    "USD": (1.08, 4, "US dollar"),
    "GBP": (0.85, 4, "UK pound sterling"),
    "CNY": (7.8, 4, "Chinese yuan renminbi"),
    "JPY": (160.0, 2, "Japanese yen"),
    "CHF": (0.95, 4, "Swiss franc"),
    "SEK": (11.3, 4, "Swedish krona"),
    "NOK": (11.6, 4, "Norwegian krone"),
    "DKK": (7.46, 4, "Danish krone"),
    "PLN": (4.3, 4, "Polish zloty"),
    "CZK": (25.0, 3, "Czech koruna"),
    "HUF": (395.0, 2, "Hungarian forint"),
    "AUD": (1.65, 4, "Australian dollar"),
    "CAD": (1.48, 4, "Canadian dollar"),
    "NZD": (1.8, 4, "New Zealand dollar"),
    "HKD": (8.45, 4, "Hong Kong dollar"),
    "SGD": (1.45, 4, "Singapore dollar"),
    "KRW": (1480.0, 2, "Korean won (Republic)"),
    "INR": (90.5, 4, "Indian rupee"),
    "BRL": (5.9, 4, "Brazilian real"),
    "MXN": (19.5, 4, "Mexican peso"),
    "ZAR": (19.8, 4, "South African rand"),
}

_FX_EPOCH_YEAR = 2000  # the walk starts here so a date's rate never depends on `today`
_FX_MEAN_REVERSION = 0.003  # AR(1) pull towards the level: keeps rates "around" it
_FX_DAILY_VOL = 0.0035


class World:
    """The seeded synthetic world. Cheap to build; slices are computed lazily."""

    def __init__(
        self,
        seed: int = 7,
        today: dt.date | None = None,
        *,
        meta_account_specs: Sequence[dict] = META_ACCOUNT_SPECS,
        ga4_property_specs: Sequence[dict] = GA4_PROPERTY_SPECS,
        fx_currencies: dict[str, tuple[float, int, str]] | None = None,
    ) -> None:
        self.seed = seed
        self.today = today or dt.datetime.now(dt.timezone.utc).date()
        self.revision = 0
        self.h = Hasher(seed)
        # Oldest day Meta will serve; GA4 shares it so the two stay comparable.
        self.history_start = add_months(self.today, -META_HISTORY_MONTHS)
        self.last_day = self.today - dt.timedelta(days=1)
        self.fx_currencies = dict(fx_currencies or FX_CURRENCIES)
        self.fx_start = self.history_start - dt.timedelta(days=FX_LEAD_DAYS)

        self.meta_accounts: dict[str, AdAccount] = {}
        for k, spec in enumerate(meta_account_specs, start=1):
            acct = self._build_account(k, spec)
            self.meta_accounts[acct.id] = acct
        self.campaigns: dict[str, Campaign] = {
            c.id: c for a in self.meta_accounts.values() for c in a.campaigns
        }
        self.ga4_properties: dict[str, Ga4Property] = {
            p["id"]: Ga4Property(p["id"], p["name"], p["currency"], p["time_zone"], tuple(p["meta_accounts"]))
            for p in ga4_property_specs
        }

        # Bounded memo of the expensive-ish slices. Rebound per instance so a
        # discarded World frees its cache.
        self._campaign_day = lru_cache(maxsize=1 << 16)(self._compute_campaign_day)
        self._ga4_day = lru_cache(maxsize=1 << 12)(self._compute_ga4_day)
        self._fx_blocks: dict[tuple[str, int], tuple[list[float], float]] = {}
        self._fx_lock = threading.Lock()

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
        for a, b in zip(edges, edges[1:]):
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
        c = self.campaigns[campaign_id]
        d = dt.date.fromordinal(ordinal)
        u = self.h.u("meta-day", campaign_id, ordinal)
        v = self.h.u("meta-day-2", campaign_id, ordinal)
        season = _SPEND_WEEKLY[d.weekday()] * _annual(d) * _trend(d)
        if c.holiday_sensitive:
            season *= _holiday_peak(d)
        spend = round(c.base_spend * season * _jitter(u[0], u[1], 0.24), 2)
        cpm = c.cpm * _jitter(u[2], u[3], 0.16) * (1.12 if d.month in (11, 12) else 1.0)
        impressions = max(1, round(spend / cpm * 1000))
        frequency = 1.12 + 0.55 * u[4]
        reach = min(max(1, round(impressions / frequency)), max(1, impressions - 1))
        clicks = round(impressions * c.ctr * _jitter(u[5], u[6], 0.3))
        link_clicks = min(clicks, round(clicks * c.link_ratio * (0.9 + 0.15 * u[7])))
        lpv = round(link_clicks * (0.72 + 0.18 * v[0]))
        # Weekend shoppers convert a bit better; Poisson gives natural zero days.
        lam = link_clicks * c.cvr * (1.1 if d.weekday() >= 5 else 1.0)
        purchases = _poisson(lam, v[1])
        if v[2] < 0.03:  # occasional pixel outage: a day with no purchases at all
            purchases = 0
        value = round(purchases * c.aov * _jitter(v[3], v[4], 0.3), 2) if purchases else 0.0
        leads = _poisson(link_clicks * c.lead_rate, v[5]) if c.lead_rate else 0
        return CampaignDay(spend, impressions, reach, clicks, link_clicks, lpv, purchases, value, leads)

    def campaign_day(self, campaign: Campaign, day: dt.date, revision: int | None = None) -> CampaignDay:
        """The day as Meta reports it now: recent purchases not fully attributed yet."""
        final = self.campaign_day_final(campaign, day)
        age = (self.today - day).days
        if age >= META_RESTATEMENT_DAYS or not final.purchases:
            return final
        rev = self.revision if revision is None else revision
        share = 0.4 * (META_RESTATEMENT_DAYS - age) / META_RESTATEMENT_DAYS * 0.5**rev
        purchases = final.purchases - round(final.purchases * share)
        value = round(final.purchase_value - round(final.purchase_value * share, 2), 2)
        return CampaignDay(
            final.spend, final.impressions, final.reach, final.clicks, final.link_clicks,
            final.landing_page_views, purchases, value, final.leads,
        )

    # -------------------------------------------------------------------- ga4
    def ga4_day_final(self, prop: Ga4Property, day: dt.date) -> tuple[Ga4Row, ...]:
        return self._ga4_day(prop.id, day.toordinal())

    def ga4_day(self, prop: Ga4Property, day: dt.date, revision: int | None = None) -> tuple[Ga4Row, ...]:
        """GA4 rows as reported now: the newest days are still filling in."""
        rows = self.ga4_day_final(prop, day)
        age = (self.today - day).days
        if age >= GA4_RESTATEMENT_DAYS:
            return rows
        rev = self.revision if revision is None else revision
        f = 1.0 - 0.12 * (GA4_RESTATEMENT_DAYS - age) / GA4_RESTATEMENT_DAYS * 0.5**rev
        out = []
        for src, med, camp, lp, s, e, k, r in rows:
            s2 = max(1, round(s * f))
            out.append((src, med, camp, lp, s2, min(s2, round(e * f)), round(k * f), round(r * f, 2)))
        return tuple(out)

    def _compute_ga4_day(self, prop_id: str, ordinal: int) -> tuple[Ga4Row, ...]:
        prop = self.ga4_properties[prop_id]
        d = dt.date.fromordinal(ordinal)
        rows: list[Ga4Row] = []
        usd_per_eur = self.fx_rate("USD", d)

        # Paid social: mirrors each delivering campaign's link clicks.
        for act_id in prop.meta_accounts:
            acct = self.meta_accounts[act_id]
            for c in acct.campaigns:
                if not c.active_on(d):
                    continue
                cd = self.campaign_day_final(c, d)
                if cd.link_clicks <= 0:
                    continue
                u = self.h.u("ga4-paid", c.id, ordinal)
                sessions = max(1, round(0.8 * cd.link_clicks * (0.9 + 0.2 * u[0])))
                engaged_rate = 0.55 + 0.15 * u[1]
                key_events = round(cd.purchases * (1.0 + 0.2 * u[2]))
                revenue = cd.purchase_value * (usd_per_eur if acct.currency == "EUR" else 1.0) * (0.95 + 0.1 * u[3])
                by_source: dict[str, float] = {}
                for ad in c.ads:
                    by_source[ad.ga4_source] = by_source.get(ad.ga4_source, 0.0) + ad.weight
                cells = []
                for src in sorted(by_source):
                    for i, (lp, w) in enumerate(c.landing_pages):
                        cells.append((src, lp, by_source[src] * w * (0.8 + 0.4 * u[(4 + i) % 8])))
                self._emit_cells(rows, cells, "paid_social", c.ga4_campaign_name,
                                 sessions, engaged_rate, key_events, revenue)

        # Unpaid traffic, every day.
        u = self.h.u("ga4-web", prop_id, ordinal)
        base = 850.0 * _WEB_WEEKLY[d.weekday()] * _annual(d) * _trend(d)
        organic = round(base * _jitter(u[0], u[1], 0.2))
        self._emit_cells(
            rows,
            [("google", "/", 0.35), ("google", "/products/trail-shoes", 0.25),
             ("google", "/blog/alpine-trails", 0.25), ("google", "/products/rain-jacket", 0.15)],
            "organic", "(organic)", organic, 0.62 + 0.1 * u[2], _poisson(organic * 0.012, u[3]),
            None, aov=95.0,
        )
        direct = round(base * 0.45 * _jitter(u[4], u[5], 0.2))
        self._emit_cells(
            rows, [("(direct)", "/", 0.7), ("(direct)", "/cart", 0.3)],
            "(none)", "(not set)", direct, 0.58 + 0.1 * u[6], _poisson(direct * 0.02, u[7]), None, aov=105.0,
        )
        v = self.h.u("ga4-web-2", prop_id, ordinal)
        iso = d.isocalendar()
        newsletter = round(60.0 * _NEWSLETTER_WEEKLY[d.weekday()] * _jitter(v[0], v[1], 0.3))
        self._emit_cells(
            rows, [("newsletter", "/", 0.5), ("newsletter", "/collections/spring-sale", 0.5)],
            "email", f"newsletter_{iso.year}_w{iso.week:02d}", newsletter, 0.7 + 0.1 * v[2],
            _poisson(newsletter * 0.025, v[3]), None, aov=90.0,
        )
        if v[4] < 0.08:  # GA4's cardinality bucket shows up now and then
            other = 20 + round(60 * v[5])
            self._emit_cells(rows, [("(other)", "(other)", 1.0)], "(other)", "(other)", other,
                             0.5 + 0.1 * v[6], _poisson(other * 0.01, v[7]), None, aov=90.0)
        return tuple(rows)

    @staticmethod
    def _emit_cells(rows, cells, medium, campaign, sessions, engaged_rate, key_events, revenue,
                    aov: float = 0.0) -> None:
        """Split day totals over (source, landing page) cells and append rows.

        revenue=None means "derive from key events with this aov" (unpaid
        traffic); otherwise revenue is split in proportion to key events.
        """
        if sessions <= 0:
            return
        per_cell = _allocate(sessions, [w for _, _, w in cells])
        live = [i for i, s in enumerate(per_cell) if s > 0]
        ke = _allocate(key_events, [per_cell[i] for i in live])
        if revenue is None:
            revenue = key_events * aov
        for j, i in enumerate(live):
            src, lp, _ = cells[i]
            s = per_cell[i]
            e = min(s, round(s * engaged_rate))
            k = ke[j]
            r = round(revenue * k / key_events, 2) if key_events else 0.0
            rows.append((src, medium, campaign, lp, s, e, k, r))

    # --------------------------------------------------------------------- fx
    def fx_rate(self, currency: str, day: dt.date) -> float:
        """Units of `currency` per EUR on `day` (defined on every calendar day)."""
        level = self.fx_currencies[currency][0]
        if day.year < _FX_EPOCH_YEAR:
            return level
        xs, _ = self._fx_block(currency, day.year)
        return level * math.exp(xs[day.timetuple().tm_yday - 1])

    def _fx_block(self, currency: str, year: int) -> tuple[list[float], float]:
        """Log-deviation walk for one calendar year, computed forward from the
        epoch once and memoised (a few hundred floats per currency-year)."""
        key = (currency, year)
        block = self._fx_blocks.get(key)
        if block is not None:
            return block
        with self._fx_lock:
            y = year
            while y > _FX_EPOCH_YEAR and (currency, y - 1) not in self._fx_blocks:
                y -= 1
            x = self._fx_blocks[(currency, y - 1)][1] if (currency, y - 1) in self._fx_blocks else 0.0
            vol = _FX_DAILY_VOL * (0.05 if currency == "DKK" else 1.0)  # DKK is pegged
            for yy in range(y, year + 1):
                if (currency, yy) in self._fx_blocks:
                    x = self._fx_blocks[(currency, yy)][1]
                    continue
                rng = random.Random(f"{self.seed}/fx/{currency}/{yy}")
                xs = []
                for _ in range(366 if calendar.isleap(yy) else 365):
                    x = x * (1.0 - _FX_MEAN_REVERSION) + rng.gauss(0.0, vol)
                    xs.append(x)
                self._fx_blocks[(currency, yy)] = (xs, x)
            return self._fx_blocks[key]

    def fx_observations(self, currency: str, start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, str]]:
        """(TARGET business day, OBS_VALUE string) within [start, end] ∩ served history."""
        decimals = self.fx_currencies[currency][1]
        lo, hi = max(start, self.fx_start), min(end, self.last_day)
        for d in daterange(lo, hi) if lo <= hi else ():
            if is_target_business_day(d):
                yield d, f"{self.fx_rate(currency, d):.{decimals}f}"
