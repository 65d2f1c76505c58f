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
* Nothing row-shaped is precomputed. The high-volume slices (Meta
  campaign-days, GA4 rows) are counter-based: a function of (seed, id, day)
  through ``VectorHasher``, evaluated by numpy for a whole page of keys at
  once, so any page of a million-row history is computed on demand without
  the rows before it and nothing is held between requests. Other slices use a
  keyed blake2b hash (``Hasher``). Only small dimension data (accounts,
  campaigns, ads, GA4 properties, FX currency table) is built eagerly.
* Data exists for every day ``< today`` (the spec's simplification: "yesterday"
  is the newest complete day in every account time zone). Nothing for today or
  later.
* Restatement: Meta purchases/purchase values for days younger than 28 days and
  GA4 session counts for days younger than 3 days are reported below their
  final value; ``revision`` (bumped by ``Sandbox.restate``) shrinks the gap.

Brand: "Northwind Outdoor". Two Meta ad accounts (US/USD/Los Angeles,
EU/EUR/Berlin), one GA4 property (USD/Los Angeles) whose paid-social traffic is
derived from the Meta link clicks of *both* accounts and from the TikTok and
LinkedIn landing clicks (utm_source tiktok / linkedin, utm_medium paid_social,
the campaign's utm_campaign), and ECB-style FX rates.
Extend by adding entries to ``META_ACCOUNT_SPECS`` / ``GA4_PROPERTY_SPECS`` /
``FX_CURRENCIES`` or by passing your own specs to ``World``;
``scaled_world_specs`` builds a world of any size for benchmarks.
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

import numpy as np
import pyarrow as pa

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


class VectorHasher:
    """The bulk counterpart of ``Hasher`` for the high-volume slices (Meta
    campaign-days, GA4 rows): counter-based uniforms from splitmix64's mixer
    (Steele, Lea & Flood 2014), evaluated by numpy over whole arrays of
    (id, day) keys, so a million slices cost about a second and any page
    can be computed without the rows before it.
    """

    __slots__ = ("_seed_key", "_salts")

    def __init__(self, seed: int) -> None:
        digest = hashlib.blake2b(f"socialmart-sandbox-vector/{seed}".encode(), digest_size=8).digest()
        self._seed_key = int.from_bytes(digest, "little")
        self._salts: dict[str, np.uint64] = {}

    def _salt(self, stream: str) -> np.uint64:
        salt = self._salts.get(stream)
        if salt is None:
            digest = hashlib.blake2b(stream.encode(), digest_size=8, key=self._seed_key.to_bytes(8, "little")).digest()
            salt = self._salts[stream] = np.uint64(int.from_bytes(digest, "little"))
        return salt

    def uniforms(self, stream: str, ids: np.ndarray, ordinals: np.ndarray, n: int = 8) -> np.ndarray:
        """An (n, len(ids)) array of uniforms in [0, 1), one column per (id, ordinal) key."""
        with np.errstate(over="ignore"):
            key = _mix64(_mix64(ids.astype(np.uint64) ^ self._salt(stream)) + ordinals.astype(np.uint64) * _GOLDEN)
            out = np.empty((n, len(key)))
            for k in range(n):
                out[k] = (_mix64(key + _STEPS[k]) >> np.uint64(11)) * 2.0**-53
        return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STEPS = tuple(np.uint64((k + 1) * 0x9E3779B97F4A7C15 % 2**64) for k in range(16))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that scatters every input bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _poisson_vec(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``_poisson`` over arrays: the same inverse CDF, one step for every element at once."""
    out = np.zeros(len(lam), dtype=np.int64)
    small = (lam > 0) & (lam <= 60)
    if small.any():
        rate, uu = lam[small], u[small]
        p = np.exp(-rate)
        cdf = p.copy()
        k = np.zeros(len(rate), dtype=np.int64)
        active = uu > cdf
        step = 0
        while step < 400 and active.any():
            step += 1
            p = p * (rate / step)
            cdf = cdf + p
            k[active] = step
            active &= uu > cdf
        out[small] = k
    for i in np.flatnonzero(lam > 60):  # rare: the normal approximation, element by element
        out[i] = _poisson(float(lam[i]), float(u[i]))
    return out


def _allocate_vec(totals: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``_allocate`` for many groups at once: split totals[g] over the cells of
    group g by weight, largest remainder first, ties to the earlier cell."""
    n_groups = len(totals)
    weight_sums = np.bincount(group, weights=weights, minlength=n_groups)
    ok = (totals > 0) & (weight_sums > 0)
    safe_sums = np.where(weight_sums > 0, weight_sums, 1.0)
    raw = np.where(ok[group], totals[group] * weights / safe_sums[group], 0.0)
    out = np.floor(raw).astype(np.int64)
    short = np.where(ok, totals - np.bincount(group, weights=out, minlength=n_groups).astype(np.int64), 0)
    order = np.lexsort((np.arange(len(group)), out - raw, group))
    sorted_group = group[order]
    rank = np.arange(len(group)) - np.searchsorted(sorted_group, sorted_group, side="left")
    out[order[rank < short[sorted_group]]] += 1
    return out


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _calendar(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(weekday Monday=0, month, day of month, day of year) of proleptic ordinals."""
    days = (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    weekday = (ordinals - 1) % 7
    month = months.astype(np.int64) % 12 + 1
    mday = (days - months).astype(np.int64) + 1
    yday = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1
    return weekday, month, mday, yday


def _season_vec(ordinals: np.ndarray, weekly: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """weekly x ``_annual`` x ``_trend`` per day, plus ``_holiday_peak``, weekday and month."""
    weekday, month, mday, yday = _calendar(ordinals)
    annual = 1.0 + 0.18 * np.sin(2 * math.pi * (yday - 100) / 365.25)
    trend = 1.0 + 0.05 * (ordinals - _TREND_EPOCH) / 365.25
    peak = np.where(((month == 11) & (mday >= 20)) | ((month == 12) & (mday <= 20)), 1.35, 1.0)
    return np.asarray(weekly)[weekday] * annual * trend, peak, weekday, month


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
    # Other ad channels whose clicks land here too ("tiktok_ads", "linkedin"):
    # every advertiser / ad account of the world's part for that channel.
    partner_channels: tuple[str, ...] = ()


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


# One fine-grained GA4 row: (source, medium, campaign, landingPage,
# sessions, engagedSessions, keyEvents, totalRevenue).
Ga4Row = tuple[str, str, str, str, int, int, int, float]

# The columns of World.ga4_rows: GA4's dimension names, then the measures.
GA4_ROW_SCHEMA = pa.schema([
    ("date", pa.string()), ("sessionSource", pa.string()), ("sessionMedium", pa.string()),
    ("sessionCampaignName", pa.string()), ("landingPage", pa.string()),
    ("sessions", pa.int64()), ("engagedSessions", pa.int64()), ("keyEvents", pa.int64()),
    ("revenue_cents", pa.int64()),
])

# Unpaid GA4 traffic of every property and day: (source, landing page, weight) cells.
_GA4_ORGANIC_CELLS = (("google", "/", 0.35), ("google", "/products/trail-shoes", 0.25),
                      ("google", "/blog/alpine-trails", 0.25), ("google", "/products/rain-jacket", 0.15))
_GA4_DIRECT_CELLS = (("(direct)", "/", 0.7), ("(direct)", "/cart", 0.3))
_GA4_NEWSLETTER_CELLS = (("newsletter", "/", 0.5), ("newsletter", "/collections/spring-sale", 0.5))
_GA4_OTHER_CELLS = (("(other)", "(other)", 1.0),)


class _Ga4Emitter:
    """Collects GA4 session groups (a day's sessions of one campaign or one
    unpaid source) and their (source, landing page) cells, then splits every
    group over its cells in one vectorised pass. Strings are codes into one
    vocabulary so the whole batch stays in numpy until the final table."""

    def __init__(self) -> None:
        self.vocab: list[str] = []
        self._codes: dict[str, int] = {}
        self.groups: dict[str, list[np.ndarray]] = {k: [] for k in (
            "ordinal", "sessions", "engaged_rate", "key_events", "revenue", "medium", "campaign")}
        self.cells: dict[str, list[np.ndarray]] = {k: [] for k in ("group", "weight", "source", "page")}
        self.n_groups = 0

    def code(self, text: str) -> int:
        code = self._codes.get(text)
        if code is None:
            code = self._codes[text] = len(self.vocab)
            self.vocab.append(text)
        return code

    def add(self, *, ordinal, sessions, engaged_rate, key_events, revenue, medium, campaign,
            cell_group, cell_weight, cell_source, cell_page) -> None:
        """One entry per group (arrays of equal length) and one per cell;
        cell_group indexes this call's groups."""
        n = len(ordinal)
        for name, values in (("ordinal", ordinal), ("sessions", sessions), ("engaged_rate", engaged_rate),
                             ("key_events", key_events), ("revenue", revenue),
                             ("medium", np.broadcast_to(medium, n)), ("campaign", np.broadcast_to(campaign, n))):
            self.groups[name].append(np.asarray(values))
        self.cells["group"].append(np.asarray(cell_group) + self.n_groups)
        self.cells["weight"].append(np.asarray(cell_weight, dtype=float))
        self.cells["source"].append(np.asarray(cell_source))
        self.cells["page"].append(np.asarray(cell_page))
        self.n_groups += n

    def add_unpaid(self, ordinals, sessions, engaged_rate, key_events, aov: float, medium: str, campaign,
                   cells: tuple[tuple[str, str, float], ...]) -> None:
        """Unpaid traffic: the same cells every day, revenue = key events x aov."""
        k, n = len(cells), len(ordinals)
        self.add(
            ordinal=ordinals, sessions=sessions, engaged_rate=engaged_rate, key_events=key_events,
            revenue=key_events * aov, medium=self.code(medium),
            campaign=campaign if isinstance(campaign, np.ndarray) else self.code(campaign),
            cell_group=np.repeat(np.arange(n), k), cell_weight=np.tile([w for _, _, w in cells], n),
            cell_source=np.tile([self.code(src) for src, _, _ in cells], n),
            cell_page=np.tile([self.code(page) for _, page, _ in cells], n),
        )

    def rows(self) -> dict[str, np.ndarray]:
        """Split every group's sessions over its cells by weight (largest
        remainder), its key events over the cells with sessions, its revenue
        in proportion to key events: the rows of the cells with sessions."""
        g = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.groups.items()}
        c = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in self.cells.items()}
        group = c["group"].astype(np.int64)
        totals = g["sessions"].astype(np.int64)
        key_events = g["key_events"].astype(np.int64)
        sessions = _allocate_vec(totals, c["weight"], group)
        live = sessions > 0
        cell_key_events = np.zeros(len(group), dtype=np.int64)
        cell_key_events[live] = _allocate_vec(key_events, sessions[live].astype(float), group[live])
        engaged = np.minimum(sessions, np.rint(sessions * g["engaged_rate"][group]).astype(np.int64))
        group_key_events = key_events[group]
        revenue_cents = np.where(
            group_key_events > 0,
            np.rint(g["revenue"][group] * 100 * cell_key_events / np.maximum(group_key_events, 1)), 0,
        ).astype(np.int64)
        return {
            "ordinal": g["ordinal"].astype(np.int64)[group][live], "source": c["source"][live],
            "medium": g["medium"].astype(np.int64)[group][live], "campaign": g["campaign"].astype(np.int64)[group][live],
            "page": c["page"][live], "sessions": sessions[live], "engaged": engaged[live],
            "key_events": cell_key_events[live], "revenue_cents": revenue_cents[live],
        }

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


def scaled_world_specs(n_accounts: int, accounts_per_property: int = 10) -> dict:
    """``World`` keyword arguments for a big world: ``n_accounts`` ad accounts
    and one GA4 property per ``accounts_per_property`` of them, receiving
    their paid clicks. About 4,200 insight rows and 9,500 GA4 rows per account
    over the 37-month history; e.g. ``World(7, today, **scaled_world_specs(240))``
    serves ~1M insight rows and ~2.3M GA4 rows, computed page by page.
    """
    meta = scaled_meta_account_specs(n_accounts)
    base = GA4_PROPERTY_SPECS[0]
    properties = []
    for k, first in enumerate(range(0, n_accounts, accounts_per_property)):
        members = tuple(f"act_{spec['number']}" for spec in meta[first:first + accounts_per_property])
        # A benchmark world scales Meta only: no TikTok / LinkedIn traffic.
        if k == 0:
            properties.append(dict(base, meta_accounts=members, partner_channels=()))
        else:
            properties.append(dict(base, id=str(int(base["id"]) + k), name=f"{base['name']} #{k + 1}",
                                   meta_accounts=members, partner_channels=()))
    return dict(meta_account_specs=meta, ga4_property_specs=tuple(properties))


GA4_PROPERTY_SPECS: tuple[dict, ...] = (
    dict(id="123456", name="Northwind Outdoor - Web", currency="USD", time_zone="America/Los_Angeles",
         meta_accounts=("act_1001", "act_1002"), partner_channels=("tiktok_ads", "linkedin")),
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
            p["id"]: Ga4Property(p["id"], p["name"], p["currency"], p["time_zone"], tuple(p["meta_accounts"]),
                                 tuple(p.get("partner_channels", ())))
            for p in ga4_property_specs
        }

        # Campaign economics as arrays (position = index in campaign_list), so
        # campaign_days evaluates any set of campaign-days in one numpy pass.
        self.vh = VectorHasher(seed)
        self.campaign_list: tuple[Campaign, ...] = tuple(self.campaigns.values())
        self.campaign_position = {c.id: i for i, c in enumerate(self.campaign_list)}
        cl = self.campaign_list
        self._campaign_ids = np.array([int(c.id) for c in cl], dtype=np.uint64)
        self._campaign_econ = {
            name: np.array([getattr(c, name) for c in cl], dtype=float)
            for name in ("base_spend", "cpm", "ctr", "link_ratio", "cvr", "aov", "lead_rate")
        }
        self._holiday_sensitive = np.array([c.holiday_sensitive for c in cl], dtype=bool)

        # Bounded memo of single slices (tests, the GA4 scalar view). Rebound
        # per instance so a discarded World frees its cache.
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

    # -------------------------------------------------------------------- ga4
    def ga4_day_final(self, prop: Ga4Property, day: dt.date) -> tuple[Ga4Row, ...]:
        return self._ga4_day(prop.id, day.toordinal(), None)

    def ga4_day(self, prop: Ga4Property, day: dt.date, revision: int | None = None) -> tuple[Ga4Row, ...]:
        """GA4 rows as reported now: the newest days are still filling in."""
        return self._ga4_day(prop.id, day.toordinal(), self.revision if revision is None else revision)

    def _compute_ga4_day(self, prop_id: str, ordinal: int, revision: int | None) -> tuple[Ga4Row, ...]:
        day = dt.date.fromordinal(ordinal)
        table = self.ga4_rows(self.ga4_properties[prop_id], day, day, revision)
        return tuple(
            (src, med, camp, lp, s, e, k, r / 100)
            for _, src, med, camp, lp, s, e, k, r in zip(*(col.to_pylist() for col in table.columns))
        )

    def ga4_rows(self, prop: Ga4Property, first: dt.date, last: dt.date, revision: int | None = None) -> pa.Table:
        """Every fine-grained GA4 row of the property for [first, last] (clipped
        to served history), as a table with GA4_ROW_SCHEMA's columns.

        Paid social mirrors each delivering campaign's link clicks, split over
        its ads' sources and its landing pages; organic, direct and newsletter
        traffic come every day, the "(other)" cardinality bucket now and then.
        revision=None gives settled numbers; a revision, the newest days as
        they are still filling in. Rows are not sorted nor summed: two rows
        may share a key (untagged campaigns of two accounts), as reports sum.
        """
        lo = max(first, self.history_start).toordinal()
        hi = min(last, self.last_day).toordinal()
        if lo > hi:
            return GA4_ROW_SCHEMA.empty_table()
        emit = _Ga4Emitter()
        self._ga4_paid(emit, prop, lo, hi)
        self._ga4_partner_paid(emit, prop, lo, hi)
        ordinals = np.arange(lo, hi + 1)
        prop_key = np.full(len(ordinals), int.from_bytes(self.h.token("ga4-property", prop.id), "little"), dtype=np.uint64)
        u = self.vh.uniforms("ga4-web", prop_key, ordinals)
        v = self.vh.uniforms("ga4-web-2", prop_key, ordinals)
        base = 850.0 * _season_vec(ordinals, _WEB_WEEKLY)[0]
        organic = np.rint(base * _jitter(u[0], u[1], 0.2))
        emit.add_unpaid(ordinals, organic, 0.62 + 0.1 * u[2], _poisson_vec(organic * 0.012, u[3]), 95.0,
                        "organic", "(organic)", _GA4_ORGANIC_CELLS)
        direct = np.rint(base * 0.45 * _jitter(u[4], u[5], 0.2))
        emit.add_unpaid(ordinals, direct, 0.58 + 0.1 * u[6], _poisson_vec(direct * 0.02, u[7]), 105.0,
                        "(none)", "(not set)", _GA4_DIRECT_CELLS)
        weekday = _calendar(ordinals)[0]
        newsletter = np.rint(60.0 * np.asarray(_NEWSLETTER_WEEKLY)[weekday] * _jitter(v[0], v[1], 0.3))
        issues = np.array([emit.code("newsletter_{0}_w{1:02d}".format(*dt.date.fromordinal(int(o)).isocalendar()[:2]))
                           for o in ordinals], dtype=np.int64)
        emit.add_unpaid(ordinals, newsletter, 0.7 + 0.1 * v[2], _poisson_vec(newsletter * 0.025, v[3]), 90.0,
                        "email", issues, _GA4_NEWSLETTER_CELLS)
        bucket = v[4] < 0.08  # GA4's cardinality bucket shows up now and then
        other = 20 + np.rint(60 * v[5][bucket])
        emit.add_unpaid(ordinals[bucket], other, 0.5 + 0.1 * v[6][bucket], _poisson_vec(other * 0.01, v[7][bucket]),
                        90.0, "(other)", "(other)", _GA4_OTHER_CELLS)

        rows = emit.rows()
        sessions, engaged, key_events, revenue = rows["sessions"], rows["engaged"], rows["key_events"], rows["revenue_cents"]
        if revision is not None:
            age = self.today.toordinal() - rows["ordinal"]
            factor = np.where(age < GA4_RESTATEMENT_DAYS,
                              1.0 - 0.12 * (GA4_RESTATEMENT_DAYS - age) / GA4_RESTATEMENT_DAYS * 0.5**revision, 1.0)
            sessions = np.maximum(1, np.rint(sessions * factor)).astype(np.int64)
            engaged = np.minimum(sessions, np.rint(engaged * factor)).astype(np.int64)
            key_events = np.rint(key_events * factor).astype(np.int64)
            revenue = np.rint(revenue * factor).astype(np.int64)
        vocab = pa.array(emit.vocab, pa.string())
        dates = pa.array([dt.date.fromordinal(o).strftime("%Y%m%d") for o in range(lo, hi + 1)], pa.string())
        return pa.table([
            dates.take(rows["ordinal"] - lo), vocab.take(rows["source"]), vocab.take(rows["medium"]),
            vocab.take(rows["campaign"]), vocab.take(rows["page"]),
            sessions, engaged, key_events, revenue,
        ], schema=GA4_ROW_SCHEMA)

    def _ga4_paid(self, emit: _Ga4Emitter, prop: Ga4Property, lo: int, hi: int) -> None:
        """Paid social sessions: each delivering campaign-day with link clicks
        becomes a group whose cells are (ad source x landing page)."""
        positions, cell_start, cell_count, cell_weight, cell_page_index, cell_source, cell_page, campaign_code, eur = (
            self._ga4_layout(prop, emit))
        group_ords, group_local = [], []
        for local, pos in enumerate(positions):
            c = self.campaign_list[pos]
            a = max(lo, c.start.toordinal())
            b = min(hi, c.stop.toordinal()) if c.stop else hi
            if a <= b:
                group_ords.append(np.arange(a, b + 1))
                group_local.append(np.full(b - a + 1, local))
        if not group_ords:
            return
        ords = np.concatenate(group_ords)
        local = np.concatenate(group_local)
        pos = positions[local]
        cd = self.campaign_days(pos, ords)
        delivering = cd.link_clicks > 0
        ords, local, pos = ords[delivering], local[delivering], pos[delivering]
        link_clicks = cd.link_clicks[delivering]
        u = self.vh.uniforms("ga4-paid", self._campaign_ids[pos], ords)
        usd_per_eur = np.array([self.fx_rate("USD", dt.date.fromordinal(o)) for o in range(lo, hi + 1)])
        revenue = (cd.purchase_value_cents[delivering] / 100 * np.where(eur[local], usd_per_eur[ords - lo], 1.0)
                   * (0.95 + 0.1 * u[3]))
        counts = cell_count[local]
        group = np.repeat(np.arange(len(ords)), counts)
        cell = cell_start[local][group] + np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
        weight = cell_weight[cell] * (0.8 + 0.4 * u[(4 + cell_page_index[cell]) % 8, group])
        emit.add(
            ordinal=ords, sessions=np.maximum(1, np.rint(0.8 * link_clicks * (0.9 + 0.2 * u[0]))),
            engaged_rate=0.55 + 0.15 * u[1], key_events=np.rint(cd.purchases[delivering] * (1.0 + 0.2 * u[2])),
            revenue=revenue, medium=emit.code("paid_social"), campaign=campaign_code[local],
            cell_group=group, cell_weight=weight, cell_source=cell_source[cell], cell_page=cell_page[cell],
        )

    def _ga4_partner_paid(self, emit: _Ga4Emitter, prop: Ga4Property, lo: int, hi: int) -> None:
        """Paid social sessions from TikTok and LinkedIn clicks, the way Meta's
        arrive: each campaign-day with landing clicks is a group of sessions on
        the campaign's landing page, tagged with the utm source / medium /
        campaign its ads carry (TikTok: the landing URL's; LinkedIn: the slug
        an advertiser puts in utm_campaign). Key events follow the platform's
        purchases, revenue their value in the property's currency. A few dozen
        campaigns: a plain loop over campaign-days is cheap."""
        groups: list[tuple[int, float, float, str, str, str, str]] = []
        if "tiktok_ads" in prop.partner_channels:
            groups += self._tiktok_sessions(prop, lo, hi)
        if "linkedin" in prop.partner_channels:
            groups += self._linkedin_sessions(prop, lo, hi)
        if not groups:
            return
        ordinals = np.array([g[0] for g in groups], dtype=np.int64)
        ids = np.array([int.from_bytes(self.h.token("ga4-partner", g[3], g[4]), "little") for g in groups],
                       dtype=np.uint64)
        u = self.vh.uniforms("ga4-partner", ids, ordinals)
        clicks = np.array([g[1] for g in groups])
        purchases = np.array([g[2] for g in groups])
        emit.add(
            ordinal=ordinals, sessions=np.maximum(1, np.rint(0.8 * clicks * (0.9 + 0.2 * u[0]))),
            engaged_rate=0.5 + 0.15 * u[1], key_events=np.rint(purchases * (1.0 + 0.2 * u[2])),
            revenue=np.array([g[5] for g in groups]) * (0.95 + 0.1 * u[3]), medium=emit.code("paid_social"),
            campaign=np.array([emit.code(g[4]) for g in groups], dtype=np.int64),
            cell_group=np.arange(len(groups)), cell_weight=np.ones(len(groups)),
            cell_source=np.array([emit.code(g[3]) for g in groups], dtype=np.int64),
            cell_page=np.array([emit.code(g[6]) for g in groups], dtype=np.int64),
        )

    def _to_property_currency(self, amount: float, currency: str, prop: Ga4Property, day: dt.date) -> float:
        if currency == prop.currency:
            return amount
        return amount * self.fx_rate(prop.currency, day) / self.fx_rate(currency, day)

    def _tiktok_sessions(self, prop: Ga4Property, lo: int, hi: int) -> list[tuple]:
        """(ordinal, clicks, purchases, source, campaign, revenue, landing page) of every
        TikTok campaign-day whose ads send clicks to a landing page."""
        from urllib.parse import parse_qs, urlsplit

        from .world_tiktok_ads import tiktok_world

        tiktok = tiktok_world(self)
        out = []
        for advertiser in tiktok.advertisers.values():
            for c in advertiser.campaigns:
                url = next((ad.landing_page_url for ad in c.ads if ad.landing_page_url), None)
                if url is None:
                    continue  # video-view ads send nobody to the site
                parts = urlsplit(url)
                tags = parse_qs(parts.query)
                source, campaign = tags.get("utm_source", ["(direct)"])[0], tags.get("utm_campaign", ["(not set)"])[0]
                for ordinal in range(max(lo, c.start.toordinal()), (min(hi, c.stop.toordinal()) if c.stop else hi) + 1):
                    day = dt.date.fromordinal(ordinal)
                    d = tiktok.day(c, day)
                    if d.clicks > 0:
                        revenue = self._to_property_currency(d.complete_payment_value, advertiser.currency, prop, day)
                        out.append((ordinal, d.clicks, d.complete_payment, source, campaign, revenue, parts.path))
        return out

    def _linkedin_sessions(self, prop: Ga4Property, lo: int, hi: int) -> list[tuple]:
        """The same for LinkedIn campaign-days with landing page clicks."""
        from .world_linkedin import linkedin_world

        linkedin = linkedin_world(self)
        out = []
        for account in linkedin.accounts.values():
            for c in account.campaigns:
                for ordinal in range(max(lo, c.start.toordinal()), (min(hi, c.end.toordinal()) if c.end else hi) + 1):
                    day = dt.date.fromordinal(ordinal)
                    d = linkedin.campaign_day(c, day)
                    if d is not None and d["landingPageClicks"] > 0:
                        revenue = self._to_property_currency(
                            float(d["conversionValueInLocalCurrency"]), account.currency, prop, day)
                        out.append((ordinal, d["landingPageClicks"], d["externalWebsiteConversions"], "linkedin",
                                    c.slug, revenue, linkedin.landing_page(c)))
        return out

    def _ga4_layout(self, prop: Ga4Property, emit: _Ga4Emitter) -> tuple:
        """The property's campaigns and their (source x landing page) cells, as
        arrays (one entry per campaign or cell: cheap to derive per call)."""
        positions, cell_start, cell_count = [], [], []
        cell_weight, cell_page_index, cell_source, cell_page, campaign_code, eur = [], [], [], [], [], []
        for act_id in prop.meta_accounts:
            acct = self.meta_accounts[act_id]
            for c in acct.campaigns:
                positions.append(self.campaign_position[c.id])
                campaign_code.append(emit.code(c.ga4_campaign_name))
                eur.append(acct.currency == "EUR")
                by_source: dict[str, float] = {}
                for ad in c.ads:
                    by_source[ad.ga4_source] = by_source.get(ad.ga4_source, 0.0) + ad.weight
                cell_start.append(len(cell_weight))
                for src in sorted(by_source):
                    for i, (lp, w) in enumerate(c.landing_pages):
                        cell_weight.append(by_source[src] * w)
                        cell_page_index.append(i)
                        cell_source.append(emit.code(src))
                        cell_page.append(emit.code(lp))
                cell_count.append(len(cell_weight) - cell_start[-1])
        as_int = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
        return (as_int(positions), as_int(cell_start), as_int(cell_count), np.array(cell_weight, dtype=float),
                as_int(cell_page_index), as_int(cell_source), as_int(cell_page), as_int(campaign_code),
                np.array(eur, dtype=bool))

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
