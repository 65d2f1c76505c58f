{#- `expression` looked up in `mapping` (value -> result), as a simple CASE:
    a platform's own type names mapped to a shared taxonomy; an unmapped
    value gives null. -#}
{% macro case_lookup(expression, mapping) -%}
case {{ expression }}
    {%- for value, result in mapping.items() %}
            when '{{ value }}' then '{{ result }}'
    {%- endfor %}
        end
{%- endmacro %}
