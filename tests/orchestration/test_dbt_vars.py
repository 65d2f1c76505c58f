"""The channel registry as dbt sees it: the vars, the unions' models, partial parsing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from connectors import CONNECTORS
from connectors.base import DBT_UNIONS
from orchestration.dbt_vars import dbt_cli_vars, dbt_vars
from sandbox.channels import CHANNEL_CLASSES

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = {p.stem for p in (DBT_PROJECT / "models").rglob("*.sql")}


def test_the_registries_are_found_and_match():
    assert {"meta_ads", "ga4", "fx", "wechat", "linkedin"} <= set(CONNECTORS)
    # every connector has its sandbox counterpart, and the other way round
    assert {c.name for c in CHANNEL_CLASSES} == set(CONNECTORS)


def test_vars_are_the_same_text_every_time():
    assert dbt_cli_vars() == dbt_cli_vars()
    assert json.loads(dbt_cli_vars()[1]) == dbt_vars()


def test_vars_follow_the_connector_declarations():
    registry = dbt_vars()
    assert "fx" not in registry["channels"]  # reference data is no channel of the marts
    assert registry["paid_channels"] == ["linkedin", "meta_ads", "tiktok_ads"]
    assert registry["channels"]["instagram"]["paid_channel"] == "meta_ads"
    assert registry["channels"]["meta_ads"]["paid_channel"] == "meta_ads"
    assert registry["unions"]["post_daily"] == {"wechat": "stg_wechat__article_daily", "youtube": "stg_youtube__video_daily"}


def test_every_declared_union_model_exists_and_every_union_is_used():
    for name, connector in CONNECTORS.items():
        for union, model in connector.dbt_unions.items():
            assert model in MODELS, f"{name} declares {model} for {union}: no such model"
    used = set()
    for path in (DBT_PROJECT / "models").rglob("*.sql"):
        used |= set(re.findall(r"union_channels\('(\w+)'", path.read_text()))
    assert used == set(DBT_UNIONS)


def test_a_new_warehouses_first_parse_is_partial(tmp_path, monkeypatch):
    """Constant vars, and a profile whose text names no warehouse (`~` is the
    warehouse, HOME of dbt's process), keep dbt's parse from warehouse to
    warehouse: a new warehouse seeded with the project's partial parse reads
    no file again."""
    from orchestration.config import parse_settings
    from orchestration.defs.transform import dbt_environment, dbt_project, ensure_manifest, seed_partial_parse

    monkeypatch.setenv("TEST_TOKEN", "token-value")
    settings = parse_settings({"warehouse": {"dir": str(tmp_path / "new")},
                               "channels": {"meta_ads": {"access_token": "${TEST_TOKEN}", "accounts": ["act_1"]}}})
    project = dbt_project()
    ensure_manifest(project, settings)
    target = tmp_path / "new" / "dbt_target"
    seed_partial_parse(project, settings, target)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(target), "--log-path", str(tmp_path / "logs"), *dbt_cli_vars()],
        env={**os.environ, **dbt_environment(settings)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Unable to do partial parsing" not in done.stdout
    perf = json.loads((target / "perf_info.json").read_text())
    assert perf["is_partial_parse_enabled"] and perf["parsed_path_count"] == 0


def test_each_configuration_keeps_its_own_parse(tmp_path, monkeypatch):
    """Two warehouses of different configurations (here a memory limit, which
    dbt's profile reads) run by turns: each parses the project once, where a
    shared parse was redone every time the other one ran."""
    from orchestration.config import parse_settings
    from orchestration.defs.transform import dbt_project, ensure_manifest, parse_folder

    monkeypatch.setenv("TEST_TOKEN", "token-value")

    def settings(name: str, memory_limit: str):
        return parse_settings({"warehouse": {"dir": str(tmp_path / name), "memory_limit": memory_limit},
                               "channels": {"meta_ads": {"access_token": "${TEST_TOKEN}", "accounts": ["act_1"]}}})

    project = dbt_project()
    small, large, small_again = settings("small", "2GiB"), settings("large", "5GiB"), settings("other", "2GiB")
    assert parse_folder(project, small) != parse_folder(project, large)
    assert parse_folder(project, small) == parse_folder(project, small_again)  # the warehouse itself is not in it
    first = ensure_manifest(project, small)
    parsed_at = first.stat().st_mtime_ns
    second = ensure_manifest(project, large)
    assert second != first and json.loads(second.read_text())["nodes"].keys() == json.loads(first.read_text())["nodes"].keys()
    assert ensure_manifest(project, small_again) == first and first.stat().st_mtime_ns == parsed_at
