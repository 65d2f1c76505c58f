{#- A var of the channel registry (`channels`, `unions`, `paid_channels`,
    `organic_channels`), which the pipeline passes to every dbt command with
    --vars (orchestration/dbt_vars.py); missing, the error says so. -#}
{% macro registry(name) -%}
{%- set value = var(name, none) -%}
{%- if value is none -%}
{{ exceptions.raise_compiler_error("dbt var '" ~ name ~ "' is missing: the channel registry is passed by the pipeline with --vars; run dbt by hand with --vars \"$(python -m orchestration.dbt_vars)\"") }}
{%- endif -%}
{{ return(value) }}
{%- endmacro %}
