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

{#- `grain`: 'day' (the fact's date_day) or 'month' (its month_start: a
    monthly pre-aggregate rebuilds the months of the rebuilt days). -#}
{% macro daily_fact_config(streams, grain='day') -%}
    {%- if target.type == 'duckdb' -%}
        {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=grain_column(grain),
                  on_schema_change='fail', pre_hook="{{ delete_landed_days(" ~ streams | tojson ~ ", '" ~ grain ~ "') }}",
                  meta={'checked_days': {'streams': streams, 'changed_attributes': true, 'grain': grain}}) }}
    {%- else -%}
        {{ config(materialized='table') }}
    {%- endif -%}
{%- endmacro %}

{#- The days of every window of these streams ('channel.stream') landed since
    the last successful build: the days whose raw rows may have changed. -#}
{% macro landed_days_since_last_build(streams) -%}
    {#- No state yet (builds outside the pipeline): every landed day. -#}
    select distinct cast(unnest(generate_series(window_start, window_end, interval 1 day)) as date) as date_day
    from {{ resolved_relation('landed_windows', 'pipeline') }}
    where channel || '.' || stream in ({% for s in streams %}'{{ s }}'{{ ", " if not loop.last }}{% endfor %})
        and not is_snapshot
        and synced_at > {{ last_successful_build('built_through') }}
{%- endmacro %}

{#- Before an incremental build: remove the landed days whole, so that a day
    whose rows all vanished from the source (every campaign of it deleted)
    does not keep its old rows (delete+insert only replaces the days it has
    new rows for). -#}
{% macro delete_landed_days(streams, grain) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ grain_column(grain) }} in (
            select {{ grain_of('date_day', grain) }} from ({{ landed_days_since_last_build(streams) }}))
    {%- endif -%}
{%- endmacro %}

{#- The column a fact of this grain is keyed by, and the expression of a
    day's period at the grain. -#}
{% macro grain_column(grain) -%}
    {{ return({'day': 'date_day', 'month': 'month_start'}[grain]) }}
{%- endmacro %}

{% macro grain_of(day, grain) -%}
    {%- if grain == 'day' -%}
    {{ day }}
    {%- else -%}
    cast(date_trunc('{{ grain }}', {{ day }}) as date)
    {%- endif -%}
{%- endmacro %}

{#- The moment a column of _socialmart.transform_state names (built_through:
    the newest landing the last successful build covered; built_at: when that
    build finished), or -infinity before the first successful build. -#}
{% macro last_successful_build(column) -%}
    {%- set state = load_relation(resolved_relation('transform_state', 'pipeline')) -%}
    {%- if state is none -%}
    '-infinity'::timestamptz
    {%- else -%}
    (select coalesce(max({{ column }}), '-infinity'::timestamptz) from {{ state }})
    {%- endif -%}
{%- endmacro %}

{#- The days of ad rows that carry account or campaign attributes changed
    since the last successful build (a renamed campaign or account, a new utm
    override, another reporting.currency: int_ads__attribute_changes). Rebuilt
    with the landed days, so an incremental build always equals a full one.
    Read from int_ads__campaign_daily, which holds every campaign-day the
    daily ad facts have, and only for the accounts and campaigns that changed
    (usually none). -#}
{% macro days_with_changed_attributes() -%}
    select distinct t.date_day
    from {{ resolved_relation('int_ads__campaign_daily') }} as t
    inner join (
        select channel, account_id, campaign_id
        from {{ resolved_relation('int_ads__attribute_changes') }}
        where changed_at > {{ last_successful_build('built_at') }}
    ) as changed
        on changed.channel = t.channel and changed.account_id = t.account_id
        -- an account's own row (no campaign_id) covers every campaign of the account
        and (changed.campaign_id is null or changed.campaign_id = t.campaign_id)
{%- endmacro %}

{#- In a daily fact's SQL: `with {{ rebuilt_days_cte(streams) }} x as (...
    {{ only_rebuilt_days() }})`. On an incremental build the days to rebuild
    are a CTE computed first (`materialized`: DuckDB then filters the staging
    models' latest-pull windows by day before windowing; given the days as a
    subquery it windowed the whole history first, 3.1 s against 0.17 s at 10M
    rows); a full build reads every day. -#}
{% macro rebuilt_days_cte(streams) -%}
    {%- if is_incremental() %}
rebuilt_days as materialized (
    {{ rebuilt_days(streams) }}
),
    {% endif -%}
{%- endmacro %}

{#- The filter on the days themselves, so DuckDB prunes rows as it scans (a
    month's expression per row, at 50M rows, took 9 s): for a monthly model,
    every day of the rebuilt days' months. -#}
{% macro only_rebuilt_days(grain='day') -%}
    {%- if is_incremental() and grain == 'day' -%}
    where date_day in (select date_day from rebuilt_days)
    {%- elif is_incremental() -%}
    where date_day in (
        select cast(unnest(generate_series({{ grain_of('date_day', grain) }},
            cast({{ grain_of('date_day', grain) }} + interval 1 {{ grain }} - interval 1 day as date), interval 1 day)) as date)
        from rebuilt_days)
    {%- endif -%}
{%- endmacro %}

{#- The days an incremental build of a daily ad fact rebuilds: those its
    streams landed since the last successful build and, unless
    changed_attributes is false, those of the accounts and campaigns whose
    attributes changed. With a day no data has (0001-01-01): DuckDB filters
    the staging windows by the set's values, and given an empty set it
    windowed every row instead (1.7 s against 0.03 s at 10M rows). -#}
{% macro rebuilt_days(streams, changed_attributes=true) -%}
    select cast('0001-01-01' as date) as date_day
    union
    {{ landed_days_since_last_build(streams) }}
    {%- if changed_attributes %}
    union
    {{ days_with_changed_attributes() }}
    {%- endif %}
{%- endmacro %}

{#- The data tests of the daily ad models check, on an incremental build, only
    the days the build rebuilt: the other days were checked when they were
    built and have not changed. A model opts in with its config's
    meta.checked_days: {streams: [...], changed_attributes: true|false,
    grain: 'day'|'month'} (daily_fact_config sets it; staging views of daily
    ad rows set it with changed_attributes false). Every row is checked on a
    first build, on a --full-refresh, off DuckDB (the facts are rebuilt whole
    there) and on models without the key. This replaces dbt's
    get_where_subquery, which every generic test calls on its model; a test's
    own `where` config still applies. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set days = none -%}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) if execute and model.attached_node else none -%}
    {%- set checked = tested.config.meta.get('checked_days') if tested else none -%}
    {%- if checked and target.type == 'duckdb' and not flags.FULL_REFRESH and load_relation(resolved_relation('transform_state', 'pipeline')) is not none
            and load_relation(relation) is not none -%}
        {%- set days = rebuilt_days(checked['streams'], checked['changed_attributes']) -%}
        {%- set grain = checked.get('grain', 'day') -%}
        {%- do conditions.append(grain_column(grain) ~ ' in (select ' ~ grain_of('date_day', grain) ~ ' from checked_days)') -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set checked_days_cte = ('with checked_days as materialized (' ~ days ~ ') ') if days is not none else '' -%}
        {%- do return('(' ~ checked_days_cte ~ 'select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- ref(name) ({{ this }} in the model itself), or source(source_name, name): in a data test's
    get_where_subquery, where a test may not name what it does not depend on,
    the relation is looked up in the graph instead. -#}
{% macro resolved_relation(name, source_name=none) -%}
    {%- if model.resource_type != 'test' -%}
        {%- if not source_name and name == model.name -%}
            {{ return(this) }}
        {%- endif -%}
        {{ return(source(source_name, name) if source_name else ref(name)) }}
    {%- endif -%}
    {%- if source_name -%}
        {%- for node in graph.sources.values() if node.source_name == source_name and node.name == name -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) }}
        {%- endfor -%}
    {%- else -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
        {%- endfor -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("no relation " ~ ((source_name ~ ".") if source_name else "") ~ name ~ " in the project") }}
{%- endmacro %}
