"""`socialmart status`: is the warehouse fresh and healthy? For people and for cron.

Per configured channel and account: the last successful sync (the cursor,
which only a publish advances), freshness against the channel's expected lag,
and raw row counts; the last run of each job (from the Dagster instance); the
checks of the last audited run; the published file's marts. Any problem (a
stale or never-synced account, a failed last run, a failed ERROR check) makes
`ok` false and the command exit 1.

Freshness: the nightly run pulls through yesterday. An account is fresh while
its cursor reaches today - expected_lag_days - 1: the channel's own lag (GA4
and YouTube settle a day ~48 h after it ends, ECB rates skip weekends and holidays)
plus one day, so that the hours before tonight's run are not an alarm.
The cursor of an account is its least advanced stream.

build.duckdb has one writer: while a run holds it, the cursors and checks
are read from the published file's `meta` tables (as of the last publish), the
raw row counts are unknown, and the report says a run is in progress.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import dagster as dg
import duckdb

from connectors import CONNECTORS
from orchestration.alerts import alert_for_run, run_window
from orchestration.config import Settings
from orchestration.defs import BUILD_JOB, INGEST_JOB
from orchestration.instance import dagster_home
from orchestration.landing import quote, raw_table
from orchestration.outcome import table_rows


@dataclass
class AccountStatus:
    channel: str
    account: str
    expected_lag_days: int
    fresh_through: str  # the oldest cursor still fresh today
    last_sync: str | None = None  # when the newest of its streams was pulled (UTC)
    synced_through: str | None = None  # the least advanced stream's last day
    never_synced: list[str] = field(default_factory=list)  # streams with no cursor
    raw_rows: int | None = None  # None: build.duckdb is busy

    @property
    def fresh(self) -> bool:
        return not self.never_synced and self.synced_through is not None and self.synced_through >= self.fresh_through

    def problem(self) -> str | None:
        if self.fresh:
            return None
        if self.synced_through is None:
            return f"{self.channel} account {self.account}: never synced"
        if self.never_synced:
            return f"{self.channel} account {self.account}: never synced streams {', '.join(self.never_synced)}"
        return (f"{self.channel} account {self.account}: stale: synced through {self.synced_through}, expected at least "
                f"{self.fresh_through} (lag {self.expected_lag_days} day(s))")


@dataclass
class RunStatus:
    job: str
    run_id: str
    status: str
    started: str | None
    ended: str | None
    tags: dict[str, str]
    window: str | None = None  # the days an ingest run pulled, "start..end"
    failure: list[str] = field(default_factory=list)


@dataclass
class ChecksStatus:
    source: str
    run_id: str | None
    evaluated_at: str | None
    passed: int
    failed_errors: list[str]
    failed_warnings: list[str]


@dataclass
class Status:
    today: str
    timezone: str
    config: str
    build_busy: bool
    accounts: list[AccountStatus]
    runs: list[RunStatus]
    checks: ChecksStatus | None
    published: dict[str, Any]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        for account, status in zip(data["accounts"], self.accounts, strict=False):
            account["fresh"] = status.fresh
        return data


def collect_status(settings: Settings, today: dt.date | None = None) -> Status:
    today = today or settings.today()
    busy, cursors, raw_rows, checks = _read_build(settings)
    published, published_cursors, published_checks = _read_published(settings)
    if busy:
        cursors, checks = published_cursors, published_checks
    accounts = _accounts(settings, today, cursors, raw_rows)
    runs = _last_runs(settings)
    problems = [p for a in accounts if (p := a.problem())]
    for run in runs:
        if run.status == dg.DagsterRunStatus.FAILURE.value:
            problems.append(f"last {run.job} run {run.run_id[:8]} failed: " + ("; ".join(run.failure) or "see the Dagster UI"))
    if checks:
        problems += [f"check failed: {name}" for name in checks.failed_errors]
    return Status(today.isoformat(), settings.reporting_timezone, str(settings.source), busy, accounts, runs, checks, published, problems)


def _read_build(settings: Settings) -> tuple[bool, list[tuple], dict[tuple[str, str], int] | None, ChecksStatus | None]:
    """(busy, cursors, raw rows per (channel, account), last checks); busy: a run holds the file, nothing is known."""
    if not settings.build_db.exists():
        return False, [], {}, None
    try:
        con = duckdb.connect(str(settings.build_db), read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        return True, [], None, None
    with con:
        cursors = _cursors(con, "_socialmart", "sync_state")
        raw_rows: dict[tuple[str, str], int] = {}
        for name in settings.sources:
            for stream in CONNECTORS[name].streams:
                if not _has_table(con, f"raw_{name}", stream):
                    continue
                for account, rows in con.execute(f"SELECT account_id, count(*) FROM {raw_table(name, stream)} GROUP BY 1").fetchall():
                    raw_rows[(name, account)] = raw_rows.get((name, account), 0) + rows
        checks = _checks(con, "_socialmart", "check_results", settings.build_db.name)
    return False, cursors, raw_rows, checks


def _read_published(settings: Settings) -> tuple[dict[str, Any], list[tuple], ChecksStatus | None]:
    """(what is published, its cursors, its checks): the cursors and checks as of that publish."""
    published = {"path": str(settings.published_db), "published_at": None, "run_id": None, "marts": {}}
    if not settings.published_db.exists():
        return published, [], None
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        if _has_table(con, "meta", "publish_info"):
            published_at, published["run_id"] = con.execute("SELECT published_at, run_id FROM meta.publish_info").fetchone()
            published["published_at"] = _utc(published_at)
        cursors = _cursors(con, "meta", "sync_state")
        checks = _checks(con, "meta", "check_results", settings.published_db.name)
    published["marts"] = table_rows(settings.published_db, "marts")
    return published, cursors, checks


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0] > 0


def _cursors(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    if not _has_table(con, schema, table):
        return []
    return con.execute(f"SELECT channel, stream, account_id, window_end, synced_at FROM {quote(schema)}.{quote(table)}").fetchall()


def _checks(con: duckdb.DuckDBPyConnection, schema: str, table: str, source: str) -> ChecksStatus | None:
    """The check results of the newest run that recorded any; None when none are recorded."""
    if not _has_table(con, schema, table):
        return None
    results = f"{quote(schema)}.{quote(table)}"
    last = con.execute(f"SELECT run_id, max(evaluated_at) FROM {results} GROUP BY run_id ORDER BY 2 DESC LIMIT 1").fetchone()
    if last is None:
        return None
    rows = con.execute(f"SELECT asset, check_name, severity, passed FROM {results} WHERE run_id = ? ORDER BY asset, check_name", [last[0]]).fetchall()
    failed = {severity: [f"{asset} :: {name}" for asset, name, sev, passed in rows if not passed and sev == severity] for severity in ("ERROR", "WARN")}
    return ChecksStatus(source, last[0], _utc(last[1]), sum(1 for row in rows if row[3]), failed["ERROR"], failed["WARN"])


def _accounts(settings: Settings, today: dt.date, cursors: list[tuple], raw_rows: dict[tuple[str, str], int] | None) -> list[AccountStatus]:
    by_account: dict[tuple[str, str], dict[str, tuple]] = {}
    for channel, stream, account, window_end, synced_at in cursors:
        by_account.setdefault((channel, account), {})[stream] = (window_end, synced_at)
    statuses = []
    for name, channel in settings.sources.items():
        connector = CONNECTORS[name]
        fresh_through = today - dt.timedelta(days=connector.expected_lag_days + 1)
        for account in channel.accounts:
            account = connector.normalize_account(account)
            streams = by_account.get((name, account), {})
            status = AccountStatus(name, account, connector.expected_lag_days, fresh_through.isoformat(),
                                   raw_rows=None if raw_rows is None else raw_rows.get((name, account), 0))
            status.never_synced = [s for s in connector.streams if s not in streams]
            ends = [end for end, _ in streams.values() if end is not None]
            if ends:
                status.synced_through = min(ends).isoformat()
                status.last_sync = _utc(max(synced for _, synced in streams.values()))
            statuses.append(status)
    return statuses


def _last_runs(settings: Settings) -> list[RunStatus]:
    """The newest run of each job in the instance the CLI and the UI record into."""
    runs = []
    with dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance:
        for job in (INGEST_JOB, BUILD_JOB):
            records = instance.get_run_records(filters=dg.RunsFilter(job_name=job), limit=1)
            if not records:
                continue
            record = records[0]
            run = record.dagster_run
            alert = alert_for_run(instance, run) if run.status == dg.DagsterRunStatus.FAILURE else None
            runs.append(RunStatus(
                job, run.run_id, run.status.value,
                _utc(record.start_time), _utc(record.end_time),
                {name: value for name, value in run.tags.items() if name.startswith("socialmart/")},
                run_window(run), alert.lines if alert else [],
            ))
    return runs


def _utc(value: dt.datetime | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(status: Status) -> str:
    lines = [f"socialmart status for {status.today} ({status.timezone}); config {status.config}", ""]
    if status.build_busy:
        lines += ["A run is in progress (it holds build.duckdb): cursors and checks below are those of the last publish.", ""]
    lines.append(f"{'channel':<16}{'account':<26}{'last sync':<25}{'synced through':<16}{'lag':>4}  {'state':<8}{'raw rows':>12}")
    for a in status.accounts:
        state = "fresh" if a.fresh else ("NEVER" if a.synced_through is None else "STALE")
        rows = "-" if a.raw_rows is None else f"{a.raw_rows:,}"
        lines.append(f"{a.channel:<16}{a.account:<26}{a.last_sync or '-':<25}{a.synced_through or '-':<16}{a.expected_lag_days:>3}d  {state:<8}{rows:>12}")
    lines += ["", "Last runs"]
    if not status.runs:
        lines.append("  no run recorded in the Dagster instance")
    for run in status.runs:
        window = ""
        if run.window:
            window = f" days {run.window}"
        launched = "".join(f" {name.removeprefix('socialmart/')}={value}" for name, value in run.tags.items() if name.startswith("socialmart/"))
        lines.append(f"  {run.job:<20}{run.status:<9} {run.run_id[:8]}  started {run.started or '-'}{window}{launched}")
        lines += [f"      {line}" for line in run.failure]
    lines.append("")
    if status.checks is None:
        lines.append("Checks: quality status not recorded")
    else:
        c = status.checks
        lines.append(f"Checks (run {(c.run_id or '-')[:8]}, {c.evaluated_at}, from {c.source}): {c.passed} passed, "
                     f"{len(c.failed_errors)} failed, {len(c.failed_warnings)} warning(s)")
        lines += [f"  FAILED {name}" for name in c.failed_errors] + [f"  WARN   {name}" for name in c.failed_warnings]
    p = status.published
    lines.append("")
    if p["published_at"]:
        lines.append(f"Published {p['path']}: {p['published_at']} by run {(p['run_id'] or '-')[:8]}, "
                     f"{len(p['marts'])} marts, {sum(p['marts'].values()):,} rows")
    else:
        lines.append(f"Published {p['path']}: nothing published yet")
    lines.append("")
    if status.ok:
        lines.append("Status: OK")
    else:
        lines.append(f"Status: {len(status.problems)} problem(s)")
        lines += [f"  - {problem}" for problem in status.problems]
    return "\n".join(lines)
