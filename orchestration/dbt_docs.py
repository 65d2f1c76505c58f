"""dbt docs for the marts: generate the site from the project and the build database, and serve it.

The site lives in `<warehouse>/dbt_docs` (not dbt_project/target, which the
pipeline's own dbt runs use). The catalog (column types, row counts) comes from
build.duckdb; before the first `socialmart run` there is none, and the site is
generated from the project files alone (every model and its column
descriptions, no types).

With the warehouse's configuration, dbt runs in the environment the
pipeline's builds run in (`dbt_environment`): the compiled SQL on the site is
the SQL those builds run (the reporting time zone and currency, the memory
limit), and the first generation starts from the configuration's partial
parse instead of parsing every file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.config import Settings
from orchestration.dbt_vars import dbt_cli_vars

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
SITE_DIR = "dbt_docs"


def generate_docs(warehouse_dir: Path, settings: Settings | None = None) -> Path:
    """`dbt docs generate` into <warehouse>/dbt_docs, in the environment of
    the warehouse's configuration where there is one; returns that directory."""
    site = warehouse_dir / SITE_DIR
    build_db = warehouse_dir / "build.duckdb"
    with tempfile.TemporaryDirectory() as scratch:
        env, extra = _env(build_db), []
        if settings is not None:
            from orchestration.defs.transform import dbt_environment, dbt_project, seed_partial_parse

            env = {**os.environ, **dbt_environment(settings)}
            if build_db.exists():
                seed_partial_parse(dbt_project(), settings, site)
        if not build_db.exists():
            # dbt still opens a database to compile: an empty throwaway one, never a stray warehouse file.
            env, extra = {**env, "SOCIALMART_BUILD_DB": str(Path(scratch) / "empty.duckdb")}, ["--empty-catalog"]
        done = subprocess.run(
            [str(DBT_EXECUTABLE), "docs", "generate", *extra, *_project_args(site), "--log-path", str(site / "logs")],
            env=env, capture_output=True, text=True,
        )
    if done.returncode != 0:
        raise RuntimeError(f"dbt docs generate failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return site


def serve_docs(warehouse_dir: Path, port: int) -> int:
    """`dbt docs serve` of the generated site on 127.0.0.1 until interrupted; returns dbt's exit code."""
    site = warehouse_dir / SITE_DIR
    command = [str(DBT_EXECUTABLE), "docs", "serve", *_project_args(site), "--host", "127.0.0.1", "--port", str(port),
               "--no-browser"]
    try:
        # The profile names the build database; serving only reads the site's files.
        return subprocess.call(command, env=_env(warehouse_dir / "build.duckdb"), cwd=site)
    except KeyboardInterrupt:
        return 0


def _project_args(site: Path) -> list[str]:
    return ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(site),
            *dbt_cli_vars()]


def _env(build_db: Path) -> dict[str, str]:
    # No usage stats: these machines may have no internet, and docs need none.
    return {**os.environ, "SOCIALMART_BUILD_DB": str(build_db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
