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


def test_partial_parsing_survives_a_second_parse(tmp_path):
    """Constant vars keep dbt's parse: the second parse reads no file again."""
    env = {**os.environ, "SOCIALMART_BUILD_DB": str(tmp_path / "b.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [str(Path(sys.executable).with_name("dbt")), "parse", "--project-dir", str(DBT_PROJECT),
               "--profiles-dir", str(DBT_PROJECT), "--target-path", str(tmp_path / "target"),
               "--log-path", str(tmp_path / "logs"), *dbt_cli_vars()]
    for _ in range(2):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:]
    assert "Unable to do partial parsing" not in done.stdout
    perf = json.loads((tmp_path / "target" / "perf_info.json").read_text())
    assert perf["is_partial_parse_enabled"] and perf["parsed_path_count"] == 0
