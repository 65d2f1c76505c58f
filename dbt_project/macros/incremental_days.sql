{#- Daily facts built incrementally: a nightly rebuilds only the days its
    pulls landed, not the whole history (issue 15). The window reaches dbt
    through the pipeline's own tables, not run-varying --vars, so dbt keeps
    its partial parse from run to run:
    - _socialmart.landed_windows: every window the ingest landed, with when;
    - _socialmart.transform_state: the newest landing the last successful
      build covered (written by the transform step, orchestration/defs/transform.py,
      after the build succeeds: a failed build leaves it, so the next build
      covers those days again).
    On DuckDB the facts are `incremental` (delete+insert by day); elsewhere
    (dbt-spark) they fall back to a table rebuilt whole: the filters below
    only apply inside is_incremental(). -#}

{% macro daily_fact_config(streams, key='date_day') -%}
    {%- if target.type == 'duckdb' -%}
        {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=key,
                  on_schema_change='fail', pre_hook="{{ delete_landed_days(" ~ streams | tojson ~ ", '" ~ key ~ "') }}") }}
    {%- else -%}
        {{ config(materialized='table') }}
    {%- endif -%}
{%- endmacro %}

{#- The days of every window of these streams ('channel.stream') landed since
    the last successful build: the days whose raw rows may have changed. -#}
{% macro landed_days_since_last_build(streams) -%}
    {#- No state yet (builds outside the pipeline): every landed day. -#}
    {%- set state = load_relation(source('pipeline', 'transform_state')) %}
    select distinct cast(unnest(generate_series(window_start, window_end, interval 1 day)) as date) as date_day
    from {{ source('pipeline', 'landed_windows') }}
    where channel || '.' || stream in ({% for s in streams %}'{{ s }}'{{ ", " if not loop.last }}{% endfor %})
        and not is_snapshot
        {%- if state is not none %}
        and synced_at > (select coalesce(max(built_through), '-infinity'::timestamptz) from {{ state }})
        {%- endif %}
{%- endmacro %}

{#- Before an incremental build: remove the landed days whole, so that a day
    whose rows all vanished from the source (every campaign of it deleted)
    does not keep its old rows (delete+insert only replaces the days it has
    new rows for). -#}
{% macro delete_landed_days(streams, date_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ date_column }} in ({{ landed_days_since_last_build(streams) }})
    {%- endif -%}
{%- endmacro %}

{#- The days of a campaign-grain daily fact whose rows carry account or
    campaign attributes that no longer hold (a renamed campaign or account, a
    new utm override, another reporting.currency): rebuilt with the landed
    days, so an incremental build always equals a full one.
    `account_columns`: the fact's account columns -> dim_account's. -#}
{% macro days_with_outdated_attributes(account_columns) -%}
    select distinct t.date_day
    from {{ this }} as t
    left join {{ ref('dim_account') }} as a on a.channel = t.channel and a.account_id = t.account_id
    left join {{ ref('int_ads__campaigns') }} as c
        on c.channel = t.channel and c.account_id = t.account_id and c.campaign_id = t.campaign_id
    where t.reporting_currency <> '{{ var("reporting_currency") }}'
        {%- for column, dim_column in account_columns.items() %}
        or t.{{ column }} is distinct from a.{{ dim_column }}
        {%- endfor %}
        or t.utm_campaign is distinct from c.utm_campaign
        -- A campaign the campaigns stream does not list keeps the name its daily rows carry.
        or (c.campaign_id is not null and t.campaign_name is distinct from c.campaign_name)
{%- endmacro %}
