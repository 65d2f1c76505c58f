"""Great Expectations suites, defined here in code and versioned with it.

One suite per mart (all rows) and one per KPI raw stream (the rows this run
landed: the boundary where an API's bad number enters), the raw ones
declared on each connector's streams (`Stream.expectations`, in the rule
specs below) so a new channel brings its own. Each suite is built
from a few declarative rules so a reader sees the business rule, not GX
boilerplate:

    Rule("nonnegative", "spend")             spend >= 0
    Rule("at_most", "clicks", "impressions")  clicks <= impressions
    Rule("rate", "ctr")                       0 <= ctr <= 1
    Rule("currency", "account_currency")      an ISO 4217 code
    Rule("not_future", "date_day")            not after today (+1 day for zones ahead of ours)

Value rules only: keys, grain and relationships are dbt tests, and the raw
tables' keys are enforced at landing (a record without them is quarantined);
the README's "Which check goes where" says why.

Validation runs on a pandas DataFrame read from DuckDB through an ephemeral GX
context; failing rows are reported by their grain columns.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import logging
import math
import os
import sys
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from connectors import CONNECTORS
from orchestration.landing import quote, raw_asset_name, raw_table
from orchestration.quality.audits import rebuilt_days_filter
from orchestration.quality.results import SAMPLE_ROWS, CheckResult

# Active ISO 4217 currency codes (2025 list; precious metals and test codes excluded).
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split())


RULE_KINDS = ("nonnegative", "positive", "rate", "at_most", "currency", "not_future")
# Rows validated at a time: DuckDB vectors of 2,048 rows, so about 500,000.
CHUNK_VECTORS = 256


@dataclass(frozen=True)
class Rule:
    kind: str  # one of RULE_KINDS
    column: str
    other: str | None = None  # at_most: the column that bounds `column`

    def expectation(self, today: dt.date) -> Any:
        gxe = _import_gx().expectations

        if self.kind == "nonnegative":
            return gxe.ExpectColumnValuesToBeBetween(column=self.column, min_value=0)
        if self.kind == "positive":
            return gxe.ExpectColumnValuesToBeBetween(column=self.column, min_value=0, strict_min=True)
        if self.kind == "rate":
            return gxe.ExpectColumnValuesToBeBetween(column=self.column, min_value=0, max_value=1)
        if self.kind == "at_most":
            return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=self.other, column_B=self.column, or_equal=True, ignore_row_if="either_value_is_missing"
            )
        if self.kind == "currency":
            return gxe.ExpectColumnValuesToBeInSet(column=self.column, value_set=sorted(ISO_4217))
        if self.kind == "not_future":
            return gxe.ExpectColumnValuesToBeBetween(column=self.column, max_value=pd.Timestamp(today + dt.timedelta(days=1)))
        raise ValueError(f"unknown rule kind {self.kind!r}")

    def describe(self) -> str:
        return {
            "nonnegative": f"{self.column} >= 0",
            "positive": f"{self.column} > 0",
            "rate": f"{self.column} within [0, 1]",
            "at_most": f"{self.column} <= {self.other}",
            "currency": f"{self.column} is an ISO 4217 currency code",
            "not_future": f"{self.column} is not in the future",
        }[self.kind]


@dataclass(frozen=True)
class Suite:
    table: str  # "marts.fct_ad_performance_daily" or "raw_meta_ads.insights"
    grain: tuple[str, ...]  # columns that name a failing row
    rules: tuple[Rule, ...]
    date_column: str | None = None  # raw suites: the column the landed window is on
    # Incremental daily facts: the days the last build rebuilt (audits.REBUILT_DAYS), not the whole history.
    rebuilt_days_only: bool = False


def _rules(*specs: str) -> tuple[Rule, ...]:
    """"nonnegative: spend, impressions" / "at_most: clicks <= impressions" -> Rules."""
    rules: list[Rule] = []
    for spec in specs:
        kind, _, columns = spec.partition(":")
        if kind not in RULE_KINDS:
            raise ValueError(f"expectation rule {spec!r}: unknown kind {kind!r} (known: {', '.join(RULE_KINDS)})")
        for column in (c.strip() for c in columns.split(",")):
            if kind == "at_most":
                low, high = (part.strip() for part in column.split("<="))
                rules.append(Rule(kind, low, high))
            else:
                rules.append(Rule(kind, column))
    return tuple(rules)


AD_DAY = ("date_day", "channel", "account_id", "campaign_id")

MART_SUITES = (
    Suite("marts.fct_ad_performance_daily", AD_DAY, _rules(
        "nonnegative: spend, spend_local, impressions, reach, clicks, link_clicks, conversions, conversion_value",
        "positive: fx_rate",
        "at_most: clicks <= impressions, link_clicks <= clicks",
        "rate: ctr",
        "currency: account_currency, reporting_currency",
        "not_future: date_day",
    ), rebuilt_days_only=True),
    Suite("marts.fct_conversion_funnel_daily", AD_DAY, _rules(
        "nonnegative: spend, impressions, clicks, sessions, engaged_sessions, key_events, revenue, platform_conversions",
        "at_most: clicks <= impressions, engaged_sessions <= sessions",
        "rate: bounce_rate",
        "currency: reporting_currency",
        "not_future: date_day",
    ), rebuilt_days_only=True),
    Suite("marts.fct_landing_page_daily", ("date_day", "property_id", "landing_page", "session_source", "session_medium"), _rules(
        "nonnegative: sessions, engaged_sessions, key_events, revenue",
        "at_most: engaged_sessions <= sessions",
        "rate: bounce_rate",
        "currency: reporting_currency",
        "not_future: date_day",
    )),
    Suite("marts.fct_campaign_summary", ("channel", "account_id", "campaign_id"), _rules(
        "nonnegative: spend, impressions, clicks, conversions, conversion_value, sessions, key_events, web_revenue",
        "at_most: clicks <= impressions",
        "rate: ctr",
        "currency: reporting_currency",
        "not_future: first_day, last_day",
    )),
    Suite("marts.fct_audience_daily", ("date_day", "channel", "account_id"), _rules(
        "nonnegative: followers, followers_lost, impressions, views, reach, engagements, posts_published, paid_spend, paid_impressions, paid_clicks",
        "at_most: paid_clicks <= paid_impressions",
        "not_future: date_day",
    )),
    Suite("marts.fct_content_performance", ("channel", "post_id"), _rules(
        "nonnegative: impressions, views, reach, likes, comments, shares, saves, clicks, engagements, engagement_rate",
        "not_future: metrics_as_of",
    )),
    Suite("marts.fct_content_daily", ("date_day", "channel", "post_id"), _rules(
        "nonnegative: impressions, views, reach, likes, comments, shares, saves, clicks, engagements",
        "not_future: date_day",
    )),
    Suite("marts.fct_kpi_weekly", ("iso_year_week", "channel"), _rules(
        "nonnegative: followers, impressions, clicks, engagements, sessions, engaged_sessions, spend, key_events, conversions, conversion_value, web_revenue",
        "at_most: clicks <= impressions, engaged_sessions <= sessions",
        "rate: ctr",
        "currency: reporting_currency",
        "not_future: iso_week_start",
    )),
    Suite("marts.dim_audience_demographics", ("snapshot_date", "channel", "account_id", "dimension", "bucket"), _rules(
        "nonnegative: followers", "rate: share", "not_future: snapshot_date",
    )),
)

# One suite per raw stream that declares value rules (Stream.expectations);
# a failing row is named by the stream's key.
RAW_SUITES = tuple(
    Suite(f"raw_{name}.{s.name}", s.key, _rules(*s.expectations), s.date_column)
    for name, c in CONNECTORS.items() for s in c.streams.values() if s.expectations
)


def _import_gx() -> Any:
    """great_expectations, imported without what the audits never use:

    - pyspark, hidden while GX is first imported. GX probes for it and,
      where it is installed (the Spark target's engine), imports
      pyspark.sql.connect and pyspark.ml: half a second a process; and
      pyspark.sql.connect, under a __main__ without a file (`python -c`,
      pytest-xdist's workers) and lacking Spark Connect's extras, calls
      sys.exit(0) from its doctest runner. The audits validate pandas frames,
      never Spark ones; dbt-spark later in the process still finds pyspark.
    - scipy.stats, loaded lazily (importlib's LazyLoader): GX imports it for
      its distribution expectations (KL divergence, KS tests), none of
      which a suite here uses: a quarter of GX's import (3.2-4.0 s with it,
      2.4-2.5 s without, on the 2-core machine). It loads in full at its
      first attribute use, as if imported normally."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    if "great_expectations" not in sys.modules:
        _defer_scipy_stats()
        hidden = sys.modules.get("pyspark")
        sys.modules["pyspark"] = None  # `import pyspark` raises ImportError: GX takes it as absent
        try:
            import great_expectations  # noqa: F401
            import great_expectations.expectations  # noqa: F401
        finally:
            if hidden is None:
                del sys.modules["pyspark"]
            else:
                sys.modules["pyspark"] = hidden
    import great_expectations as gx

    return gx


def _defer_scipy_stats() -> None:
    """scipy.stats as a module that loads at its first attribute use. GX's
    `from scipy import stats` takes the package's attribute; setting it there
    too keeps scipy's own lazy `__getattr__` (which would load it at once)
    out of the way."""
    if "scipy.stats" in sys.modules:
        return
    import scipy

    spec = importlib.util.find_spec("scipy.stats")
    spec.loader = importlib.util.LazyLoader(spec.loader)
    stats = importlib.util.module_from_spec(spec)
    sys.modules["scipy.stats"] = stats
    spec.loader.exec_module(stats)
    scipy.stats = stats


def validate(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    today: dt.date,
    windows: list[tuple[str, dt.date | None, dt.date | None]] | None = None,
) -> CheckResult:
    """Run one suite; raw suites see only `windows` (account, start, end): the
    rows this run landed. Returns one CheckResult for the whole suite."""
    schema, table = suite.table.split(".")
    # The asset checked: a raw table's asset name, or the mart's schema/table.
    asset = raw_asset_name(schema.removeprefix("raw_"), table) if schema.startswith("raw_") else f"{schema}/{table}"
    result = _read(con, schema, table, suite, windows)
    described = "; ".join(rule.describe() for rule in suite.rules)
    # In chunks: a first build's facts can hold tens of millions of rows,
    # which as one pandas frame would take tens of GiB.
    validated, by_rule = 0, {}
    while result is not None and not (frame := result.fetch_df_chunk(CHUNK_VECTORS)).empty:
        validated += len(frame)
        for failure in _run_gx(suite, frame, today):
            merged = by_rule.setdefault(failure["rule"], {**failure, "unexpected": 0, "sample": []})
            merged["unexpected"] += failure["unexpected"]
            merged["sample"] = (merged["sample"] + failure["sample"])[:SAMPLE_ROWS]
    if not validated:
        return CheckResult(asset, "expectations", "expectation", True,
                           description=f"no rows to validate ({described})")
    failures = list(by_rule.values())
    if not failures:
        rows = f"{validated:,} rows" + (" (the days the build rebuilt)" if suite.rebuilt_days_only else "")
        return CheckResult(asset, "expectations", "expectation", True,
                           description=f"{len(suite.rules)} expectations on {rows}: {described}")
    worst = max(f["unexpected"] for f in failures)
    why = "; ".join(f"{f['rule']}: {f['unexpected']:,} of {validated:,} rows fail" for f in failures)
    sample = [row for f in failures for row in f["sample"]][:SAMPLE_ROWS]
    return CheckResult(asset, "expectations", "expectation", False, description=why, failing_rows=worst, sample=sample)


def _read(con, schema: str, table: str, suite: Suite, windows) -> duckdb.DuckDBPyConnection | None:
    """The suite's rows as a pending result (fetched in chunks), or None: no table or no window."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0]
    if not exists:
        return None
    columns = sorted({*suite.grain, *(r.column for r in suite.rules), *(r.other for r in suite.rules if r.other)})
    rates = {r.column for r in suite.rules if r.kind == "rate"}
    # pandas reads NULL and NaN alike, and GX skips both as missing: a NaN
    # ratio is read as infinity instead, which its [0, 1] rule refuses.
    select = ", ".join(
        f"CASE WHEN isnan(CAST({quote(c)} AS DOUBLE)) THEN 'Infinity'::DOUBLE ELSE {quote(c)} END AS {quote(c)}"
        if c in rates else quote(c)
        for c in columns
    )
    if windows is None:
        rows = rebuilt_days_filter(con) if suite.rebuilt_days_only else "TRUE"
        return con.execute(f"SELECT {select} FROM {quote(schema)}.{quote(table)} WHERE {rows}")
    if not windows:
        return None
    target = raw_table(schema.removeprefix("raw_"), table)
    if suite.date_column:
        clauses = " OR ".join(f"(account_id = ? AND {quote(suite.date_column)} BETWEEN ? AND ?)" for _ in windows)
        params = [v for account, start, end in windows for v in (account, start, end)]
    else:
        clauses = " OR ".join("account_id = ?" for _ in windows)
        params = [account for account, _, _ in windows]
    return con.execute(f"SELECT {select} FROM {target} WHERE {clauses}", params)


@functools.cache
def _context() -> Any:
    """The process's ephemeral GX context (creating one costs a temporary
    directory and a few hundred milliseconds)."""
    gx = _import_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


@functools.cache
def _registered(suite: Suite, today: dt.date) -> tuple[Any, Any, dict[str, Rule]]:
    """The suite registered once per process and day in the GX context: its
    whole-dataframe batch definition, its GX suite, and the rule behind each
    expectation id. Each validation passes its own dataframe as the batch
    parameter; deleting and adding the data source and suite for every
    validation cost GX a YAML dump of its context per change and the building
    of every expectation again (a third of a repeated validation's time). In
    a long-lived process (the code server) each day adds its own asset and
    suite: a few dozen small objects a day.

    The suite is added with its expectations, in one write to GX's store:
    adding them one by one to a stored suite re-reads and re-serializes the
    whole suite per expectation (a run's 19 suites: 148 store updates)."""
    gx = _import_gx()
    context = _context()
    name = suite.table.replace(".", "__")
    sources = context.data_sources.all()
    source = sources[name] if name in sources else context.data_sources.add_pandas(name)
    batch_definition = source.add_dataframe_asset(f"{name}@{today}").add_batch_definition_whole_dataframe("landed")
    # The not-in-the-future rule names the day: one GX suite per suite and day.
    expectations = [rule.expectation(today) for rule in suite.rules]
    gx_suite = context.suites.add(gx.ExpectationSuite(name=f"{name}@{today}", expectations=expectations))
    # The store keeps the order and gives each expectation its id.
    stored = gx_suite.expectations
    if len(stored) != len(suite.rules):
        raise RuntimeError(f"{suite.table}: GX kept {len(stored)} of the suite's {len(suite.rules)} expectations")
    return batch_definition, gx_suite, {expectation.id: rule for expectation, rule in zip(stored, suite.rules, strict=True)}


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its numbers and days in the dtypes GX compares as whole
    columns (int64, float64, datetime64[ns]). With any other (DuckDB's
    INTEGER reads as int32, a DATE as datetime64[us], a nullable integer as
    Int32) GX's between-rules call a Python function per value: a 500k-row
    chunk of the ad fact took 3.8 s instead of 0.7 s, and a first audit of a
    50M-row history tens of minutes."""
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_integer_dtype(values.dtype) and values.dtype != np.int64:
            # Null as NaN, which GX skips as missing like any null; counts stay exact up to 2**53.
            frame[column] = values.astype(np.float64) if values.hasnans else values.astype(np.int64)
        elif values.dtype == object and values.map(lambda v: isinstance(v, dt.date)).any():
            frame[column] = pd.to_datetime(values)
        days = frame[column]
        if (pd.api.types.is_datetime64_dtype(days.dtype) and days.dtype != "datetime64[ns]"
                and days.dropna().between(pd.Timestamp.min, pd.Timestamp.max).all()):
            # Only where every day fits nanoseconds (years 1678-2261): a day beyond
            # stays as it is, compared value by value, and still fails its rule.
            frame[column] = days.astype("datetime64[ns]")
    return frame


def _run_gx(suite: Suite, frame: pd.DataFrame, today: dt.date) -> list[dict[str, Any]]:
    frame = _comparable(frame)
    batch_definition, gx_suite, by_config = _registered(suite, today)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    # Pass or fail first: SUMMARY's failing counts, samples and their grain
    # columns cost GX as much again for every expectation (a run's 19 suites:
    # 1.6 s against 3.1 s), and nearly every chunk passes. A failing chunk is
    # validated again for them.
    if batch.validate(gx_suite, result_format="BOOLEAN_ONLY").success:
        return []
    outcome = batch.validate(gx_suite, result_format={
        "result_format": "SUMMARY",
        "unexpected_index_column_names": list(suite.grain),
        "partial_unexpected_count": SAMPLE_ROWS,
    })
    failures = []
    for result in outcome.results:
        if result.success:
            continue
        rule = by_config[result.expectation_config.id]
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(f"{suite.table}: expectation {rule.describe()} could not run: "
                               f"{result.exception_info.get('exception_message')}")
        failures.append({
            "rule": rule.describe(),
            "unexpected": int(result.result.get("unexpected_count") or 0),
            "sample": [
                {**{k: _plain(v) for k, v in row.items()}, "violates": rule.describe()}
                for row in (result.result.get("partial_unexpected_index_list") or [])
            ],
        })
    return failures


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"  # NaN reads as infinity (see _read); neither is JSON
    return value
