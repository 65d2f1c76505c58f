"""What the report shows, read from the published file (schema `marts`, `meta.*`) and nothing else.

The report covers the last `PERIOD_DAYS` days of the published data (`dim_date`
spans exactly the days the marts cover). Ratios are recomputed from the sums
of their base measures, never averaged; reach is never summed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

PERIOD_DAYS = 84  # twelve weeks
TOP_N = 10
# Stable colours: a channel keeps its colour in every chart and every report.
# Chosen to stay apart from each other (Okabe-Ito's colour-blind-safe set plus
# a few; platforms that share a chart never share a hue), and for the known
# platforms close to their brands. Channels not listed take the spare colours.
CHANNEL_COLORS = {
    "meta_ads": "#0072b2", "facebook_pages": "#56b4e9", "instagram": "#cc79a7", "x": "#222222",
    "youtube": "#d55e00", "linkedin": "#009e73", "tiktok_ads": "#6a3d9a", "wechat": "#8cb800",
    "weibo": "#e69f00", "ga4": "#8a8f98",
}
SPARE_COLORS = ["#a6761d", "#e7298a", "#b2182b", "#80cdc1", "#7570b3", "#543005"]
ALL_CHANNELS_COLOR = "#3c4048"


@dataclass
class Channel:
    key: str
    name: str
    color: str
    kind: str | None = None  # paid, organic, paid_and_organic, web (dim_channel)
    ga4_sources: str | None = None  # the GA4 source / medium pairs mapped to it
    ga4_attributed: bool = False  # GA4 has reported traffic from one of them


@dataclass
class Scorecard:
    week_start: dt.date
    iso_year_week: int
    complete: bool  # the data reaches the week's Sunday
    previous_week_complete: bool  # the week it is compared with is fully inside the data
    rows: dict[str, dict[str, Any]]  # channel ('all' first) -> fct_kpi_weekly row


@dataclass
class Quality:
    run_id: str | None
    evaluated_at: dt.datetime | None
    passed: int
    failed: int
    warned: int
    problems: list[dict[str, Any]]  # the checks that did not pass, errors first


@dataclass
class FamilyMatrix:
    """One brand family's account matrix: its months, and the latest month with reshares drawn as a graph."""

    family: str
    months: list[dict[str, Any]]  # dim_account_family_monthly rows, newest first
    month: dt.date | None  # the month drawn: the latest with a pattern, else the latest with reshares
    accounts: list[dict[str, Any]]  # channel, account_id, role, followers (latest known)
    edges: list[dict[str, Any]]  # fct_account_matrix_monthly rows of `month`

    @property
    def drawn(self) -> dict[str, Any] | None:
        return next((m for m in self.months if m["reshare_month"] == self.month), None)


@dataclass
class ReportData:
    published_at: dt.datetime | None
    run_id: str | None
    currency: str
    data_start: dt.date | None
    data_end: dt.date | None
    channels: dict[str, Channel] = field(default_factory=dict)
    quality: Quality | None = None
    scorecard: Scorecard | None = None
    days: list[dt.date] = field(default_factory=list)  # the report period, day by day
    spend_by_day: dict[str, dict[dt.date, float]] = field(default_factory=dict)  # channel -> day -> spend
    value_by_day: dict[str, dict[dt.date, float]] = field(default_factory=dict)  # channel -> day -> conversion value
    net_growth_by_day: dict[str, dict[dt.date, float]] = field(default_factory=dict)  # channel -> day -> net growth
    followers: list[dict[str, Any]] = field(default_factory=list)  # per channel: latest total and period growth
    content_types: list[dict[str, Any]] = field(default_factory=list)
    funnel: list[dict[str, Any]] = field(default_factory=list)
    top_campaigns: list[dict[str, Any]] = field(default_factory=list)
    top_content: list[dict[str, Any]] = field(default_factory=list)
    families: list[FamilyMatrix] = field(default_factory=list)

    @property
    def period_start(self) -> dt.date | None:
        return self.days[0] if self.days else None

    def channel(self, key: str) -> Channel:
        return self.channels.get(key) or Channel(key, key, SPARE_COLORS[-1])


def load(published_db: Path) -> ReportData:
    with duckdb.connect(str(published_db), read_only=True) as con:
        # Publication times and post times are shown in UTC, whatever the machine's zone.
        con.execute("SET TimeZone = 'UTC'")
        return _load(con)


def _load(con: duckdb.DuckDBPyConnection) -> ReportData:
    info = _rows(con, "SELECT published_at, run_id FROM meta.publish_info") if _has_table(con, "meta", "publish_info") else []
    start, end = con.execute("SELECT min(date_day), max(date_day) FROM marts.dim_date").fetchone()
    currency = con.execute(
        "SELECT any_value(reporting_currency) FROM marts.fct_kpi_weekly WHERE reporting_currency IS NOT NULL").fetchone()[0]
    data = ReportData(
        published_at=info[0]["published_at"] if info else None,
        run_id=info[0]["run_id"] if info else None,
        currency=currency or "",
        data_start=start,
        data_end=end,
    )
    data.channels = {"all": Channel("all", "All channels", ALL_CHANNELS_COLOR)}
    spare = itertools.cycle(SPARE_COLORS)
    for row in _rows(con, "SELECT channel, channel_name, kind, ga4_sources, ga4_attributed FROM marts.dim_channel ORDER BY channel"):
        color = CHANNEL_COLORS.get(row["channel"]) or next(spare)
        data.channels[row["channel"]] = Channel(row["channel"], row["channel_name"] or row["channel"], color,
                                                row["kind"], row["ga4_sources"], bool(row["ga4_attributed"]))
    if _has_table(con, "meta", "check_results"):
        data.quality = _quality(con)
    if start is None:
        return data
    first = max(start, end - dt.timedelta(days=PERIOD_DAYS - 1))
    data.days = [first + dt.timedelta(days=i) for i in range((end - first).days + 1)]
    period = [first, end]
    data.scorecard = _scorecard(con, start, end)
    for row in _rows(con, """
            SELECT date_day, channel, sum(spend) AS spend, sum(conversion_value) AS conversion_value
            FROM marts.fct_ad_performance_daily WHERE date_day BETWEEN ? AND ? GROUP BY ALL""", period):
        data.spend_by_day.setdefault(row["channel"], {})[row["date_day"]] = row["spend"]
        data.value_by_day.setdefault(row["channel"], {})[row["date_day"]] = row["conversion_value"] or 0.0
    for row in _rows(con, """
            SELECT date_day, channel, sum(net_follower_growth) AS growth FROM marts.fct_audience_daily
            WHERE date_day BETWEEN ? AND ? AND net_follower_growth IS NOT NULL GROUP BY ALL""", period):
        data.net_growth_by_day.setdefault(row["channel"], {})[row["date_day"]] = float(row["growth"])  # hugeint sum
    data.followers = _rows(con, """
        WITH latest AS (  -- each account's last known total, then summed per channel
            SELECT channel, account_id, arg_max(followers, date_day) AS followers
            FROM marts.fct_audience_daily WHERE followers IS NOT NULL GROUP BY ALL
        ), growth AS (
            SELECT channel, sum(net_follower_growth) AS net_growth, count(DISTINCT account_id) AS accounts
            FROM marts.fct_audience_daily WHERE date_day BETWEEN ? AND ? GROUP BY ALL
        )
        SELECT channel, growth.accounts, latest_total.followers, growth.net_growth
        FROM growth LEFT JOIN (SELECT channel, sum(followers) AS followers FROM latest GROUP BY ALL) AS latest_total
            USING (channel)
        ORDER BY latest_total.followers DESC NULLS LAST, channel""", period)
    data.content_types = _rows(con, """
        WITH posts AS (
            -- The audience an engagement rate is taken over: impressions, else views, else reach (as the mart does).
            SELECT content_type, engagements, coalesce(impressions, views, reach) AS audience
            FROM marts.fct_content_performance WHERE published_at::DATE BETWEEN ? AND ?
        )
        SELECT content_type, count(*) AS posts, sum(engagements) AS engagements,
               sum(engagements) / count(engagements) AS engagements_per_post,
               sum(engagements) FILTER (WHERE audience > 0)
                 / nullif(sum(audience) FILTER (WHERE engagements IS NOT NULL AND audience > 0), 0) AS engagement_rate
        FROM posts GROUP BY content_type ORDER BY engagement_rate DESC NULLS LAST, content_type""", period)
    data.funnel = _rows(con, """
        SELECT channel, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(sessions) AS sessions,
               sum(engaged_sessions) AS engaged_sessions, sum(key_events) AS key_events, sum(revenue) AS revenue,
               sum(spend) AS spend
        FROM marts.fct_conversion_funnel_daily WHERE date_day BETWEEN ? AND ?
        GROUP BY channel ORDER BY spend DESC, channel""", period)
    data.top_campaigns = _rows(con, f"""
        WITH paid AS (
            SELECT channel, account_id, campaign_id, arg_max(campaign_name, date_day) AS campaign_name,
                   sum(spend) AS spend, sum(impressions) AS impressions, sum(clicks) AS clicks,
                   sum(conversions) AS conversions, sum(conversion_value) AS conversion_value
            FROM marts.fct_ad_performance_daily WHERE date_day BETWEEN ? AND ? GROUP BY ALL
        ), web AS (
            SELECT channel, account_id, campaign_id, sum(sessions) AS sessions, sum(revenue) AS web_revenue
            FROM marts.fct_conversion_funnel_daily WHERE date_day BETWEEN ? AND ? GROUP BY ALL
        )
        SELECT paid.*, web.sessions, web.web_revenue,
               conversion_value / nullif(spend, 0) AS roas, spend / nullif(conversions, 0) AS cpa
        FROM paid LEFT JOIN web USING (channel, account_id, campaign_id)
        ORDER BY conversion_value DESC NULLS LAST, spend DESC LIMIT {TOP_N}""", period + period)
    data.top_content = _rows(con, f"""
        SELECT channel, post_id, content_type, text, permalink, published_at, engagements, engagement_rate,
               coalesce(impressions, views, reach) AS audience
        FROM marts.fct_content_performance
        WHERE published_at::DATE BETWEEN ? AND ? AND engagements IS NOT NULL
        ORDER BY engagements DESC, channel, post_id LIMIT {TOP_N}""", period)
    if _has_table(con, "marts", "dim_account_family_monthly"):
        data.families = _families(con)
    return data


def _families(con: duckdb.DuckDBPyConnection) -> list[FamilyMatrix]:
    """Every family's months, and the graph of its latest month with a pattern (not isolated: a
    partial month just begun is often too short to show one), else of its latest with reshares. The accounts are
    those that reshared or were reshared in any month (the marts hold no other family list)."""
    families = []
    for (family,) in con.execute("SELECT DISTINCT family FROM marts.dim_account_family_monthly ORDER BY family").fetchall():
        months = _rows(con, "SELECT * FROM marts.dim_account_family_monthly WHERE family = ? ORDER BY reshare_month DESC",
                       [family])
        month = next((m["reshare_month"] for m in months if m["pattern"] != "isolated"),
                     next((m["reshare_month"] for m in months if m["reshares"]), None))
        accounts = _rows(con, """
            WITH members AS (
                SELECT channel, from_account_id AS account_id, from_role AS role FROM marts.fct_account_matrix_monthly WHERE family = ?
                UNION
                SELECT channel, to_account_id, to_role FROM marts.fct_account_matrix_monthly WHERE family = ?
            ), latest AS (
                SELECT channel, account_id, arg_max(followers, date_day) AS followers
                FROM marts.fct_audience_daily WHERE followers IS NOT NULL GROUP BY ALL
            )
            SELECT members.*, latest.followers FROM members LEFT JOIN latest USING (channel, account_id)
            ORDER BY channel, CASE role WHEN 'core' THEN 0 WHEN 'executive' THEN 1 WHEN 'sub_brand' THEN 2
                                        WHEN 'regional' THEN 3 ELSE 4 END, account_id""", [family, family])
        edges = _rows(con, """
            SELECT * FROM marts.fct_account_matrix_monthly WHERE family = ? AND reshare_month = ?
            ORDER BY reshares DESC, from_account_id, to_account_id""", [family, month])
        families.append(FamilyMatrix(family, months, month, accounts, edges))
    return families


def _scorecard(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> Scorecard | None:
    """The latest week the data covers to its Sunday (a partial week against a full one would mislead)."""
    weeks = [r[0] for r in con.execute(
        "SELECT DISTINCT iso_week_start FROM marts.fct_kpi_weekly ORDER BY iso_week_start DESC").fetchall()]
    if not weeks:
        return None
    complete = [w for w in weeks if w + dt.timedelta(days=6) <= end]
    week = complete[0] if complete else weeks[0]
    rows = _rows(con, "SELECT * FROM marts.fct_kpi_weekly WHERE iso_week_start = ? ORDER BY channel <> 'all', channel", [week])
    return Scorecard(
        week_start=week,
        iso_year_week=rows[0]["iso_year_week"],
        complete=bool(complete),
        previous_week_complete=week - dt.timedelta(days=7) >= start,
        rows={row["channel"]: row for row in rows},
    )


def _quality(con: duckdb.DuckDBPyConnection) -> Quality:
    run_id, evaluated_at, passed, failed, warned = con.execute("""
        SELECT any_value(run_id), max(evaluated_at), count(*) FILTER (WHERE passed),
               count(*) FILTER (WHERE NOT passed AND severity <> 'WARN'), count(*) FILTER (WHERE NOT passed AND severity = 'WARN')
        FROM meta.check_results""").fetchone()
    problems = _rows(con, """
        SELECT asset, check_name, kind, severity, blocking, failing_rows, description FROM meta.check_results
        WHERE NOT passed ORDER BY severity = 'WARN', asset, check_name""")
    return Quality(run_id, evaluated_at, passed, failed, warned, problems)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    # Decimals (money, conversions) become floats: the report only formats them for display.
    return [{name: float(v) if isinstance(v, Decimal) else v for name, v in zip(names, values, strict=False)}
            for values in cursor.fetchall()]
