{#- Daily facts built incrementally: a nightly rebuilds only the days its
    pulls landed, not the whole history (issue 15). The window reaches dbt
    through the pipeline's own tables, not run-varying --vars, so dbt keeps
    its partial parse from run to run:
    - _socialmart.landed_windows: every window the ingest landed, with when;
    - _socialmart.transform_state: the newest landing the last successful
      build covered (written by the transform step, orchestration/defs/transform.py,
      after the build succeeds: a failed build leaves it, so the next build
      covers those days again), and when that build finished (attributes
      changed after it: days_with_changed_attributes).
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
    select distinct cast(unnest(generate_series(window_start, window_end, interval 1 day)) as date) as date_day
    from {{ source('pipeline', 'landed_windows') }}
    where channel || '.' || stream in ({% for s in streams %}'{{ s }}'{{ ", " if not loop.last }}{% endfor %})
        and not is_snapshot
        and synced_at > {{ last_successful_build('built_through') }}
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

{#- The moment a column of _socialmart.transform_state names (built_through:
    the newest landing the last successful build covered; built_at: when that
    build finished), or -infinity before the first successful build. -#}
{% macro last_successful_build(column) -%}
    {%- set state = load_relation(source('pipeline', 'transform_state')) -%}
    {%- if state is none -%}
    '-infinity'::timestamptz
    {%- else -%}
    (select coalesce(max({{ column }}), '-infinity'::timestamptz) from {{ state }})
    {%- endif -%}
{%- endmacro %}

{#- The days of a campaign-grain daily fact ({{ this }}) whose rows carry
    account or campaign attributes changed since the last successful build (a
    renamed campaign or account, a new utm override, another
    reporting.currency: int_ads__attribute_changes). Rebuilt with the landed
    days, so an incremental build always equals a full one; the fact is read
    only for the accounts and campaigns that changed, usually none. -#}
{% macro days_with_changed_attributes() -%}
    select distinct t.date_day
    from {{ this }} as t
    inner join (
        select channel, account_id, campaign_id
        from {{ ref('int_ads__attribute_changes') }}
        where changed_at > {{ last_successful_build('built_at') }}
    ) as changed
        on changed.channel = t.channel and changed.account_id = t.account_id
        -- an account's own row (no campaign_id) covers every campaign of the account
        and (changed.campaign_id is null or changed.campaign_id = t.campaign_id)
{%- endmacro %}
