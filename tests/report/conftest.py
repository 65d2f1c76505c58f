"""One real published warehouse for the report tests: the pipeline through the sandbox, with hostile captions.

Six channels (two paid, one of them Chinese-named, web and three organic, X
with its account family for the account matrix) over 14 days keep the run
short while every report section has data. Every Facebook post message and Instagram
caption is replaced, on the wire, by markup, a script, a right-to-left
override and an emoji: the report must show them as text.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from orchestration.config import Settings, load_settings
from orchestration.runner import run_pipeline
from orchestration.sandbox_config import start_sandbox
from sandbox import Fault

HOSTILE_CAPTION = "<script>window.__pwned=1</script><b>x</b> \u202eRTL 🎉"
CHANNELS = ("meta_ads", "tiktok_ads", "ga4", "facebook_pages", "instagram", "x")
TODAY = dt.datetime.now(dt.UTC).date()
END = TODAY - dt.timedelta(days=1)
START = END - dt.timedelta(days=13)


@pytest.fixture(scope="package")
def published(tmp_path_factory) -> Settings:
    warehouse = tmp_path_factory.mktemp("report_warehouse")
    sandbox, generated = start_sandbox(warehouse, today=TODAY)
    try:
        sandbox.inject(
            Fault("facebook_pages", "bad_data", times=-1, path_contains="/posts",
                  params={"field": "message", "value": HOSTILE_CAPTION}),
            Fault("instagram", "bad_data", times=-1, path_contains="/media",
                  params={"field": "caption", "value": HOSTILE_CAPTION}),
        )
        config = yaml.safe_load(generated.read_text())
        config["channels"] = {name: config["channels"][name] for name in CHANNELS}
        # The families whose accounts are pulled here (X's); a family's accounts must be configured.
        config["families"] = {name: family for name, family in config["families"].items() if set(family["accounts"]) <= set(CHANNELS)}
        path = warehouse / "socialmart.yaml"
        path.write_text(yaml.safe_dump(config))
        settings = load_settings(path)
        outcome = run_pipeline(settings, path, START, END)
    finally:
        sandbox.stop()
    assert outcome.success, outcome.summary()
    return settings


@pytest.fixture
def hostile_caption() -> str:
    return HOSTILE_CAPTION
