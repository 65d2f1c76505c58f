{#- Ratios are computed from sums at the row's grain; a zero or null
    denominator gives null, never an error or infinity. -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }})::double / nullif(({{ denominator }})::double, 0)
{%- endmacro %}
