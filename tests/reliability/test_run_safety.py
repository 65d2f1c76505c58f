"""Whole runs of `socialmart run` against the sandbox, as a nightly job meets
them: a run that fails, a run killed with SIGKILL mid-load, restated metrics,
hostile content, a full disk, and secrets that must not leak anywhere.

One baseline run (meta_ads, weibo, wechat and FX over 14 days) is shared; the
cases that need their own warehouse start from a copy of it as that run left
it, and the kill case has a sandbox of its own (the lookback run restates the
module's), so no case depends on another one's order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from connectors import CONNECTORS
from orchestration.landing import quote
from orchestration.warehouse_lock import LOCK_NAME
from sandbox import Fault, Sandbox
from tests.integration.conftest import sha256, table_checksums
from tests.reliability.helpers import END, SOCIALMART, TODAY, TOKEN, cli_env, rows, run_cli, write_config

CHANNELS = ["meta_ads", "weibo", "wechat"]
START = END - dt.timedelta(days=13)
LOOKBACK_START = END - dt.timedelta(days=6)  # the nightly run's re-pull of recent days
CHECKED_SCHEMAS = (*(f"raw_{name}" for name in CONNECTORS), "marts")
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
DISK_HEADROOM = 256 * 1024  # free bytes on the small disk: far less than a run writes


@dataclass
class Baseline:
    root: Path
    config: Path
    warehouse: Path
    pristine: Path  # the warehouse as the uninterrupted baseline run left it
    checksums: dict
    transcripts: list[subprocess.CompletedProcess] = field(default_factory=list)

    @property
    def build_db(self) -> Path:
        return self.warehouse / "build.duckdb"

    @property
    def published_db(self) -> Path:
        return self.warehouse / "marketing.duckdb"

    def run(self, start: dt.date, end: dt.date) -> subprocess.CompletedProcess:
        """`socialmart run` at DEBUG, its output kept for the secrets scan."""
        done = run_cli(["run", "--config", str(self.config), "--start", str(start), "--end", str(end),
                        "--log-level", "DEBUG"], cwd=self.root)
        self.transcripts.append(done)
        return done


@pytest.fixture(scope="module")
def module_began() -> float:
    return time.time()


@pytest.fixture(scope="module")
def baseline(sandbox, tmp_path_factory, module_began) -> Baseline:
    root = tmp_path_factory.mktemp("baseline")
    warehouse = root / "warehouse"
    config = write_config(root / "socialmart.yaml", sandbox, warehouse, CHANNELS)
    base = Baseline(root, config, warehouse, root / "pristine", {})
    # Transient trouble on the calls that carry tokens in their URLs (Weibo's
    # access_token, WeChat's secret and issued tokens): retried, and logged.
    sandbox.inject(Fault("weibo", "server_error", times=2), Fault("wechat", "server_error", times=2))
    try:
        done = base.run(START, END)
    finally:
        sandbox.clear_faults()
    assert done.returncode == 0, done.stdout + done.stderr[-5000:]
    base.checksums = table_checksums(base.build_db, CHECKED_SCHEMAS)
    shutil.copytree(warehouse, base.pristine, ignore=shutil.ignore_patterns(".dagster"))
    return base


def published_marts(path: Path) -> dict:
    return table_checksums(path, ("marts",))


# --------------------------------------------------------------------------- a failing run


@dataclass
class FailedRun:
    done: subprocess.CompletedProcess
    published_sha: str  # before the run
    cursors: list[tuple]
    weibo: dict[str, list[tuple]]  # the failing channel's raw tables, pull times included


@pytest.fixture(scope="module")
def failed_run(sandbox, baseline) -> FailedRun:
    """A re-pull of the last 7 days while Weibo answers 503 to every call."""
    published_sha = sha256(baseline.published_db)
    cursors = rows(baseline.build_db, "_socialmart.sync_state")
    weibo = {t: rows(baseline.build_db, f"raw_weibo.{t}") for t in CONNECTORS["weibo"].streams}
    assert cursors and all(weibo.values())
    sandbox.inject(Fault("weibo", "server_error", times=-1))
    try:
        done = baseline.run(LOOKBACK_START, END)
    finally:
        sandbox.clear_faults()
    return FailedRun(done, published_sha, cursors, weibo)


def test_server_errors_beyond_the_retry_budget_fail_the_run_and_change_nothing(baseline, failed_run):
    done = failed_run.done
    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    assert "socialmart run FAILED" in done.stdout
    assert "weibo, account 5612030001" in done.stdout and "HTTP 503" in done.stdout and "gave up after" in done.stdout
    assert sha256(baseline.published_db) == failed_run.published_sha
    assert rows(baseline.build_db, "_socialmart.sync_state") == failed_run.cursors
    assert {t: rows(baseline.build_db, f"raw_weibo.{t}") for t in failed_run.weibo} == failed_run.weibo


# --------------------------------------------------------------------------- kill -9 mid-load


def test_kill_9_mid_load_then_rerun_equals_an_uninterrupted_run(baseline, tmp_path):
    """SIGKILL while a stream is being pulled (earlier streams already landed
    in this run), then the same command again: every raw table and mart is
    what one uninterrupted run gives; the BI file never changes in between."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(baseline.pristine, warehouse)
    published, build = warehouse / "marketing.duckdb", warehouse / "build.duckdb"
    published_before = sha256(published)
    cursors = rows(build, "_socialmart.sync_state")
    # A sandbox of its own at the baseline's revision (the module's gets restated later).
    with Sandbox(today=TODAY, token=TOKEN) as sandbox:
        config = write_config(tmp_path / "socialmart.yaml", sandbox, warehouse, CHANNELS)
        command = [str(SOCIALMART), "run", "--config", str(config), "--start", str(START), "--end", str(END)]
        # The known point: Weibo's second timeline call hangs. The streams run in
        # key order, so by then FX, meta_ads and WeChat have landed.
        stall = {"channel": "weibo", "kind": "stall", "after": 1, "path_contains": "/statuses/user_timeline",
                 "params": {"seconds": 600}}
        control = f"{sandbox.url}/_sandbox"
        requests.post(f"{control}/faults", json={"faults": [stall]}, timeout=10).raise_for_status()
        with open(tmp_path / "killed.out", "w") as out, open(tmp_path / "killed.err", "w") as err:
            run = subprocess.Popen(command, cwd=tmp_path, env=cli_env(), stdout=out, stderr=err, start_new_session=True)
        try:
            while requests.get(f"{control}/stats", timeout=10).json()["faults_fired"] == 0:
                assert run.poll() is None, (tmp_path / "killed.err").read_text()[-3000:]
                time.sleep(0.2)
            # Hung mid-run: BI still reads the old file, undisturbed.
            assert sha256(published) == published_before
            with duckdb.connect(str(published), read_only=True) as con:
                assert con.execute("SELECT count(*) FROM marts.fct_ad_performance_daily").fetchone()[0] > 0
        finally:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=60)
        assert run.returncode == -signal.SIGKILL
        requests.delete(f"{control}/faults", timeout=10).raise_for_status()

        assert sha256(published) == published_before
        with duckdb.connect(str(build)) as con:  # opens for writing: its WAL replays cleanly
            assert con.execute("SELECT * FROM _socialmart.sync_state ORDER BY ALL").fetchall() == cursors
            landed = {r[:2] for r in con.execute("SELECT channel, stream FROM _socialmart.sync_state_pending").fetchall()}
        # Killed mid-load indeed: the streams before Weibo's had landed (their
        # cursors pending a publish), Weibo's had not.
        assert ("meta_ads", "insights") in landed and not {s for c, s in landed if c == "weibo"}
        assert not [p.name for p in warehouse.iterdir() if p.name.endswith(".tmp")]
        # The killed run's lock record names it; its Dagster run was left STARTED.
        assert json.loads((warehouse / LOCK_NAME).read_text())["pid"] == run.pid
        killed_runs = dagster_runs(warehouse)
        assert [status for status, _ in killed_runs.values()].count(dg.DagsterRunStatus.STARTED) == 1

        rerun = subprocess.run(command, cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-5000:]
    assert table_checksums(build, CHECKED_SCHEMAS) == baseline.checksums
    assert published_marts(published) == {k: v for k, v in baseline.checksums.items() if k.startswith("marts.")}
    # The rerun took the dead run's lock over, saying so, and failed the run it
    # left STARTED (it would block the daemon's one-run queue forever); every
    # run carries the maximum runtime the daemon's run monitoring enforces.
    assert f"taking over the stale warehouse lock of pid {run.pid}" in rerun.stderr
    runs = dagster_runs(warehouse)
    assert not [run_id for run_id, (status, _) in runs.items() if status == dg.DagsterRunStatus.STARTED]
    assert [runs[run_id][0] for run_id, (status, _) in killed_runs.items() if status == dg.DagsterRunStatus.STARTED] \
        == [dg.DagsterRunStatus.FAILURE]
    assert {tags.get("dagster/max_runtime") for _, tags in runs.values()} == {str(6 * 3600)}
    assert "max_runtime_seconds: 21600" in (warehouse / ".dagster" / "dagster.yaml").read_text()
    assert json.loads((warehouse / LOCK_NAME).read_text() or "{}") == {}  # released


def dagster_runs(warehouse: Path) -> dict[str, tuple]:
    """run id -> (status, tags) of the warehouse's own Dagster instance."""
    with dg.DagsterInstance.from_config(str(warehouse / ".dagster")) as instance:
        return {r.run_id: (r.status, dict(r.tags)) for r in instance.get_runs()}


# --------------------------------------------------------------------------- restated metrics, hostile content


# Post texts no pipeline stage may alter: emoji (ZWJ sequences, flags),
# right-to-left scripts with bidi controls, NUL bytes, markup, SQL, a 1 MB caption.
HOSTILE_TEXTS = [
    "Launch day \U0001F680\U0001F525 family \U0001F469\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 flag \U0001F1EF\U0001F1F5 skin \U0001F44D\U0001F3FD",
    "\u0645\u0631\u062D\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u05E9\u05DC\u05D5\u05DD \u200F\u202Edesrever\u202C mixed 123",
    "before\x00after\x00\x00end",
    "<script>alert('x')</script><img src=x onerror=\"alert(1)\"> &amp; </textarea><!--",
    "'; DROP TABLE marts.fct_content_performance; -- \" \\ \r\n\t\u2028 $(rm -rf /) `id`",
    "1 MB caption \u9577\u3044 \U0001F4E3 " * 52_429,
]
CAMPAIGN_NAME = "O'Reilly \"Spring\"; DROP TABLE raw_meta_ads.campaigns; --"
ACCOUNT_NAME = "M\u00fcller & S\u00f6hne's \"Ads\"; SELECT 1; -- $(touch pwned) `id`"

INSIGHTS = "raw_meta_ads.insights"
OUTSIDE = "date_day < ?"
RESTATED = "SELECT date_day, account_id, campaign_id, conversions, _synced_at FROM raw_meta_ads.insights WHERE date_day >= ?"


@dataclass
class LookbackRun:
    insights_outside: list[tuple]  # every column, _synced_at included
    insights_inside: dict  # (day, account, campaign) -> (conversions, _synced_at)
    posts_outside: list[tuple]
    ad_mart: dict  # published (day, account, campaign) -> (spend_local, conversions)
    hostile_posts: dict[str, str]  # post id -> the text the API served
    campaign_id: str


def restated_rows(build: Path) -> dict:
    with duckdb.connect(str(build), read_only=True) as con:
        return {r[:3]: r[3:] for r in con.execute(RESTATED, [LOOKBACK_START]).fetchall()}


def ad_mart(published: Path) -> dict:
    query = "SELECT date_day, account_id, campaign_id, spend_local, conversions FROM marts.fct_ad_performance_daily"
    with duckdb.connect(str(published), read_only=True) as con:
        return {r[:3]: r[3:] for r in con.execute(query).fetchall()}


@pytest.fixture(scope="module")
def lookback(sandbox, baseline) -> LookbackRun:
    """The nightly re-pull of the last 7 days after the APIs restated recent
    conversions, with hostile text on six posts and hostile names on a
    campaign and an ad account."""
    build = baseline.build_db
    with duckdb.connect(str(build), read_only=True) as con:
        post_ids = [r[0] for r in con.execute(
            "SELECT post_id FROM raw_weibo.posts WHERE created_date >= ? ORDER BY post_id LIMIT ?",
            [LOOKBACK_START, len(HOSTILE_TEXTS)]).fetchall()]
        campaign_id = con.execute(
            "SELECT min(campaign_id) FROM raw_meta_ads.campaigns WHERE account_id = 'act_1001'").fetchone()[0]
    assert len(post_ids) == len(HOSTILE_TEXTS)
    run = LookbackRun(
        rows(build, INSIGHTS, OUTSIDE, [LOOKBACK_START]), restated_rows(build),
        rows(build, "raw_weibo.posts", "created_date < ?", [LOOKBACK_START]), ad_mart(baseline.published_db),
        dict(zip(post_ids, HOSTILE_TEXTS, strict=False)), campaign_id,
    )
    sandbox.restate()
    sandbox.inject(
        *(Fault("weibo", "bad_data", times=-1, params={"field": "text", "value": text, "match": {"idstr": post_id}})
          for post_id, text in run.hostile_posts.items()),
        Fault("meta_ads", "bad_data", times=-1, params={"field": "name", "value": CAMPAIGN_NAME, "match": {"id": campaign_id}}),
        Fault("meta_ads", "bad_data", times=-1, params={"field": "name", "value": ACCOUNT_NAME, "match": {"id": "act_1001"}}),
    )
    try:
        done = baseline.run(LOOKBACK_START, END)
    finally:
        sandbox.clear_faults()
    assert done.returncode == 0, done.stdout + done.stderr[-5000:]
    return run


def test_restated_metrics_inside_the_lookback_are_updated_and_rows_outside_untouched(baseline, lookback):
    build = baseline.build_db
    # Outside the re-pulled window: the very same rows, pulled at the same time,
    # although the API restated some of those days too.
    assert rows(build, INSIGHTS, OUTSIDE, [LOOKBACK_START]) == lookback.insights_outside
    assert rows(build, "raw_weibo.posts", "created_date < ?", [LOOKBACK_START]) == lookback.posts_outside
    # Inside: every row re-pulled, restated conversions risen, none lost or doubled.
    after = restated_rows(build)
    assert after.keys() == lookback.insights_inside.keys()
    last_pull = max(synced for _, synced in lookback.insights_inside.values())
    assert all(synced > last_pull for _, synced in after.values())
    assert all(after[k][0] >= lookback.insights_inside[k][0] for k in after)
    assert any(after[k][0] > lookback.insights_inside[k][0] for k in after)
    # The published mart follows: recent days updated, older days as they were.
    mart = ad_mart(baseline.published_db)
    assert mart.keys() == lookback.ad_mart.keys()
    older = [k for k in mart if k[0] < LOOKBACK_START]
    recent = [k for k in mart if k[0] >= LOOKBACK_START]
    assert older and all(mart[k] == lookback.ad_mart[k] for k in older)
    assert any(mart[k][1] > lookback.ad_mart[k][1] for k in recent)


def test_hostile_post_text_is_stored_exactly_in_raw_and_marts(baseline, lookback):
    ids = list(lookback.hostile_posts)
    marks = ", ".join("?" * len(ids))
    with duckdb.connect(str(baseline.build_db), read_only=True) as con:
        raw = {r[0]: (r[1], json.loads(r[2])["text"]) for r in con.execute(
            f"SELECT post_id, text, _record FROM raw_weibo.posts WHERE post_id IN ({marks})", ids).fetchall()}
        # The other posts of the same pages kept their own text.
        untouched = con.execute(
            f"SELECT count(*) FROM raw_weibo.posts WHERE post_id NOT IN ({marks}) AND text IN ({marks})",
            [*ids, *lookback.hostile_posts.values()]).fetchone()[0]
    assert raw == {post_id: (text, text) for post_id, text in lookback.hostile_posts.items()}
    assert untouched == 0
    with duckdb.connect(str(baseline.published_db), read_only=True) as con:
        mart = dict(con.execute(
            f"SELECT post_id, text FROM marts.fct_content_performance WHERE channel = 'weibo' AND post_id IN ({marks})",
            ids).fetchall())
    assert mart == lookback.hostile_posts
    assert len(mart[ids[-1]].encode()) > 1_000_000


def test_names_with_quotes_and_semicolons_land_exactly(baseline, lookback):
    with duckdb.connect(str(baseline.build_db), read_only=True) as con:
        assert con.execute("SELECT campaign_name FROM raw_meta_ads.campaigns WHERE campaign_id = ?",
                           [lookback.campaign_id]).fetchall() == [(CAMPAIGN_NAME,)]
        assert con.execute("SELECT account_name FROM raw_meta_ads.accounts WHERE account_id = 'act_1001'"
                           ).fetchall() == [(ACCOUNT_NAME,)]
    with duckdb.connect(str(baseline.published_db), read_only=True) as con:
        assert con.execute("SELECT campaign_name FROM marts.dim_campaign WHERE channel = 'meta_ads' AND campaign_id = ?",
                           [lookback.campaign_id]).fetchall() == [(CAMPAIGN_NAME,)]
        assert con.execute("SELECT account_name FROM marts.dim_account WHERE channel = 'meta_ads' AND account_id = 'act_1001'"
                           ).fetchall() == [(ACCOUNT_NAME,)]
        # Every mart is still there: the names were data, never SQL.
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'").fetchone()[0] \
            == len([k for k in baseline.checksums if k.startswith("marts.")])
    assert not (baseline.root / "pwned").exists()


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_filesystem(tmp_path):
    """A tmpfs mount whose size the test sets: a disk that really fills up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    mounted: list[Path] = []

    def make(size_bytes: int) -> Path:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(mount)], check=True)
        mounted.append(mount)
        return mount

    yield make
    for path in mounted:
        subprocess.run(["umount", str(path)], check=True)


def test_disk_full_during_a_run_fails_clearly_and_leaves_the_published_file_intact(sandbox, baseline, tmp_path, small_filesystem):
    files = ("build.duckdb", "marketing.duckdb")
    # Room for the warehouse as it is plus DISK_HEADROOM: not for what the run writes.
    warehouse = small_filesystem(sum((baseline.pristine / f).stat().st_size for f in files) + DISK_HEADROOM)
    for name in files:
        shutil.copy2(baseline.pristine / name, warehouse / name)
    published = sha256(warehouse / "marketing.duckdb")
    config = write_config(tmp_path / "socialmart.yaml", sandbox, warehouse, CHANNELS)
    # The Dagster instance lives elsewhere: only the warehouse's disk is full.
    done = run_cli(["run", "--config", str(config), "--start", str(LOOKBACK_START), "--end", str(END)],
                   cwd=tmp_path, DAGSTER_HOME=str(tmp_path / "dagster"))
    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    assert "socialmart run FAILED" in done.stdout, done.stderr[-3000:]
    assert "No space left on device" in done.stdout
    assert sha256(warehouse / "marketing.duckdb") == published
    with duckdb.connect(str(warehouse / "marketing.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_ad_performance_daily").fetchone()[0] > 0
    assert sorted(p.name for p in warehouse.iterdir() if p.name.endswith(".tmp")) == []


# --------------------------------------------------------------------------- secrets


def test_tokens_never_reach_logs_exceptions_the_event_log_or_the_warehouse(sandbox, baseline, failed_run, lookback, module_began):
    """Every CLI run of this module ran at DEBUG (urllib3 logs each URL, and
    Weibo and WeChat carry credentials in theirs) through retried server
    errors, a failing stream and its exception. No byte of any token may
    appear in what they left behind."""
    # The WeChat tokens the sandbox issued to the runs (it knows no other way to tell).
    wechat_tokens = list(sandbox._channels["wechat"]._issued)
    assert wechat_tokens
    secrets = [TOKEN, *wechat_tokens]

    transcripts = [t.stdout + t.stderr for t in baseline.transcripts]
    assert len(transcripts) == 3 and any("failure (HTTP 503" in t for t in transcripts)
    assert all("access_token=***" in t for t in transcripts)  # the URLs were logged, redacted
    for text in transcripts:
        assert not [s for s in secrets if s in text]

    # Files: the Dagster instance (runs, event log, captured compute logs), the
    # warehouse, and what dbt wrote during this module.
    files = [p for p in baseline.warehouse.rglob("*") if p.is_file()]
    files += [p for folder in ("target", "logs") for p in (DBT_PROJECT / folder).rglob("*")
              if p.is_file() and p.stat().st_mtime >= module_began]
    assert any(p.name.endswith(".db") for p in files)  # the Dagster SQLite storage is among them
    leaks = [str(p) for p in files for s in secrets if s.encode() in p.read_bytes()]
    assert leaks == []
    # DuckDB compresses strings on disk, so bytes alone prove little: ask every text column.
    for database in (baseline.build_db, baseline.published_db):
        assert text_columns_containing(database, secrets) == []


def text_columns_containing(database: Path, needles: list[str]) -> list[str]:
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' ORDER BY ALL").fetchall()
        for schema, table, column in columns:
            anywhere = " OR ".join(f"contains({quote(column)}, ?)" for _ in needles)
            if con.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)} WHERE {anywhere}", needles).fetchone()[0]:
                found.append(f"{schema}.{table}.{column}")
    return found
