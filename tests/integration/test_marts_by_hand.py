"""Mart values against numbers computed by hand from the sandbox's own API answers.

Each expected value here is derived in plain Python from the raw wire payloads
(Meta insights JSON, GA4 runReport JSON, the ECB CSV, X and Weibo timelines: the
account matrix's reshares), independently of the
connectors and of dbt, then compared with the published marts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import statistics
import subprocess
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest
import requests

from orchestration.config import FAMILY_THRESHOLDS
from orchestration.dbt_vars import dbt_cli_vars
from orchestration.defs.transform import dbt_environment
from sandbox.world_families import FAMILIES, true_pattern
from tests.integration.conftest import DBT, DBT_PROJECT, END, START

DAY = END - dt.timedelta(days=3)  # a recent day (restated conversions) ...
SUNDAY = next(START + dt.timedelta(days=i) for i in range(7) if (START + dt.timedelta(days=i)).weekday() == 6)


@pytest.fixture(scope="module")
def published(env, first_run):
    """What the standard run published (conftest.py: shared with
    test_pipeline.py), in this module's warehouse; `env`'s own sandbox
    answers as that run's did (the same world, never restated)."""
    first_run.copy_to(env.settings)
    con = duckdb.connect(str(env.settings.published_db), read_only=True)
    yield con
    con.close()


def meta_rows(env, account: str, day: dt.date) -> list[dict]:
    base = env.sandbox.base_urls()["meta_ads"]
    params = {
        "level": "campaign", "time_increment": 1, "limit": 500,
        "time_range": json.dumps({"since": day.isoformat(), "until": day.isoformat()}),
        "fields": "campaign_id,spend,impressions,clicks,actions,action_values",
    }
    body = requests.get(f"{base}/{account}/insights", params=params, headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
    return body["data"]


def usd_per_eur(env, day: dt.date) -> Decimal:
    """The ECB rate in force on `day`: the last publication on or before it."""
    base = env.sandbox.base_urls()["fx"]
    text = requests.get(f"{base}/service/data/EXR/D.USD.EUR.SP00.A", params={
        "startPeriod": (day - dt.timedelta(days=10)).isoformat(), "endPeriod": day.isoformat(), "format": "csvdata"}, timeout=10).text
    rows = sorted(csv.DictReader(io.StringIO(text)), key=lambda r: r["TIME_PERIOD"])
    return Decimal(rows[-1]["OBS_VALUE"])


def ga4_rows(env, day: dt.date) -> list[dict]:
    base = env.sandbox.base_urls()["ga4"]
    request = {
        "dateRanges": [{"startDate": day.isoformat(), "endDate": day.isoformat()}],
        "dimensions": [{"name": n} for n in ("sessionSource", "sessionMedium", "sessionCampaignName", "landingPage")],
        "metrics": [{"name": n} for n in ("sessions", "engagedSessions", "keyEvents", "totalRevenue")],
        "limit": 10000,
    }
    body = requests.post(f"{base}/properties/123456:runReport", json=request, headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
    out = []
    for row in body.get("rows", []):
        dims = [d["value"] for d in row["dimensionValues"]]
        mets = [m["value"] for m in row["metricValues"]]
        out.append({"source": dims[0], "medium": dims[1], "campaign": dims[2], "page": dims[3],
                    "sessions": int(mets[0]), "engaged": int(mets[1]), "key_events": float(mets[2]), "revenue": Decimal(mets[3])})
    return out


def action(entry_list, name) -> Decimal:
    return next((Decimal(a["value"]) for a in entry_list or [] if a["action_type"] == name), Decimal(0))


def q4(value: Decimal) -> Decimal:
    # SQL's round() on both engines (DuckDB, Spark) takes a tie away from zero:
    # a day whose spend x rate ends in exactly ...5 at the fifth decimal shows it.
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("day", [DAY, SUNDAY], ids=["recent-weekday", "sunday-carry-forward"])
def test_ad_performance_converts_eur_with_the_days_rate(env, published, day):
    rate = usd_per_eur(env, day)
    for record in meta_rows(env, "act_1002", day):
        spend_local = Decimal(record["spend"])
        purchases = action(record.get("actions"), "purchase")
        value_local = action(record.get("action_values"), "purchase")
        got = published.execute(
            "SELECT spend_local, fx_rate, spend, conversions, conversion_value, ctr, cpa, roas FROM marts.fct_ad_performance_daily "
            "WHERE date_day = ? AND account_id = 'act_1002' AND campaign_id = ?", [day, record["campaign_id"]]).fetchone()
        assert got is not None
        assert got[0] == spend_local and got[1] == rate
        assert got[2] == q4(spend_local * rate) and got[3] == purchases and got[4] == q4(value_local * rate)
        assert got[5] == pytest.approx(int(record["clicks"]) / int(record["impressions"]))
        assert got[6] == (pytest.approx(float(q4(spend_local * rate) / purchases)) if purchases else None)
        assert got[7] == (pytest.approx(float(q4(value_local * rate) / q4(spend_local * rate))) if spend_local else None)


def test_funnel_takes_ga4_sessions_of_the_campaigns_utm(env, published):
    web = ga4_rows(env, DAY)
    funnel = published.execute(
        "SELECT campaign_id, utm_campaign, clicks, sessions, engaged_sessions, key_events, revenue, bounce_rate, click_to_session_rate, blended_roas, spend "
        "FROM marts.fct_conversion_funnel_daily WHERE date_day = ? AND channel = 'meta_ads'", [DAY]).fetchall()
    assert funnel
    by_utm: dict[str, list] = {}
    for row in funnel:
        by_utm.setdefault(row[1], []).append(row)
    for utm, rows in by_utm.items():
        paid = [r for r in web if r["medium"] == "paid_social" and r["source"] in ("facebook", "instagram") and r["campaign"] == utm]
        sessions = sum(r["sessions"] for r in paid)
        engaged = sum(r["engaged"] for r in paid)
        revenue = sum((r["revenue"] for r in paid), Decimal(0))
        if utm is None:  # GA4 cannot see an untagged campaign: its web measures are unknown, not 0
            assert all(r[3] is None for r in rows)
            continue
        assert sum(r[3] for r in rows) == pytest.approx(sessions)
        assert sum(r[4] for r in rows) == pytest.approx(engaged)
        assert sum(r[6] for r in rows) == pytest.approx(revenue, abs=Decimal("0.001"))
        for row in rows:
            if row[3]:
                assert row[7] == pytest.approx(1 - row[4] / row[3])
                assert row[8] == pytest.approx(row[3] / row[2])


def test_landing_pages_sum_ga4_rows_and_recompute_bounce_rate(env, published):
    web = ga4_rows(env, DAY)
    expected: dict[tuple, list] = {}
    for r in web:
        key = (r["page"], r["source"].lower(), r["medium"].lower())
        acc = expected.setdefault(key, [0, 0, 0.0, Decimal(0)])
        acc[0] += r["sessions"]; acc[1] += r["engaged"]; acc[2] += r["key_events"]; acc[3] += r["revenue"]  # noqa: E702
    got = {
        (page, source, medium): (sessions, engaged, key_events, revenue, bounce)
        for page, source, medium, sessions, engaged, key_events, revenue, bounce in published.execute(
            "SELECT landing_page, session_source, session_medium, sessions, engaged_sessions, key_events, revenue, bounce_rate "
            "FROM marts.fct_landing_page_daily WHERE date_day = ?", [DAY]).fetchall()
    }
    assert set(got) == set(expected)
    for key, (sessions, engaged, key_events, revenue) in expected.items():
        g = got[key]
        assert (g[0], g[1]) == (sessions, engaged) and g[2] == pytest.approx(key_events)
        assert g[3] == q4(revenue)  # the property's currency is the reporting currency (USD): rate 1
        assert g[4] == (pytest.approx(1 - engaged / sessions) if sessions else None)


def test_dimensions_cover_the_facts(published):
    orphans = published.execute(
        "SELECT count(*) FROM marts.fct_ad_performance_daily f "
        "LEFT JOIN marts.dim_campaign c USING (channel, account_id, campaign_id) WHERE c.campaign_id IS NULL").fetchone()[0]
    assert orphans == 0
    accounts = published.execute("SELECT channel, account_id, currency, timezone, kind FROM marts.dim_account WHERE channel IN ('meta_ads', 'ga4') ORDER BY 1, 2").fetchall()  # noqa: E501
    assert accounts == [
        ("ga4", "123456", "USD", "America/Los_Angeles", "web"),
        ("meta_ads", "act_1001", "USD", "America/Los_Angeles", "paid"),
        ("meta_ads", "act_1002", "EUR", "Europe/Berlin", "paid"),
    ]
    days = published.execute("SELECT count(*), min(date_day), max(date_day) FROM marts.dim_date").fetchone()
    assert days[1] <= START and days[2] >= END and days[0] == (days[2] - days[1]).days + 1


def test_audience_daily_youtube_matches_the_analytics_report(env, published):
    """Positional rows read through columnHeaders, subscribers gained - lost = growth."""
    config = env.sandbox.client_configs("x")["youtube"]
    channel_id = config["accounts"][0]
    body = requests.get(f"{config['base_url']}/reports", params={
        "ids": f"channel=={channel_id}", "startDate": START.isoformat(), "endDate": END.isoformat(),
        "metrics": "subscribersLost,views,subscribersGained", "dimensions": "day", "sort": "day"},
        headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
    names = [h["name"] for h in body["columnHeaders"]]
    expected = {dt.date.fromisoformat(r[names.index("day")]): r for r in body["rows"]}
    got = {day: (views, gained, lost, growth) for day, views, gained, lost, growth in published.execute(
        "SELECT date_day, views, followers_gained, followers_lost, net_follower_growth FROM marts.fct_audience_daily "
        "WHERE channel = 'youtube' AND account_id = ? AND views IS NOT NULL", [channel_id]).fetchall()}
    assert got and set(got) == set(expected)
    for day, row in expected.items():
        views, gained, lost = (int(row[names.index(n)]) for n in ("views", "subscribersGained", "subscribersLost"))
        assert got[day] == (views, gained, lost, gained - lost)


def test_content_performance_x_matches_public_metrics(env, published):
    """Lifetime public_metrics land as the latest snapshot; engagements = the sum of interactions."""
    config = env.sandbox.client_configs("x")["x"]
    user = config["accounts"][0]
    body = requests.get(f"{config['base_url']}/users/{user}/tweets", params={
        "tweet.fields": "created_at,public_metrics", "max_results": 100,
        "start_time": f"{START.isoformat()}T00:00:00Z"},
        headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
    assert body["data"]
    for post in body["data"][:10]:
        m = post["public_metrics"]
        got = published.execute(
            "SELECT impressions, likes, comments, saves, engagements, engagement_rate FROM marts.fct_content_performance "
            "WHERE channel = 'x' AND post_id = ?", [post["id"]]).fetchone()
        assert got is not None, post["id"]
        assert got[:4] == (m["impression_count"], m["like_count"], m["reply_count"], m["bookmark_count"])
        if got[0]:
            assert got[5] == pytest.approx(got[4] / got[0])


def test_demographics_shares_from_the_instagram_breakdown(env, published):
    config = env.sandbox.client_configs("x")["instagram"]
    user = config["accounts"][0]
    body = requests.get(f"{config['base_url']}/{user}/insights", params={
        "metric": "follower_demographics", "period": "lifetime", "metric_type": "total_value", "breakdown": "age"},
        headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
    results = body["data"][0]["total_value"]["breakdowns"][0]["results"]
    total = sum(r["value"] for r in results)
    got = {bucket: (followers, share) for bucket, followers, share in published.execute(
        "SELECT bucket, followers, share FROM marts.dim_audience_demographics "
        "WHERE channel = 'instagram' AND account_id = ? AND dimension = 'age'", [user]).fetchall()}
    assert got == {r["dimension_values"][0]: (r["value"], pytest.approx(r["value"] / total)) for r in results}


def x_posts(env, user: str) -> list[dict]:
    """Every post of the window from the X API (all pages), as the wire sends them."""
    config = env.sandbox.client_configs("x")["x"]
    params = {"tweet.fields": "created_at,public_metrics", "max_results": 100,
              "start_time": f"{START.isoformat()}T00:00:00Z", "end_time": f"{(END + dt.timedelta(days=1)).isoformat()}T00:00:00Z"}
    posts: list[dict] = []
    while True:
        body = requests.get(f"{config['base_url']}/users/{user}/tweets", params=params,
                            headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
        posts += body.get("data", [])
        if not body.get("meta", {}).get("next_token"):
            return posts
        params["pagination_token"] = body["meta"]["next_token"]


def x_day(post: dict) -> dt.date:
    return dt.date.fromisoformat(post["created_at"][:10])  # X's day is the UTC day


def x_engagements(post: dict) -> int:
    m = post["public_metrics"]
    return m["like_count"] + m["reply_count"] + m["retweet_count"] + m["quote_count"] + m["bookmark_count"]


def test_audience_daily_x_has_every_pulled_day_posts_and_publish_day_engagements(env, published):
    """A row for every day of the window, posts 0 on days without any; the follower total only on the pull day;
    engagements = the posts published that day, at their lifetime public_metrics."""
    config = env.sandbox.client_configs("x")["x"]
    user = config["accounts"][0]
    posts = x_posts(env, user)
    assert posts
    expected = {START + dt.timedelta(days=i): [0, 0] for i in range((END - START).days + 1)}
    for post in posts:
        expected[x_day(post)][0] += 1
        expected[x_day(post)][1] += x_engagements(post)
    got = {day: (n, eng, followers) for day, n, eng, followers in published.execute(
        "SELECT date_day, posts_published, engagements, followers FROM marts.fct_audience_daily "
        "WHERE channel = 'x' AND account_id = ? AND date_day BETWEEN ? AND ?", [user, START, END]).fetchall()}
    assert got == {day: (n, eng, None) for day, (n, eng) in expected.items()}
    followers = requests.get(f"{config['base_url']}/users/{user}", params={"user.fields": "public_metrics"},
                             headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
    snapshot = published.execute(
        "SELECT followers, followers_source, posts_published FROM marts.fct_audience_daily "
        "WHERE channel = 'x' AND account_id = ? AND date_day > ?", [user, END]).fetchall()
    # the pull day: the reported total; its posts were not pulled (after the window), so unknown
    assert snapshot == [(followers["data"]["public_metrics"]["followers_count"], "reported", None)]


def test_weekly_x_engagements_are_the_posts_published_that_week(env, published):
    monday = next(START + dt.timedelta(days=i) for i in range(7) if (START + dt.timedelta(days=i)).weekday() == 0)
    week = {monday + dt.timedelta(days=i) for i in range(7)}
    total = sum(x_engagements(post) for user in env.sandbox.client_configs("x")["x"]["accounts"]
                for post in x_posts(env, user) if x_day(post) in week)
    got = published.execute("SELECT engagements, engagement_rate FROM marts.fct_kpi_weekly "
                            "WHERE channel = 'x' AND iso_week_start = ?", [monday]).fetchone()
    assert got == (total, None)  # X has no daily impressions: no rate over them
    every = published.execute("SELECT count(*) FROM marts.fct_kpi_weekly WHERE iso_week_start = ? AND channel IN "
                              "(SELECT channel FROM marts.fct_audience_daily) AND engagements IS NULL", [monday]).fetchone()[0]
    assert every == 0


def test_content_daily_has_no_lifetime_dump_and_youtube_gains_are_the_daily_report(env, published):
    """One pull so far: every post's only snapshot is its baseline (= its latest counters), never a gain; YouTube's
    gains are the Analytics day x video report; nothing after the window carries gains."""
    assert published.execute("SELECT count(*) FROM marts.fct_content_daily WHERE gain_source = 'snapshot_delta'").fetchone()[0] == 0
    assert published.execute("SELECT count(*) FROM marts.fct_content_daily WHERE date_day > ?", [END]).fetchone()[0] == 0
    assert published.execute(
        # (WeChat's "snapshots" are the running totals of its daily article figures: one per day already)
        "SELECT count(*) FROM marts.fct_content_performance WHERE metrics_as_of IS NOT NULL AND channel <> 'wechat' AND "
        "(baseline_as_of IS DISTINCT FROM metrics_as_of OR baseline_likes IS DISTINCT FROM likes)").fetchone()[0] == 0
    config = env.sandbox.client_configs("x")["youtube"]
    channel_id = config["accounts"][0]
    expected: dict[str, tuple[int, int]] = {}
    while True:  # positional rows, 1-based startIndex pages
        body = requests.get(f"{config['base_url']}/reports", params={
            "ids": f"channel=={channel_id}", "startDate": DAY.isoformat(), "endDate": DAY.isoformat(),
            "metrics": "views,likes", "dimensions": "day,video", "sort": "day", "maxResults": 200,
            "startIndex": len(expected) + 1},
            headers={"Authorization": f"Bearer {env.sandbox.token}"}, timeout=10).json()
        names = [h["name"] for h in body["columnHeaders"]]
        rows = body.get("rows", [])
        expected |= {r[names.index("video")]: (int(r[names.index("views")]), int(r[names.index("likes")])) for r in rows}
        if len(rows) < 200:
            break
    got = {post: (views, likes) for post, views, likes in published.execute(
        "SELECT post_id, views, likes FROM marts.fct_content_daily WHERE channel = 'youtube' AND date_day = ? "
        "AND gain_source = 'api_daily'", [DAY]).fetchall()}
    assert expected and got == expected
    assert published.execute("SELECT count(*) FROM marts.fct_content_daily WHERE likes < 0 OR views < 0").fetchone()[0] == 0


def test_weekly_and_campaign_spend_add_up_from_the_meta_api(env, published):
    """A full ISO week of Meta spend, and one campaign's spend over the window, from the API by hand."""
    monday = next(START + dt.timedelta(days=i) for i in range(7) if (START + dt.timedelta(days=i)).weekday() == 0)
    week_spend = Decimal(0)
    campaign_spend: dict[str, Decimal] = {}
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        rate = usd_per_eur(env, day)
        for account, fx in (("act_1001", Decimal(1)), ("act_1002", rate)):
            for record in meta_rows(env, account, day):
                week_spend += q4(Decimal(record["spend"]) * fx)
    got = published.execute(
        "SELECT spend FROM marts.fct_kpi_weekly WHERE channel = 'meta_ads' AND iso_week_start = ?", [monday]).fetchone()
    assert got[0] == week_spend

    first = meta_rows(env, "act_1001", END)[0]["campaign_id"]
    for offset in range((END - START).days + 1):
        day = START + dt.timedelta(days=offset)
        for record in meta_rows(env, "act_1001", day):
            if record["campaign_id"] == first:
                campaign_spend[first] = campaign_spend.get(first, Decimal(0)) + Decimal(record["spend"])
    summary = published.execute(
        "SELECT spend, last_day FROM marts.fct_campaign_summary WHERE channel = 'meta_ads' AND campaign_id = ?",
        [first]).fetchone()
    assert summary == (campaign_spend[first], END)


# ------------------------------------------------------------------ the account matrix
# The marts' reshares, recomputed here from the X and Weibo wire payloads alone: X `referenced_tweets`
# (retweeted / quoted) with the original in `includes.tweets`, Weibo `retweeted_status` with its `user`.

def _family_roles(env) -> dict[tuple[str, str], tuple[str, str]]:
    """(channel, account) -> (family, role), from the sandbox config's `families:`."""
    return {(channel, account): (family, role)
            for family, entry in env.sandbox.families_config().items()
            for channel, members in entry["accounts"].items() for account, role in members.items()}


def _x_reshares(env) -> list[dict]:
    config = env.sandbox.client_configs("x")["x"]
    headers = {"Authorization": f"Bearer {env.sandbox.token}"}
    out = []
    for user in config["accounts"]:
        followers = requests.get(f"{config['base_url']}/users/{user}", params={"user.fields": "public_metrics"},
                                 headers=headers, timeout=10).json()["data"]["public_metrics"]["followers_count"]
        params = {"tweet.fields": "created_at,public_metrics,referenced_tweets,author_id", "expansions": "referenced_tweets.id",
                  "max_results": 100, "start_time": f"{START.isoformat()}T00:00:00Z",
                  "end_time": f"{(END + dt.timedelta(days=1)).isoformat()}T00:00:00Z"}
        while True:
            body = requests.get(f"{config['base_url']}/users/{user}/tweets", params=params, headers=headers, timeout=10).json()
            included = {t["id"]: t for t in body.get("includes", {}).get("tweets", [])}
            for post in body.get("data", []):
                for ref in post.get("referenced_tweets", []):
                    original = included.get(ref["id"])  # missing: deleted, its author unknown
                    if ref["type"] in ("retweeted", "quoted") and original:
                        out.append({"channel": "x", "post": post["id"], "from": user, "to": original["author_id"],
                                    "original": ref["id"], "type": ref["type"], "day": x_day(post),
                                    "lag": _hours(original["created_at"], post["created_at"]), "followers": followers,
                                    "engagements": x_engagements(post) if ref["type"] == "quoted" else None})
            if not body.get("meta", {}).get("next_token"):
                break
            params["pagination_token"] = body["meta"]["next_token"]
    return out


def _weibo_reshares(env) -> list[dict]:
    config = env.sandbox.client_configs("x")["weibo"]
    china = dt.timezone(dt.timedelta(hours=8))
    out = []
    for uid in config["accounts"]:
        auth = {"access_token": env.sandbox.token, "uid": uid}
        followers = requests.get(f"{config['base_url']}/users/show.json", params=auth, timeout=10).json()["followers_count"]
        page = 1
        while True:
            statuses = requests.get(f"{config['base_url']}/statuses/user_timeline.json",
                                    params={**auth, "count": 100, "page": page}, timeout=10).json()["statuses"]
            for status in statuses:
                created = dt.datetime.strptime(status["created_at"], "%a %b %d %H:%M:%S %z %Y")
                original = status.get("retweeted_status")
                if START <= created.astimezone(china).date() <= END and original and original.get("user"):
                    lag = (created - dt.datetime.strptime(original["created_at"], "%a %b %d %H:%M:%S %z %Y")).total_seconds()
                    out.append({"channel": "weibo", "post": status["idstr"], "from": uid, "to": original["user"]["idstr"],
                                "original": original["idstr"], "type": "repost", "day": created.astimezone(china).date(),
                                "lag": lag / 3600, "followers": followers,
                                "engagements": status["attitudes_count"] + status["comments_count"] + status["reposts_count"]})
            if not statuses or dt.datetime.strptime(statuses[-1]["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(china).date() < START:
                break
            page += 1
    return out


def _hours(start: str, end: str) -> float:
    parse = lambda text: dt.datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds() / 3600


@pytest.fixture(scope="module")
def wire_reshares(env) -> list[dict]:
    """Every reshare between two accounts of one family in the window, with its family, roles and month."""
    roles = _family_roles(env)
    out = []
    for r in _x_reshares(env) + _weibo_reshares(env):
        resharer, original = roles.get((r["channel"], r["from"])), roles.get((r["channel"], r["to"]))
        if resharer and original and resharer[0] == original[0] and r["from"] != r["to"]:
            out.append({**r, "family": resharer[0], "from_role": resharer[1], "to_role": original[1],
                        "month": r["day"].replace(day=1)})
    return out


def test_amplification_matches_the_wire_payloads(published, wire_reshares):
    got = {(channel, post): row for channel, post, *row in published.execute(
        "SELECT channel, reshare_post_id, family, resharer_account_id, resharer_role, original_post_id, original_account_id, "
        "original_role, reshare_type, reshare_date, lag_hours, resharer_followers, potential_reach, reshare_engagements "
        "FROM marts.fct_amplification").fetchall()}
    assert len(wire_reshares) > 100 and {r["channel"] for r in wire_reshares} == {"x", "weibo"}
    assert set(got) == {(r["channel"], r["post"]) for r in wire_reshares}
    for r in wire_reshares:
        row = got[r["channel"], r["post"]]
        assert row[:8] == [r["family"], r["from"], r["from_role"], r["original"], r["to"], r["to_role"], r["type"], r["day"]]
        assert row[8] == pytest.approx(r["lag"], abs=1 / 3600), r  # whole seconds
        # One follower snapshot so far (the pull day): the figure nearest every reshare; reach = that audience.
        assert row[9] == r["followers"] and row[10] == r["followers"]
        assert row[11] == r["engagements"], r  # null for an X repost: its interactions are the original's


def test_matrix_and_family_evidence_match_the_wire_payloads(published, wire_reshares):
    edges: dict[tuple, int] = {}
    for r in wire_reshares:
        key = (r["month"], r["family"], r["channel"], r["from"], r["to"])
        edges[key] = edges.get(key, 0) + 1
    got = {(month, family, channel, a, b): (n, back, reciprocity, reach)
           for month, family, channel, a, b, n, back, reciprocity, reach in published.execute(
               "SELECT reshare_month, family, channel, from_account_id, to_account_id, reshares, reverse_reshares, "
               "reciprocity, potential_reach_added FROM marts.fct_account_matrix_monthly").fetchall()}
    assert set(got) == set(edges)
    followers = {(r["channel"], r["from"]): r["followers"] for r in wire_reshares}
    for (month, family, channel, a, b), n in edges.items():
        back = edges.get((month, family, channel, b, a), 0)
        assert got[month, family, channel, a, b] == (n, back, pytest.approx(min(n, back) / max(n, back)), followers[channel, a])

    months = {(r["family"], r["month"]) for r in wire_reshares}
    evidence = {(f, m): row for f, m, *row in published.execute(
        "SELECT family, reshare_month, reshares, core_share_received, peer_share, reach_added, median_lag_hours, reciprocity "
        "FROM marts.dim_account_family_monthly").fetchall()}
    spokes = ("sub_brand", "regional")
    for family, month in months:
        mine = [r for r in wire_reshares if (r["family"], r["month"]) == (family, month)]
        pairs = {k: n for k, n in edges.items() if k[:2] == (month, family)}
        reciprocated = sum(min(n, pairs.get((m, f, c, b, a), 0)) for (m, f, c, a, b), n in pairs.items())
        expected = [
            len(mine),
            pytest.approx(sum(r["to_role"] == "core" for r in mine) / len(mine)),
            pytest.approx(sum(r["from_role"] in spokes and r["to_role"] in spokes for r in mine) / len(mine)),
            sum({(r["channel"], r["from"]): r["followers"] for r in mine}.values()),  # each resharer's audience once
            pytest.approx(statistics.median(r["lag"] for r in mine), abs=1 / 3600),
            pytest.approx(reciprocated / len(mine)),
        ]
        assert evidence[family, month] == expected, (family, month)


def classify_by_hand(reshares: list[dict], has_executive: bool) -> str:
    """dim_account_family_monthly.sql's rules, first match wins, over one family-month's reshares."""
    t = FAMILY_THRESHOLDS
    n = len(reshares)
    if n < t["min_reshares"]:
        return "isolated"

    def reach_received(role: str) -> int:  # the audiences of the accounts that reshared the role, each once
        return sum({(r["channel"], r["from"]): r["followers"] for r in reshares if r["to_role"] == role}.values())

    def count(from_roles: tuple[str, ...], to_roles: tuple[str, ...]) -> int:
        return sum(r["from_role"] in from_roles and r["to_role"] in to_roles for r in reshares)

    core_reach = reach_received("core")
    reach_ratio = reach_received("executive") / core_reach if has_executive and core_reach else None
    both_ways = (count(("core",), ("executive",)), count(("executive",), ("core",)))
    reciprocity = min(both_ways) / max(both_ways) if max(both_ways) else None
    core_share = sum(r["to_role"] == "core" for r in reshares) / n
    peer_share = count(("sub_brand", "regional"), ("sub_brand", "regional")) / n
    if (reach_ratio is not None and reach_ratio >= t["twin_star_min_reach_ratio"]
            and reciprocity is not None and reciprocity >= t["twin_star_min_reciprocity"]):
        return "twin_star"
    if core_share >= t["hub_min_core_share"] and peer_share <= t["hub_max_peer_share"]:
        return "hub"
    if peer_share >= t["dandelion_min_peer_share"]:
        return "dandelion"
    return "mixed"


def test_each_family_and_month_is_classified_by_the_rules_and_as_the_world_says(env, published, wire_reshares):
    """Every family and month of the window: the pattern its reshares give by the rules, worked out here from
    the wire payloads. And in each family's month with the most days in the window (at least 18 of the 35),
    that is the sandbox world's true pattern. (A few days of a month can look like another pattern: the
    world draws its reshares at random.)"""
    got = {(f, m): p for f, m, p in published.execute(
        "SELECT family, reshare_month, pattern FROM marts.dim_account_family_monthly").fetchall()}
    window_days = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]
    days_in_window = Counter(day.replace(day=1) for day in window_days)
    assert set(got) == {(f.name, m) for f in FAMILIES for m in days_in_window}
    roles = _family_roles(env).values()
    called = set()
    for family in FAMILIES:
        has_executive = (family.name, "executive") in roles
        for month in days_in_window:
            mine = [r for r in wire_reshares if (r["family"], r["month"]) == (family.name, month)]
            assert got[family.name, month] == classify_by_hand(mine, has_executive), (family.name, month, len(mine))
        best_covered = max(days_in_window, key=days_in_window.get)
        assert got[family.name, best_covered] == true_pattern(family, best_covered), (family.name, best_covered)
        called.add(got[family.name, best_covered])
    assert len(called) >= 2  # the families are a pattern apart


def test_the_classification_is_stable_when_dbt_rebuilds_it(env, published, tmp_path):
    """Rebuilding the three marts from the same data gives the same rows (no order- or run-dependent choice)."""
    settings = env.settings
    before = published.execute("SELECT * FROM marts.dim_account_family_monthly ORDER BY family, reshare_month").fetchall()
    completed = subprocess.run(
        [str(DBT), "build", "--exclude-resource-type", "test", "unit_test", *dbt_cli_vars(), "--select", "fct_amplification+",
         "--project-dir", str(DBT_PROJECT), "--profiles-dir",
         str(DBT_PROJECT), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env={**os.environ, **dbt_environment(settings)}, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        after = con.execute("SELECT * FROM marts.dim_account_family_monthly ORDER BY family, reshare_month").fetchall()
        edges = con.execute("SELECT count(*), sum(reshares) FROM marts.fct_account_matrix_monthly").fetchone()
    assert after == before and before
    assert edges == published.execute("SELECT count(*), sum(reshares) FROM marts.fct_account_matrix_monthly").fetchone()
