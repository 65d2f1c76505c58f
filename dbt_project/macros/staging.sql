{#- The shape of a staging model (DESIGN: source -> renamed -> final), written
    once: a model states only what is its own, the renames and casts of one
    raw table and that table's key. -#}

{#- "The latest pull wins": of the rows sharing `key` (a list of columns),
    the one synced last. Landing replaces a synced window, but an API that
    repeats a row, or a window pulled twice, must not double a figure. -#}
{% macro latest_row(key) -%}
qualify row_number() over (partition by {{ key | join(', ') }} order by _synced_at desc) = 1
{%- endmacro %}

{#- A 1:1 staging model of one raw table, called as a block whose body is
    the `renamed` select list over the raw columns:
        {% call stage(source('raw_x', 'posts'), latest_by=['post_id']) %} post_id, ..., _synced_at {% endcall %}
    Of each `latest_by` key (columns of the list) the latest row is kept,
    by the `_synced_at` landing adds to every raw row (so the list carries
    it). Without `latest_by` every row stays (the append-only
    `<stream>__versions` tables). -#}
{% macro stage(relation, latest_by=none) -%}
with source as (
    select * from {{ relation }}
),

renamed as (
    select
        {{ caller() | trim }}
    from source
),

final as (
    select * from renamed
    {%- if latest_by %}
    {{ latest_row(latest_by) }}
    {%- endif %}
)

select * from final
{%- endmacro %}
