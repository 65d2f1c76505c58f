"""dbt docs for the marts: generate the site from the project and the build database, and serve it.

The site lives in `<warehouse>/dbt_docs` (not dbt_project/target, which the
pipeline's own dbt runs use). The catalog (column types, row counts) comes from
build.duckdb; before the first `socialmart run` there is none, and the site is
generated from the project files alone (every model and its column
descriptions, no types).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.dbt_vars import dbt_cli_vars

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
SITE_DIR = "dbt_docs"


def generate_docs(warehouse_dir: Path) -> Path:
    """`dbt docs generate` into <warehouse>/dbt_docs; returns that directory."""
    site = warehouse_dir / SITE_DIR
    build_db = warehouse_dir / "build.duckdb"
    with tempfile.TemporaryDirectory() as scratch:
        extra: list[str] = []
        if not build_db.exists():
            # dbt still opens a database to compile: an empty throwaway one, never a stray warehouse file.
            build_db, extra = Path(scratch) / "empty.duckdb", ["--empty-catalog"]
        done = subprocess.run(
            [str(DBT_EXECUTABLE), "docs", "generate", *extra, *_project_args(site), "--log-path", str(site / "logs")],
            env=_env(build_db), capture_output=True, text=True,
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
