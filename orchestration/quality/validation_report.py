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
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2433;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem} h2{font-size:1.15rem;margin:1.5rem 0 .5rem} .muted{color:#5b6475}
.verdict{border-radius:8px;padding:.8rem 1rem;font-weight:600}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:.75rem;margin:1rem 0 1.5rem}
.tile{border-radius:8px;padding:.8rem 1rem;background:#f3f5f9;color:#5b6475} .tile b{display:block;font-size:1.6rem;color:#1d2433}
.fail{background:#fde8e8;color:#8a1c1c} .warn{background:#fff4dc;color:#7a5200} .ok{background:#e6f6ec;color:#1b5e34}
.tile.fail b{color:#8a1c1c} .tile.warn b{color:#7a5200} .tile.ok b{color:#1b5e34}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin:.25rem 0 .75rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e7ee;vertical-align:top;overflow-wrap:anywhere}
th{background:#f7f8fb;font-weight:600} .status{font-weight:600;width:7.5rem} .kind{width:8rem} .rows{width:6rem;text-align:right}
.check{width:22%} pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:12px}
details{margin:.25rem 0} details summary{cursor:pointer} details details{margin-left:1rem}
summary .counts{color:#5b6475;font-weight:400} .sample{overflow-x:auto;max-width:100%}
.sample table{table-layout:auto;font-size:12px} .layer>summary{font-weight:600;font-size:1.05rem;padding:.3rem 0}
td.ok{background:none;color:#1b5e34} td.fail{background:none;color:#8a1c1c} td.warn{background:none;color:#7a5200}
@media (max-width:700px){body{margin:1rem auto} table,tr,td{display:block;width:auto} th,.kind,.rows{display:none}
 tr{border-bottom:1px solid #e3e7ee;padding:.3rem 0} td{border:none;padding:.1rem .25rem} .sample table{display:table}}
"""

# The pipeline's layers in the order data flows through them; a check's layer
# comes from the first part of its asset key.
LAYERS = [("raw", "Raw tables (as the APIs sent them)"), ("seeds", "Seeds (lookups)"), ("staging", "Staging"),
          ("intermediate", "Intermediate"), ("marts", "Marts"), ("published", "Published file")]


def layer_of(asset: str) -> str:
    head = asset.split("/", 1)[0]
    if head.startswith("raw_"):
        return "raw"
    return head if head in dict(LAYERS) else "published"


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
    """Failures and warnings first, in full; then every check grouped by layer
    and asset, passes folded away (a run records several hundred)."""
    e = html.escape
    failed = [r for r in results if not r.passed and r.severity == "ERROR"]
    warned = [r for r in results if not r.passed and r.severity == "WARN"]
    blocked = any(r.blocks_publish for r in results) or bool(errors)
    verdict = ("Publish BLOCKED: the BI file was left as it was." if blocked
               else "All blocking checks passed: the marts were cleared for publishing.")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>socialmart validation report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>socialmart validation report</h1>",
        f"<p class=muted>Written {e(now)} for run(s) {e(', '.join(run_ids))}.</p>",
        f"<p class=\"verdict {'fail' if blocked else 'ok'}\">{e(verdict)}</p>",
        "<div class=tiles>",
        _tile(len(results) - len(failed) - len(warned), "passed", "ok"),
        _tile(len(failed), "failed", "fail"),
        _tile(len(warned), "warnings", "warn"),
        _tile(len(errors), "step errors", "fail"),
        "</div>",
    ]
    if errors:
        parts.append("<h2>Step errors</h2><table><tr><th>error</th></tr>")
        parts += [f"<tr><td><pre>{e(error)}</pre></td></tr>" for error in errors]
        parts.append("</table>")
    problems = sorted(failed + warned, key=lambda r: (r.severity != "ERROR", not r.blocks_publish,
                                                      _layer_rank(r.asset), r.asset, r.name))
    if problems:
        parts.append(f"<h2>Needs attention ({len(problems)})</h2>")
        parts.append(_check_table(problems, with_asset=True))
    parts.append("<h2>Every check, by layer and asset</h2>")
    by_layer: dict[str, dict[str, list[CheckResult]]] = {}
    for r in results:
        by_layer.setdefault(layer_of(r.asset), {}).setdefault(r.asset, []).append(r)
    for layer, title in LAYERS:
        assets = by_layer.get(layer)
        if not assets:
            continue
        checks = [r for rs in assets.values() for r in rs]
        parts.append(f"<details class=layer{_open(checks)}><summary>{e(title)} {_counts(checks)}</summary>")
        for asset in sorted(assets, key=lambda a: (all(r.passed for r in assets[a]), a)):
            rows = sorted(assets[asset], key=lambda r: (r.passed, r.severity != "ERROR", r.name))
            parts.append(f"<details{_open(rows)}><summary>{e(asset)} {_counts(rows)}</summary>")
            parts.append(_check_table(rows, with_asset=False))
            parts.append("</details>")
        parts.append("</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _tile(count: int, label: str, tone: str) -> str:
    # Coloured only when there is something to see: "0 failed" is not an alarm.
    css = tone if count else ""
    return f"<div class='tile {css}'><b>{count:,}</b>{label}</div>"


def _layer_rank(asset: str) -> int:
    return [name for name, _ in LAYERS].index(layer_of(asset))


def _open(checks: list[CheckResult]) -> str:
    return " open" if any(not r.passed for r in checks) else ""


def _counts(checks: list[CheckResult]) -> str:
    failed = sum(not r.passed and r.severity == "ERROR" for r in checks)
    warned = sum(not r.passed and r.severity == "WARN" for r in checks)
    text = f"{len(checks) - failed - warned:,} passed"
    text += f", {failed:,} failed" if failed else ""
    text += f", {warned:,} warning{'s' if warned > 1 else ''}" if warned else ""
    return f"<span class=counts>({text})</span>"


def _check_table(checks: list[CheckResult], *, with_asset: bool) -> str:
    e = html.escape
    head = "<tr><th class=status>status</th>" + ("<th>asset</th>" if with_asset else "")
    head += "<th class=check>check</th><th class=kind>kind</th><th class=rows>failing rows</th><th>what / why</th></tr>"
    rows = []
    for r in checks:
        status, css = ("passed", "ok") if r.passed else (("FAILED", "fail") if r.severity == "ERROR" else ("warning", "warn"))
        block = " (blocking)" if r.blocks_publish else ""
        sample = ""
        if r.sample:
            sample = f"<details><summary>sample failing rows</summary><div class=sample>{_sample_table(r.sample)}</div></details>"
        asset = f"<td>{e(r.asset)}</td>" if with_asset else ""
        rows.append(f"<tr><td class='status {css}'>{status}{block}</td>{asset}<td>{e(r.name)}</td>"
                    f"<td class=kind>{e(r.kind)}</td><td class=rows>{r.failing_rows:,}</td><td>{e(r.description)}{sample}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _sample_table(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))[:300]}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
