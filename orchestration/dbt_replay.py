"""A night's dbt build, replayed: the SQL of the last build, run again when
nothing that decides it has changed.

Why: a night's `dbt build` spends about 14 s in dbt's own Python (Jinja,
compiling, per-node bookkeeping for 365 models and tests) around 1 s of SQL
(bench/RESULTS.md, section 4). What SQL a build runs is decided by:
- the project's files, its vars and the environment dbt reads;
- the dbt, dbt-duckdb and DuckDB versions;
- the warehouse's catalog: which relations exist, with which columns
  (`is_incremental()`, on_schema_change, the view and table swaps read only
  that; no macro of this project renders data into SQL: the one run_query
  is the Spark target's lake_sources).
What the SQL does with the data (which days an incremental fact rebuilds,
which rows a test finds) is evaluated when the SQL runs.

So a successful build of the whole project records the statements dbt ran
(its JSON debug log's SQLQuery events, in order) with a fingerprint of the
three above, taken just after it: the catalog the build leaves is the one
the next build starts from. The next build with an equal fingerprint runs
those statements on one connection, in one transaction, instead of starting
dbt.

That a build's SQL is also the next build's holds because tables and views
are replaced in place (dbt_project/macros/materializations): their SQL does
not depend on whether they exist. The incremental daily facts' does: a
warehouse's first build creates them whole, every later build merges the
landed days. So after a first build dbt runs those models once more (on
relations that hold every landing: a merge of nothing), and the plan takes
the statements of their incremental form instead of their creation
(`ReplayPlan.with_statements_of`): a warehouse's second run replays, and
merges only the days it landed.

A new warehouse has no last build, but its first build's SQL is decided
the same way: the project's first builds are kept for one another
(`FirstBuild`, under dbt_project/target/first_builds, the most recently
used kept), each keyed by the catalog it started from, with the seeds it
loaded and the plan it left for its warehouse's next build. A new
warehouse whose catalog before its first build equals one of them (the
same project, configuration, versions and raw tables: nothing in the SQL
names a warehouse's directory) replays that build, about 2 s instead of 35
on 2 cores, and keeps its plan. The replay is committed only if the
catalog it leaves is the one the recorded build left.

Everything else starts dbt (which records anew): a changed model, var,
version or catalog, a subset of the assets, no recording, a statement that
fails, or a test that does not pass (dbt then skips what the test guards and
reports it in its own words; the replay is rolled back).

Not replayed: seeds (their CSVs are in the fingerprint and dbt's inserts
carry bindings its log leaves out; their tables are the recorded build's).
A run's builds leave dbt's unit tests out (they run in `make test`), and a
unit test in a log would not be recorded: dbt compares its rows in Python.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

# The statement of a dbt test that gives its outcome (dbt's get_test_sql).
TEST_OUTCOME_COLUMNS = ["failures", "should_warn", "should_error"]
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}
NOT_REPLAYED = {"seed", "unit_test"}
# 2: no unit tests (builds exclude them); 3: keyed by the catalog after the build;
# 4: a first build's incremental facts in their incremental form, never created whole.
PLAN_FORMAT = 4


@dataclass
class Statement:
    node: str  # dbt unique_id, "" for dbt's own (catalog listing, schemas)
    kind: str  # model | test | ""
    sql: str


@dataclass
class TestOutcome:
    unique_id: str
    status: str  # pass | warn | fail
    failures: int


@dataclass
class ReplayPlan:
    """What the last successful whole-project build ran, and what decided it."""

    fingerprint: str
    invocation_id: str
    recorded_at: str
    statements: list[Statement]
    severities: dict[str, str]  # test unique_id -> ERROR | WARN (its configured severity)
    models: list[str] = field(default_factory=list)  # model unique_ids the build materialized

    def with_statements_of(self, other: ReplayPlan) -> ReplayPlan:
        """This plan with the statements of `other`'s models in place of its
        own for them, where their first statement was (after every model they
        read, before every model reading them). Tests and dbt's own statements
        stay this plan's."""
        replaced = {statement.node for statement in other.statements if statement.node in other.models}
        statements: list[Statement] = []
        placed: set[str] = set()
        for statement in self.statements:
            if statement.node not in replaced:
                statements.append(statement)
            elif statement.node not in placed:
                placed.add(statement.node)
                statements.extend(s for s in other.statements if s.node == statement.node)
        missing = set(other.models) - placed
        if missing:
            raise ReplayRefused(f"no SQL for {', '.join(sorted(missing))} in one of the two builds")
        return ReplayPlan(self.fingerprint, self.invocation_id, self.recorded_at, statements, self.severities, self.models)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"format": PLAN_FORMAT, **asdict(self)}))
        scratch.replace(path)

    @classmethod
    def load(cls, path: Path) -> ReplayPlan | None:
        """The recorded plan, or None (none, unreadable or of another format: dbt runs)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if data.pop("format", None) != PLAN_FORMAT:
            return None
        data["statements"] = [Statement(**s) for s in data["statements"]]
        return cls(**data)


@dataclass
class ReplayResult:
    tests: list[TestOutcome]
    statements: int
    seconds: float


class ReplayRefused(Exception):
    """The replay stopped (its work rolled back): dbt builds instead. The message says why."""


# --------------------------------------------------------------------------- fingerprint


def fingerprint(con: duckdb.DuckDBPyConnection, project_dir: Path, dbt_args: list[str], environment: dict[str, str],
                manifest: dict[str, Any]) -> str:
    """A digest of everything that decides which SQL a build runs (module docstring)."""
    digest = hashlib.sha256()
    schemas, sources = catalog_scope(manifest)

    def in_scope(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [row for row in rows if row[0] in schemas or (row[0], row[1]) in sources]

    def add(label: str, value: Any) -> None:
        digest.update(f"{label}\0{json.dumps(value, default=str, sort_keys=True)}\0".encode())

    for path in sorted(project_files(project_dir)):
        add(str(path.relative_to(project_dir)), hashlib.sha256(path.read_bytes()).hexdigest())
    add("args", dbt_args)
    # HOME is the warehouse's directory: the profile names every file under
    # `~`, so no statement names it, and another warehouse's build can be replayed.
    add("environment", {key: value for key, value in environment.items() if key != "HOME"})
    add("versions", {package: importlib.metadata.version(package) for package in ("dbt-core", "dbt-duckdb", "duckdb")})
    add("columns", in_scope(con.execute(
        "SELECT schema_name, table_name, column_index, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() ORDER BY ALL").fetchall()))
    add("relations", in_scope(con.execute(
        "SELECT schema_name, table_name, 'table' FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary "
        "UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT temporary AND NOT internal ORDER BY ALL").fetchall()))
    add("constraints", in_scope(con.execute(
        "SELECT schema_name, table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
        "WHERE database_name = current_database() ORDER BY ALL").fetchall()))
    return digest.hexdigest()


def catalog_scope(manifest: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    """The relations whose catalog can decide dbt's SQL: all of those in a
    schema the project builds into (its relations and dbt's leftovers beside
    them), and the sources it reads. The pipeline's other tables decide
    nothing: the publish step's, created after a warehouse's first build,
    would otherwise keep its second from replaying."""
    schemas = {node["schema"] for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed", "snapshot")}
    sources = {(source["schema"], source.get("identifier") or source["name"]) for source in manifest["sources"].values()}
    return schemas, sources


def project_files(project_dir: Path) -> list[Path]:
    """The dbt project's own files: models, macros, tests, seeds, yml (not its build output)."""
    skip = {"target", "logs", "dbt_packages", "lint"}
    return [p for p in project_dir.rglob("*") if p.is_file() and not skip & set(p.relative_to(project_dir).parts)
            and p.suffix in {".sql", ".yml", ".yaml", ".csv", ".md"}]


# --------------------------------------------------------------------------- recording


def record(log_file: Path, run_results: dict[str, Any], manifest: dict[str, Any]) -> ReplayPlan:
    """The plan of a successful build from its JSON debug log (dbt's
    SQLQuery events of this invocation, in the order they ran). Its
    fingerprint is the catalog's once the build is done, taken by the caller."""
    invocation = run_results["metadata"]["invocation_id"]
    statements = []
    with log_file.open() as lines:
        for line in lines:
            event = json.loads(line)
            info = event.get("info", {})
            if info.get("name") != "SQLQuery" or info.get("invocation_id") != invocation:
                continue
            data = event["data"]
            node = data.get("node_info", {})
            kind = node.get("resource_type", "")
            if kind in NOT_REPLAYED or _body(data["sql"]).upper() in TRANSACTION_CONTROL:
                continue
            statements.append(Statement(node.get("unique_id", ""), kind, data["sql"]))
    results = {r["unique_id"]: r for r in run_results["results"]}
    nodes = manifest["nodes"]
    tests = [uid for uid in results if uid.startswith("test.")]
    missing = [uid for uid in tests if not any(s.node == uid for s in statements)]
    if missing or not statements:
        # A log without the statements (another log format or level): nothing to replay.
        raise ReplayRefused(f"the dbt log {log_file} holds no SQL for {len(missing) or 'any'} of the build's nodes")
    return ReplayPlan(
        fingerprint="",
        invocation_id=invocation,
        recorded_at=run_results["metadata"].get("generated_at", ""),
        statements=statements,
        severities={uid: str(nodes[uid]["config"].get("severity", "error")).upper() for uid in tests if uid in nodes},
        models=[uid for uid in results if uid.startswith("model.")],
    )


def _body(sql: str) -> str:
    """A statement without dbt's leading `/* {query comment} */`."""
    return sql.split("*/", 1)[1].strip() if sql.lstrip().startswith("/*") else sql.strip()


# --------------------------------------------------------------------------- replaying


def replay(con: duckdb.DuckDBPyConnection, plan: ReplayPlan, *, first: list[Statement] | None = None,
           before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> ReplayResult:
    """Run the plan's statements (after `first`) in one transaction; committed
    only when every statement ran, every test passed (or warned) and
    `before_commit` did not refuse. Otherwise rolled back and ReplayRefused
    says what stopped it."""
    started = time.perf_counter()
    outcomes: dict[str, TestOutcome] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in [*(first or []), *plan.statements]:
            try:
                cursor = con.execute(statement.sql)
            except duckdb.Error as exc:
                raise ReplayRefused(f"{statement.node or 'dbt'}: {exc}") from exc
            if statement.kind == "test" and [d[0] for d in cursor.description or []] == TEST_OUTCOME_COLUMNS:
                outcome = _test_outcome(statement.node, cursor.fetchone(), plan.severities.get(statement.node, "ERROR"))
                if outcome.status == "fail":
                    raise ReplayRefused(f"{statement.node} found {outcome.failures:,} failing rows")
                outcomes[statement.node] = outcome
        unanswered = set(plan.severities) - set(outcomes)
        if unanswered:
            raise ReplayRefused(f"{len(unanswered)} tests gave no outcome, e.g. {min(unanswered)}")
        if before_commit is not None:
            before_commit(con)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return ReplayResult(list(outcomes.values()), len(plan.statements), time.perf_counter() - started)


def _test_outcome(unique_id: str, row: tuple[Any, ...], severity: str) -> TestOutcome:
    """dbt's reading of a test's (failures, should_warn, should_error) row."""
    failures, should_warn, should_error = row
    if severity == "ERROR" and should_error:
        status = "fail"
    elif should_warn:
        status = "warn"
    else:
        status = "pass"
    return TestOutcome(unique_id, status, int(failures or 0))


# --------------------------------------------------------------------------- first builds, shared by the project's warehouses

FIRST_BUILD_PLAN = "plan.json"
FIRST_BUILDS_KEPT = 8
# How long a new warehouse waits for another's first build of its catalog
# before it starts dbt itself (a 90-day first build takes about a minute).
FIRST_BUILD_WAIT_SECONDS = 600


@contextmanager
def building_first(store: Path, fingerprint: str, on_wait: Callable[[], None],
                   timeout: float = FIRST_BUILD_WAIT_SECONDS) -> Iterator[bool]:
    """Held while dbt runs a first build on this catalog and it is recorded:
    another new warehouse of the same catalog (test workers, warehouses set
    up together) then waits for it, and replays it, instead of building the
    same with dbt at the same time. Yields whether it waited (it then
    finds the other's build, unless that one failed or the wait timed out)."""
    store.mkdir(parents=True, exist_ok=True)
    with open(store / f"{fingerprint[:32]}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            deadline = time.monotonic() + timeout
            while True:
                time.sleep(0.5)
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break  # builds with dbt itself, unheld
            yield True
        else:
            yield False


@dataclass
class FirstBuild:
    """A warehouse's first build, kept for the project's next new warehouse
    on the same catalog (module docstring): its statements (`plan`, whose
    fingerprint is the catalog it started from), the seed tables it loaded
    (a Parquet file each in `folder`), and the plan it left for its
    warehouse's next build (`then`, fingerprinted by the catalog it left)."""

    plan: ReplayPlan
    then: ReplayPlan
    seeds: list[tuple[str, str]]  # (schema, table) of each seed, as dbt loaded it
    folder: Path

    def seed_statements(self) -> list[Statement]:
        """The seeds as the recorded build left them: dbt's own inserts are not
        in its log with their values (module docstring), their rows are."""
        statements = []
        for schema, table in self.seeds:
            source = str(self.folder / f"{schema}.{table}.parquet").replace("'", "''")
            statements += [Statement("", "seed", f'CREATE SCHEMA IF NOT EXISTS "{schema}"'),
                           Statement("", "seed", f"CREATE TABLE \"{schema}\".\"{table}\" AS SELECT * FROM read_parquet('{source}')")]
        return statements

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Into `folder`, whole or not at all: written beside it, then renamed
        (another process may be reading the one it replaces, or writing the same)."""
        scratch = self.folder.with_name(f"{self.folder.name}.{os.getpid()}.tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for schema, table in self.seeds:
            target = str(scratch / f"{schema}.{table}.parquet").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM \"{schema}\".\"{table}\") TO '{target}' (FORMAT parquet)")
        (scratch / FIRST_BUILD_PLAN).write_text(json.dumps({
            "format": PLAN_FORMAT, "plan": asdict(self.plan), "then": asdict(self.then), "seeds": self.seeds}))
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            scratch.rename(self.folder)
        except OSError:  # another process saved the same build meanwhile
            shutil.rmtree(scratch, ignore_errors=True)
        kept = sorted((p for p in self.folder.parent.iterdir() if p.is_dir() and not p.name.endswith(".tmp")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in kept[FIRST_BUILDS_KEPT:]:
            shutil.rmtree(stale, ignore_errors=True)
            stale.with_suffix(".lock").unlink(missing_ok=True)

    @classmethod
    def folder_of(cls, store: Path, fingerprint: str) -> Path:
        return store / fingerprint[:32]

    @classmethod
    def load(cls, store: Path, fingerprint: str) -> FirstBuild | None:
        """The first build recorded on this catalog, or None (none, unreadable or of another format)."""
        folder = cls.folder_of(store, fingerprint)
        try:
            data = json.loads((folder / FIRST_BUILD_PLAN).read_text())
            os.utime(folder)  # used: kept by the pruning in `save`
        except (OSError, ValueError):
            return None
        if data.get("format") != PLAN_FORMAT:
            return None
        plan, then = (ReplayPlan(**{**data[key], "statements": [Statement(**s) for s in data[key]["statements"]]})
                      for key in ("plan", "then"))
        if plan.fingerprint != fingerprint:
            return None
        return cls(plan, then, [tuple(seed) for seed in data["seeds"]], folder)
