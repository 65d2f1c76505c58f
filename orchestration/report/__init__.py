"""The KPI report: one self-contained HTML page built from the published file only.

Contract: `write_report(published_db, path)` reads `marketing.duckdb` read-only
(schema `marts`, and `meta.publish_info` / `meta.check_results` when present),
renders `index.html` with inline CSS and inline SVG charts (no script, no CDN:
it opens offline, from a file or a mail attachment), and replaces the old page
by rename so that a browser never loads half a page. It links to
`validation.html`, the quality checks' report written beside it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from orchestration.report import data, page

REPORT_FILE = "index.html"


def report_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / "report" / REPORT_FILE


def write_report(published_db: Path, path: Path) -> Path:
    if not published_db.exists():
        raise FileNotFoundError(f"no published warehouse at {published_db}: run `socialmart run` first")
    html = page.render(data.load(published_db))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
