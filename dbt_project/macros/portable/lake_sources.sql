{#- On Spark, every dbt source is a table over its directory of the Parquet
    lake that `socialmart export --raw` writes (orchestration/lake.py):
    var('raw_lake')/<channel>/<stream>, the pipeline's own tables under
    _socialmart/. Months are directories (month=YYYY-MM), read recursively so
    that they never become a column. Run as an on-run-start hook; on DuckDB the
    sources are the raw tables of build.duckdb and this does nothing. -#}
{% macro lake_sources() %}
    {%- if target.type == 'spark' and execute -%}
        {%- set lake = var('raw_lake', none) -%}
        {%- if lake is none -%}
            {{ exceptions.raise_compiler_error("the spark target reads its sources from the Parquet lake of `socialmart export --raw`: pass --vars '{raw_lake: DIR}'") }}
        {%- endif -%}
        {%- for node in graph.sources.values() -%}
            {%- set directory = node.source_name | replace('raw_', '', 1) if node.source_name.startswith('raw_') else node.schema -%}
            {%- set location = lake.rstrip('/') ~ '/' ~ directory ~ '/' ~ node.identifier -%}
            {% do run_query('create database if not exists ' ~ node.schema) %}
            {% do run_query('drop table if exists ' ~ node.schema ~ '.' ~ node.identifier) %}
            {% do run_query("create table " ~ node.schema ~ "." ~ node.identifier ~ " using parquet options (path '" ~ location ~ "', recursiveFileLookup 'true')") %}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
