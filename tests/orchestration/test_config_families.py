"""socialmart.yaml `families:`: a brand's accounts by channel with a role, and the pattern thresholds.

Every mistake is refused before any API call, naming the key and what is wrong.
"""

from __future__ import annotations

import duckdb
import pytest
import yaml

from orchestration.config import FAMILY_THRESHOLDS, ConfigError, Family, FamilyAccount, parse_settings
from orchestration.families import write_families

CHANNELS = {
    "x": {"bearer_token": "${TEST_X_TOKEN}", "accounts": ["3180223118", "1188402716553736192", "1522017755368435713"]},
    "weibo": {"access_token": "${TEST_WEIBO_TOKEN}", "accounts": ["5612030001", "2381190005"]},
}
FAMILIES = """
northwind:
  accounts:
    x: {"3180223118": core, "1188402716553736192": executive, "1522017755368435713": regional}
    weibo: {"5612030001": core, "2381190005": executive}
  thresholds: {hub_min_core_share: 0.7, min_reshares: 5}
"""


@pytest.fixture(autouse=True)
def tokens(monkeypatch):
    monkeypatch.setenv("TEST_X_TOKEN", "x-secret")
    monkeypatch.setenv("TEST_WEIBO_TOKEN", "weibo-secret")


def settings(families):
    raw = {"channels": CHANNELS, "families": yaml.safe_load(families) if isinstance(families, str) else families}
    return parse_settings(raw, None)


def refused(families) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        settings(families)
    return caught.value


def test_a_family_spans_channels_with_a_role_per_account_and_its_own_thresholds():
    family = settings(FAMILIES).families["northwind"]
    assert FamilyAccount("x", "1188402716553736192", "executive") in family.accounts
    assert FamilyAccount("weibo", "5612030001", "core") in family.accounts and len(family.accounts) == 5
    assert family.thresholds == {**FAMILY_THRESHOLDS, "hub_min_core_share": 0.7, "min_reshares": 5}


def test_no_families_is_fine():
    assert settings({}).families == {}


@pytest.mark.parametrize("families, key, words", [
    ("[northwind]", "families", "must be a mapping"),
    ("{Northwind: {accounts: {x: {'3180223118': core}}}}", "families.Northwind", "lower-case"),
    ("{northwind: {}}", "families.northwind.accounts", "is required"),
    ("{northwind: {accounts: {x: {'3180223118': core}}, colour: red}}", "families.northwind.colour", "unknown key"),
    ("{northwind: {accounts: {tiktok_ads: {'1': core}}}}", "families.northwind.accounts.tiktok_ads", "not configured"),
    ("{northwind: {accounts: {x: {'99': core}}}}", "families.northwind.accounts.x.99", "not one of channels.x.accounts"),
    ("{northwind: {accounts: {x: {'@northwind': core}}}}", "families.northwind.accounts.x.@northwind", "not an X user id"),
    ("{northwind: {accounts: {x: {'3180223118': ceo}}}}", "families.northwind.accounts.x.3180223118", "role must be one of"),
    ("{northwind: {accounts: {x: {'1188402716553736192': executive}}}}", "families.northwind.accounts", "no account has the role core"),
    ("{northwind: {accounts: {x: {'3180223118': core}}, thresholds: {hub_share: 0.5}}}",
     "families.northwind.thresholds.hub_share", "unknown key"),
    ("{northwind: {accounts: {x: {'3180223118': core}}, thresholds: {hub_min_core_share: 1.5}}}",
     "families.northwind.thresholds.hub_min_core_share", "between 0 and 1"),
    ("{northwind: {accounts: {x: {'3180223118': core}}, thresholds: {min_reshares: 2.5}}}",
     "families.northwind.thresholds.min_reshares", "whole number"),
    ("{northwind: {accounts: {x: {'3180223118': core}}, thresholds: {peer: -1}}}",
     "families.northwind.thresholds.peer", "unknown key"),
    ("{northwind: {accounts: {x: {'3180223118': core}}, thresholds: {dandelion_min_peer_share: '0.3'}}}",
     "families.northwind.thresholds.dandelion_min_peer_share", "non-negative number"),
])
def test_every_mistake_names_its_key(families, key, words):
    error = refused(families)
    assert error.key == key and words in error.problem, str(error)


def test_families_land_in_the_tables_dbt_reads_replaced_whole():
    con = duckdb.connect()
    first = settings(FAMILIES).families
    write_families(con, "_socialmart", first)
    assert con.execute("SELECT count(*), count(DISTINCT channel) FROM _socialmart.family_accounts").fetchone() == (5, 2)
    assert con.execute("SELECT hub_min_core_share, min_reshares, dandelion_min_peer_share FROM _socialmart.family_thresholds "
                       "WHERE family = 'northwind'").fetchone() == (0.7, 5, FAMILY_THRESHOLDS["dandelion_min_peer_share"])
    write_families(con, "_socialmart", {"solo": Family("solo", [FamilyAccount("x", "3180223118", "core")], dict(FAMILY_THRESHOLDS))})
    assert con.execute("SELECT family, account_id, role FROM _socialmart.family_accounts").fetchall() == [("solo", "3180223118", "core")]
    write_families(con, "_socialmart", {})
    assert con.execute("SELECT count(*) FROM _socialmart.family_accounts").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM _socialmart.family_thresholds").fetchone() == (0,)
