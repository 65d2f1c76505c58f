"""Adding a channel touches only its own files (docs/adding-a-channel.md).

A copy of the repository gets a made-up channel, Acme Social (paid and
organic), written only where that page says a channel lives:
`connectors/acme.py`, `sandbox/channels/acme.py` with `sandbox/world_acme.py`,
and `dbt_project/models/staging/acme/` (the files under
tests/integration/new_channel/). No other file of the copy is edited. One real
`socialmart run` of the copy over a few days (the embedded sandbox serving
Acme, FX for its euros) must then show Acme in the raw assets, in every mart
that unions channels, in the checks, in the dbt docs and in the KPI report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
NEW_CHANNEL = Path(__file__).resolve().parent / "new_channel"
CHANNEL_FILES = sorted(p.relative_to(NEW_CHANNEL) for p in NEW_CHANNEL.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
# The marts that union every channel of a kind, and those that only paid or
# only organic channels reach.
UNION_MARTS = ("dim_channel", "dim_account", "dim_campaign", "fct_ad_performance_daily", "fct_ad_restatements",
               "fct_conversion_funnel_daily", "fct_campaign_summary", "fct_kpi_weekly", "fct_audience_daily",
               "fct_content_performance", "fct_content_daily", "dim_audience_demographics")
END = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
START = END - dt.timedelta(days=2)


def _copy_repository(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "target", "logs", ".pytest_cache")
    for name in ("connectors", "sandbox", "orchestration", "dbt_project"):
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    shutil.copy(REPO / "workspace.yaml", target / "workspace.yaml")


def _python(repo: Path, code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Python with the copy's packages first on the path (before the installed checkout)."""
    env = {**os.environ, "PYTHONPATH": str(repo), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("SOCIALMART_CONFIG", None)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def acme(tmp_path_factory) -> Path:
    """The copy with Acme added, after one run; returns its warehouse directory."""
    root = tmp_path_factory.mktemp("new_channel")
    repo = root / "repo"
    _copy_repository(repo)
    for relative in CHANNEL_FILES:
        assert not (repo / relative).exists(), f"{relative} would overwrite a file of the repository"
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NEW_CHANNEL / relative, repo / relative)
    warehouse = root / "warehouse"
    # The embedded sandbox's generated config, narrowed to Acme (FX comes
    # with every config): a cheap run that still builds every model.
    configured = _python(repo, """
        import sys, yaml
        from pathlib import Path
        from orchestration.sandbox_config import embedded_config
        path, _ = embedded_config(Path(sys.argv[1]))
        config = yaml.safe_load(path.read_text())
        config["channels"] = {"acme": config["channels"]["acme"]}
        config.pop("families", None)  # the sandbox's families are X and Weibo accounts
        path.write_text(yaml.safe_dump(config))
    """, str(warehouse / "sandbox.socialmart.yaml"), cwd=root)
    assert configured.returncode == 0, configured.stderr[-3000:]
    run = _python(repo, "import sys; from orchestration.cli import main; sys.exit(main(sys.argv[1:]))",
                  "run", "--config", str(warehouse / "sandbox.socialmart.yaml"),
                  "--start", START.isoformat(), "--end", END.isoformat(), cwd=root)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    docs = _python(repo, "import sys; from orchestration.config import load_settings; from orchestration.dbt_docs import generate_docs; "
                         "settings = load_settings(sys.argv[1], resolve_secrets=False); generate_docs(settings.warehouse_dir, settings)",
                   str(warehouse / "sandbox.socialmart.yaml"), cwd=root)
    assert docs.returncode == 0, docs.stderr[-3000:]
    return warehouse


def test_the_new_channel_is_only_its_own_files():
    assert {p.parts[0] for p in CHANNEL_FILES} == {"connectors", "sandbox", "dbt_project"}
    assert {str(p) for p in CHANNEL_FILES if p.parts[0] != "dbt_project"} == {
        "connectors/acme.py", "sandbox/channels/acme.py", "sandbox/world_acme.py"}
    assert all(p.parent == Path("dbt_project/models/staging/acme") for p in CHANNEL_FILES if p.parts[0] == "dbt_project")


def test_raw_assets_land_every_stream(acme):
    with duckdb.connect(str(acme / "build.duckdb"), read_only=True) as con:
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_acme'").fetchall()}
        assert tables == {"accounts", "campaigns", "campaign_daily", "audience_daily", "follower_snapshots",
                          "follower_demographics", "posts", "post_snapshots", "post_daily",
                          # the restatement history of every date-windowed stream (orchestration/landing.py)
                          "campaign_daily__versions", "audience_daily__versions", "post_daily__versions"}
        for table in tables:
            assert con.execute(f"select count(*) from raw_acme.{table}").fetchone()[0] > 0, table
        days = con.execute("select min(date_day), max(date_day) from raw_acme.campaign_daily").fetchone()
        assert days == (START, END)


def test_every_union_mart_has_the_channel(acme):
    with duckdb.connect(str(acme / "marketing.duckdb"), read_only=True) as con:
        for mart in UNION_MARTS:
            rows = con.execute(f"select count(*) from marts.{mart} where channel = 'acme'").fetchone()[0]
            assert rows > 0, f"marts.{mart} has no acme row"
        channel = con.execute("select platform, channel_name, kind, day_timezone, paid_channel "
                              "from marts.dim_channel where channel = 'acme'").fetchone()
        assert channel == ("Acme", "Acme Social", "paid_and_organic", "UTC", "acme")
        # The euro spend went through the FX table, and the organic side sees the same platform's ads.
        spend = con.execute("select sum(spend_local), sum(spend), any_value(account_currency) "
                            "from marts.fct_ad_performance_daily where channel = 'acme'").fetchone()
        assert spend[0] > 0 and spend[1] > 0 and spend[2] == "EUR"
        paid = con.execute("select count(*) from marts.fct_audience_daily where channel = 'acme' "
                           "and paid_spend is not null").fetchone()[0]
        assert paid > 0
        gains = con.execute("select distinct gain_source from marts.fct_content_daily where channel = 'acme'").fetchall()
        assert gains == [("api_daily",)]


def test_checks_cover_the_channel(acme):
    with duckdb.connect(str(acme / "marketing.duckdb"), read_only=True) as con:
        checks = con.execute("select asset, check_name, passed or severity <> 'ERROR', description "
                             "from meta.check_results").fetchall()
    assert checks and all(ok for _, _, ok, _ in checks), [c for c in checks if not c[2]]
    names = {(asset, name) for asset, name, _, _ in checks}
    for stream in ("campaign_daily", "posts"):
        assert (f"raw_acme/acme__{stream}", "unique_key") in names
    assert ("raw_acme/acme__campaign_daily", "expectations") in names  # the campaign_daily stream's expectations
    reconciliation = next(d for a, n, _, d in checks if n == "reconciles_with_raw")
    assert "acme" in reconciliation
    # dbt's accepted channel lists come from the registry: their tests ran on acme's rows and passed.
    assert any(n.startswith("accepted_values_fct_ad_performance_daily_channel") for _, n in names)


def test_dbt_docs_describe_the_channel(acme):
    manifest = json.loads((acme / "dbt_docs" / "manifest.json").read_text())
    models = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert {"stg_acme__ad_campaign_daily", "stg_acme__account_daily", "stg_acme__posts"} <= models
    union = next(n for n in manifest["nodes"].values() if n["name"] == "int_ads__campaign_daily")
    assert "model.socialmart.stg_acme__ad_campaign_daily" in union["depends_on"]["nodes"]
    catalog = json.loads((acme / "dbt_docs" / "catalog.json").read_text())
    assert "model.socialmart.stg_acme__ad_campaign_daily" in catalog["nodes"]


def test_the_kpi_report_shows_the_channel(acme):
    report = (acme / "report" / "index.html").read_text()
    assert "Acme Social" in report
