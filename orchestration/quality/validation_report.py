"""The HTML validation report of the last run: every check, failures first,
with why and sample failing rows. Self-contained, works offline, every value
escaped (captions and API messages are hostile input)."""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import duckdb

from orchestration.quality.results import CheckResult, load_results

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2433;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem} .muted{color:#5b6475}
.tiles{display:flex;gap:1rem;margin:1rem 0 1.5rem} .tile{flex:1;border-radius:8px;padding:.8rem 1rem;background:#f3f5f9}
.tile b{display:block;font-size:1.6rem} .fail{background:#fde8e8;color:#8a1c1c} .warn{background:#fff4dc;color:#7a5200} .ok{background:#e6f6ec;color:#1b5e34}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem} th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e7ee;vertical-align:top}
th{background:#f7f8fb;font-weight:600} td.status{font-weight:600;white-space:nowrap} pre{white-space:pre-wrap;margin:0;font-size:12px}
details summary{cursor:pointer;color:#2a5bd7}
"""


def write_validation_report(
    con: duckdb.DuckDBPyConnection, path: Path, run_ids: list[str], errors: list[str] | None = None
) -> Path:
    """Render the checks recorded for `run_ids` (plus step errors) to `path`,
    replacing the previous report atomically."""
    results = load_results(con, run_ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(render(results, run_ids, errors or []), encoding="utf-8")
    os.replace(temporary, path)
    return path


def render(results: list[CheckResult], run_ids: list[str], errors: list[str]) -> str:
    e = html.escape
    failed = [r for r in results if not r.passed and r.severity == "ERROR"]
    warned = [r for r in results if not r.passed and r.severity == "WARN"]
    blocked = any(r.blocks_publish for r in results) or bool(errors)
    verdict = ("Publish BLOCKED: the BI file was left as it was." if blocked
               else "All blocking checks passed: the marts were cleared for publishing.")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>socialmart validation report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>socialmart validation report</h1>",
        f"<p class=muted>Written {e(now)} for run(s) {e(', '.join(run_ids))}.</p>",
        f"<p class=\"tile {'fail' if blocked else 'ok'}\">{e(verdict)}</p>",
        "<div class=tiles>",
        f"<div class='tile ok'><b>{len(results) - len(failed) - len(warned)}</b>passed</div>",
        f"<div class='tile fail'><b>{len(failed)}</b>failed</div>",
        f"<div class='tile warn'><b>{len(warned)}</b>warnings</div>",
        f"<div class='tile fail'><b>{len(errors)}</b>step errors</div>",
        "</div>",
    ]
    if errors:
        parts.append("<h2>Step errors</h2><table><tr><th>error</th></tr>")
        parts += [f"<tr><td><pre>{e(error)}</pre></td></tr>" for error in errors]
        parts.append("</table>")
    parts.append("<h2>Checks</h2><table><tr><th>status</th><th>asset</th><th>check</th><th>kind</th>"
                 "<th>failing rows</th><th>what / why</th></tr>")
    for r in results:
        status, css = ("passed", "ok") if r.passed else (("FAILED", "fail") if r.severity == "ERROR" else ("warning", "warn"))
        block = " (blocking)" if not r.passed and r.blocks_publish else ""
        sample = ""
        if r.sample:
            sample = f"<details><summary>sample failing rows</summary>{_sample_table(r.sample)}</details>"
        parts.append(
            f"<tr><td class='status {css}'>{status}{block}</td><td>{e(r.asset)}</td><td>{e(r.name)}</td>"
            f"<td>{e(r.kind)}</td><td>{r.failing_rows:,}</td><td>{e(r.description)}{sample}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def _sample_table(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))[:300]}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
