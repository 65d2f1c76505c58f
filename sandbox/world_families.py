"""The sandbox world's account families and their true reshare pattern, month by month.

Contract
--------
* Two families, each one brand's accounts on one channel: ``northwind_global``
  (the X accounts of world_x) and ``northwind_china`` (the Weibo matrix of
  world_weibo). Every account has a role: core, sub_brand, regional or
  executive (the roles of socialmart.yaml's ``families:`` key).
* Each calendar month (of the reshare's own day: UTC on X, China time on
  Weibo) a family follows exactly one pattern, cycling hub -> dandelion ->
  twin_star; the two families are one step apart, so any two consecutive
  months show different patterns per family and any three show all three.
  ``true_pattern`` is the answer the marts' classification must find.
* ``reshare_plan`` says, for an account of a role in a month of a pattern, how
  likely a post is a reshare and whose posts it reshares (in preference
  order). The world modules draw from it; this module draws nothing.

The patterns (how social media strategists describe a brand's account matrix):
* hub (放射式): sub-brands, regionals and the executive reshare the core one hop
  out and never each other; the core now and then reshares a sub-brand.
* dandelion (蒲公英式): sub-brands and regionals are hubs of their own: they
  reshare each other (six reshares in seven) and the core less; the core
  reshares them often; the executive reshares the core.
* twin_star (双子星): the executive posts three times as often and carries as
  much as the core: core and executive reshare each other, and the other
  accounts reshare both alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PATTERNS = ("hub", "dandelion", "twin_star")
SPOKES = ("sub_brand", "regional")


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    channel: str
    phase: int  # which pattern the family follows in January 1970 (month 0)


FAMILIES = (Family("northwind_global", "x", 0), Family("northwind_china", "weibo", 1))


def true_pattern(family: Family, day: dt.date) -> str:
    """The pattern a family follows in the calendar month of `day`."""
    months = (day.year - 1970) * 12 + day.month - 1
    return PATTERNS[(months + family.phase) % len(PATTERNS)]


def family_of(channel: str) -> Family:
    return next(f for f in FAMILIES if f.channel == channel)


@dataclass(frozen=True, slots=True)
class ResharePlan:
    share: float  # probability that a post is a reshare (repost or quote)
    targets: tuple[tuple[str, ...], ...]  # groups of roles to reshare, each with its weight below
    weights: tuple[float, ...]
    posting: float = 1.0  # factor on the account's posts per day


NO_RESHARES = ResharePlan(0.0, (), ())


def reshare_plan(pattern: str, role: str) -> ResharePlan:
    if pattern == "hub":
        if role == "core":
            return ResharePlan(0.08, (("sub_brand",),), (1.0,))
        return ResharePlan(0.50, (("core",),), (1.0,))
    if pattern == "dandelion":
        if role == "core":
            return ResharePlan(0.40, (SPOKES,), (1.0,))
        if role == "executive":
            return ResharePlan(0.40, (("core",),), (1.0,))
        return ResharePlan(0.55, (SPOKES, ("core",)), (0.85, 0.15))
    if pattern == "twin_star":
        if role == "core":
            return ResharePlan(0.40, (("executive",),), (1.0,))
        if role == "executive":
            return ResharePlan(0.40, (("core",),), (1.0,), posting=3.0)
        return ResharePlan(0.50, (("core",), ("executive",)), (0.5, 0.5))
    raise ValueError(pattern)


def pick_group(plan: ResharePlan, u: float) -> tuple[str, ...]:
    """The role group a reshare targets, drawn with the plan's weights."""
    cumulative = 0.0
    for group, weight in zip(plan.targets, plan.weights, strict=True):
        cumulative += weight
        if u < cumulative:
            return group
    return plan.targets[-1]


def families_config(accounts_by_channel: dict[str, list[tuple[str, str]]]) -> dict[str, dict]:
    """socialmart.yaml's `families:` entry for the sandbox: {family: {accounts: {channel: {account: role}}}}."""
    return {f.name: {"accounts": {f.channel: dict(accounts_by_channel[f.channel])}} for f in FAMILIES}
