"""Dagster definitions, one module per layer: ingest, transform (dbt), publish."""
