"""The sandbox at benchmark scale: scaled worlds stay coherent, any page is
computed on its own (no walk through the rows before it), and the pages the
vectorised renderer writes are exactly the JSON orjson writes, numbers
formatted exactly as Python formats them."""

from __future__ import annotations

import base64
import datetime as dt
import json

import numpy as np
import orjson
import pytest
import requests

from sandbox import Sandbox, World, render
from sandbox.world import scaled_world_specs

TODAY = dt.date(2025, 6, 15)
FIELDS = "account_id,account_name,campaign_id,campaign_name,spend,impressions,reach,clicks,cpc,ctr,cpm,actions,action_values"


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed=7, today=TODAY) as sandbox:
        sandbox.world = World(7, TODAY, **scaled_world_specs(12, accounts_per_property=5))
        yield sandbox


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def insights(http, sb, account, **params):
    query = dict(level="campaign", time_increment="1", fields=FIELDS, limit=500, access_token=sb.token,
                 time_range=json.dumps({"since": "2022-06-01", "until": "2025-06-14"}), **params)
    response = http.get(f"{sb.base_urls()['meta_ads']}/{account}/insights", params=query, timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_scaled_world_links_each_property_to_its_own_accounts():
    world = World(7, TODAY, **scaled_world_specs(12, accounts_per_property=5))
    assert [len(p.meta_accounts) for p in world.ga4_properties.values()] == [5, 5, 2]
    assert list(world.ga4_properties)[0] == "123456"  # the default property stays first
    slugs = [c.slug for c in world.campaigns.values()]
    assert len(slugs) == len(set(slugs))  # clones carry their own utm_campaign
    second = list(world.ga4_properties.values())[1]
    paid = world.ga4_rows(second, dt.date(2025, 5, 1), dt.date(2025, 5, 7)).to_pylist()
    own = {world.campaigns[c.id].ga4_campaign_name for a in second.meta_accounts for c in world.meta_accounts[a].campaigns}
    assert {r["sessionCampaignName"] for r in paid if r["sessionMedium"] == "paid_social"} <= own


def test_any_page_is_computed_without_the_rows_before_it(http, sb):
    walked, body = [], insights(http, sb, "act_1007").json()
    walked += body["data"]
    while "next" in body["paging"]:
        body = http.get(body["paging"]["next"], timeout=30).json()
        walked += body["data"]
    assert len(walked) > 3000
    # Jump straight to row 3000 with a cursor: the same rows as the walk.
    after = base64.b64encode(b"sandbox:2999").decode().rstrip("=")
    jumped = insights(http, sb, "act_1007", after=after).json()["data"]
    assert jumped == walked[3000:3500]


def test_rendered_pages_are_exactly_orjson(http, sb):
    page = insights(http, sb, "act_1003").content
    assert page == orjson.dumps(orjson.loads(page))
    body = {"dateRanges": [{"startDate": "2025-01-01", "endDate": "2025-06-14"}],
            "dimensions": [{"name": d} for d in ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "landingPage")],
            "metrics": [{"name": m} for m in ("sessions", "engagedSessions", "bounceRate", "keyEvents", "totalRevenue")],
            "limit": 100000}
    report = http.post(f"{sb.base_urls()['ga4']}/properties/123457:runReport", json=body,
                       headers={"Authorization": f"Bearer {sb.token}"}, timeout=30)
    assert report.status_code == 200 and report.json()["rowCount"] > 1000
    assert report.content == orjson.dumps(orjson.loads(report.content))


@pytest.mark.parametrize("decimals", [2, 4, 6])
def test_fixed_point_text_is_pythons_own(decimals):
    # Random values, and values on and around the halves where rounding ties.
    rng = np.random.default_rng(7)
    halves = (np.arange(20_000) + 0.5) / 10**decimals
    values = np.concatenate([rng.uniform(0, 5_000, 20_000), halves, np.nextafter(halves, 0), np.nextafter(halves, 1),
                             [0.0, 1.0, 1e-12, 123456.789]])
    assert render.fixed(values, decimals).to_pylist() == [f"{x:.{decimals}f}" for x in values]
    cents = rng.integers(0, 10**9, 5_000)
    assert render.cents(cents).to_pylist() == [f"{c / 100:.2f}" for c in cents]
