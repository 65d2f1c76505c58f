{#- One select per channel feeding a union (var('unions')[union]: channel ->
    its model, passed by the orchestration from the connector registry), in
    the union's column contract (union_contract): every column cast to its
    contract type, so a channel whose API lacks a measure contributes a typed
    null (its model selects null). With no channel feeding the union, an
    empty relation of the same columns. -#}
{% macro union_channels(union) -%}
{%- set columns = union_contract(union) -%}
{%- set models = registry('unions').get(union, {}) -%}
{%- if not models %}
select
    null::{{ dbt.type_string() }} as channel,
    {%- for name, type in columns.items() %}
    null::{{ type }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
where false
{%- endif %}
{%- for channel, model in models.items() %}
select
    '{{ channel }}' as channel,
    {%- for name, type in columns.items() %}
    {{ name }}::{{ type }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- endmacro %}
