"""socialmart's benchmarks: `make bench` (or `python -m bench`) writes bench/RESULTS.md.

Sections, each in its own module:
- ingest:   rows/s from the API sandbox into DuckDB, socialmart against dlt
            (default and fastest setups) and a bare floor, plus the sandbox's
            own serving rate;
- nightly:  the nightly run's wall time over 90 days of history against 3 years;
- dbt:      a full `dbt build` of every mart at 1M, 10M and 50M raw ad rows:
            time and peak memory;
- overhead: the nightly path through Dagster + dbt against the same pulls and
            the same compiled SQL run directly.

Benchmarks are measurements, not tests: nothing here asserts a speed. CI runs
only a tiny smoke version (tests/bench/).
"""
