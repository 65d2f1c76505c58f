{#- A number as text with `places` decimals, for dim_account_family_monthly's
    pattern_rule ("n/a" when null). -#}
{% macro matrix_number(expression, places=2) -%}
    coalesce(cast(round({{ expression }}, {{ places }}) as {{ dbt.type_string() }}), 'n/a')
{%- endmacro %}
