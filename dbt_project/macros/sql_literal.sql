{#- A var's value (a string or none) as a SQL varchar literal. -#}
{% macro sql_literal(value) -%}
{%- if value is none -%}null::{{ dbt.type_string() }}{%- else -%}'{{ value | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}
