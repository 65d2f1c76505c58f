"""The report as one self-contained HTML page: inline CSS, inline SVG, no script.

Every value from the warehouse is text to escape (`esc`), captions included:
a post caption is whatever its author typed. Captions sit in `<bdi>` so that a
right-to-left override inside one cannot flip the rest of the row. The
Content-Security-Policy forbids every script, so even markup that slipped
through could not run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from orchestration.report import formatting as fmt
from orchestration.report.charts import Bar, Edge, Node, Series, bar_chart, esc, horizontal_bar_chart, line_chart, network_chart
from orchestration.report.data import Channel, FamilyMatrix, ReportData

VALIDATION_REPORT = "validation.html"  # written beside index.html by the quality checks
CAPTION_CHARS = 140
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


class Metric:
    """A scorecard measure: its fct_kpi_weekly column, how to print it, and which way is good."""

    def __init__(self, column: str, label: str, kind: str, better: str = "up") -> None:
        self.column, self.label, self.kind, self.better = column, label, kind, better

    def format(self, value: float | None, currency: str) -> str:
        if value is None:
            return fmt.MISSING
        if self.kind == "money":
            return fmt.money(value, currency)
        if self.kind == "unit_money":
            return fmt.money(value, currency, cents=True)
        if self.kind == "percent":
            return fmt.percent(value, 2)
        if self.kind == "multiple":
            return fmt.multiple(value)
        return fmt.integer(value)


TIERS: dict[str, list[Metric]] = {
    "Quantity": [
        Metric("followers", "Followers", "count"),
        Metric("net_follower_growth", "Net follower growth", "count"),
        Metric("impressions", "Impressions", "count"),
        Metric("clicks", "Ad clicks", "count"),
        Metric("ctr", "Ad CTR", "percent"),
    ],
    "Quality": [
        Metric("engagements", "Engagements", "count"),
        Metric("engagement_rate", "Engagement rate", "percent"),
        Metric("sessions", "Sessions", "count"),
        Metric("engaged_sessions", "Engaged sessions", "count"),
    ],
    "Return": [
        Metric("spend", "Spend", "money", better="neither"),
        Metric("conversions", "Conversions", "count"),
        Metric("conversion_value", "Conversion value", "money"),
        Metric("key_events", "Key events (GA4)", "count"),
        Metric("web_revenue", "Web revenue (GA4)", "money"),
        Metric("cpa", "CPA", "unit_money", better="down"),
        Metric("roas", "ROAS", "multiple"),
    ],
}
CHANNEL_TABLE = ["impressions", "clicks", "engagements", "sessions", "spend", "conversions", "roas", "net_follower_growth"]
METRICS = {m.column: m for tier in TIERS.values() for m in tier}

# Which source a measure needs: GA4 (attributed through utm), the ad platform, or the organic account.
WEB_MEASURES = {"sessions", "engaged_sessions", "key_events", "web_revenue", "revenue"}
PAID_MEASURES = {"clicks", "ctr", "spend", "conversions", "conversion_value", "cpa", "roas"}
ORGANIC_MEASURES = {"followers", "net_follower_growth", "engagements", "engagement_rate"}


def missing_reason(channel: Channel, column: str) -> str:
    """Why a measure is null for a channel: missing is never shown as 0, and a reader needs to know why."""
    if column in WEB_MEASURES:
        if channel.key == "all":
            return "no GA4 data"
        if channel.kind == "organic":
            return f"GA4 traffic is not attributed to {channel.key}"
        if channel.kind == "web":
            return "GA4 did not report it"
        if not channel.ga4_sources:
            return f"no GA4 source mapped to {channel.key}"
        if not channel.ga4_attributed:
            return f"GA4 reports no traffic from {channel.ga4_sources} (mapped to {channel.key})"
        return "no campaign with a utm_campaign on a day GA4 reported"
    if column in PAID_MEASURES and channel.kind in ("organic", "web"):
        return f"no ads on {channel.key}"
    if column in ORGANIC_MEASURES and channel.kind in ("paid", "web"):
        return f"no organic account on {channel.key}"
    return {
        "followers": "no total reported or back-cast that week",
        "net_follower_growth": "the platform does not report both gains and losses",
        "engagement_rate": "no impressions or views to divide by",
        "cpa": "no conversions to divide by",
        "roas": "no spend to divide by",
        "ctr": "no ad impressions to divide by",
    }.get(column, "not reported by the source")


def _no_data(reason: str) -> str:
    return f'<span class="no-data">no data</span><small class="why">{esc(reason)}</small>'


def render(data: ReportData) -> str:
    sections = [_quality(data)]
    if data.data_end is None:
        sections.append('<section><h2>No data</h2><p class="empty">The published file has no marts rows yet.</p></section>')
    else:
        sections += [_scorecard(data), _paid(data), _funnel(data), _audience(data), _content(data), _top(data), _matrix(data)]
    published = (f"Published {data.published_at:%d %b %Y %H:%M} UTC by run {data.run_id or 'unknown'}"
                 if data.published_at else "Publication time not recorded")
    if data.data_end is None:
        period = "No data"
    elif data.period_start == data.data_start:
        period = f"Data {fmt.day(data.data_start)} – {fmt.day(data.data_end)}"
    else:
        period = (f"Data {fmt.day(data.data_start)} – {fmt.day(data.data_end)}; charts and tables cover the last "
                  f"{len(data.days) // 7} weeks, from {fmt.day(data.period_start)}")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>socialmart marketing report</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Marketing report</h1>
<p class="meta">{esc(published)} · {esc(period)} · amounts in {esc(data.currency or 'the reporting currency')}</p>
</header>
<main>
{"".join(sections)}
</main>
<footer>Built by socialmart from the published file only (schema <code>marts</code> and <code>meta</code>).
Day boundaries are each account's own time zone; ratios are computed from summed base measures.</footer>
</body>
</html>
"""


def _quality(data: ReportData) -> str:
    link = f'<a href="{VALIDATION_REPORT}">Full validation report of the last run</a>'
    q = data.quality
    if q is None or q.passed + q.failed + q.warned == 0:
        return (f'<section id="quality"><h2>Data quality</h2><p class="status unknown">Quality status: not recorded '
                f'in this published file.</p><p>{link}</p></section>')
    state = "failed" if q.failed else "warn" if q.warned else "passed"
    headline = {"failed": "Some checks failed", "warn": "Passed with warnings", "passed": "All checks passed"}[state]
    rows = "".join(
        f'<tr class="{"error" if p["severity"] != "WARN" else "warn"}"><td>{esc(p["severity"])}</td><td>{esc(p["asset"])}</td>'
        f'<td>{esc(p["check_name"])}</td><td>{esc(p["kind"])}</td><td class="num">{esc(fmt.integer(p["failing_rows"]))}</td>'
        f'<td>{esc(p["description"] or "")}</td></tr>' for p in q.problems)
    table = (f'<div class="scroll"><table><thead><tr><th>Severity</th><th>Asset</th><th>Check</th><th>Kind</th><th class="num">Failing rows</th>'
             f'<th>Description</th></tr></thead><tbody>{rows}</tbody></table></div>' if rows else "")
    when = f" evaluated {q.evaluated_at:%d %b %Y %H:%M} UTC" if q.evaluated_at else ""
    return f"""<section id="quality"><h2>Data quality</h2>
<p class="status {state}">{esc(headline)}</p>
<ul class="counts"><li class="{"passed" if q.passed else ""}">{q.passed:,} passed</li><li class="{"failed" if q.failed else ""}">{q.failed:,} failed</li><li class="{"warn" if q.warned else ""}">{q.warned:,} warnings</li></ul>
<p class="note">Checks of the run that produced this file (run {esc(q.run_id or 'unknown')}{esc(when)}). {link}</p>
{table}</section>"""  # noqa: E501


def _scorecard(data: ReportData) -> str:
    card = data.scorecard
    if card is None:
        return '<section id="scorecard"><h2>Weekly KPI scorecard</h2><p class="empty">No weekly KPIs yet.</p></section>'
    iso_week = f"{card.iso_year_week // 100}-W{card.iso_year_week % 100:02d}"
    notes = []
    if not card.complete:
        notes.append(f"This week is not complete in the data (it ends {fmt.day(data.data_end)}).")
    if not card.previous_week_complete:
        notes.append(f"The week before is only partly in the data (from {fmt.day(data.data_start)}): "
                     "its changes do not compare like with like.")
    overall = card.rows.get("all", {})
    everything = data.channel("all")
    tiers = "".join(
        f'<div class="tier"><h3>{esc(tier)}</h3><div class="tiles">'
        + "".join(_tile(metric, overall, data.currency, everything) for metric in metrics) + "</div></div>"
        for tier, metrics in TIERS.items())
    header = "".join(f'<th class="num">{esc(METRICS[c].label)}</th>' for c in CHANNEL_TABLE)
    body = "".join(
        f'<tr><td>{_channel_label(data, channel)}</td>'
        + "".join(f'<td class="num">{_value_with_change(METRICS[c], row, data.currency, data.channel(channel))}</td>'
                  for c in CHANNEL_TABLE)
        + "</tr>" for channel, row in card.rows.items())
    return f"""<section id="scorecard"><h2>Weekly KPI scorecard · week of {esc(fmt.day(card.week_start))} ({esc(iso_week)})</h2>
<p class="note">All channels together, with the change from the week before. {esc(" ".join(notes))}</p>
<div class="tiers">{tiers}</div>
<h3>By channel</h3>
<div class="scroll"><table class="by-channel"><thead><tr><th>Channel</th>{header}</tr></thead><tbody>{body}</tbody></table></div>
</section>"""


def _tile(metric: Metric, row: dict[str, Any], currency: str, channel: Channel) -> str:
    return (f'<div class="tile"><div class="label">{esc(metric.label)}</div>'
            f'<div class="value">{_value_with_change(metric, row, currency, channel)}</div></div>')


def _value_with_change(metric: Metric, row: dict[str, Any], currency: str, channel: Channel) -> str:
    value = row.get(metric.column)
    if value is None:  # the source did not report it: say so and why, never 0; no change to speak of either
        return _no_data(missing_reason(channel, metric.column))
    return f'{esc(metric.format(value, currency))}{_change(metric, row.get(metric.column + "_wow"))}'


def _change(metric: Metric, change: float | None) -> str:
    if change is None:
        # fct_kpi_weekly has no change without a previous week, or when that week's figure was 0
        return '<div class="change none">WoW n/a</div>'
    arrow = "▲" if change > 0.0005 else "▼" if change < -0.0005 else "→"
    good = {"up": change > 0, "down": change < 0}.get(metric.better)
    tone = "flat" if arrow == "→" or good is None else "good" if good else "bad"
    return f'<div class="change {tone}">{arrow} {esc(fmt.signed_percent(change))} WoW</div>'


def _paid(data: ReportData) -> str:
    channels = sorted(data.spend_by_day, key=lambda c: -sum(data.spend_by_day[c].values()))
    if not channels:
        return '<section id="paid"><h2>Spend and ROAS</h2><p class="empty">No ad spend in the period.</p></section>'
    labels = [fmt.short_day(d) for d in data.days]
    spend = [Series(data.channel(c).name, data.channel(c).color, [data.spend_by_day[c].get(d) for d in data.days])
             for c in channels]
    roas = [Series(data.channel(c).name, data.channel(c).color, _trailing_ratio(data.value_by_day[c], data.spend_by_day[c], data.days))
            for c in channels]
    currency = data.currency
    return f"""<section id="paid"><h2>Spend and ROAS by channel</h2>
{bar_chart("chart-spend", f"Daily ad spend by channel ({currency})", labels, spend, stacked=True,
           x_title="Day (account time zone)", y_title=f"Spend ({currency})", y_format=lambda v: fmt.money(v, currency, short=True))}
{line_chart("chart-roas", "ROAS by channel, trailing 7 days", labels, roas,
            x_title="Day (account time zone)", y_title="ROAS (conversion value / spend)", y_format=fmt.multiple)}
<p class="note">ROAS over the 7 days ending on each day: those days' conversion value divided by their spend
(fewer days at the start of the data).</p>
</section>"""


def _trailing_ratio(numerator: dict[dt.date, float], denominator: dict[dt.date, float], days: list[dt.date]) -> list[float | None]:
    out = []
    for day in days:
        window = [day - dt.timedelta(days=k) for k in range(7)]
        spent = sum(denominator.get(d, 0.0) for d in window)
        out.append(sum(numerator.get(d, 0.0) for d in window) / spent if spent else None)
    return out


FUNNEL_STAGES = [("impressions", "Impressions"), ("clicks", "Clicks"), ("sessions", "Sessions"),
                 ("engaged_sessions", "Engaged sessions"), ("key_events", "Key events")]


def _funnel(data: ReportData) -> str:
    if not data.funnel:
        return '<section id="funnel"><h2>Conversion funnel</h2><p class="empty">No paid traffic in the period.</p></section>'
    series = [Series(data.channel(r["channel"]).name, data.channel(r["channel"]).color, [r[k] for k, _ in FUNNEL_STAGES])
              for r in data.funnel]
    chart = bar_chart("chart-funnel", "Each funnel stage per channel", [label for _, label in FUNNEL_STAGES], series, log=True,
                      x_title="Funnel stage (ad platform, then GA4 on the campaign's utm_campaign)", y_title="Count",
                      y_format=fmt.compact)
    rows = "".join(_funnel_row(data, r) for r in data.funnel)
    return f"""<section id="funnel"><h2>Conversion funnel by channel</h2>
{chart}
<div class="scroll"><table><thead><tr><th>Channel</th><th class="num">Impressions</th><th class="num">Clicks <small>CTR</small></th>
<th class="num">Sessions <small>per click</small></th><th class="num">Engaged <small>of sessions</small></th>
<th class="num">Key events <small>per session</small></th><th class="num">Web revenue</th><th class="num">Spend</th>
<th class="num">Blended CPA</th><th class="num">Blended ROAS</th></tr></thead><tbody>{rows}</tbody></table></div>
<p class="note">Over {esc(fmt.day(data.period_start))} – {esc(fmt.day(data.data_end))}. Blended: spend against GA4 key events and revenue.</p>
</section>"""


def _funnel_row(data: ReportData, r: dict[str, Any]) -> str:
    head = (f'<tr><td>{_channel_label(data, r["channel"])}</td><td class="num">{esc(fmt.integer(r["impressions"]))}</td>'
            f'<td class="num">{esc(fmt.integer(r["clicks"]))}<small>{esc(fmt.percent(_ratio(r["clicks"], r["impressions"]), 2))}</small></td>')
    spend = f'<td class="num">{esc(fmt.money(r["spend"], data.currency))}</td>'
    if r["sessions"] is None:  # GA4 cannot attribute this channel's traffic: its web stages are unknown, not 0
        return (f'{head}<td class="num" colspan="4">{_no_data(missing_reason(data.channel(r["channel"]), "sessions"))}</td>'
                f'{spend}<td class="num">{esc(fmt.MISSING)}</td><td class="num">{esc(fmt.MISSING)}</td></tr>')
    return (f'{head}<td class="num">{esc(fmt.integer(r["sessions"]))}<small>{esc(fmt.percent(_ratio(r["sessions"], r["clicks"])))}</small></td>'
            f'<td class="num">{esc(fmt.integer(r["engaged_sessions"]))}<small>{esc(fmt.percent(_ratio(r["engaged_sessions"], r["sessions"])))}</small></td>'
            f'<td class="num">{esc(fmt.integer(r["key_events"]))}<small>{esc(fmt.percent(_ratio(r["key_events"], r["sessions"]), 2))}</small></td>'
            f'<td class="num">{esc(fmt.money(r["revenue"], data.currency))}</td>{spend}'
            f'<td class="num">{esc(fmt.money(_ratio(r["spend"], r["key_events"]), data.currency, cents=True))}</td>'
            f'<td class="num">{esc(fmt.multiple(_ratio(r["revenue"], r["spend"])))}</td></tr>')


def _audience(data: ReportData) -> str:
    channels = sorted(data.net_growth_by_day)
    parts = ['<section id="audience"><h2>Follower growth per platform</h2>']
    if channels:
        series = []
        for c in channels:
            running, values = 0.0, []
            for day in data.days:
                running += data.net_growth_by_day[c].get(day, 0.0)
                values.append(running)
            series.append(Series(data.channel(c).name, data.channel(c).color, values))
        parts.append(line_chart("chart-followers", "Cumulative net follower growth per platform",
                                [fmt.short_day(d) for d in data.days], series, x_title="Day (channel time zone)",
                                y_title="Net new followers since period start", y_format=fmt.compact))
    else:
        parts.append('<p class="empty">No platform reports daily follower changes in the period.</p>')
    rows = "".join(
        f'<tr><td>{_channel_label(data, r["channel"])}</td><td class="num">{esc(fmt.integer(r["accounts"]))}</td>'
        f'<td class="num">{esc(fmt.integer(r["followers"]))}</td><td class="num">{esc(fmt.integer(r["net_growth"]))}</td></tr>'
        for r in data.followers)
    if rows:
        parts.append('<div class="scroll"><table><thead><tr><th>Platform</th><th class="num">Accounts</th>'
                     '<th class="num">Followers (latest known)</th><th class="num">Net growth in the period</th></tr></thead>'
                     f'<tbody>{rows}</tbody></table></div>')
        parts.append('<p class="note">Platforms that give follower totals only on pull days (X, Weibo) show no daily growth line.</p>')
    parts.append("</section>")
    return "".join(parts)


def _content(data: ReportData) -> str:
    rated = [r for r in data.content_types if r["engagement_rate"] is not None]
    if not data.content_types:
        return '<section id="content"><h2>Engagement by content type</h2><p class="empty">No posts published in the period.</p></section>'
    rate_color, volume_color = "#4e79a7", "#59a14f"
    rate_bars = [Bar(r["content_type"], r["engagement_rate"], f'{fmt.percent(r["engagement_rate"], 2)} · {_posts(r["posts"])}',
                     rate_color) for r in rated]
    per_post = sorted((r for r in data.content_types if r["engagements_per_post"] is not None),
                      key=lambda r: -r["engagements_per_post"])
    volume_bars = [Bar(r["content_type"], r["engagements_per_post"], f'{fmt.integer(r["engagements_per_post"])} · {_posts(r["posts"])}',
                       volume_color) for r in per_post]
    charts = []
    if rate_bars:
        charts.append(horizontal_bar_chart("chart-content-rate", "Engagement rate by content type", rate_bars,
                                           x_title="Engagements / impressions (views or reach where a platform has no impressions)",
                                           x_format=lambda v: fmt.percent(v), legend=[("Engagement rate", rate_color)]))
    if volume_bars:
        charts.append(horizontal_bar_chart("chart-content-volume", "Engagements per post by content type", volume_bars,
                                           x_title="Lifetime engagements per post", x_format=fmt.compact,
                                           legend=[("Engagements per post", volume_color)]))
    return f"""<section id="content"><h2>Engagement by content type</h2>
{"".join(charts)}
<p class="note">Posts published {esc(fmt.day(data.period_start))} – {esc(fmt.day(data.data_end))}, with their latest lifetime counters.</p>
</section>"""


def _posts(count: int) -> str:
    return f"{count:,} post" if count == 1 else f"{count:,} posts"


def _top(data: ReportData) -> str:
    currency = data.currency
    campaigns = "".join(
        f'<tr><td>{_channel_label(data, r["channel"])}</td><td><bdi>{esc(r["campaign_name"] or r["campaign_id"])}</bdi></td>'
        f'<td class="num">{esc(fmt.money(r["spend"], currency))}</td><td class="num">{esc(fmt.integer(r["conversions"]))}</td>'
        f'<td class="num">{esc(fmt.money(r["conversion_value"], currency))}</td><td class="num">{esc(fmt.multiple(r["roas"]))}</td>'
        f'<td class="num">{esc(fmt.money(r["cpa"], currency, cents=True))}</td><td class="num">{esc(fmt.integer(r["sessions"]))}</td>'
        f'<td class="num">{esc(fmt.money(r["web_revenue"], currency))}</td></tr>' for r in data.top_campaigns)
    content = "".join(
        f'<tr><td>{_channel_label(data, r["channel"])}</td><td>{esc(r["content_type"])}</td>'
        f'<td class="caption">{_caption(r["text"], r["permalink"])}</td>'
        f'<td class="num">{esc(fmt.day(r["published_at"].date()) if r["published_at"] else fmt.MISSING)}</td>'
        f'<td class="num">{esc(fmt.integer(r["engagements"]))}</td><td class="num">{esc(fmt.integer(r["audience"]))}</td>'
        f'<td class="num">{esc(fmt.percent(r["engagement_rate"], 2))}</td></tr>' for r in data.top_content)
    campaign_table = (
        '<div class="scroll"><table><thead><tr><th>Channel</th><th>Campaign</th><th class="num">Spend</th><th class="num">Conversions</th>'
        '<th class="num">Conversion value</th><th class="num">ROAS</th><th class="num">CPA</th><th class="num">Sessions (GA4)</th>'
        f'<th class="num">Web revenue (GA4)</th></tr></thead><tbody>{campaigns}</tbody></table></div>'
        if campaigns else '<p class="empty">No campaigns in the period.</p>')
    content_table = (
        '<div class="scroll"><table><thead><tr><th>Channel</th><th>Type</th><th>Post</th><th class="num">Published</th>'
        '<th class="num">Engagements</th><th class="num">Impressions / views</th><th class="num">Engagement rate</th></tr></thead>'
        f'<tbody>{content}</tbody></table></div>' if content else '<p class="empty">No posts in the period.</p>')
    return f"""<section id="top-campaigns"><h2>Top campaigns</h2>
<p class="note">By conversion value, {esc(fmt.day(data.period_start))} – {esc(fmt.day(data.data_end))}.</p>
{campaign_table}
</section>
<section id="top-content"><h2>Top content</h2>
<p class="note">Posts published {esc(fmt.day(data.period_start))} – {esc(fmt.day(data.data_end))}, by lifetime engagements.</p>
{content_table}
</section>"""


def _caption(text: str | None, permalink: str | None) -> str:
    """The post's text, shortened, escaped and isolated; linked only to an http(s) permalink."""
    full = text or "(no text)"
    shown = full if len(full) <= CAPTION_CHARS else full[:CAPTION_CHARS - 1] + "…"
    body = f'<bdi title="{esc(full)}">{esc(shown)}</bdi>'
    if permalink and urlsplit(permalink).scheme in ("http", "https"):
        return f'{body} <a href="{esc(permalink)}" rel="noopener noreferrer">open</a>'
    return body


def _channel_label(data: ReportData, key: str) -> str:
    channel = data.channel(key)
    return f'<span class="swatch" style="background:{esc(channel.color)}"></span>{esc(channel.name)}'


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


ROLES = {"core": ("Core", "#0072b2"), "executive": ("Executive", "#d55e00"), "sub_brand": ("Sub-brand", "#009e73"),
         "regional": ("Regional", "#e69f00"), "other": ("Other", "#8a8f98")}
PATTERNS = {
    "hub": "Hub (放射式): the other accounts reshare the core one hop out, rarely each other.",
    "dandelion": "Dandelion (蒲公英式): sub-brands and regionals are hubs too and reshare each other.",
    "twin_star": "Twin-star (双子星): an executive carries as much as the core; each amplifies the other.",
    "isolated": "Isolated: too few reshares inside the family; the accounts act alone.",
    "mixed": "Mixed: no pattern's rule matched.",
}


def _matrix(data: ReportData) -> str:
    if not data.families:
        return ""  # no family configured: nothing to say (socialmart.yaml `families:`)
    return ('<section id="matrix"><h2>Account matrix: how each brand family amplifies its posts</h2>'
            + "".join(_family(data, f) for f in data.families) + "</section>")


def _family(data: ReportData, family: FamilyMatrix) -> str:
    drawn = family.drawn
    parts = [f'<div class="family" id="family-{esc(family.family)}"><h3>{esc(family.family)}</h3>']
    if drawn is None:
        parts.append('<p class="empty">No reshares inside the family in the published months.</p>')
    else:
        parts.append(f'<p class="pattern"><strong>{esc(fmt.month(drawn["reshare_month"]))}: {esc(drawn["pattern"])}</strong> '
                     f'· {esc(PATTERNS[drawn["pattern"]])}<small>Rule: {esc(drawn["pattern_rule"])}</small></p>')
        tiles = [("Reshares in the family", fmt.integer(drawn["reshares"])),
                 ("Reach added by the family", fmt.compact(drawn["reach_added"])),
                 ("Median reshare lag", fmt.hours(drawn["median_lag_hours"])),
                 ("Reciprocity", fmt.percent(drawn["reciprocity"]))]
        parts.append('<div class="tiles">' + "".join(
            f'<div class="tile"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div></div>'
            for label, value in tiles) + "</div>")
        parts.append(_family_graph(data, family))
    rows = "".join(
        f'<tr><td>{esc(fmt.month(m["reshare_month"]))}</td><td>{esc(m["pattern"])}</td>'
        f'<td class="num">{esc(fmt.integer(m["reshares"]))}</td>'
        f'<td class="num">{esc(fmt.percent(m["core_share_received"]))}</td><td class="num">{esc(fmt.percent(m["peer_share"]))}</td>'
        f'<td class="num">{esc(fmt.ratio(m["exec_core_reach_ratio"]))}</td>'
        f'<td class="num">{esc(fmt.percent(m["core_exec_reciprocity"]))}</td><td class="num">{esc(fmt.percent(m["reciprocity"]))}</td>'
        f'<td class="num">{esc(fmt.compact(m["reach_added"]))}</td><td class="num">{esc(fmt.hours(m["median_lag_hours"]))}</td></tr>'
        for m in family.months)
    parts.append('<div class="scroll"><table class="family-months"><thead><tr><th>Month</th><th>Pattern</th>'
                 '<th class="num">Reshares</th><th class="num">Core share received</th><th class="num">Peer share</th>'
                 '<th class="num">Executive / core reach</th><th class="num">Core ↔ executive reciprocity</th>'
                 '<th class="num">Reciprocity</th><th class="num">Reach added</th><th class="num">Median lag</th></tr></thead>'
                 f'<tbody>{rows}</tbody></table></div>')
    parts.append('<p class="note">Reach added counts each resharing account\'s followers once per month (an upper bound: '
                 'the platforms give no follower overlap); it does not add up across months. Only X and Weibo say who '
                 'reshared whom.</p></div>')
    return "".join(parts)


def _family_graph(data: ReportData, family: FamilyMatrix) -> str:
    channels = {a["channel"] for a in family.accounts}
    counts: dict[tuple[str, str], int] = {}
    nodes = []
    for a in family.accounts:
        role_name, color = ROLES.get(a["role"], ROLES["other"])
        same = [b for b in family.accounts if b["role"] == a["role"] and b["channel"] == a["channel"]]
        counts[(a["channel"], a["role"])] = counts.get((a["channel"], a["role"]), 0) + 1
        label = role_name + (f" {counts[(a['channel'], a['role'])]}" if len(same) > 1 else "")
        if len(channels) > 1:
            label = f"{data.channel(a['channel']).name} {label}"
        followers = a["followers"]
        detail = (f"{label} · {data.channel(a['channel']).name} account {a['account_id']} · "
                  f"{fmt.integer(followers) if followers is not None else 'followers unknown'} followers")
        nodes.append(Node(f"{a['channel']}:{a['account_id']}", label, detail, color, followers, a["role"] == "core"))
    labels = {n.key: n.label for n in nodes}
    edges = []
    for e in family.edges:
        source, target = f"{e['channel']}:{e['from_account_id']}", f"{e['channel']}:{e['to_account_id']}"
        edges.append(Edge(source, target, e["reshares"],
                          f"{labels.get(source, e['from_account_id'])} → {labels.get(target, e['to_account_id'])}: "
                          f"{e['reshares']} reshares ({e['reposts']} reposts, {e['quotes']} quotes), "
                          f"reach added {fmt.compact(e['potential_reach_added'])}, "
                          f"{e['reverse_reshares']} back (reciprocity {fmt.percent(e['reciprocity'])})"))
    month = fmt.month(family.month)
    legend = [(name, color) for role, (name, color) in ROLES.items() if any(a["role"] == role for a in family.accounts)]
    return network_chart(f"chart-matrix-{family.family}",
                         f"{family.family}, {month}: who reshared whom (arrow from the resharer; "
                         "width = reshares, circle area = followers)", nodes, edges, legend=legend)


STYLE = """
:root { --ink: #24272d; --muted: #6b7079; --line: #e3e5e8; --good: #1a7f37; --bad: #c62828; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #f4f5f7; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.meta, .note, footer { color: var(--muted); }
footer { padding-bottom: 32px; font-size: 12px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 18px 0; }
.status { font-weight: 600; font-size: 16px; margin: 0 0 8px; }
.status.passed { color: var(--good); } .status.failed { color: var(--bad); } .status.warn { color: #b26a00; }
.status.unknown { color: var(--muted); }
.counts { list-style: none; padding: 0; margin: 0 0 8px; display: flex; gap: 10px; }
.counts li { padding: 3px 10px; border-radius: 12px; background: #eef0f2; font-weight: 600; color: var(--muted); }
.counts .passed { color: var(--good); } .counts .failed { color: var(--bad); } .counts .warn { color: #b26a00; }
tr.error td:first-child { color: var(--bad); font-weight: 600; } tr.warn td:first-child { color: #b26a00; font-weight: 600; }
.tiers { display: grid; grid-template-columns: 2fr 2fr 3fr; gap: 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 8px; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.tile .label { color: var(--muted); font-size: 12px; }
.tile .value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .change { font-weight: 400; }
.change { font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.change.good { color: var(--good); } .change.bad { color: var(--bad); } .change.flat, .change.none { color: var(--muted); }
td .change { font-size: 11px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td small, th small { display: block; color: var(--muted); font-weight: 400; }
td.caption { max-width: 420px; overflow-wrap: anywhere; }
bdi { unicode-bidi: isolate; }
.scroll { overflow-x: auto; }
figure.chart { margin: 12px 0 20px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart svg.narrow { display: none; }
figure.chart .axis-title { fill: var(--muted); font-size: 12px; }
.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.empty { color: var(--muted); font-style: italic; }
.no-data { color: var(--muted); font-style: italic; font-weight: 400; font-size: 13px; }
small.why { display: block; color: var(--muted); font-size: 11px; font-weight: 400; white-space: normal; max-width: 180px; margin-left: auto; }
.pattern small { display: block; color: var(--muted); }
.family + .family { border-top: 1px solid var(--line); margin-top: 16px; }
@media (max-width: 900px) { .tiers { grid-template-columns: 1fr; } }
/* Phones: the narrow drawing of each chart (readable text), tighter margins; wide tables scroll inside their box. */
@media (max-width: 600px) {
  header, main, footer { padding: 0 10px; }
  section { padding: 14px 12px; margin: 12px 0; }
  figure.chart svg.wide { display: none; }
  figure.chart svg.narrow { display: block; }
  .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .tile .value { font-size: 17px; }
  td.caption { min-width: 200px; max-width: 260px; }
}
"""
