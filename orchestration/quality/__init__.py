"""The audit between build and publish: every check that stands between a
wrong number and a dashboard.

- `expectations`: Great Expectations suites, in code, on every mart and on the
  raw rows this run landed (logic and ranges: spend >= 0, clicks <= impressions,
  rates in [0, 1], ISO currencies, no future days, keys not null).
- `audits`: SQL checks GX does not express well: reconciliation of the marts
  with the raw tables, raw key uniqueness, missing days, quarantined records,
  schema drift, freshness against each source's lag, volume anomalies.
- `drift`: which wire fields each stream has sent, recorded at landing.
- `results`: every outcome (dbt tests included) as a row of
  `_socialmart.check_results`; the publish step refuses to run while a blocking
  check of the run failed, and copies the run's results into the BI file.
- `validation_report`: the HTML page of the last run's checks.

Dagster wiring (each check an asset check on the asset it guards) is in
`orchestration/defs/quality.py`.
"""
