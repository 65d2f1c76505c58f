"""Ingest throughput: rows per second from the API sandbox into DuckDB.

Two streams, each at the planned row count (1M+ at full scale), over the same
sandbox endpoints, page sizes and windows, one contender after the other in
this process, the sandbox in its own:

- serve:        the sandbox's own rate: every page fetched, nothing parsed
                (shows the sandbox is not what limits the others);
- socialmart:   the connector and the landing, exactly as a run uses them
                (`orchestration.ingest.sync_stream`: typed columns, the
                original record kept as JSON, one transaction);
- dlt default:  dlt's REST API source into DuckDB with default settings (on
                a slice of the plan: it runs at a few hundred rows/s);
- dlt fastest:  dlt as its performance guide recommends: resources yielding
                one Arrow table per page, parallelized, the parquet loader;
- floor:        no framework: requests + orjson, one Arrow table, one DuckDB
                insert (the API's shape kept as is: no typing, no record).

Every contender's landed row count is checked against the plan.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import requests

from bench.common import TOKEN, SandboxProcess, Timing, rate, say, timed
from connectors import ga4 as ga4_connector
from connectors import meta_ads as meta_connector
from connectors.base import ChannelSettings
from orchestration.ingest import sync_stream
from sandbox import World
from sandbox.world import scaled_world_specs

ACCOUNTS_PER_PROPERTY = 10
# dlt's default setup runs at a few hundred rows/s: it gets a slice of the
# same plan (the same endpoints, its first accounts and most recent days) of
# this many rows, past its start-up costs, so that the run takes minutes, not hours.
DLT_DEFAULT_ROWS = 50_000
# Insight rows per account over the 37-month history (the two account
# templates alternate): the plan sizes the world from it, then counts exactly.
META_ROWS_PER_ACCOUNT = 4_000
GA4_ROWS_PER_PROPERTY = 90_000


# The wire rows as Arrow sees them (strings, nested lists kept): the schema
# every page's table gets, so pages missing an optional key still concatenate.
_ACTIONS = pa.list_(pa.struct([("action_type", pa.string()), ("value", pa.string())]))
_VALUES = pa.list_(pa.struct([("value", pa.string())]))
WIRE_SCHEMAS = {
    "meta_ads": pa.schema([(name, _ACTIONS if name in ("actions", "action_values") else pa.string())
                           for name in ("campaign_id", "campaign_name", "date_start", "date_stop", "spend",
                                        "impressions", "reach", "clicks", "actions", "action_values")]),
    "ga4": pa.schema([("dimensionValues", _VALUES), ("metricValues", _VALUES)]),
}


@dataclass
class Plan:
    """One stream's benchmark: which accounts, which window, how many rows."""

    channel: str
    stream: str
    accounts: list[str]
    start: dt.date
    end: dt.date
    expected_rows: int
    slice: Plan | None = None  # what dlt's default setup pulls when the plan is too big for it

    @property
    def name(self) -> str:
        return f"{self.channel}.{self.stream}"

    def describe(self) -> str:
        accounts = f"{len(self.accounts)} account{'s' if len(self.accounts) != 1 else ''}"
        return f"{self.expected_rows:,} rows ({accounts}, {self.start} .. {self.end})"


@dataclass
class Result:
    contender: str
    rows: int
    timing: Timing
    server_cpu: float  # sandbox CPU seconds while this contender ran
    pages: int = 0
    bytes: int = 0

    @property
    def rows_per_second(self) -> float:
        return rate(self.rows, self.timing.wall)


@dataclass
class StreamResults:
    plan: Plan
    results: dict[str, Result] = field(default_factory=dict)


def world_size(target_rows: int) -> int:
    """Ad accounts the sandbox world needs so both streams reach target_rows."""
    meta = -(-target_rows // META_ROWS_PER_ACCOUNT)
    ga4 = -(-target_rows // GA4_ROWS_PER_PROPERTY) * ACCOUNTS_PER_PROPERTY
    return max(2, meta + meta // 10, ga4 + ACCOUNTS_PER_PROPERTY)


def plans(sandbox: SandboxProcess, target_rows: int) -> list[Plan]:
    """Per stream, accounts in world order over the whole served history
    (Meta serves 37 months back) until target_rows; a target smaller than one
    account's history takes that account's most recent days instead. Plans
    bigger than DLT_DEFAULT_ROWS carry a slice of that size."""
    world = World(7, sandbox.today, **scaled_world_specs(sandbox.accounts, sandbox.accounts_per_property))
    first, last = world.history_start, world.last_day

    def meta_rows(account: str, start: dt.date) -> int:
        segments = world.meta_segments(world.meta_accounts[account], start, last)
        return sum(n_days * len(campaigns) for _, n_days, campaigns in segments)

    with requests.Session() as http:
        def ga4_rows(prop: str, start: dt.date) -> int:
            body = {**ga4_body(start, last), "limit": 1}
            answer = http.post(f"{sandbox.base_url('ga4')}/properties/{prop}:runReport", json=body,
                               headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600).json()
            return int(answer.get("rowCount", 0))

        out = []
        for channel, stream, accounts, rows in (("meta_ads", "insights", list(world.meta_accounts), meta_rows),
                                                ("ga4", "traffic", list(world.ga4_properties), ga4_rows)):
            plan = Plan(channel, stream, *_cover(accounts, rows, target_rows, first, last))
            if plan.expected_rows > 2 * DLT_DEFAULT_ROWS:
                plan.slice = Plan(channel, stream, *_cover(plan.accounts, rows, DLT_DEFAULT_ROWS, first, last))
            out.append(plan)
        return out


def _cover(accounts: list[str], rows: Callable[[str, dt.date], int], target: int, first: dt.date,
           last: dt.date) -> tuple[list[str], dt.date, dt.date, int]:
    """(accounts, start, end, rows) holding at least `target` rows."""
    whole = rows(accounts[0], first)
    if whole >= target:
        days = 7
        while (start := max(first, last - dt.timedelta(days=days - 1))) > first and rows(accounts[0], start) < target:
            days *= 2
        return [accounts[0]], start, last, rows(accounts[0], start)
    chosen, total = [accounts[0]], whole
    for account in accounts[1:]:
        if total >= target:
            break
        chosen.append(account)
        total += rows(account, first)
    if total < target:
        raise RuntimeError(f"the world is too small: {total:,} rows < {target:,}")
    return chosen, first, last, total


# --------------------------------------------------------------------------- the requests, as the connectors send them


def meta_params(start: dt.date, end: dt.date) -> dict[str, object]:
    return {
        "level": "campaign",
        "time_increment": 1,
        "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}, separators=(",", ":")),
        "fields": ",".join(meta_connector.INSIGHT_FIELDS),
        "action_attribution_windows": json.dumps(["7d_click", "1d_view"], separators=(",", ":")),
        "limit": meta_connector.PAGE_LIMIT,
    }


def ga4_body(start: dt.date, end: dt.date) -> dict[str, object]:
    return {
        "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
        "dimensions": [{"name": name} for name in ga4_connector.DIMENSIONS],
        "metrics": [{"name": name} for name in ga4_connector.METRICS],
        "limit": ga4_connector.PAGE_LIMIT,
        "returnPropertyQuota": True,
    }


def _bearer_session() -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    return http


def _meta_pages(http: requests.Session, plan: Plan, base: str, parse: Callable[[bytes], tuple[object, str | None]]):
    """Each account's pages in order: parse(content) -> (page, next URL)."""
    for account in plan.accounts:
        response = http.get(f"{base}/{account}/insights", params=meta_params(plan.start, plan.end), timeout=600)
        while True:
            response.raise_for_status()
            page, next_url = parse(response.content)
            yield page
            if not next_url:
                break
            response = http.get(next_url, timeout=600)


def _ga4_pages(http: requests.Session, plan: Plan, base: str, parse: Callable[[bytes], tuple[object, int, int]]):
    """Each property's report pages: parse(content) -> (page, rows on it, rowCount)."""
    for prop in plan.accounts:
        offset = 0
        while True:
            response = http.post(f"{base}/properties/{prop}:runReport",
                                 json={**ga4_body(plan.start, plan.end), "offset": offset}, timeout=600)
            response.raise_for_status()
            page, rows, total = parse(response.content)
            yield page
            offset += rows
            if rows == 0 or offset >= total:
                break


# --------------------------------------------------------------------------- contenders


def serve(plan: Plan, sandbox: SandboxProcess, workdir: Path) -> tuple[int, int, int]:
    """Fetch every page, parse nothing: the cursor and the counts are read off
    the raw bytes (every row of both APIs carries exactly one date field)."""
    pages = rows = size = 0
    with _bearer_session() as http:
        if plan.channel == "meta_ads":
            def parse(content: bytes) -> tuple[tuple[int, int], str | None]:
                at = content.rfind(b'"next":"')
                next_url = content[at + 8:content.index(b'"', at + 8)].decode() if at >= 0 else None
                return (content.count(b'"date_start":'), len(content)), next_url
            page_sizes = _meta_pages(http, plan, sandbox.base_url("meta_ads"), parse)
        else:
            def parse(content: bytes) -> tuple[tuple[int, int], int, int]:
                n = content.count(b'{"dimensionValues":')
                at = content.rfind(b'"rowCount":')
                total = int(content[at + 11:].split(b",", 1)[0]) if at >= 0 else 0
                return (n, len(content)), n, total
            page_sizes = _ga4_pages(http, plan, sandbox.base_url("ga4"), parse)
        for page_rows, page_bytes in page_sizes:
            pages, rows, size = pages + 1, rows + page_rows, size + page_bytes
    return rows, pages, size


def socialmart(plan: Plan, sandbox: SandboxProcess, workdir: Path) -> int:
    options = {"conversion_action_type": "purchase"} if plan.channel == "meta_ads" else {}
    settings = ChannelSettings(plan.channel, sandbox.base_url(plan.channel), plan.accounts,
                               {"access_token": TOKEN}, options=options)
    with duckdb.connect(str(workdir / "socialmart.duckdb")) as con:
        result = sync_stream(con, settings, plan.stream, plan.start, plan.end, progress=lambda _: None)
        landed = con.execute(f'SELECT count(*) FROM "raw_{plan.channel}"."{plan.stream}"').fetchone()[0]
    if landed != result.rows:
        raise RuntimeError(f"socialmart reported {result.rows} rows but the table holds {landed}")
    return landed


def _dlt_pipeline(name: str, workdir: Path):
    import dlt

    return dlt.pipeline(
        pipeline_name=name, pipelines_dir=str(workdir / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(str(workdir / f"{name}.duckdb")), dataset_name="raw",
    )


def _dlt_rows(workdir: Path, name: str, table: str) -> int:
    with duckdb.connect(str(workdir / f"{name}.duckdb"), read_only=True) as con:
        return con.execute(f'SELECT count(*) FROM raw."{table}"').fetchone()[0]


def dlt_default(plan: Plan, sandbox: SandboxProcess, workdir: Path) -> int:
    """dlt's declarative REST API source, nothing tuned: its default JSON
    normalisation (nested lists become child tables) and loader format."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    @dlt.resource(name="accounts")
    def accounts():
        yield [{"id": account} for account in plan.accounts]

    if plan.channel == "meta_ads":
        # The source reads "{...}" in parameters as placeholders: literal braces double.
        params = {k: v.replace("{", "{{").replace("}", "}}") if isinstance(v, str) else v
                  for k, v in meta_params(plan.start, plan.end).items()}
        endpoint = {
            "path": "{resources.accounts.id}/insights",
            "params": params,
            "data_selector": "data",
            "paginator": {"type": "json_link", "next_url_path": "paging.next"},
        }
    else:
        endpoint = {
            "path": "properties/{resources.accounts.id}:runReport",
            "method": "POST",
            "json": {k: v for k, v in ga4_body(plan.start, plan.end).items() if k != "limit"},
            "data_selector": "rows",
            "paginator": {"type": "offset", "limit": ga4_connector.PAGE_LIMIT, "offset_body_path": "offset",
                          "limit_body_path": "limit", "total_path": "rowCount"},
        }
    source = rest_api_source({
        "client": {"base_url": sandbox.base_url(plan.channel) + "/", "auth": {"type": "bearer", "token": TOKEN}},
        "resources": [accounts, {"name": plan.stream, "endpoint": endpoint}],
    })
    _dlt_pipeline("dlt_default", workdir).run(source)
    return _dlt_rows(workdir, "dlt_default", plan.stream)


def dlt_fastest(plan: Plan, sandbox: SandboxProcess, workdir: Path) -> int:
    """dlt's performance guide: yield pages, as Arrow tables (which skip dlt's
    row-by-row normalisation), from parallelized resources (one per account,
    so pages of different accounts are fetched concurrently), parquet files."""
    import dlt
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
    from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator, OffsetPaginator

    base = sandbox.base_url(plan.channel)

    def pages(account: str):
        if plan.channel == "meta_ads":
            client = RESTClient(base_url=base, auth=BearerTokenAuth(TOKEN),
                                paginator=JSONLinkPaginator(next_url_path="paging.next"), data_selector="data")
            for page in client.paginate(f"/{account}/insights", params=meta_params(plan.start, plan.end)):
                yield pa.Table.from_pylist(page, schema=WIRE_SCHEMAS[plan.channel])
        else:
            client = RESTClient(base_url=base, auth=BearerTokenAuth(TOKEN), data_selector="rows",
                                paginator=OffsetPaginator(limit=ga4_connector.PAGE_LIMIT, offset_body_path="offset",
                                                          limit_body_path="limit", total_path="rowCount"))
            body = {k: v for k, v in ga4_body(plan.start, plan.end).items() if k != "limit"}
            for page in client.paginate(f"/properties/{account}:runReport", method="POST", json=body):
                yield pa.Table.from_pylist(page, schema=WIRE_SCHEMAS[plan.channel])

    resources = [dlt.resource(pages(account), name=f"{plan.stream}_{account}", table_name=plan.stream, parallelized=True)
                 for account in plan.accounts]
    _dlt_pipeline("dlt_fastest", workdir).run(resources, loader_file_format="parquet")
    return _dlt_rows(workdir, "dlt_fastest", plan.stream)


def floor(plan: Plan, sandbox: SandboxProcess, workdir: Path) -> int:
    tables: list[pa.Table] = []
    with _bearer_session() as http:
        if plan.channel == "meta_ads":
            def parse(content: bytes):
                body = orjson.loads(content)
                return body["data"], (body.get("paging") or {}).get("next")
            for page in _meta_pages(http, plan, sandbox.base_url("meta_ads"), parse):
                tables.append(pa.Table.from_pylist(page, schema=WIRE_SCHEMAS[plan.channel]))
        else:
            def parse(content: bytes):
                body = orjson.loads(content)
                rows = body.get("rows") or []
                return rows, len(rows), int(body.get("rowCount") or 0)
            for page in _ga4_pages(http, plan, sandbox.base_url("ga4"), parse):
                tables.append(pa.Table.from_pylist(page, schema=WIRE_SCHEMAS[plan.channel]))
    table = pa.concat_tables(tables)
    with duckdb.connect(str(workdir / "floor.duckdb")) as con:
        con.register("incoming", table)
        con.execute(f'CREATE TABLE "{plan.stream}" AS SELECT * FROM incoming')
        return con.execute(f'SELECT count(*) FROM "{plan.stream}"').fetchone()[0]


CONTENDERS: dict[str, Callable] = {
    "socialmart": socialmart,
    "dlt default": dlt_default,
    "dlt fastest": dlt_fastest,
    "floor": floor,
}


# --------------------------------------------------------------------------- run and report


def run(target_rows: int, workdir: Path) -> list[StreamResults]:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DLT_DATA_DIR", str(workdir / "dlt_data"))
    accounts = world_size(target_rows)
    say(f"ingest: starting the sandbox with {accounts} ad accounts "
        f"({-(-accounts // ACCOUNTS_PER_PROPERTY)} GA4 properties) in its own process")
    out: list[StreamResults] = []
    with SandboxProcess(accounts, ACCOUNTS_PER_PROPERTY) as sandbox:
        for plan in plans(sandbox, target_rows):
            say(f"ingest {plan.name}: {plan.describe()}"
                + (f"; dlt default on a slice of {plan.slice.describe()}" if plan.slice else ""))
            stream = StreamResults(plan)
            out.append(stream)
            for name, contender in (("serve", serve), *CONTENDERS.items()):
                place = workdir / plan.name / name.replace(" ", "_")
                shutil.rmtree(place, ignore_errors=True)
                place.mkdir(parents=True)
                pulled = plan.slice if name == "dlt default" and plan.slice else plan
                server_before = sandbox.cpu_seconds()
                with timed() as timing:
                    answer = contender(pulled, sandbox, place)
                rows, pages, size = answer if isinstance(answer, tuple) else (answer, 0, 0)
                result = Result(name, rows, timing, sandbox.cpu_seconds() - server_before, pages, size)
                stream.results[name] = result
                say(f"  {name:<12} {rows:>10,} rows in {timing.wall:7.1f} s = {result.rows_per_second:>10,.0f} rows/s "
                    f"(client CPU {timing.cpu:.1f} s, sandbox CPU {result.server_cpu:.1f} s)")
                shutil.rmtree(place, ignore_errors=True)
                if rows != pulled.expected_rows:
                    raise RuntimeError(f"{plan.name}: {name} landed {rows:,} rows, the API served {pulled.expected_rows:,}")
    return out


TARGETS = (("dlt default", 10.0, "at least 10x dlt default"),
           ("dlt fastest", 1.5, "at least 1.5x dlt fastest"),
           ("floor", 0.8, "at least 80% of the bare floor"))  # issue 15


def ratios(stream: StreamResults) -> list[tuple[str, str, float, float, bool]]:
    """(baseline, target text, ratio, wanted, met) of socialmart's rows/s against each baseline."""
    ours = stream.results["socialmart"].rows_per_second
    out = []
    for name, wanted, text in TARGETS:
        ratio = ours / stream.results[name].rows_per_second
        out.append((name, text, ratio, wanted, ratio >= wanted))
    return out


def markdown(streams: list[StreamResults]) -> str:
    lines = []
    for stream in streams:
        plan = stream.plan
        lines += [
            f"### {plan.name}: {plan.describe()}",
            "",
            "| contender | rows landed | wall s | rows/s | client CPU s | sandbox CPU s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, r in stream.results.items():
            label = "sandbox serving (no parsing)" if name == "serve" else name
            lines.append(f"| {label} | {r.rows:,} | {r.timing.wall:.1f} | {r.rows_per_second:,.0f} | "
                         f"{r.timing.cpu:.1f} | {r.server_cpu:.1f} |")
        served = stream.results["serve"]
        lines += ["", f"Sandbox serving: {served.pages:,} pages, {served.bytes / 1e6:,.0f} MB, "
                      f"{rate(served.pages, served.timing.wall):,.1f} pages/s, {served.rows_per_second:,.0f} rows/s.", ""]
        if plan.slice:
            lines += [f"dlt default pulled a slice of the same plan, {plan.slice.describe()}: its rate per row "
                      "does not depend on the row count past its start-up, and the whole plan would take it hours.", ""]
        lines += ["| socialmart's rows/s against | ratio | target | met |", "|---|---:|---:|:-:|"]
        for name, _, ratio, wanted, met in ratios(stream):
            lines.append(f"| {name} | {ratio:.2f}x | {wanted:g}x | {'yes' if met else 'NO'} |")
        lines.append("")
    return "\n".join(lines)
