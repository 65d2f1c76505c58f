"""Whole `socialmart` runs against what a bad night does to a warehouse: a
second run started on it, an analyst's writer on the BI file, a symlinked BI
file, a killed publish's leftovers, a host in another time zone, a lost
build.duckdb followed by a short run and then a backfill, a damaged
build.duckdb, and bad paths.

One module sandbox, meta_ads and instagram (its posts are meta_ads
campaigns' best content) over ten days. The runs build on each other, in the
order of the tests: the baseline, the run in another time zone (with the
second run, the writer, the link and the leftovers around it), the short run
after the build file is lost, the same with --allow-shrink, the backfill.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.transform import REPLAY_PLAN
from orchestration.publish import published_run_id
from orchestration.warehouse_lock import LOCK_NAME
from sandbox import Fault
from sandbox.world_instagram import instagram_world
from tests.integration.conftest import sha256, table_checksums
from tests.reliability.helpers import END, SOCIALMART, cli_env, run_cli, write_config

CHANNELS = ["meta_ads", "instagram"]
START = END - dt.timedelta(days=9)
PROJECT = Path(__file__).resolve().parents[2]
ANALYST = ("import sys, duckdb; con = duckdb.connect(sys.argv[1]); "
           "con.execute('UPDATE marts.fct_ad_performance_daily SET spend = spend * 100'); "
           "con.execute('DROP TABLE marts.fct_campaign_summary'); print('edited', flush=True); "
           "import time; time.sleep(600)")


# UTC+14: 23:30 UTC is already the next day there.
FAR_EAST = "Pacific/Kiritimati"


@dataclass
class Module:
    root: Path
    config: Path
    warehouse: Path
    marts: dict  # the baseline run's published marts
    best_post: str

    @property
    def published(self) -> Path:
        return self.warehouse / "marketing.duckdb"

    def command(self, *args: str) -> list[str]:
        return [*args, "--config", str(self.config)]


def late_night_best_post(sandbox) -> str:
    """An Instagram feed post with insights: of the window, the closest to 5
    days old; in a window without one (the world has no post on some days),
    an account's first post before it, which the newest-first /media list
    reaches once it says it is the window's. The sandbox serves it as
    published at 23:30 UTC on the window's last day with a billion
    interactions, so it is every meta_ads campaign's best content, on a day
    that is the next one east of UTC+0:30."""
    ig = instagram_world(sandbox.world)
    posts = []
    for account in sorted(ig.accounts):
        for m in ig.media(account):  # newest first: the window's posts, then the first before it
            posts.append(m)
            if m.day < START:
                break
    posts = [m for m in posts if m.day <= END and not m.content_type.endswith("/STORY") and not ig.too_few_viewers(m.id)]
    assert posts, f"the sandbox world of {END + dt.timedelta(days=1)} has no Instagram feed post to pick"
    post = min(posts, key=lambda m: (m.day < START, abs((END - dt.timedelta(days=5) - m.day).days), m.id))
    sandbox.inject(
        Fault("instagram", "bad_data", times=-1, path_contains="/media",
              params={"field": "timestamp", "value": f"{END}T23:30:00+0000", "match": {"id": post.id}}),
        Fault("instagram", "bad_data", times=-1, path_contains=f"/{post.id}/insights",
              params={"field": "value", "value": 1_000_000_000}),
    )
    return post.id


@pytest.fixture(scope="module")
def module(sandbox, tmp_path_factory) -> Module:
    root = tmp_path_factory.mktemp("guards")
    warehouse = root / "warehouse"
    config = write_config(root / "socialmart.yaml", sandbox, warehouse, CHANNELS)
    best_post = late_night_best_post(sandbox)
    done = run_cli(["run", "--config", str(config), "--start", str(START), "--end", str(END)], cwd=root, TZ="UTC")
    assert done.returncode == 0, done.stdout + done.stderr[-5000:]
    return Module(root, config, warehouse, table_checksums(warehouse / "marketing.duckdb", ("marts",)), best_post)


def campaign_best_posts(published: Path) -> set:
    with duckdb.connect(str(published), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT DISTINCT best_content_post_id FROM marts.fct_campaign_summary").fetchall()}


def test_one_run_per_warehouse_a_bi_writer_a_symlink_leftovers_and_the_host_time_zone(module):
    """The second run: on a host in UTC+14, through a symlinked BI file that a
    killed analyst's writer left a .wal on, beside a killed publish's staged
    file; a third run started meanwhile exits at once naming the second."""
    assert campaign_best_posts(module.published) == {module.best_post}
    bi = module.root / "bi"
    bi.mkdir()
    shutil.move(module.published, bi / "marketing.duckdb")
    module.published.symlink_to(bi / "marketing.duckdb")
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(module.published)], stdout=subprocess.PIPE, text=True)
    assert analyst.stdout.readline().strip() == "edited"
    analyst.kill()
    analyst.wait()
    stale_wal = bi / "marketing.duckdb.wal"
    assert stale_wal.exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale_staging = bi / f".marketing.duckdb.{dead.pid}-{uuid.uuid4().hex}.tmp"
    stale_staging.write_bytes(b"half a publish")
    began = time.time()

    command = [str(SOCIALMART), "run", *module.command("--start", str(START), "--end", str(END))]
    with open(module.root / "second.out", "w") as out, open(module.root / "second.err", "w") as err:
        second = subprocess.Popen(command, cwd=module.root, env=cli_env(TZ=FAR_EAST), stdout=out, stderr=err)
    try:
        lock = module.warehouse / LOCK_NAME
        while not (lock.exists() and lock.read_text().strip()):
            assert second.poll() is None, (module.root / "second.err").read_text()[-3000:]
            time.sleep(0.2)
        third = run_cli(["run", *module.command("--start", str(START), "--end", str(END))], cwd=module.root, timeout=120)
        assert second.wait(timeout=900) == 0, (module.root / "second.out").read_text() + (module.root / "second.err").read_text()[-5000:]
    finally:
        if second.poll() is None:
            second.kill()
    assert third.returncode == 1
    assert f"another socialmart run holds the warehouse {module.warehouse}: pid {second.pid} (socialmart run" in third.stderr
    assert "Traceback" not in third.stderr

    # Published through the link, to its target; the writer's edits are gone.
    assert module.published.is_symlink()
    second_run = published_run_id(bi / "marketing.duckdb")
    assert f"(published by run {second_run[:8]}; cursors advanced)" in (module.root / "second.out").read_text()
    assert not stale_wal.exists() and not stale_staging.exists()
    assert sorted(p.name for p in bi.iterdir()) == ["marketing.duckdb"]
    # Every mart equals the UTC host's, the late-night post included.
    assert table_checksums(module.published, ("marts",)) == module.marts
    assert campaign_best_posts(module.published) == {module.best_post}

    # dbt's artifacts are under the warehouse (one folder, so that partial
    # parsing survives from run to run, with the plan the next build
    # replays); none in the checkout.
    assert (module.warehouse / "dbt_target" / REPLAY_PLAN).exists()
    target = PROJECT / "dbt_project" / "target"
    assert not [p for p in target.glob("dbt_models-*") if p.stat().st_mtime >= began]


@pytest.fixture(scope="module")
def lost_build(module) -> dict:
    """build.duckdb lost; a nightly-sized run over the last two days."""
    published_sha = sha256(module.published)
    (module.warehouse / "build.duckdb").rename(module.root / "build.duckdb.lost")
    short = ["run", *module.command("--start", str(END - dt.timedelta(days=1)), "--end", str(END))]
    refused = run_cli(short, cwd=module.root)
    after_refusal = sha256(module.published)
    allowed = run_cli([*short, "--allow-shrink"], cwd=module.root)
    shrunk_days = _days(module.published)
    backfill = run_cli(["backfill", *module.command("--start", str(START), "--end", str(END))], cwd=module.root)
    return {"published_sha": published_sha, "refused": refused, "after_refusal": after_refusal,
            "allowed": allowed, "shrunk_days": shrunk_days, "backfill": backfill}


def _days(published: Path) -> list:
    with duckdb.connect(str(published), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT DISTINCT date_day FROM marts.fct_ad_performance_daily ORDER BY 1").fetchall()]


def test_a_short_run_after_losing_the_build_file_cannot_shrink_the_published_history(module, lost_build):
    refused = lost_build["refused"]
    assert refused.returncode == 1, refused.stdout + refused.stderr[-3000:]
    assert "FAILED (blocks publish) marts/fct_ad_performance_daily :: history_kept" in refused.stdout
    assert "socialmart backfill" in refused.stdout and "--allow-shrink" in refused.stdout
    assert lost_build["after_refusal"] == lost_build["published_sha"]
    report = (module.warehouse / "report" / "validation.html").read_text()
    assert "history_kept" in report

    allowed = lost_build["allowed"]
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr[-3000:]
    assert "WARNING marts/fct_ad_performance_daily :: history_kept" in allowed.stdout
    assert lost_build["shrunk_days"] == [END - dt.timedelta(days=1), END]


def test_backfill_resumes_from_what_the_raw_tables_hold_not_from_dagsters_records(module, lost_build):
    backfill = lost_build["backfill"]
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr[-3000:]
    assert "already materialized, skipped" not in backfill.stderr
    pulled = [line for line in backfill.stderr.splitlines() if ": pulling " in line]
    assert len(pulled) == 2 and all("meta_ads (" in line and "instagram (" in line for line in pulled), pulled
    assert _days(module.published) == [START + dt.timedelta(days=i) for i in range(10)]
    # fct_ad_restatements records how values changed between pulls: that
    # record went with the lost build file. Every other mart is whole again.
    restored = table_checksums(module.published, ("marts",))
    assert {k: v for k, v in restored.items() if k != "marts.fct_ad_restatements"} == \
        {k: v for k, v in module.marts.items() if k != "marts.fct_ad_restatements"}


def test_a_damaged_build_file_fails_at_once_naming_it_and_the_remedy(module, tmp_path):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    (warehouse / "build.duckdb").write_bytes(os.urandom(64 * 1024))
    config = tmp_path / "socialmart.yaml"
    config.write_text(module.config.read_text().replace(str(module.warehouse), str(warehouse)))
    done = run_cli(["run", "--config", str(config), "--start", str(END), "--end", str(END)], cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    assert f"{warehouse / 'build.duckdb'} cannot be opened" in done.stderr
    assert "Move it aside" in done.stderr and "socialmart backfill" in done.stderr and "marketing.duckdb" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (warehouse / ".dagster").exists()  # failed before any run


def test_a_config_directory_or_an_unusable_warehouse_dir_exits_2_naming_it(module, tmp_path):
    as_dir = run_cli(["run", "--config", str(tmp_path)], cwd=tmp_path, timeout=120)
    assert as_dir.returncode == 2 and f"{tmp_path}: --config: is a directory" in as_dir.stderr
    assert "Traceback" not in as_dir.stderr

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    config = tmp_path / "socialmart.yaml"
    config.write_text(module.config.read_text().replace(str(module.warehouse), str(blocker / "warehouse")))
    unusable = run_cli(["nightly", "--config", str(config)], cwd=tmp_path, timeout=120)
    assert unusable.returncode == 2, unusable.stderr[-3000:]
    assert f"{config}: warehouse.dir: {blocker / 'warehouse'} cannot be created" in unusable.stderr
    assert "Traceback" not in unusable.stderr
