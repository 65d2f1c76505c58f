"""SQL audits: the checks that compare tables, look across days or read the
pipeline's own records, where a GX expectation on one table cannot.

Every audit returns CheckResults. Raw audits look at what was landed since the
last publish (`_socialmart.sync_state_pending`): that is what this publish
would bring to BI.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from connectors import CONNECTORS
from connectors.base import Stream
from orchestration.landing import STATE_SCHEMA, quote, raw_asset_name, raw_table
from orchestration.quality.drift import ensure_drift_tables
from orchestration.quality.results import SAMPLE_ROWS, CheckResult

# Reconciliation tolerances: local amounts and counts must match exactly;
# reporting-currency amounts within the rounding of the conversion (each row
# is rounded to 4 decimals, rates to 8).
MONEY_TOLERANCE_PER_ROW = Decimal("0.0001")
SESSIONS_TOLERANCE_PER_ROW = 0.0001

ANOMALY_HISTORY_DAYS = 28
ANOMALY_MIN_HISTORY = 14
ANOMALY_DEVIATIONS = 5.0  # robust z-score (median / MAD) beyond which a day is flagged
ANOMALY_MIN_CHANGE = 0.5  # ... and at least 50% away from the median


@dataclass(frozen=True)
class AdSource:
    """Where a paid channel's raw daily totals live, for reconciliation."""

    channel: str
    table: str
    spend: str
    currency_table: str


# Every channel whose connector declares its raw ad totals (Connector.ad_totals).
AD_SOURCES = tuple(
    AdSource(name, c.ad_totals.stream, c.ad_totals.spend, c.ad_totals.currency_stream)
    for name, c in CONNECTORS.items() if c.ad_totals is not None
)


def pending_windows(con: duckdb.DuckDBPyConnection, channel: str, stream: str) -> list[tuple[str, dt.date, dt.date]]:
    """(account, start, end) landed since the last publish."""
    return con.execute(
        f"""SELECT account_id, window_start, window_end FROM {STATE_SCHEMA}.sync_state_pending
            WHERE channel = ? AND stream = ? ORDER BY account_id""",
        [channel, stream],
    ).fetchall()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(rows[:SAMPLE_ROWS], default=str))


def _window_filter(stream: Stream, windows: list[tuple[str, dt.date, dt.date]]) -> tuple[str, list[Any]]:
    if stream.date_column and not stream.snapshot:
        clause = " OR ".join(f"(account_id = ? AND {quote(stream.date_column)} BETWEEN ? AND ?)" for _ in windows)
        return f"({clause})", [v for w in windows for v in w]
    return "(" + " OR ".join("account_id = ?" for _ in windows) + ")", [w[0] for w in windows]


# --------------------------------------------------------------------------- raw tables


def unique_key(con: duckdb.DuckDBPyConnection, channel: str, stream: Stream) -> CheckResult:
    """The rows landed since the last publish (a landing replaces whole
    windows, so only a landed window can bring a duplicate): a night groups
    its windows' rows, not the whole history."""
    asset = raw_asset_name(channel, stream.name)
    windows = pending_windows(con, channel, stream.name)
    if not windows:
        return CheckResult(asset, "unique_key", "uniqueness", True, description="nothing landed since the last publish")
    keys = ", ".join(quote(k) for k in stream.key)
    landed, params = _window_filter(stream, windows)
    duplicates = _rows(con, f"""SELECT {keys}, count(*) AS copies FROM {raw_table(channel, stream.name)} WHERE {landed}
                                GROUP BY ALL HAVING count(*) > 1 ORDER BY copies DESC, {keys} LIMIT 1000""", params)
    what = f"one row per ({', '.join(stream.key)})"
    if not duplicates:
        return CheckResult(asset, "unique_key", "uniqueness", True, description=what)
    extra = sum(d["copies"] - 1 for d in duplicates)
    return CheckResult(asset, "unique_key", "uniqueness", False, failing_rows=extra, sample=_jsonable(duplicates),
                       description=f"{len(duplicates):,} keys arrive more than once ({extra:,} duplicate rows); "
                                   f"expected {what}: the API sent duplicated rows")


def quarantine(con: duckdb.DuckDBPyConnection, channel: str, stream: Stream) -> CheckResult:
    asset = raw_asset_name(channel, stream.name)
    held = _rows(con, f"""SELECT account_id, window_start, window_end, columns, reason, left(record, 500) AS record
                          FROM {STATE_SCHEMA}.quarantine WHERE channel = ? AND stream = ?
                          ORDER BY account_id, window_start""", [channel, stream.name])
    if not held:
        return CheckResult(asset, "quarantine", "quarantine", True, description="every landed value parsed")
    columns = sorted({c.strip() for h in held for c in h["columns"].split(",")})
    return CheckResult(asset, "quarantine", "quarantine", False, failing_rows=len(held), sample=_jsonable(held),
                       description=f"{len(held):,} records held in _socialmart.quarantine: unparseable values in "
                                   f"{', '.join(columns)} (first: {held[0]['reason']})")


def schema_drift(con: duckdb.DuckDBPyConnection, channel: str, stream: Stream) -> CheckResult:
    """Fails when a KPI's wire field is missing or the API rejected a field;
    warns about fields the API started sending."""
    asset = raw_asset_name(channel, stream.name)
    ensure_drift_tables(con)
    problems: list[str] = []
    sample: list[dict[str, Any]] = []
    failing = 0
    windows = pending_windows(con, channel, stream.name)
    if windows and stream.required_fields:
        where, params = _window_filter(stream, windows)
        counts = ", ".join(
            f"count(*) FILTER (WHERE json_extract(_record, {_json_path(f)}) IS NULL) AS {quote(f)}"
            for f in stream.required_fields
        )
        missing = _rows(con, f"SELECT count(*) AS landed, {counts} FROM {raw_table(channel, stream.name)} WHERE {where}", params)[0]
        for field in stream.required_fields:
            if missing[field]:
                failing = max(failing, missing[field])
                problems.append(f"required field {field!r} is missing from {missing[field]:,} of {missing['landed']:,} landed records")
                sample.append({"field": field, "missing_in_records": missing[field], "landed_records": missing["landed"]})
    rejected = _rows(con, f"""SELECT DISTINCT account_id, field, detail FROM {STATE_SCHEMA}.schema_drift
                              WHERE channel = ? AND stream = ? AND change = 'rejected_by_api'""", [channel, stream.name])
    for r in rejected:
        problems.append(f"the API rejected field {r['field']!r} (deprecated or removed upstream)")
        sample.append(r)
    added = _rows(con, f"""SELECT field, min(observed_at) AS first_seen FROM {STATE_SCHEMA}.schema_drift
                           WHERE channel = ? AND stream = ? AND change = 'added' AND observed_at >= coalesce(
                               (SELECT max(synced_at) FROM {STATE_SCHEMA}.sync_state WHERE channel = ? AND stream = ?),
                               TIMESTAMPTZ '1970-01-01')
                           GROUP BY field ORDER BY field""", [channel, stream.name, channel, stream.name])
    if problems:
        return CheckResult(asset, "schema_drift", "schema_drift", False, failing_rows=failing, sample=_jsonable(sample),
                           description="; ".join(problems))
    if added:
        names = ", ".join(a["field"] for a in added)
        return CheckResult(asset, "schema_drift", "schema_drift", False, severity="WARN", blocking=False,
                           sample=_jsonable(added),
                           description=f"the API sends new fields {names}: kept in _record, not yet typed")
    required = ", ".join(stream.required_fields) or "none declared"
    return CheckResult(asset, "schema_drift", "schema_drift", True,
                       description=f"no new, missing or rejected fields (KPI fields: {required})")


def _json_path(field: str) -> str:
    parts = "".join(f'."{p}"' for p in field.split("."))
    return "'$" + parts.replace("'", "''") + "'"


def missing_days(con: duckdb.DuckDBPyConnection, channel: str, stream: Stream) -> CheckResult:
    """Days with no rows between days with rows, per account, in the landed
    windows: an API that skipped a day (the data exists, we did not get it)."""
    asset = raw_asset_name(channel, stream.name)
    windows = pending_windows(con, channel, stream.name)
    if not windows:
        return CheckResult(asset, "missing_days", "completeness", True, description="nothing landed since the last publish")
    day = quote(stream.date_column)
    gaps: list[dict[str, Any]] = []
    for account, start, end in windows:
        gaps += _rows(con, f"""
            WITH present AS (
                SELECT DISTINCT {day} AS d FROM {raw_table(channel, stream.name)}
                WHERE account_id = ? AND {day} BETWEEN ? AND ?
            ), bounds AS (SELECT min(d) AS first_day, max(d) AS last_day FROM present)
            SELECT ? AS account_id, g.d::DATE AS missing_day
            FROM bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) AS g(d)
            WHERE g.d::DATE NOT IN (SELECT d FROM present) ORDER BY 2""", [account, start, end, account])
    what = "every day between the first and last landed day has rows, per account"
    if not gaps:
        return CheckResult(asset, "missing_days", "completeness", True, description=what)
    days = ", ".join(f"{g['account_id']} {g['missing_day']}" for g in gaps[:5])
    return CheckResult(asset, "missing_days", "completeness", False, failing_rows=len(gaps), sample=_jsonable(gaps),
                       description=f"{len(gaps):,} days have no rows although the days around them do ({days}): "
                                   f"the API skipped data; re-pull the window")


def freshness(
    con: duckdb.DuckDBPyConnection, channel: str, stream: Stream, today: dt.date, expected_lag_days: int,
    accounts: list[str],
) -> CheckResult:
    """Per configured account, the latest day with data (daily streams) or the
    end of the last synced window (sparse streams), against the source's known
    lag. An account the config no longer lists keeps its history, and is not
    expected to be fresh."""
    asset = raw_asset_name(channel, stream.name)
    limit = today - dt.timedelta(days=expected_lag_days)
    if stream.every_day:
        latest = _rows(con, f"""SELECT account_id, max({quote(stream.date_column)}) AS latest
                                FROM {raw_table(channel, stream.name)} WHERE account_id IN (SELECT unnest(?))
                                GROUP BY 1 ORDER BY 1""", [accounts])
        basis = "latest day with data"
    else:
        latest = _rows(con, f"""SELECT account_id, max(window_end) AS latest FROM (
                                    SELECT account_id, window_end FROM {STATE_SCHEMA}.sync_state WHERE channel = ? AND stream = ?
                                    UNION ALL
                                    SELECT account_id, window_end FROM {STATE_SCHEMA}.sync_state_pending WHERE channel = ? AND stream = ?)
                                WHERE account_id IN (SELECT unnest(?))
                                GROUP BY 1 ORDER BY 1""", [channel, stream.name, channel, stream.name, accounts])
        basis = "end of the last synced window"
    what = f"{basis} is on or after {limit} (today {today} minus the source's lag of {expected_lag_days} days)"
    stale = [row for row in latest if row["latest"] is None or row["latest"] < limit]
    if not latest:
        return CheckResult(asset, "freshness", "freshness", False, severity="WARN", blocking=False,
                           description=f"no data at all; expected {what}")
    if not stale:
        return CheckResult(asset, "freshness", "freshness", True, description=what)
    for row in stale:
        row["days_behind"] = (limit - row["latest"]).days if row["latest"] else None
    return CheckResult(asset, "freshness", "freshness", False, severity="WARN", blocking=False,
                       failing_rows=len(stale), sample=_jsonable(stale),
                       description=f"{len(stale)} accounts are stale: expected {what}")


def volume_anomaly(con: duckdb.DuckDBPyConnection, channel: str, stream: Stream, measure: str | None) -> CheckResult:
    """A landed day whose row count (or spend) is far outside its trailing
    28-day distribution: a warning for a human, not a block (launches and
    pauses are real)."""
    asset = raw_asset_name(channel, stream.name)
    windows = pending_windows(con, channel, stream.name)
    if not windows:
        return CheckResult(asset, "volume_anomaly", "anomaly", True, description="nothing landed since the last publish")
    start = min(w[1] for w in windows)
    end = max(w[2] for w in windows)
    day = quote(stream.date_column)
    names = ["rows"] + ([measure] if measure else [])
    sums = f", sum({quote(measure)})::DOUBLE" if measure else ""
    series = {row[0]: row[1:] for row in con.execute(
        f"""SELECT {day}, count(*)::DOUBLE{sums} FROM {raw_table(channel, stream.name)}
            WHERE {day} BETWEEN ?::DATE - {ANOMALY_HISTORY_DAYS} AND ? GROUP BY 1""", [start, end]).fetchall()}
    flagged: list[dict[str, Any]] = []
    # Trailing days without data are the source's lag (the freshness check's
    # business), not a collapse in volume.
    end = min(end, max(series, default=start))
    current = start
    while current <= end:
        # A day with no rows at all counts as zero: that is the anomaly.
        value = series.get(current, (0.0,) * len(names))
        history = [series[d] for d in (current - dt.timedelta(days=k) for k in range(1, ANOMALY_HISTORY_DAYS + 1)) if d in series]
        if len(history) >= ANOMALY_MIN_HISTORY:
            for i, name in enumerate(names):
                past = [h[i] or 0.0 for h in history]
                center = statistics.median(past)
                spread = statistics.median(abs(p - center) for p in past) * 1.4826
                deviation = abs((value[i] or 0.0) - center)
                if deviation > ANOMALY_DEVIATIONS * max(spread, 1e-9) and deviation > ANOMALY_MIN_CHANGE * abs(center):
                    flagged.append({"measure": name, "day": current, "value": value[i] or 0.0, "median": center,
                                    "history_days": len(past)})
        current += dt.timedelta(days=1)
    what = f"daily rows{' and ' + measure if measure else ''} within their trailing {ANOMALY_HISTORY_DAYS}-day range"
    if not flagged:
        return CheckResult(asset, "volume_anomaly", "anomaly", True, description=what)
    first = flagged[0]
    return CheckResult(asset, "volume_anomaly", "anomaly", False, severity="WARN", blocking=False,
                       failing_rows=len(flagged), sample=_jsonable(flagged),
                       description=f"{len(flagged)} day(s) outside the usual range, e.g. {first['day']}: "
                                   f"{first['measure']} {first['value']:,.2f} vs median {first['median']:,.2f}")


# --------------------------------------------------------------------------- marts against raw

# The days the last dbt build rebuilt in the daily ad facts (a dbt model):
# the reconciliations of those facts check these days, not the whole history.
REBUILT_DAYS = "intermediate.int_ads__rebuilt_days"


def rebuilt_days_filter(con: duckdb.DuckDBPyConnection, column: str = "date_day") -> str:
    """A SQL condition: `column` is a day the last build rebuilt (every day
    before the project had the model)."""
    schema, table = REBUILT_DAYS.split(".")
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                         [schema, table]).fetchone()[0]
    return f"{column} IN (SELECT date_day FROM {REBUILT_DAYS})" if exists else "TRUE"



def ad_spend_reconciles(con: duckdb.DuckDBPyConnection, channels: list[str], reporting_currency: str) -> CheckResult:
    """Per day, channel and account: the mart's local spend, impressions and
    clicks equal the raw totals exactly, and its reporting-currency spend
    equals raw spend times the ECB cross rate (computed here independently,
    carrying the last published rate forward) within rounding. The days the
    build rebuilt (REBUILT_DAYS)."""
    asset = "marts/fct_ad_performance_daily"
    sources = [s for s in AD_SOURCES if s.channel in channels]
    if not sources:
        return CheckResult(asset, "reconciles_with_raw", "reconciliation", True, description="no paid channel configured")
    rebuilt = rebuilt_days_filter(con, "r.date_day")
    raw = " UNION ALL ".join(
        f"""SELECT '{s.channel}' AS channel, r.account_id, r.date_day, r.{quote(s.spend)} AS spend_local,
                   r.impressions, r.clicks, a.currency
            FROM {raw_table(s.channel, s.table)} AS r
            LEFT JOIN {raw_table(s.channel, s.currency_table)} AS a USING (account_id)
            WHERE {rebuilt}"""
        for s in sources
    )
    mismatches = _rows(con, f"""
        WITH raw AS ({raw}),
        raw_daily AS (
            SELECT channel, account_id, date_day, any_value(currency) AS currency, count(*) AS raw_rows,
                   sum(spend_local) AS spend_local, sum(impressions) AS impressions, sum(clicks) AS clicks
            FROM raw GROUP BY 1, 2, 3
        ),
        rates AS (
            SELECT currency, rate_date, rate_per_eur FROM {raw_table('fx', 'ecb_rates')}
            UNION ALL SELECT 'EUR', rate_date, 1 FROM (SELECT DISTINCT rate_date FROM {raw_table('fx', 'ecb_rates')})
        ),
        converted AS (
            SELECT d.*,
                (SELECT rate_per_eur FROM rates WHERE rates.currency = ? AND rates.rate_date <= d.date_day ORDER BY rate_date DESC LIMIT 1)
                / (SELECT rate_per_eur FROM rates WHERE rates.currency = d.currency AND rates.rate_date <= d.date_day ORDER BY rate_date DESC LIMIT 1)
                AS cross_rate
            FROM raw_daily AS d
        ),
        mart_daily AS (
            SELECT channel, account_id, date_day, sum(spend_local) AS spend_local, sum(spend) AS spend,
                   sum(impressions) AS impressions, sum(clicks) AS clicks
            FROM marts.fct_ad_performance_daily WHERE channel IN (SELECT unnest(?)) AND {rebuilt_days_filter(con)}
            GROUP BY 1, 2, 3
        )
        SELECT coalesce(r.date_day, m.date_day) AS date_day, coalesce(r.channel, m.channel) AS channel,
               coalesce(r.account_id, m.account_id) AS account_id,
               r.spend_local AS raw_spend_local, m.spend_local AS mart_spend_local,
               round(r.spend_local * r.cross_rate, 4) AS raw_spend_converted, m.spend AS mart_spend,
               r.impressions AS raw_impressions, m.impressions AS mart_impressions,
               r.clicks AS raw_clicks, m.clicks AS mart_clicks
        FROM converted AS r FULL OUTER JOIN mart_daily AS m USING (channel, account_id, date_day)
        WHERE r.spend_local IS DISTINCT FROM m.spend_local
           OR r.impressions IS DISTINCT FROM m.impressions
           OR r.clicks IS DISTINCT FROM m.clicks
           OR m.spend IS NULL OR r.cross_rate IS NULL
           OR abs(m.spend - r.spend_local * r.cross_rate) > {MONEY_TOLERANCE_PER_ROW} * r.raw_rows + 0.000001 * abs(m.spend)
        ORDER BY 1, 2, 3""", [reporting_currency, [s.channel for s in sources]])
    what = (f"per day, channel and account of the days the build rebuilt, spend/impressions/clicks equal the raw tables "
            f"({', '.join(s.channel for s in sources)}), and spend in {reporting_currency} equals raw spend x ECB rate within rounding")
    if not mismatches:
        return CheckResult(asset, "reconciles_with_raw", "reconciliation", True, description=what)
    first = mismatches[0]
    return CheckResult(asset, "reconciles_with_raw", "reconciliation", False, failing_rows=len(mismatches),
                       sample=_jsonable(mismatches),
                       description=f"{len(mismatches):,} day/account totals differ from raw, e.g. {first['channel']} "
                                   f"{first['account_id']} {first['date_day']}; expected: {what}")


def landing_sessions_reconcile(con: duckdb.DuckDBPyConnection) -> CheckResult:
    asset = "marts/fct_landing_page_daily"
    mismatches = _rows(con, f"""
        WITH raw AS (SELECT account_id AS property_id, date_day, sum(sessions) AS sessions, sum(engaged_sessions) AS engaged
                     FROM {raw_table('ga4', 'traffic')} GROUP BY 1, 2),
             mart AS (SELECT property_id, date_day, sum(sessions) AS sessions, sum(engaged_sessions) AS engaged
                      FROM marts.fct_landing_page_daily GROUP BY 1, 2)
        SELECT coalesce(raw.property_id, mart.property_id) AS property_id, coalesce(raw.date_day, mart.date_day) AS date_day,
               raw.sessions AS raw_sessions, mart.sessions AS mart_sessions, raw.engaged AS raw_engaged, mart.engaged AS mart_engaged
        FROM raw FULL OUTER JOIN mart USING (property_id, date_day)
        WHERE raw.sessions IS DISTINCT FROM mart.sessions OR raw.engaged IS DISTINCT FROM mart.engaged
        ORDER BY 1, 2""")
    what = "per day and property, sessions and engaged sessions equal raw GA4"
    if not mismatches:
        return CheckResult(asset, "sessions_reconcile_with_ga4", "reconciliation", True, description=what)
    return CheckResult(asset, "sessions_reconcile_with_ga4", "reconciliation", False, failing_rows=len(mismatches),
                       sample=_jsonable(mismatches), description=f"{len(mismatches):,} property-days differ: expected {what}")


def funnel_sessions_reconcile(con: duckdb.DuckDBPyConnection) -> CheckResult:
    """Per day and channel, the funnel's sessions equal the raw GA4 sessions
    whose source/medium belongs to the channel and whose campaign name is the
    utm_campaign of one of its campaigns that day (nothing counted twice,
    nothing lost). The days the build rebuilt (REBUILT_DAYS)."""
    asset = "marts/fct_conversion_funnel_daily"
    rebuilt = rebuilt_days_filter(con)
    mismatches = _rows(con, f"""
        WITH campaigns AS (SELECT DISTINCT date_day, channel, utm_campaign FROM marts.fct_ad_performance_daily
                           WHERE utm_campaign IS NOT NULL AND {rebuilt}),
             raw AS (
                SELECT t.date_day, m.channel, sum(t.sessions)::DOUBLE AS sessions
                FROM {raw_table('ga4', 'traffic')} AS t
                JOIN main.ga4_source_channels AS m
                  ON m.session_source = lower(t.session_source) AND m.session_medium = lower(t.session_medium)
                JOIN campaigns AS c
                  ON c.date_day = t.date_day AND c.channel = m.channel AND c.utm_campaign = t.session_campaign_name
                GROUP BY 1, 2),
             mart AS (SELECT date_day, channel, sum(sessions) AS sessions, count(*) AS mart_rows
                      FROM marts.fct_conversion_funnel_daily WHERE {rebuilt} GROUP BY 1, 2)
        SELECT coalesce(raw.date_day, mart.date_day) AS date_day, coalesce(raw.channel, mart.channel) AS channel,
               raw.sessions AS raw_sessions, mart.sessions AS mart_sessions
        FROM raw FULL OUTER JOIN mart USING (date_day, channel)
        WHERE abs(coalesce(raw.sessions, 0) - coalesce(mart.sessions, 0)) > {SESSIONS_TOLERANCE_PER_ROW} * coalesce(mart.mart_rows, 1)
        ORDER BY 1, 2""")
    what = ("per day and channel of the days the build rebuilt, funnel sessions equal the raw GA4 sessions of the "
            "channel's campaigns' utm_campaign")
    if not mismatches:
        return CheckResult(asset, "sessions_reconcile_with_ga4", "reconciliation", True, description=what)
    return CheckResult(asset, "sessions_reconcile_with_ga4", "reconciliation", False, failing_rows=len(mismatches),
                       sample=_jsonable(mismatches), description=f"{len(mismatches):,} channel-days differ: expected {what}")
