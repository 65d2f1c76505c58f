"""The channel contract: what every connector of the registry must do against
the sandbox, written once and run for each (like the Singer SDK's standard
tests). This file: landing and staging; test_channel_contract_faults.py: the
API's faults, in each channel's own dialect.

For every channel of `connectors.CONNECTORS`: every stream it declares lands
typed as declared, one row per natural key, from its configured accounts,
inside the window; a second pull of the same window replaces it; its dbt
staging (and intermediate) models build, pass their tests and hold rows.
What only one channel does lives in its own test_channel_<name>.py, against
the same warehouses (built once per test process: tests/integration/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest

from connectors import CONNECTORS
from orchestration.landing import duckdb_type, raw_table
from tests.integration.conftest import CHANNEL_START, CHANNEL_TODAY, sync_channel

pytestmark = pytest.mark.parametrize("channel", list(CONNECTORS))
# The stream pulled twice, where not the first stream with a window.
RESYNC = {"youtube": "video_daily"}


def test_every_stream_lands_typed_rows_keyed_and_in_the_window(channel, raw, settings):
    path, results = raw
    connector = CONNECTORS[channel]
    accounts = {connector.normalize_account(a) for a in settings.accounts}
    assert set(results) == set(connector.streams)
    assert all(r.rows > 0 for r in results.values()), {n: r.rows for n, r in results.items()}
    with duckdb.connect(str(path), read_only=True) as con:
        for name, stream in connector.streams.items():
            table = raw_table(channel, name)
            columns = con.execute("select column_name, data_type from information_schema.columns "
                                  "where table_schema = ? and table_name = ? order by ordinal_position",
                                  [f"raw_{channel}", name]).fetchall()
            # The declared Arrow types as DuckDB spells them (a table declared in memory).
            declared = ", ".join(f'"{f.name}" {duckdb_type(f.type)}' for f in stream.arrow_schema)
            with duckdb.connect() as scratch:
                scratch.execute(f"create table t ({declared}, _synced_at timestamptz)")
                expected = scratch.execute("select column_name, data_type from information_schema.columns "
                                           "where table_name = 't' order by ordinal_position").fetchall()
            assert columns == expected, name
            key = ", ".join(f'"{k}"' for k in stream.key)
            count, distinct = con.execute(f"select count(*), count(distinct ({key})) from {table}").fetchone()
            assert count == distinct == results[name].rows, name  # one row per natural key
            landed = {a for (a,) in con.execute(f"select distinct account_id from {table}").fetchall()}
            assert landed <= accounts, name
            records = [json.loads(r) for (r,) in con.execute(f"select _record from {table} using sample 20 rows").fetchall()]
            assert records and all(isinstance(r, (dict, list)) for r in records), name  # the API's own record, kept
            if stream.date_column is None:
                continue
            low, high = con.execute(f'select min("{stream.date_column}"), max("{stream.date_column}") from {table}').fetchone()
            if stream.snapshot:
                assert low == high == CHANNEL_TODAY, name  # lifetime counters: dated the pull day
            else:
                assert CHANNEL_START - dt.timedelta(days=connector.lead_days) <= low and high <= CHANNEL_TODAY, name


def test_a_second_pull_of_the_window_replaces_it(channel, raw, settings, tmp_path):
    path, results = raw
    copy = tmp_path / "again.duckdb"
    shutil.copy(path, copy)
    stream = RESYNC.get(channel) or next(
        n for n, s in CONNECTORS[channel].streams.items() if s.date_column and not s.snapshot)
    with duckdb.connect(str(copy)) as con:
        result = sync_channel(con, settings, stream)
        after = con.execute(f"select count(*) from {raw_table(channel, stream)}").fetchone()[0]
    assert result.rows == results[stream].rows == after


def test_staging_builds_and_passes_its_tests(channel, staged):
    with duckdb.connect(str(staged), read_only=True) as con:
        models = con.execute("select table_name from information_schema.tables where table_schema = 'staging' "
                             "and starts_with(table_name, ?)", [f"stg_{channel}__"]).fetchall()
        assert models
        empty = [m for (m,) in models if con.execute(f"select count(*) from staging.{m}").fetchone()[0] == 0]
    assert not empty, empty
