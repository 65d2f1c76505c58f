"""The report from a small hand-made published file: which numbers it shows, how, and that it escapes them."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from orchestration.report import formatting as fmt
from orchestration.report import write_report
from orchestration.report.charts import nice_ticks

# A Wednesday: the week of Monday 2026-05-11 is the last complete one, 2026-05-18 has three days.
DATA_START, DATA_END = dt.date(2026, 5, 4), dt.date(2026, 5, 20)
HOSTILE = '<img src=x onerror="window.__pwned=1">& "quotes"'


def make_published(path: Path, *, with_checks: bool = True, with_rows: bool = True) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA meta")
    con.execute("CREATE TABLE meta.publish_info AS SELECT TIMESTAMPTZ '2026-05-21 06:00:00+00' AS published_at, 'run-1234' AS run_id")
    con.execute("""CREATE TABLE marts.dim_channel AS SELECT * FROM (VALUES
        ('meta_ads', 'Meta Ads', 'paid', 'facebook / paid_social', true),
        ('tiktok_ads', 'TikTok <Ads> & co', 'paid', NULL, false),
        ('instagram', 'Instagram', 'organic', NULL, false)) t(channel, channel_name, kind, ga4_sources, ga4_attributed)""")
    con.execute("CREATE TABLE marts.dim_date AS SELECT range::DATE AS date_day FROM range(?::DATE, ?::DATE + 1, INTERVAL 1 DAY)",
                [DATA_START, DATA_END])
    con.execute("""CREATE TABLE marts.fct_kpi_weekly (iso_year_week INTEGER, iso_week_start DATE, channel VARCHAR,
        reporting_currency VARCHAR, spend DECIMAL(18,4), spend_wow DOUBLE, roas DOUBLE, roas_wow DOUBLE, cpa DOUBLE, cpa_wow DOUBLE,
        followers BIGINT, followers_wow DOUBLE, sessions DOUBLE, sessions_wow DOUBLE)""")
    con.execute("""CREATE TABLE marts.fct_ad_performance_daily (date_day DATE, channel VARCHAR, account_id VARCHAR,
        campaign_id VARCHAR, campaign_name VARCHAR, spend DECIMAL(18,4), impressions BIGINT, clicks BIGINT,
        conversions DECIMAL(18,2), conversion_value DECIMAL(18,4))""")
    con.execute("""CREATE TABLE marts.fct_conversion_funnel_daily (date_day DATE, channel VARCHAR, account_id VARCHAR,
        campaign_id VARCHAR, impressions BIGINT, clicks BIGINT, sessions DOUBLE, engaged_sessions DOUBLE, key_events DOUBLE,
        revenue DECIMAL(18,4), spend DECIMAL(18,4))""")
    con.execute("""CREATE TABLE marts.fct_audience_daily (date_day DATE, channel VARCHAR, account_id VARCHAR,
        followers BIGINT, net_follower_growth BIGINT)""")
    con.execute("""CREATE TABLE marts.fct_content_performance (channel VARCHAR, post_id VARCHAR, account_id VARCHAR,
        published_at TIMESTAMPTZ, content_type VARCHAR, text VARCHAR, permalink VARCHAR, impressions BIGINT, views BIGINT,
        reach BIGINT, engagements BIGINT, engagement_rate DOUBLE)""")
    if with_rows:
        con.execute("""INSERT INTO marts.fct_kpi_weekly VALUES
            (202619, '2026-05-04', 'all', 'USD', 1000, NULL, 2.0, NULL, 50, NULL, 900, NULL, 500, NULL),
            (202620, '2026-05-11', 'all', 'USD', 1234.6, 0.2345, 1.5, -0.25, 40, -0.2, 1000, 0.111, 600, 0.2),
            (202620, '2026-05-11', 'meta_ads', 'USD', 1184.6, 0.2345, 1.5, -0.25, 40, -0.2, NULL, NULL, 600, 0.2),
            (202620, '2026-05-11', 'tiktok_ads', 'USD', 50, NULL, 0.2, NULL, 50, NULL, NULL, NULL, NULL, NULL),
            (202621, '2026-05-18', 'all', 'USD', 999999, 5.0, 9.0, 5.0, 1, -0.9, 1, -0.99, 1, NULL)""")
        con.execute(f"""INSERT INTO marts.fct_ad_performance_daily VALUES
            ('2026-05-12', 'meta_ads', 'act_1', 'c1', 'Old name', 100, 10000, 200, 4, 200),
            ('2026-05-13', 'meta_ads', 'act_1', 'c1', 'Spring <b>Sale</b>', 300, 30000, 600, 6, 300),
            ('2026-05-13', 'tiktok_ads', 'adv_9', 't1', '{HOSTILE.replace("'", "''")}', 50, 5000, 20, 1, 10)""")
        con.execute("""INSERT INTO marts.fct_conversion_funnel_daily VALUES
            ('2026-05-12', 'meta_ads', 'act_1', 'c1', 10000, 200, 150, 90, 6, 240, 100),
            ('2026-05-13', 'meta_ads', 'act_1', 'c1', 30000, 600, 450, 270, 12, 480, 300),
            ('2026-05-13', 'tiktok_ads', 'adv_9', 't1', 5000, 20, NULL, NULL, NULL, NULL, 50)""")
        con.execute("""INSERT INTO marts.fct_audience_daily VALUES
            ('2026-05-12', 'instagram', '17841', 5000, 10), ('2026-05-13', 'instagram', '17841', 5025, 25)""")
        con.execute(f"""INSERT INTO marts.fct_content_performance VALUES
            ('instagram', 'p1', '17841', '2026-05-12 10:00:00+00', 'image', '{HOSTILE.replace("'", "''")}',
             'javascript:alert(1)', NULL, 2000, 1500, 100, 0.05),
            ('instagram', 'p2', '17841', '2026-05-13 10:00:00+00', 'short_video', 'Trail \u202eevil', 'https://instagram.com/p/2?a=1&b=2',
             NULL, 1000, 800, 30, 0.03)""")
    if with_checks:
        con.execute("""CREATE TABLE meta.check_results AS SELECT * FROM (VALUES
            ('run-1234', TIMESTAMPTZ '2026-05-21 05:59:00+00', 'marts/fct_ad_performance_daily', 'grain', 'dbt_test', 'ERROR', true, true, 0, 'unique', '[]'),
            ('run-1234', TIMESTAMPTZ '2026-05-21 05:59:00+00', 'marts/fct_ad_performance_daily', 'not_null_spend', 'dbt_test', 'ERROR', true, true, 0, '', '[]'),
            ('run-1234', TIMESTAMPTZ '2026-05-21 05:59:00+00', 'raw_meta_ads/meta_ads__insights', 'freshness', 'freshness', 'WARN', false, false, 3, 'three days late <late>', '[]'),
            ('run-1234', TIMESTAMPTZ '2026-05-21 05:59:00+00', 'marts/fct_kpi_weekly', 'spend_anomaly', 'anomaly', 'ERROR', false, false, 1, 'spend 5x the median', '[]')
        ) t(run_id, evaluated_at, asset, check_name, kind, severity, blocking, passed, failing_rows, description, sample_json)""")  # noqa: E501
    con.close()
    return path


@pytest.fixture
def report_html(tmp_path) -> str:
    published = make_published(tmp_path / "marketing.duckdb")
    return write_report(published, tmp_path / "report" / "index.html").read_text(encoding="utf-8")


def test_hostile_text_is_escaped_everywhere_and_unsafe_links_are_dropped(report_html):
    assert "<img" not in report_html and "<b>Sale" not in report_html
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;&amp; &quot;quotes&quot;" in report_html
    assert "Spring &lt;b&gt;Sale&lt;/b&gt;" in report_html and "TikTok &lt;Ads&gt; &amp; co" in report_html
    assert "javascript:" not in report_html
    assert 'href="https://instagram.com/p/2?a=1&amp;b=2"' in report_html
    assert "<bdi" in report_html  # the right-to-left override stays inside its caption
    assert re.search(r"<script", report_html, re.IGNORECASE) is None
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', report_html).group(1))
    assert csp.startswith("default-src 'none';") and "script-src" not in csp  # no script may run at all


def test_scorecard_is_the_last_complete_week_with_formatted_changes(report_html):
    assert "week of 11 May 2026 (2026-W20)" in report_html
    assert "$1,235" in report_html and "▲ +23.4% WoW" in report_html  # spend: thousands, currency, arrow
    assert "1.50×" in report_html and "▼ -25.0% WoW" in report_html
    assert '<div class="change good">▼ -20.0% WoW</div>' in report_html  # a lower CPA is good news
    assert "$999,999" not in report_html  # the partial week of 18 May is not the scorecard


def test_ratios_of_the_period_come_from_sums(report_html):
    # Spring Sale: value 500 on spend 400 is ROAS 1.25 (the mean of the daily ROAS would be 1.5); CPA 400 / 10.
    row = re.search(r"Spring &lt;b&gt;Sale&lt;/b&gt;.*?</tr>", report_html).group(0)
    assert "$400" in row and "1.25×" in row and "$40.00" in row
    assert "Spring &lt;b&gt;Sale&lt;/b&gt;" in report_html and "Old name" not in report_html  # latest campaign name
    # Funnel: 800 clicks / 40,000 impressions, 18 key events / 600 sessions.
    funnel = re.search(r'<section id="funnel">.*?</section>', report_html, re.S).group(0)
    assert "2.00%" in funnel and "3.00%" in funnel and "1.80×" in funnel  # blended ROAS 720 / 400


def test_quality_status_counts_and_lists_what_did_not_pass(report_html):
    quality = re.search(r'<section id="quality">.*?</section>', report_html, re.S).group(0)
    assert "Some checks failed" in quality
    assert "2 passed" in quality and "1 failed" in quality and "1 warnings" in quality
    assert "spend_anomaly" in quality and "three days late &lt;late&gt;" in quality and "not_null_spend" not in quality
    assert quality.index("spend_anomaly") < quality.index("freshness")  # errors before warnings
    assert 'href="validation.html"' in quality


def test_a_file_without_check_results_says_so(tmp_path):
    published = make_published(tmp_path / "marketing.duckdb", with_checks=False)
    html = write_report(published, tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Quality status: not recorded in this published file." in html


def test_empty_marts_render_without_charts(tmp_path):
    published = make_published(tmp_path / "marketing.duckdb", with_rows=False)
    html = write_report(published, tmp_path / "index.html").read_text(encoding="utf-8")
    assert "No weekly KPIs yet." in html and "No ad spend in the period." in html
    assert 'class="chart"' not in html


def test_a_missing_published_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no published warehouse at .*marketing.duckdb"):
        write_report(tmp_path / "marketing.duckdb", tmp_path / "index.html")


def test_number_formats():
    assert fmt.money(12576.6445, "USD") == "$12,577" and fmt.money(-5, "CNY") == "-¥5" and fmt.money(10, "SEK") == "10 SEK"
    assert fmt.money(62.2606, "EUR", cents=True) == "€62.26" and fmt.money(2500, "USD", short=True) == "$2.5k"
    assert fmt.compact(2_574_137) == "2.57M" and fmt.compact(999) == "999" and fmt.compact(0.25) == "0.25"
    assert fmt.percent(0.013047, 2) == "1.30%" and fmt.signed_percent(-0.11245) == "-11.2%" and fmt.multiple(1.754) == "1.75×"
    assert fmt.integer(None) == fmt.MISSING == "–"
    assert nice_ticks(0, 834) == [0, 200, 400, 600, 800, 1000] and nice_ticks(-14, 834)[0] == -200


class RecordingLog:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)


def test_publish_writes_the_report_and_a_report_failure_is_logged_not_raised(tmp_path):
    from orchestration.defs.report import _write_report

    context = SimpleNamespace(log=RecordingLog())
    # No published file to read: the report fails, loudly, and the publish step carries on.
    missing = SimpleNamespace(published_db=tmp_path / "marketing.duckdb", warehouse_dir=tmp_path)
    metadata = _write_report(context, missing)
    assert set(metadata) == {"report_error"} and "no published warehouse" in metadata["report_error"].text
    assert len(context.log.errors) == 1 and context.log.errors[0].startswith("KPI REPORT NOT WRITTEN (the publish itself succeeded)")

    published = SimpleNamespace(published_db=make_published(tmp_path / "marketing.duckdb"), warehouse_dir=tmp_path)
    metadata = _write_report(context, published)
    assert metadata["report"].path == str(tmp_path / "report" / "index.html")
    assert (tmp_path / "report" / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_missing_measures_say_no_data_and_why_never_zero(report_html):
    """TikTok has no GA4 source mapped: its sessions are unknown, not 0, and its funnel has no 0.00x blended ROAS."""
    scorecard = re.search(r'<section id="scorecard">.*?</section>', report_html, re.S).group(0)
    tiktok = re.search(r"TikTok &lt;Ads&gt; &amp; co.*?</tr>", scorecard, re.S).group(0)
    assert "no data" in tiktok and "no GA4 source mapped to tiktok_ads" in tiktok
    funnel = re.search(r'<section id="funnel">.*?</section>', report_html, re.S).group(0)
    table = funnel[funnel.index("<table"):]
    row = re.search(r"TikTok &lt;Ads&gt; &amp; co.*?</tr>", table, re.S).group(0)
    assert "no GA4 source mapped to tiktok_ads" in row and "0.00×" not in row and ">0<" not in row
    assert "$50" in row  # what the platform did report is shown
