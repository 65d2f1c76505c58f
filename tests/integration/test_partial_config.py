"""Only the channels listed run, and the marts still build when most are absent."""

from __future__ import annotations

import datetime as dt

import duckdb
import yaml

from orchestration.config import load_settings
from orchestration.runner import run_pipeline
from orchestration.sandbox_config import start_sandbox


def test_a_config_with_one_channel_builds_every_mart(tmp_path):
    sandbox, generated = start_sandbox(tmp_path, today=dt.datetime.now(dt.UTC).date())
    try:
        config = yaml.safe_load(generated.read_text())
        config["channels"] = {"meta_ads": config["channels"]["meta_ads"]}
        config.pop("families")  # the X and Weibo families' accounts are not pulled here
        path = tmp_path / "socialmart.yaml"
        path.write_text(yaml.safe_dump(config))
        settings = load_settings(path)
        end = settings.today() - dt.timedelta(days=1)
        outcome = run_pipeline(settings, path, end - dt.timedelta(days=6), end)
    finally:
        sandbox.stop()
    assert outcome.success, outcome.summary()
    assert {name.split(".")[0] for name in outcome.raw_rows if outcome.raw_rows[name]} == {"raw_meta_ads", "raw_fx"}
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        channels = con.execute("SELECT DISTINCT channel FROM marts.fct_ad_performance_daily").fetchall()
        organic = con.execute("SELECT count(*) FROM marts.fct_audience_daily").fetchone()[0]
    assert channels == [("meta_ads",)] and organic == 0
