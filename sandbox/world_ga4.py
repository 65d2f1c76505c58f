"""The GA4 properties of the sandbox world: sessions by source, medium,
campaign and landing page, computed on demand.

Paid social sessions mirror the landing clicks of the property's Meta ad
accounts and of its partner channels' campaigns (TikTok, LinkedIn: their
utm_source and utm_campaign); organic, direct and newsletter traffic come
every day. The newest GA4_RESTATEMENT_DAYS days are still filling in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pyarrow as pa

from .world_common import _NEWSLETTER_WEEKLY, _WEB_WEEKLY, _allocate_vec, _calendar, _jitter, _poisson_vec, _season_vec
from .world_linkedin import linkedin_world
from .world_tiktok_ads import tiktok_world

GA4_RESTATEMENT_DAYS = 3


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


GA4_PROPERTY_SPECS: tuple[dict, ...] = (
    dict(id="123456", name="Northwind Outdoor - Web", currency="USD", time_zone="America/Los_Angeles",
         meta_accounts=("act_1001", "act_1002"), partner_channels=("tiktok_ads", "linkedin")),
)


class Ga4World:
    """The GA4 properties of the ``World`` (a part of it: the state lives there)."""

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
            for _, src, med, camp, lp, s, e, k, r in zip(*(col.to_pylist() for col in table.columns), strict=False)
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
        issues = np.array([emit.code("newsletter_{}_w{:02d}".format(*dt.date.fromordinal(int(o)).isocalendar()[:2]))
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
