"""The sandbox over real HTTP: wire shapes, paging, determinism, restatement, faults.

Every test talks to a started ``Sandbox`` on an ephemeral port with
``requests``; nothing touches the internet. A module-wide sandbox serves the
read-only tests; tests that change state (restatement, world caches for the
timing check) start their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import time
from collections import defaultdict
from http.client import HTTPConnection
from pathlib import Path

import pytest
import requests

from sandbox import Fault, Sandbox, World
from sandbox.world_common import is_target_business_day
from sandbox.world_meta_ads import scaled_meta_account_specs

TODAY = dt.date(2025, 6, 15)  # a Sunday; Easter 2025 was April 20
YESTERDAY = TODAY - dt.timedelta(days=1)
ALL_DIMS = ["date", "sessionSource", "sessionMedium", "sessionCampaignName", "landingPage"]
ALL_METRICS = ["sessions", "engagedSessions", "bounceRate", "keyEvents", "totalRevenue"]
INSIGHT_FIELDS = "account_id,campaign_id,campaign_name,spend,impressions,reach,clicks,actions,action_values"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed=7, today=TODAY) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def http():
    with requests.Session() as s:
        yield s


@pytest.fixture(autouse=True)
def _no_leftover_faults(sb):
    yield
    sb.clear_faults()


# ---------------------------------------------------------------- helpers
def meta(http, sb, path, *, token=True, **params):
    if token:
        params.setdefault("access_token", sb.token)
    return http.get(sb.base_urls()["meta_ads"] + path, params=params, timeout=10)


def insights(http, sb, account="act_1001", since="2025-05-01", until="2025-05-31", fields=INSIGHT_FIELDS, **extra):
    params = dict(level="campaign", time_increment="1", fields=fields,
                  time_range=json.dumps({"since": since, "until": until}),
                  action_attribution_windows='["7d_click","1d_view"]', limit=5000)
    params.update(extra)
    return meta(http, sb, f"/{account}/insights", **params)


def all_insights(http, sb, **kw):
    r = insights(http, sb, **kw)
    assert r.status_code == 200, r.text
    body = r.json()
    rows = body["data"]
    while "next" in body.get("paging", {}):
        body = http.get(body["paging"]["next"], timeout=10).json()
        rows += body["data"]
    return rows


def ga4(http, sb, *, dims=ALL_DIMS, metrics=ALL_METRICS, start="2025-05-01", end="2025-05-31", prop="123456",
        token=True, **extra):
    body = {"dateRanges": [{"startDate": start, "endDate": end}],
            "dimensions": [{"name": d} for d in dims], "metrics": [{"name": m} for m in metrics]}
    body.update(extra)
    headers = {"Authorization": f"Bearer {sb.token}"} if token else {}
    return http.post(f"{sb.base_urls()['ga4']}/properties/{prop}:runReport", json=body, headers=headers, timeout=10)


def fx(http, sb, key="D.USD+GBP.EUR.SP00.A", **params):
    params.setdefault("format", "csvdata")
    return http.get(f"{sb.base_urls()['fx']}/service/data/EXR/{key}", params=params, timeout=10)


def fx_rows(resp):
    return list(csv.DictReader(io.StringIO(resp.text)))


def actions_of(row, key="actions"):
    return {a["action_type"]: a["value"] for a in row.get(key, [])}


# ------------------------------------------------------------ basics / meta
def test_base_urls(sb):
    assert sb.url.startswith("http://127.0.0.1:")
    urls = sb.base_urls()
    assert {k: urls[k] for k in ("meta_ads", "ga4", "fx")} == {
        "meta_ads": f"{sb.url}/meta_ads/v21.0", "ga4": f"{sb.url}/ga4/v1beta", "fx": f"{sb.url}/fx"}
    assert all(url.startswith(f"{sb.url}/{name}") for name, url in urls.items())


def test_meta_account_node_and_usage_headers(http, sb):
    r = meta(http, sb, "/act_1001", fields="name,currency,timezone_name")
    assert r.status_code == 200
    assert r.json() == {"id": "act_1001", "name": "Northwind Outdoor US", "currency": "USD",
                        "timezone_name": "America/Los_Angeles"}
    buc = json.loads(r.headers["X-Business-Use-Case-Usage"])
    assert set(buc) == {"1001"}
    assert set(buc["1001"][0]) == {"type", "call_count", "total_cputime", "total_time",
                                   "estimated_time_to_regain_access"}
    assert buc["1001"][0]["estimated_time_to_regain_access"] == 0
    assert set(json.loads(r.headers["X-App-Usage"])) == {"call_count", "total_cputime", "total_time"}
    eu = meta(http, sb, "/act_1002", fields="account_id,currency,timezone_name").json()
    assert eu == {"id": "act_1002", "account_id": "1002", "currency": "EUR", "timezone_name": "Europe/Berlin"}
    # Any vNN.0 version segment works; others are unknown paths.
    assert http.get(f"{sb.url}/meta_ads/v19.0/act_1001", params={"access_token": sb.token}).status_code == 200
    assert http.get(f"{sb.url}/meta_ads/v19.1/act_1001", params={"access_token": sb.token}).status_code == 404


def test_meta_auth(http, sb):
    for r in (meta(http, sb, "/act_1001", token=False),
              meta(http, sb, "/act_1001", token=False, access_token="wrong")):
        assert r.status_code == 400
        err = r.json()["error"]
        assert (err["code"], err["error_subcode"], err["type"]) == (190, 460, "OAuthException")
        assert err["message"].startswith("Error validating access token: The session has been invalidated")
    ok = http.get(sb.base_urls()["meta_ads"] + "/act_1001", headers={"Authorization": f"Bearer {sb.token}"})
    assert ok.status_code == 200


def test_meta_unknown_account_and_paths(http, sb):
    r = insights(http, sb, account="act_999")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["message"] == ("Unsupported get request. Object with ID 'act_999' does not exist, cannot be loaded "
                              "due to missing permissions, or does not support this operation.")
    assert (err["type"], err["code"], err["error_subcode"]) == ("GraphMethodException", 100, 33)
    assert err["fbtrace_id"]
    r = meta(http, sb, "/act_1001/nope")
    assert r.status_code == 404 and "error" in r.json()
    r = http.get(f"{sb.url}/nosuchchannel/x")
    assert r.status_code == 404


def test_meta_campaigns(http, sb):
    fields = "id,name,objective,status,start_time,stop_time"
    camps = {a: meta(http, sb, f"/{a}/campaigns", fields=fields, limit=100).json()["data"]
             for a in ("act_1001", "act_1002")}
    assert 4 <= len(camps["act_1001"]) <= 5 and 4 <= len(camps["act_1002"]) <= 5
    every = camps["act_1001"] + camps["act_1002"]
    for c in every:
        assert len(c["id"]) == 18 and c["id"].isdigit()
        assert c["objective"] in {"OUTCOME_SALES", "OUTCOME_TRAFFIC", "OUTCOME_AWARENESS", "OUTCOME_LEADS"}
        assert c["status"] in {"ACTIVE", "PAUSED"}
        assert set(c) <= set(fields.split(","))
    assert any("stop_time" in c for c in every)
    assert {c["status"] for c in every} == {"ACTIVE", "PAUSED"}
    assert [c["id"] for c in every] == sorted(c["id"] for c in every)


def test_meta_ads_url_tags(http, sb):
    ads = []
    for a in ("act_1001", "act_1002"):
        ads += meta(http, sb, f"/{a}/ads", fields="id,name,campaign_id,creative{url_tags}", limit=100).json()["data"]
    untagged = {ad["campaign_id"] for ad in ads if "url_tags" not in ad["creative"]}
    assert len(untagged) == 1
    assert all("url_tags" not in ad["creative"] for ad in ads if ad["campaign_id"] in untagged)
    sources = defaultdict(int)
    for ad in ads:
        assert len(ad["id"]) == 18 and ad["creative"]["id"]
        if "url_tags" in ad["creative"]:
            tags = dict(p.split("=") for p in ad["creative"]["url_tags"].split("&"))
            assert tags["utm_medium"] == "paid_social" and tags["utm_campaign"]
            sources[tags["utm_source"]] += 1
    assert sources["instagram"] == 1 and sources["facebook"] >= 10
    per_campaign = defaultdict(int)
    for ad in ads:
        per_campaign[ad["campaign_id"]] += 1
    assert all(2 <= n <= 3 for n in per_campaign.values())


def test_insights_row_shape(http, sb):
    rows = all_insights(http, sb, fields=INSIGHT_FIELDS + ",cpc,ctr,cpm,account_name,account_currency")
    assert rows
    zero_purchase_days = 0
    for row in rows:
        assert row["date_start"] == row["date_stop"]
        for k in ("spend", "impressions", "reach", "clicks", "cpc", "ctr", "cpm"):
            assert isinstance(row[k], str)
        assert len(row["spend"].split(".")[1]) == 2
        impressions, reach, clicks = int(row["impressions"]), int(row["reach"]), int(row["clicks"])
        assert 1000 <= impressions <= 99999 and reach < impressions and 0.005 < clicks / impressions < 0.04
        acts = actions_of(row)
        assert int(acts["link_click"]) <= clicks and "landing_page_view" in acts
        if "purchase" in acts:
            assert acts["purchase"] == acts["omni_purchase"] == acts["offsite_conversion.fb_pixel_purchase"]
            vals = actions_of(row, "action_values")
            assert set(vals) == {"purchase", "omni_purchase"} and vals["purchase"] == vals["omni_purchase"]
        else:
            zero_purchase_days += 1
            assert "omni_purchase" not in acts and "action_values" not in row
        assert row["account_currency"] == "USD" and row["account_name"] == "Northwind Outdoor US"
    assert zero_purchase_days > 0
    keys = [(r["date_start"], r["campaign_id"]) for r in rows]
    assert keys == sorted(keys)
    # Only requested fields (+ the two dates) come back.
    slim = insights(http, sb, fields="spend").json()["data"][0]
    assert set(slim) == {"spend", "date_start", "date_stop"}


def test_insights_leads_and_flights(http, sb):
    camps = {c.name: c for c in sb.world.campaigns.values()}
    holiday = camps["Holiday Gift Guide"]
    rows = all_insights(http, sb, since=(holiday.start - dt.timedelta(days=5)).isoformat(),
                        until=(holiday.stop + dt.timedelta(days=5)).isoformat(), fields="campaign_id,actions")
    keys = [(r["date_start"], r["campaign_id"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # ordered across flight boundaries
    days = sorted(r["date_start"] for r in rows if r["campaign_id"] == holiday.id)
    assert days[0] == holiday.start.isoformat() and days[-1] == holiday.stop.isoformat()
    assert len(days) == (holiday.stop - holiday.start).days + 1
    leads = [r for r in rows if r["campaign_id"] == camps["Newsletter Signups"].id]
    assert any("lead" in actions_of(r) for r in leads)
    # Recent activity: every ACTIVE campaign delivers in the last 90 days.
    recent = all_insights(http, sb, account="act_1002", since=(TODAY - dt.timedelta(days=90)).isoformat(),
                          until=YESTERDAY.isoformat(), fields="campaign_id")
    assert {r["campaign_id"] for r in recent} == {c.id for c in camps.values()
                                                  if c.account_id == "act_1002" and c.status == "ACTIVE"}


def test_insights_no_data_for_today_or_later(http, sb):
    rows = all_insights(http, sb, since=(TODAY - dt.timedelta(days=3)).isoformat(),
                        until=(TODAY + dt.timedelta(days=10)).isoformat(), fields="spend")
    assert max(r["date_start"] for r in rows) == YESTERDAY.isoformat()
    r = insights(http, sb, since=TODAY.isoformat(), until=(TODAY + dt.timedelta(days=3)).isoformat())
    assert r.json() == {"data": []}


def test_insights_pagination(http, sb):
    full = insights(http, sb).json()
    assert "next" not in full["paging"] and set(full["paging"]["cursors"]) == {"before", "after"}
    r = insights(http, sb, limit=7)
    body = r.json()
    assert len(body["data"]) == 7
    nxt = body["paging"]["next"]
    assert nxt.startswith(sb.base_urls()["meta_ads"] + "/act_1001/insights?")
    assert f"access_token={sb.token}" in nxt and "after=" in nxt and "level=campaign" in nxt
    pages = [body]
    while "next" in body["paging"]:
        body = http.get(body["paging"]["next"], timeout=10).json()
        pages.append(body)
    assert all(len(p["data"]) == 7 for p in pages[:-1]) and 1 <= len(pages[-1]["data"]) <= 7
    assert "cursors" in pages[-1]["paging"] and "next" not in pages[-1]["paging"]
    assert [row for p in pages for row in p["data"]] == full["data"]
    # Default limit is 25; the before cursor walks back.
    default = insights(http, sb, limit=None).json()
    assert len(default["data"]) == 25
    second = http.get(default["paging"]["next"]).json()
    back = http.get(second["paging"]["previous"]).json()
    assert back["data"] == default["data"]
    # Bearer-authenticated paging works without a token in the URL.
    url = sb.base_urls()["meta_ads"] + "/act_1001/campaigns"
    c = http.get(url, params={"limit": 2}, headers={"Authorization": f"Bearer {sb.token}"}).json()
    assert "access_token" not in c["paging"]["next"]
    assert http.get(c["paging"]["next"], headers={"Authorization": f"Bearer {sb.token}"}).status_code == 200


def test_insights_errors(http, sb):
    def err(r):
        assert r.status_code == 400, r.text
        return r.json()["error"]

    old = (TODAY - dt.timedelta(days=37 * 31)).isoformat()
    e = err(insights(http, sb, since=old))
    assert e["code"] == 3018 and e["message"].startswith("(#3018) The start date of the time range cannot be beyond")
    assert err(insights(http, sb, time_range="nonsense"))["code"] == 100
    assert err(insights(http, sb, since="2025-05-10", until="2025-05-01"))["code"] == 100
    assert err(meta(http, sb, "/act_1001/insights", level="campaign", time_increment="1"))["code"] == 100
    e = err(insights(http, sb, fields="spend,bogus_metric"))
    assert e["code"] == 100 and e["message"].startswith("(#100) bogus_metric is not valid for fields param.")
    assert err(insights(http, sb, level="adset"))["code"] == 100
    assert err(insights(http, sb, after="!!not-a-cursor"))["code"] == 100


def test_meta_determinism_and_seed(http, sb):
    with Sandbox(seed=7, today=TODAY) as twin, Sandbox(seed=8, today=TODAY) as other:
        a = insights(http, sb, fields=INSIGHT_FIELDS).content
        b = insights(http, twin, fields=INSIGHT_FIELDS).content
        c = insights(http, other, fields=INSIGHT_FIELDS).content
        assert a == b.replace(twin.url.encode(), sb.url.encode())
        assert a != c.replace(other.url.encode(), sb.url.encode())
        assert ga4(http, sb).content == ga4(http, twin).content != ga4(http, other).content
        assert fx(http, sb).content == fx(http, twin).content != fx(http, other).content


def test_meta_restatement():
    with Sandbox(seed=7, today=TODAY) as own, requests.Session() as s:
        since = (TODAY - dt.timedelta(days=40)).isoformat()

        def pull():
            rows = all_insights(s, own, since=since, until=YESTERDAY.isoformat(),
                                fields="campaign_id,spend,impressions,clicks,actions,action_values")
            return {(r["date_start"], r["campaign_id"]): r for r in rows}

        before = pull()
        own.restate()
        after = pull()
        assert before.keys() == after.keys()
        moved = 0
        for key, b in before.items():
            a = after[key]
            age = (TODAY - dt.date.fromisoformat(key[0])).days
            assert (a["spend"], a["impressions"], a["clicks"]) == (b["spend"], b["impressions"], b["clicks"])
            pb, pa = int(actions_of(b).get("purchase", 0)), int(actions_of(a).get("purchase", 0))
            if age >= 28:
                assert a == b
            else:
                assert pa >= pb
                moved += pa > pb
        assert moved > 5
        # Exact formula against the world's final values.
        c = own.world.campaigns["120200000000010100"]
        for age in (1, 10, 27, 28):
            d = TODAY - dt.timedelta(days=age)
            final = own.world.campaign_day_final(c, d).purchases
            want = final - round(final * 0.4 * (28 - age) / 28 * 0.5**1) if age < 28 else final
            got = int(actions_of(after[(d.isoformat(), c.id)]).get("purchase", 0))
            assert got == want


# --------------------------------------------------------------------- GA4
def test_ga4_shape(http, sb):
    r = ga4(http, sb, returnPropertyQuota=True, limit=100000)
    assert r.status_code == 200
    body = r.json()
    assert body["dimensionHeaders"] == [{"name": d} for d in ALL_DIMS]
    assert body["metricHeaders"] == [
        {"name": "sessions", "type": "TYPE_INTEGER"}, {"name": "engagedSessions", "type": "TYPE_INTEGER"},
        {"name": "bounceRate", "type": "TYPE_FLOAT"}, {"name": "keyEvents", "type": "TYPE_FLOAT"},
        {"name": "totalRevenue", "type": "TYPE_CURRENCY"}]
    assert body["metadata"] == {"currencyCode": "USD", "timeZone": "America/Los_Angeles"}
    assert body["kind"] == "analyticsData#runReport"
    assert set(body["propertyQuota"]["tokensPerHour"]) == {"consumed", "remaining"}
    assert body["rowCount"] == len(body["rows"])
    dates = set()
    for row in body["rows"]:
        date, source, medium, campaign, lp = (v["value"] for v in row["dimensionValues"])
        sessions, engaged, bounce, key_events, revenue = (v["value"] for v in row["metricValues"])
        dates.add(date)
        assert len(date) == 8 and date.isdigit()
        assert int(sessions) > 0 and 0 <= int(engaged) <= int(sessions)
        assert len(bounce.split(".")[1]) == 4
        assert abs(float(bounce) - (1 - int(engaged) / int(sessions))) < 1e-4
        float(key_events), float(revenue)
    assert len(dates) == 31
    assert "propertyQuota" not in ga4(http, sb).json()


def test_ga4_aggregation_and_order(http, sb):
    fine = ga4(http, sb, limit=100000).json()
    by_source = defaultdict(lambda: [0, 0])
    for row in fine["rows"]:
        src = row["dimensionValues"][1]["value"]
        by_source[src][0] += int(row["metricValues"][0]["value"])
        by_source[src][1] += int(row["metricValues"][1]["value"])
    coarse = ga4(http, sb, dims=["sessionSource"], metrics=["bounceRate", "sessions", "engagedSessions"]).json()
    assert [h["name"] for h in coarse["metricHeaders"]] == ["bounceRate", "sessions", "engagedSessions"]
    assert coarse["rowCount"] == len(by_source)
    for row in coarse["rows"]:
        src = row["dimensionValues"][0]["value"]
        bounce, s, e = (v["value"] for v in row["metricValues"])
        assert [int(s), int(e)] == by_source[src]
        assert bounce == f"{1 - int(e) / int(s):.4f}"  # recomputed from sums, not averaged
    flipped = ga4(http, sb, dims=["landingPage", "date"], metrics=["sessions"]).json()
    assert [h["name"] for h in flipped["dimensionHeaders"]] == ["landingPage", "date"]
    assert flipped["rows"][0]["dimensionValues"][1]["value"].isdigit()
    total = ga4(http, sb, dims=[], metrics=["sessions"]).json()
    assert total["rowCount"] == 1 and "dimensionHeaders" not in total
    assert int(total["rows"][0]["metricValues"][0]["value"]) == sum(v[0] for v in by_source.values())


def test_ga4_paging(http, sb):
    full = ga4(http, sb, limit=100000).json()
    rows, offset = [], 0
    while True:
        page = ga4(http, sb, limit=100, offset=offset).json()
        assert page["rowCount"] == full["rowCount"]
        rows += page.get("rows", [])
        offset += 100
        if offset >= page["rowCount"]:
            break
    assert rows == full["rows"]
    beyond = ga4(http, sb, limit=10, offset=full["rowCount"] + 5).json()
    assert "rows" not in beyond and beyond["rowCount"] == full["rowCount"]
    assert len(ga4(http, sb, limit="5").json()["rows"]) == 5  # int64 as string, as proto3 JSON allows


def test_ga4_errors(http, sb):
    r = ga4(http, sb, prop="999")
    assert r.status_code == 403 and r.json()["error"]["status"] == "PERMISSION_DENIED"
    r = ga4(http, sb, metrics=["sessions", "conversions"])
    assert r.status_code == 400
    assert r.json() == {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": (
        "Field conversions is not a valid metric. For a list of valid dimensions and metrics, see "
        "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ")}}
    r = ga4(http, sb, token=False)
    assert r.status_code == 401 and r.json() == {"error": {
        "code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}
    assert ga4(http, sb, dims=["country"]).status_code == 400
    assert ga4(http, sb, start="2025-05-10", end="2025-05-01").status_code == 400
    assert ga4(http, sb, orderBys=[]).status_code == 400
    empty = ga4(http, sb, start=TODAY.isoformat(), end="2025-07-01")
    assert empty.status_code == 200 and "rows" not in empty.json()
    wrong_method = http.get(f"{sb.base_urls()['ga4']}/properties/123456:runReport",
                            headers={"Authorization": f"Bearer {sb.token}"})
    assert wrong_method.status_code == 404 and wrong_method.json()["error"]["status"] == "NOT_FOUND"


def test_ga4_coherent_with_meta(http, sb):
    start, end = "2025-05-01", "2025-05-14"
    clicks = defaultdict(int)
    purchases = defaultdict(int)
    slug = {c.id: c.ga4_campaign_name for c in sb.world.campaigns.values()}
    for acct in ("act_1001", "act_1002"):
        for row in all_insights(http, sb, account=acct, since=start, until=end, fields="campaign_id,actions"):
            acts = actions_of(row)
            key = (row["date_start"].replace("-", ""), slug[row["campaign_id"]])
            clicks[key] += int(acts.get("link_click", 0))
            purchases[key] += int(acts.get("purchase", 0))
    rows = ga4(http, sb, start=start, end=end, dims=["date", "sessionSource", "sessionMedium", "sessionCampaignName"],
               metrics=["sessions", "keyEvents"]).json()["rows"]
    sessions = defaultdict(int)
    sources = defaultdict(set)
    unpaid = defaultdict(set)
    for row in rows:
        date, src, medium, camp = (v["value"] for v in row["dimensionValues"])
        if medium == "paid_social" and src in ("facebook", "instagram"):
            sessions[(date, camp)] += int(row["metricValues"][0]["value"])
            sources[camp].add(src)
        elif medium != "paid_social":
            unpaid[date].add((src, medium))
    assert set(sessions) == {k for k, v in clicks.items() if v > 0}
    for key, n in sessions.items():
        assert 0.65 <= n / clicks[key] <= 0.95, key
    assert sources["trail_shoes_prospecting"] == {"facebook", "instagram"}
    assert "(not set)" in sources and all(s <= {"facebook", "instagram"} for s in sources.values())
    for date, pairs in unpaid.items():  # noqa: B007 - the loop walks the pairs; the name documents them
        assert {("google", "organic"), ("(direct)", "(none)"), ("newsletter", "email")} <= pairs
    assert len(unpaid) == 14


def test_ga4_sessions_from_tiktok_and_linkedin_clicks(http, sb):
    # Every TikTok / LinkedIn campaign-day with landing clicks brings paid-social
    # sessions under its utm source and campaign, the sources the dbt seed
    # ga4_source_channels maps to tiktok_ads and linkedin.
    from sandbox.world_linkedin import linkedin_world
    from sandbox.world_tiktok_ads import tiktok_world

    start, end = dt.date(2025, 5, 1), dt.date(2025, 5, 14)
    clicks = defaultdict(int)
    tiktok = tiktok_world(sb.world)
    for c in tiktok.campaigns.values():
        url = c.ads[0].landing_page_url
        if url and "utm_campaign=" in url:
            for day in (start + dt.timedelta(days=i) for i in range(14)):
                if c.active_on(day):
                    clicks[("tiktok", day.strftime("%Y%m%d"), c.slug)] += tiktok.day(c, day).clicks
    linkedin = linkedin_world(sb.world)
    for c in linkedin.campaigns.values():
        for day in (start + dt.timedelta(days=i) for i in range(14)):
            if (d := linkedin.campaign_day(c, day)) is not None:
                clicks[("linkedin", day.strftime("%Y%m%d"), c.slug)] += d["landingPageClicks"]
    rows = ga4(http, sb, start=start.isoformat(), end=end.isoformat(),
               dims=["date", "sessionSource", "sessionMedium", "sessionCampaignName"], metrics=["sessions"]).json()["rows"]
    sessions = {}
    for row in rows:
        date, src, medium, camp = (v["value"] for v in row["dimensionValues"])
        if src in ("tiktok", "linkedin"):
            assert medium == "paid_social"
            sessions[(src, date, camp)] = int(row["metricValues"][0]["value"])
    assert set(sessions) == {k for k, v in clicks.items() if v > 0}
    assert {k[0] for k in sessions} == {"tiktok", "linkedin"}
    for key, n in sessions.items():
        # About 80% of landing clicks become sessions (at least one).
        assert max(1, 0.7 * clicks[key] - 1) <= n <= 0.9 * clicks[key] + 1, key
    seed = (REPO / "dbt_project/seeds/ga4_source_channels.csv").read_text()
    assert "tiktok,paid_social,tiktok_ads" in seed and "linkedin,paid_social,linkedin" in seed


def test_follower_totals_are_yesterdays_plus_todays_changes(http, sb):
    # The snapshot day's total = yesterday's end-of-day total + today's gains -
    # losses of the world, so a back-cast from the snapshot is exact.
    from sandbox.world_instagram import instagram_world
    from sandbox.world_linkedin import linkedin_world
    from sandbox.world_youtube import YoutubeWorld

    urls = sb.base_urls()
    yt = YoutubeWorld(sb.world)
    body = http.get(sb.client_configs(sb.token)["youtube"]["data_api_base_url"] + "/channels",
                    params={"part": "statistics", "id": yt.channel_id},
                    headers={"Authorization": f"Bearer {sb.token}"}, timeout=30).json()
    stats = body["items"][0]["statistics"]
    assert isinstance(stats["subscriberCount"], str) and stats["hiddenSubscriberCount"] is False
    gained, lost = yt.subscriber_changes(TODAY)
    assert int(stats["subscriberCount"]) == yt.subscribers_on(YESTERDAY) + gained - lost
    # Summing the served daily changes back from an older total reaches it too.
    last = yt.last_analytics_day
    served = sum(d.subscribers_gained - lost for d, lost in (yt.channel_day(last - dt.timedelta(days=i)) for i in range(7)))
    assert yt.subscribers_on(last) - served == yt.subscribers_on(last - dt.timedelta(days=7))

    ig = instagram_world(sb.world)
    user = next(iter(ig.accounts))
    node = http.get(f"{urls['instagram']}/{user}", params={"fields": "followers_count,follows_count,media_count"},
                    headers={"Authorization": f"Bearer {sb.token}"}, timeout=30).json()
    assert set(node) == {"id", "followers_count", "follows_count", "media_count"}
    today = ig.day(user, TODAY.toordinal())
    assert node["followers_count"] == ig.day(user, YESTERDAY.toordinal()).followers + today.gained - today.lost

    li = linkedin_world(sb.world)
    total = http.get(f"{urls['linkedin']}/networkSizes/urn:li:organization:{li.organization_id}",
                     params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
                     headers={"Authorization": f"Bearer {sb.token}", "X-Restli-Protocol-Version": "2.0.0",
                              "LinkedIn-Version": sb.client_configs(sb.token)["linkedin"]["linkedin_version"]},
                     timeout=30).json()["firstDegreeSize"]
    day = li.page_day(TODAY)
    assert total == li._followers_before(TODAY.toordinal()) + day["organic_gain"] + day["paid_gain"]


def test_a_snapshot_total_back_casts_exactly_from_a_later_world():
    # A total pulled today equals the total pulled three days later minus the
    # net changes of the three days after today, as that later world serves
    # them: nightly runs can back-cast an older snapshot exactly.
    from sandbox.world_linkedin import LinkedinWorld
    from sandbox.world_youtube import YoutubeWorld

    later_day = TODAY + dt.timedelta(days=3)
    days_after = [TODAY + dt.timedelta(days=i) for i in (1, 2, 3)]
    then, later = LinkedinWorld(World(seed=7, today=TODAY)), LinkedinWorld(World(seed=7, today=later_day))
    assert later.page_day(TODAY) == then.page_day(TODAY)
    net = lambda day: later.page_day(day)["organic_gain"] + later.page_day(day)["paid_gain"]  # noqa: E731
    assert then.total_followers() == later.total_followers() - sum(net(day) for day in days_after)
    then, later = YoutubeWorld(World(seed=7, today=TODAY)), YoutubeWorld(World(seed=7, today=later_day))
    changes = [later.subscriber_changes(day) for day in days_after]
    assert then.subscribers_on(TODAY) == later.subscribers_on(later_day) - sum(g - lost for g, lost in changes)


def test_wechat_article_total_is_keyed_by_send_day(http, sb):
    from sandbox.world_wechat import wechat_world

    wx = wechat_world(sb.world)
    sent = next(YESTERDAY - dt.timedelta(days=i) for i in range(3, 10) if wx.articles_sent(YESTERDAY - dt.timedelta(days=i)))
    url = sb.base_urls()["wechat"]
    token = http.get(f"{url}/cgi-bin/token", params={"grant_type": "client_credential", "appid": wx.appid,
                                                      "secret": sb.token}, timeout=10).json()["access_token"]
    body = http.post(f"{url}/datacube/getarticletotal", params={"access_token": token},
                     json={"begin_date": sent.isoformat(), "end_date": sent.isoformat()}, timeout=10).json()
    assert [a["msgid"] for a in body["list"]] == [a.msgid for a in wx.articles_sent(sent)]
    for article in body["list"]:
        assert article["ref_date"] == sent.isoformat()
        assert article["details"][0]["stat_date"] == sent.isoformat()
        assert all(d["target_user"] == wx.cumulate(sent) for d in article["details"])
        assert max(d["stat_date"] for d in article["details"]) <= YESTERDAY.isoformat()


def test_ga4_restatement():
    with Sandbox(seed=7, today=TODAY) as own, requests.Session() as s:
        def daily():
            rows = ga4(s, own, dims=["date"], metrics=["sessions"], start="2025-06-01", end="2025-06-14").json()["rows"]
            return {r["dimensionValues"][0]["value"]: int(r["metricValues"][0]["value"]) for r in rows}

        before = daily()
        requests.post(f"{own.url}/_sandbox/restate", timeout=5).raise_for_status()
        after = daily()
        for date, n in before.items():
            age = (TODAY - dt.datetime.strptime(date, "%Y%m%d").date()).days
            assert (after[date] > n) if age < 3 else (after[date] == n), date


# ---------------------------------------------------------------------- FX
def test_fx_csv(http, sb):
    r = fx(http, sb, key="D.USD+GBP+JPY.EUR.SP00.A", startPeriod="2025-04-14", endPeriod="2025-05-06")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    header = r.text.splitlines()[0].split(",")
    assert header[:8] == ["KEY", "FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX", "TIME_PERIOD",
                          "OBS_VALUE"] and len(header) == 32 and header[-1] == "UNIT_MULT"
    rows = fx_rows(r)
    assert [row["CURRENCY"] for row in rows] == sorted(row["CURRENCY"] for row in rows)
    days = [row["TIME_PERIOD"] for row in rows if row["CURRENCY"] == "USD"]
    assert days == sorted(days)
    # Good Friday 18 Apr, Easter Monday 21 Apr, 1 May and weekends are missing.
    for missing in ("2025-04-18", "2025-04-19", "2025-04-20", "2025-04-21", "2025-05-01", "2025-05-03"):
        assert missing not in days
    assert "2025-04-17" in days and "2025-04-22" in days
    first = rows[0]
    assert first["KEY"] == "EXR.D.GBP.EUR.SP00.A" and first["FREQ"] == "D" and first["CURRENCY_DENOM"] == "EUR"
    assert (first["EXR_TYPE"], first["EXR_SUFFIX"], first["OBS_STATUS"]) == ("SP00", "A", "A")
    for row in rows:
        value = row["OBS_VALUE"]
        level = {"USD": 1.08, "GBP": 0.85, "JPY": 160}[row["CURRENCY"]]
        assert 0.8 * level < float(value) < 1.2 * level
        assert len(value.split(".")[1]) == (2 if row["CURRENCY"] == "JPY" else 4)


def test_fx_history_and_404(http, sb):
    rows = fx_rows(fx(http, sb, key="D.CHF.EUR.SP00.A"))
    dates = [dt.date.fromisoformat(r["TIME_PERIOD"]) for r in rows]
    assert dates[-1] <= YESTERDAY and (dates[-1] - dates[0]).days > 365 * 3
    assert all(is_target_business_day(d) for d in dates)
    assert not any(d.month == 12 and d.day in (25, 26) or (d.month, d.day) in ((1, 1), (5, 1)) for d in dates)
    r = fx(http, sb, key="D.XXX.EUR.SP00.A")
    assert r.status_code == 404 and r.text == "No results found."
    r = fx(http, sb, startPeriod="2025-05-03", endPeriod="2025-05-04")  # a weekend
    assert r.status_code == 404 and r.text == "No results found."
    r = fx(http, sb, startPeriod=TODAY.isoformat())
    assert r.status_code == 404
    mixed = fx_rows(fx(http, sb, key="D.USD+XXX.EUR.SP00.A", startPeriod="2025-05-05", endPeriod="2025-05-09"))
    assert {row["CURRENCY"] for row in mixed} == {"USD"} and len(mixed) == 5


# ------------------------------------------------------------------ faults
def test_fault_throttle(http, sb):
    sb.inject(Fault("meta_ads", "throttle", params={"minutes": 3, "retry_after": 7}))
    r = insights(http, sb)
    assert r.status_code == 400 and r.headers["Retry-After"] == "7"
    err = r.json()["error"]
    assert (err["code"], err["error_subcode"], err["type"]) == (80004, 2446079, "OAuthException")
    assert err["message"].startswith("(#80004) There have been too many calls to this ad-account.")
    usage = json.loads(r.headers["X-Business-Use-Case-Usage"])["1001"][0]
    assert usage["estimated_time_to_regain_access"] == 3
    assert insights(http, sb).status_code == 200  # times=1: disarmed

    sb.inject(Fault("ga4", "throttle"), Fault("fx", "throttle", params={"retry_after": 1}))
    r = ga4(http, sb)
    assert r.status_code == 429 and r.json() == {"error": {
        "code": 429, "message": "Exhausted property tokens per hour.", "status": "RESOURCE_EXHAUSTED"}}
    assert "Retry-After" not in r.headers
    r = fx(http, sb)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.headers["Content-Type"].startswith("text/plain")


def test_fault_server_error(http, sb):
    sb.inject(Fault("*", "server_error", times=3), Fault("ga4", "server_error", params={"status": 500}))
    r = insights(http, sb)
    assert r.status_code == 503
    err = r.json()["error"]
    assert (err["code"], err["is_transient"], err["type"]) == (2, True, "OAuthException")
    assert err["message"] == "An unexpected error has occurred. Please retry your request later."
    r = ga4(http, sb)
    assert r.status_code == 503 and r.json()["error"]["status"] == "UNAVAILABLE"
    r = fx(http, sb)
    assert r.status_code == 503 and r.text == "Service Unavailable"
    r = ga4(http, sb)  # the wildcard fault is spent; the ga4 one is next in line
    assert r.status_code == 500 and r.json()["error"]["status"] == "INTERNAL"
    assert ga4(http, sb).status_code == 200


def test_fault_stall(http, sb):
    sb.inject(Fault("ga4", "stall", params={"seconds": 1.0}))
    t0 = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        http.post(f"{sb.base_urls()['ga4']}/properties/123456:runReport", timeout=0.3,
                  headers={"Authorization": f"Bearer {sb.token}"},
                  json={"dateRanges": [{"startDate": "2025-05-01", "endDate": "2025-05-01"}],
                        "metrics": [{"name": "sessions"}]})
    assert time.monotonic() - t0 < 0.9
    assert ga4(http, sb).status_code == 200


def test_fault_expired_token(http, sb):
    sb.inject(Fault("meta_ads", "expired_token"), Fault("ga4", "expired_token"), Fault("fx", "expired_token"))
    err = insights(http, sb).json()["error"]
    assert (err["code"], err["error_subcode"], err["type"]) == (190, 463, "OAuthException")
    assert err["message"].startswith("Error validating access token: Session has expired on ")
    r = ga4(http, sb)
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    assert fx(http, sb).status_code == 200  # FX has no auth: the fault never matches


def test_fault_truncated(http, sb):
    normal = insights(http, sb, fields="spend", limit=10)
    sb.inject(Fault("meta_ads", "truncated", path_contains="/insights"))
    r = insights(http, sb, fields="spend", limit=10)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == len(r.content) == len(normal.content) // 2
    assert normal.content.startswith(r.content)
    with pytest.raises(ValueError):
        r.json()


def test_fault_repeat_cursor(http, sb):
    first = insights(http, sb, limit=5).json()
    sb.inject(Fault("meta_ads", "repeat_cursor", times=2, path_contains="/insights"))
    page = insights(http, sb, limit=5).json()
    assert page["data"] == first["data"]
    again = http.get(page["paging"]["next"]).json()
    assert again["data"] == first["data"]  # a naive client loops here
    assert again["paging"]["cursors"]["after"] == page["paging"]["cursors"]["after"]
    healed = http.get(again["paging"]["next"]).json()
    assert healed["data"] == first["data"] and healed["paging"]["next"] == first["paging"]["next"]
    # Non-paged requests do not consume the fault.
    sb.inject(Fault("meta_ads", "repeat_cursor"))
    meta(http, sb, "/act_1001", fields="name")
    assert insights(http, sb, limit=5).json()["paging"]["cursors"]["after"] != first["paging"]["cursors"]["after"]


def test_fault_remove_metric(http, sb):
    sb.inject(Fault("meta_ads", "remove_metric", times=-1, params={"metric": "reach"}),
              Fault("ga4", "remove_metric", times=-1, params={"metric": "engagedSessions"}))
    for _ in range(2):
        r = insights(http, sb, fields="campaign_id,reach,spend")
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["code"] == 100 and err["message"] == (
            "(#100) reach is not valid for fields param. please check "
            "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values")
    assert insights(http, sb, fields="campaign_id,spend").status_code == 200
    r = ga4(http, sb)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith(
        "Field engagedSessions is not a valid metric.")
    assert ga4(http, sb, metrics=["sessions"]).status_code == 200


def test_fault_bad_data(http, sb):
    sb.inject(Fault("meta_ads", "bad_data", times=-1, params={"field": "spend", "value": "-5.00"}),
              Fault("meta_ads", "bad_data", times=-1, params={"field": "clicks", "value": "99999999"}),
              Fault("meta_ads", "bad_data", times=-1, params={"field": "actions.purchase", "value": "12345"}),
              Fault("ga4", "bad_data", params={"field": "sessions", "value": "-1"}),
              Fault("fx", "bad_data", params={"field": "OBS_VALUE", "value": ""}))
    rows = insights(http, sb).json()["data"]
    assert all(r["spend"] == "-5.00" and int(r["clicks"]) > int(r["impressions"]) for r in rows)
    assert any(actions_of(r).get("purchase") == "12345" for r in rows)
    assert all(r["metricValues"][0]["value"] == "-1" for r in ga4(http, sb).json()["rows"])
    assert {r["OBS_VALUE"] for r in fx_rows(fx(http, sb))} == {""}
    assert fx_rows(fx(http, sb))[0]["OBS_VALUE"] != ""


def test_fault_counting_after_times_and_path(http, sb):
    sb.inject(Fault("meta_ads", "server_error", times=2, after=2, path_contains="/campaigns"))
    statuses = []
    for _ in range(5):
        meta(http, sb, "/act_1001", fields="name")  # does not match: never counted
        statuses.append(meta(http, sb, "/act_1001/campaigns").status_code)
    assert statuses == [200, 200, 503, 503, 200]
    # Injection order: the first matching terminal fault wins.
    sb.inject(Fault("fx", "server_error", params={"status": 502}), Fault("fx", "throttle"))
    assert [fx(http, sb).status_code for _ in range(3)] == [502, 429, 200]
    # forever
    sb.inject(Fault("fx", "throttle", times=-1))
    assert [fx(http, sb).status_code for _ in range(4)] == [429] * 4
    sb.clear_faults()
    assert fx(http, sb).status_code == 200


def test_fault_validation(sb):
    with pytest.raises(ValueError):
        Fault("meta_ads", "meteor_strike")
    with pytest.raises(ValueError):
        Fault("meta_ads", "remove_metric")
    with pytest.raises(ValueError):
        sb.inject(Fault("myspace", "throttle"))


def test_control_endpoints_and_stats(http, sb):
    base = sb.stats()
    r = http.post(f"{sb.url}/_sandbox/faults", json={"faults": [
        {"channel": "fx", "kind": "throttle", "times": 1},
        {"channel": "ga4", "kind": "stall", "params": {"seconds": 0}}]})
    assert r.status_code == 200 and r.json() == {"armed": 2}
    assert len(http.get(f"{sb.url}/_sandbox/faults").json()["faults"]) == 2
    assert fx(http, sb).status_code == 429
    assert http.delete(f"{sb.url}/_sandbox/faults").json() == {"armed": 0}
    assert fx(http, sb).status_code == 200
    bad = http.post(f"{sb.url}/_sandbox/faults", json={"faults": [{"channel": "fx", "kind": "nope"}]})
    assert bad.status_code == 400
    stats = http.get(f"{sb.url}/_sandbox/stats").json()
    assert stats == sb.stats()
    assert set(stats) == {"requests", "by_channel", "faults_fired", "rows_served"}
    assert stats["requests"] == base["requests"] + 2 and stats["by_channel"]["fx"] == base["by_channel"]["fx"] + 2
    assert stats["faults_fired"] == base["faults_fired"] + 1
    assert stats["rows_served"]["fx"] > base["rows_served"]["fx"]


# ------------------------------------------------------------- transport
def test_keep_alive_and_content_length(sb):
    conn = HTTPConnection("127.0.0.1", sb.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", f"/meta_ads/v21.0/act_1001?fields=name&access_token={sb.token}")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.version == 11 and resp.status == 200
            assert int(resp.headers["Content-Length"]) == len(body)
            assert not resp.will_close
    finally:
        conn.close()


def test_a_cold_90_day_pull_serves_every_row():
    """A 90-day pull of both Meta accounts plus GA4 from a fresh sandbox (cold
    caches). How fast the sandbox serves is a benchmark, not a test: the
    "sandbox serving (no parsing)" row of `make bench` (bench/ingest.py)."""
    with Sandbox(seed=11, today=TODAY) as fresh, requests.Session() as s:
        since = (TODAY - dt.timedelta(days=90)).isoformat()
        n = 0
        for acct in ("act_1001", "act_1002"):
            n += len(all_insights(s, fresh, account=acct, since=since, until=YESTERDAY.isoformat(), limit=500))
        rows = ga4(s, fresh, start=since, end=YESTERDAY.isoformat(), limit=100000).json()["rows"]
        assert n > 700 and len(rows) > 1500


def test_world_is_lazy_and_stable_across_today():
    # Moving "today" forward keeps settled days identical (values key on the date).
    a, b = World(7, TODAY), World(7, TODAY + dt.timedelta(days=40))
    c = a.campaigns["120200000000010100"]
    d = TODAY - dt.timedelta(days=100)
    assert a.campaign_day(c, d) == b.campaign_day(c, d)
    assert a.ga4_day(a.ga4_properties["123456"], d) == b.ga4_day(b.ga4_properties["123456"], d)
    assert a.fx_rate("USD", d) == b.fx_rate("USD", d)


def test_scaled_world_swap():
    """Benchmarks swap in a bigger world; the server reads Sandbox.world per request."""
    with Sandbox(seed=7, today=TODAY) as own, requests.Session() as s:
        own.world = World(7, TODAY, meta_account_specs=scaled_meta_account_specs(5))
        assert sorted(own.world.meta_accounts) == [f"act_{1001 + i}" for i in range(5)]
        node = meta(s, own, "/act_1005", fields="name,currency").json()
        assert node == {"id": "act_1005", "name": "Northwind Outdoor US #5", "currency": "USD"}
        assert len(all_insights(s, own, account="act_1004", since="2025-06-01", until="2025-06-07")) == 7 * 4


def test_main_entry_point():
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--today", "2025-06-15"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = first.split()[3]
        # One line per channel, then the token and control lines.
        lines = [proc.stdout.readline() for _ in range(len(Sandbox().base_urls()) + 2)]
        assert any("meta_ads" in line and "/meta_ads/v21.0" in line for line in lines)
        assert any("sandbox-token" in line for line in lines)
        r = requests.get(f"{url}/fx/service/data/EXR/D.USD.EUR.SP00.A", params={"startPeriod": "2025-06-02",
                                                                                 "endPeriod": "2025-06-06"})
        assert r.status_code == 200 and len(fx_rows(r)) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)
