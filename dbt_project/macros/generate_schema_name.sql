{#- Schemas are named by layer (staging, intermediate, marts), not prefixed by
    the target's schema: BI users query marts.fct_..., and raw_* are sources. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
