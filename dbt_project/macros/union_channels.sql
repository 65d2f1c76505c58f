{#- One select per channel's staging model of an entity, in one column
    contract: every column cast to its contract type, so a channel whose API
    lacks a measure contributes a typed null (its staging selects null). -#}
{% macro union_channels(entity, channels, columns) -%}
{%- for channel in channels %}
select
    '{{ channel }}' as channel,
    {%- for name, type in columns.items() %}
    {{ name }}::{{ type }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref('stg_' ~ channel ~ '__' ~ entity) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- endmacro %}
