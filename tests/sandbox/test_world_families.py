"""The sandbox's account families: who reshares whom follows each month's true pattern."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from sandbox.world import World
from sandbox.world_families import FAMILIES, PATTERNS, true_pattern
from sandbox.world_weibo import weibo_world
from sandbox.world_x import x_world

TODAY = dt.date(2026, 12, 5)


def month_days(first: dt.date) -> list[dt.date]:
    days, day = [], first
    while day.month == first.month:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def role_pairs(channel: str, first: dt.date) -> collections.Counter:
    """(resharer role, original author role) -> reshares, over one month of the world."""
    world = World(7, TODAY)
    pairs = collections.Counter()
    if channel == "x":
        xw = x_world(world)
        for day in month_days(first):
            for account in xw.accounts.values():
                for post in xw.posts_on(account.id, day):
                    if post.kind in ("retweeted", "quoted"):
                        pairs[account.role, xw.accounts[post.referenced_author_id].role] += 1
    else:
        ww = weibo_world(world)
        for day in month_days(first):
            for account in ww.accounts.values():
                for status in ww.statuses_on(account.uid, day):
                    if status.original_id:
                        pairs[account.role, ww.accounts[ww.status(status.original_id).uid].role] += 1
    return pairs


def test_the_patterns_cycle_month_by_month_and_the_families_differ():
    months = [dt.date(2026, m, 1) for m in (8, 9, 10, 11)]
    for family in FAMILIES:
        seen = [true_pattern(family, m) for m in months]
        assert all(a != b for a, b in zip(seen, seen[1:], strict=False)) and set(seen[:3]) == set(PATTERNS)
    assert all(true_pattern(FAMILIES[0], m) != true_pattern(FAMILIES[1], m) for m in months)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("first", [dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)], ids=str)
def test_who_reshares_whom_follows_the_months_pattern(family, first):
    pairs = role_pairs(family.channel, first)
    total = sum(pairs.values())
    spokes = ("sub_brand", "regional")
    peer = sum(n for (a, b), n in pairs.items() if a in spokes and b in spokes)
    to_core = sum(n for (_, b), n in pairs.items() if b == "core")
    pattern = true_pattern(family, first)
    assert total > 60, pairs
    if pattern == "hub":
        assert peer == 0 and to_core / total > 0.85 and pairs["core", "executive"] == 0
    elif pattern == "dandelion":
        assert peer / total > 0.35 and to_core / total < 0.35 and pairs["core", "sub_brand"] + pairs["core", "regional"] > 10
    else:
        assert peer == 0 and pairs["core", "executive"] > 10 and pairs["executive", "core"] > 10
        assert sum(n for (_, b), n in pairs.items() if b == "executive") > 0.3 * total
