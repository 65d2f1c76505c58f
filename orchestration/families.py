"""socialmart.yaml's `families:` as tables dbt reads (the account matrix marts).

Two tables in the pipeline's bookkeeping schema of build.duckdb, replaced
whole before every dbt build, so the marts always follow the configuration:
- family_accounts:   family x channel x account, with the account's role;
- family_thresholds: family, with the pattern rules' thresholds
  (config.FAMILY_THRESHOLDS, overridden per family).
Both exist (empty) in every build database, like the raw tables, so dbt's
sources resolve whatever is configured.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from orchestration.config import FAMILY_THRESHOLDS, Family

THRESHOLD_COLUMNS = ", ".join(
    f"{name} {'INTEGER' if name == 'min_reshares' else 'DOUBLE'} NOT NULL" for name in FAMILY_THRESHOLDS
)


def ensure_family_tables(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {schema}.family_accounts (
        family VARCHAR NOT NULL, channel VARCHAR NOT NULL, account_id VARCHAR NOT NULL, role VARCHAR NOT NULL)""")
    con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.family_thresholds (family VARCHAR NOT NULL, {THRESHOLD_COLUMNS})")


def write_families(con: duckdb.DuckDBPyConnection, schema: str, families: dict[str, Family]) -> None:
    """Replace both tables with the configured families, in one transaction."""
    ensure_family_tables(con, schema)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {schema}.family_accounts")
        con.execute(f"DELETE FROM {schema}.family_thresholds")
        members = [(f.name, a.channel, a.account_id, a.role) for f in families.values() for a in f.accounts]
        accounts = pa.table({name: [m[i] for m in members] for i, name in enumerate(("family", "channel", "account_id", "role"))},
                            schema=pa.schema([(name, pa.string()) for name in ("family", "channel", "account_id", "role")]))
        thresholds = pa.table({"family": pa.array([f.name for f in families.values()], pa.string()),
                               **{name: [f.thresholds[name] for f in families.values()] for name in FAMILY_THRESHOLDS}})
        con.register("configured_accounts", accounts)
        con.register("configured_thresholds", thresholds)
        try:
            con.execute(f"INSERT INTO {schema}.family_accounts BY NAME SELECT * FROM configured_accounts")
            con.execute(f"INSERT INTO {schema}.family_thresholds BY NAME SELECT * FROM configured_thresholds")
        finally:
            con.unregister("configured_accounts")
            con.unregister("configured_thresholds")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
