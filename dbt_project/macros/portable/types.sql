{#- Engine-specific type names and time-zone functions, dispatched per
    adapter (dbt's cross-database pattern: `<adapter>__<name>`, else
    `default__<name>`). Models use these, or dbt's own type_string(),
    type_bigint(), ..., never a type name only one engine knows
    (tests/dbt/test_portable_sql.py enforces it). -#}

{#- An instant in time. DuckDB: TIMESTAMPTZ; Spark's TIMESTAMP is one already. -#}
{% macro type_timestamptz() %}{{ return(adapter.dispatch('type_timestamptz', 'socialmart')()) }}{% endmacro %}
{% macro default__type_timestamptz() %}timestamptz{% endmacro %}
{% macro spark__type_timestamptz() %}timestamp{% endmacro %}

{#- An instant as the UTC wall-clock TIMESTAMP of the contracts' `timestamp`
    columns. DuckDB's cast would use the session time zone; Spark's TIMESTAMP
    is the instant itself. -#}
{% macro utc_timestamp(expression) %}{{ return(adapter.dispatch('utc_timestamp', 'socialmart')(expression)) }}{% endmacro %}
{% macro default__utc_timestamp(expression) %}timezone('UTC', {{ expression }}){% endmacro %}
{% macro spark__utc_timestamp(expression) %}{{ expression }}{% endmacro %}
