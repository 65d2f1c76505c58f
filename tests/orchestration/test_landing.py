"""Landing's bookkeeping: cursors only ever advance."""

from __future__ import annotations

import datetime as dt

import duckdb

from orchestration.landing import STATE_SCHEMA, ensure_state_table, promote_sync_state

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


def pending(con, start: str, end: str, rows: int) -> None:
    con.execute(
        f"""INSERT INTO {STATE_SCHEMA}.sync_state_pending VALUES ('meta_ads', 'insights', 'act_1', ?, ?, ?, ?)
            ON CONFLICT DO NOTHING""", [start, end, rows, NOW])


def cursor(con) -> tuple:
    return con.execute(f"SELECT window_start::VARCHAR, window_end::VARCHAR, rows FROM {STATE_SCHEMA}.sync_state").fetchone()


def test_a_cursor_never_moves_back():
    con = duckdb.connect()
    ensure_state_table(con)
    pending(con, "2026-11-01", "2026-11-24", 24)
    promote_sync_state(con)
    pending(con, "2026-01-01", "2026-01-31", 31)  # a backfill of old history
    promote_sync_state(con)
    assert cursor(con) == ("2026-11-01", "2026-11-24", 24)
    pending(con, "2026-10-28", "2026-11-25", 29)  # the next night
    promote_sync_state(con)
    assert cursor(con) == ("2026-10-28", "2026-11-25", 29)


def test_two_landings_before_one_publish_keep_the_furthest_window():
    from connectors import CONNECTORS
    from orchestration.landing import replace_window

    insights = CONNECTORS["meta_ads"].streams["insights"]
    con = duckdb.connect()
    replace_window(con, "meta_ads", insights, {"act_1": []}, dt.date(2026, 11, 1), dt.date(2026, 11, 24), NOW)
    replace_window(con, "meta_ads", insights, {"act_1": []}, dt.date(2026, 1, 1), dt.date(2026, 1, 31), NOW)
    promote_sync_state(con)
    assert cursor(con) == ("2026-11-01", "2026-11-24", 0)


def test_every_landed_window_is_logged_with_its_kind_and_a_rerun_replaces_its_entry():
    """The cursor forgets older windows; landed_windows keeps every one (the marts' pulled days)."""
    from connectors import CONNECTORS
    from orchestration.landing import replace_window

    posts, snapshots = CONNECTORS["x"].streams["posts"], CONNECTORS["x"].streams["user_snapshots"]
    con = duckdb.connect()
    replace_window(con, "x", posts, {"2244994945": []}, dt.date(2026, 11, 1), dt.date(2026, 11, 24), NOW)
    replace_window(con, "x", posts, {"2244994945": []}, dt.date(2026, 1, 1), dt.date(2026, 1, 31), NOW)
    later = NOW + dt.timedelta(hours=1)
    replace_window(con, "x", posts, {"2244994945": []}, dt.date(2026, 1, 1), dt.date(2026, 1, 31), later)
    replace_window(con, "x", snapshots, {"2244994945": []}, dt.date(2026, 11, 25), dt.date(2026, 11, 25), NOW)
    promote_sync_state(con)
    logged = con.execute(
        f"""SELECT stream, window_start::VARCHAR, window_end::VARCHAR, is_snapshot, rows, synced_at = ?
            FROM {STATE_SCHEMA}.landed_windows ORDER BY stream, window_start""", [later]).fetchall()
    assert logged == [
        ("posts", "2026-01-01", "2026-01-31", False, 0, True),
        ("posts", "2026-11-01", "2026-11-24", False, 0, False),
        ("user_snapshots", "2026-11-25", "2026-11-25", True, 0, False),
    ]


def test_versions_keep_typed_values_and_the_raw_table_the_wire_record():
    """A first pull's rows are every key's first version: their typed values
    land in __versions, their JSON only in the raw table (one copy of it)."""
    import decimal

    import pyarrow as pa

    from connectors import CONNECTORS
    from orchestration.landing import replace_window

    insights = CONNECTORS["meta_ads"].streams["insights"]
    row = {"account_id": "act_1", "date_day": dt.date(2026, 11, 3), "campaign_id": "c1", "campaign_name": "Spring",
           "spend": decimal.Decimal("1.50"), "impressions": 10, "reach": 5, "clicks": 1, "link_clicks": 1,
           "conversion_action_type": "purchase", "conversions": decimal.Decimal("0"),
           "conversion_value": decimal.Decimal("0"), "_record": '{"spend": "1.50"}'}
    con = duckdb.connect()
    for spend, when in (("1.50", NOW), ("2.25", NOW + dt.timedelta(days=1))):  # a restated day
        batch = pa.Table.from_pylist([{**row, "spend": decimal.Decimal(spend), "_record": f'{{"spend": "{spend}"}}'}],
                                     schema=insights.arrow_schema).to_batches()
        replace_window(con, "meta_ads", insights, {"act_1": batch}, dt.date(2026, 11, 1), dt.date(2026, 11, 30), when)
    columns = {r[0] for r in con.execute("DESCRIBE raw_meta_ads.insights__versions").fetchall()}
    assert "_record" not in columns and {"spend", "_synced_at"} <= columns
    assert con.execute("SELECT spend::VARCHAR FROM raw_meta_ads.insights__versions ORDER BY _synced_at").fetchall() == \
        [("1.500000",), ("2.250000",)]
    assert con.execute("SELECT _record FROM raw_meta_ads.insights").fetchall() == [('{"spend": "2.25"}',)]
