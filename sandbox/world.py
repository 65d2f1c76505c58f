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

Layout: this module assembles the ``World`` from its parts, one module per
channel: ``world_meta_ads`` (ad accounts, campaign-days), ``world_ga4``
(properties, sessions), ``world_fx`` (ECB rates), and ``world_<channel>`` for
the organic and other paid channels (built from a ``World`` on first use:
``tiktok_world(world)``); ``world_common`` holds what they share (calendars,
seasonality, deterministic randomness).

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

import datetime as dt
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .world_common import Hasher, VectorHasher, add_months
from .world_fx import FX_CURRENCIES, FX_LEAD_DAYS, FxWorld
from .world_ga4 import GA4_PROPERTY_SPECS, Ga4Property, Ga4World
from .world_meta_ads import META_ACCOUNT_SPECS, META_HISTORY_MONTHS, AdAccount, Campaign, MetaAdsWorld, scaled_meta_account_specs


class World(MetaAdsWorld, Ga4World, FxWorld):
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
        self.today = today or dt.datetime.now(dt.UTC).date()
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
