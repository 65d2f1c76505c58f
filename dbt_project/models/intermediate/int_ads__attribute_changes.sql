-- When the attributes the daily ad facts copy onto their rows last changed:
-- one row per ad account (name, currency, time zone, and the reporting
-- currency the facts convert to; campaign_id null) and one per campaign
-- (name, utm_campaign). The incremental daily facts (macros/incremental_days.sql:
-- days_with_changed_attributes) rebuild the days of what changed since their
-- last successful build, so they equal a full build without reading their
-- whole history every night.
-- Each build compares the current attributes with the ones this table kept
-- from the build before; an account or campaign that no longer appears keeps
-- its row with null attributes (its fact rows lose them too): a change once,
-- not at every build. The table is
-- small (accounts + campaigns) and every build rewrites it whole: the
-- delete+insert key is the channel, and every channel it holds comes back.
{%- if target.type == 'duckdb' %}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='channel', on_schema_change='fail') }}
{%- else %}
{{ config(materialized='table') }}
{%- endif %}
{%- set attributes = ['account_name', 'account_currency', 'account_timezone', 'reporting_currency',
                      'campaign_name', 'utm_campaign'] %}
with current_attributes as (
    select
        channel,
        account_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        account_name,
        account_currency,
        account_timezone,
        '{{ var("reporting_currency") }}' as reporting_currency,
        cast(null as {{ dbt.type_string() }}) as campaign_name,
        cast(null as {{ dbt.type_string() }}) as utm_campaign
    from {{ ref('int_ads__accounts') }}
    union all
    select
        channel,
        account_id,
        campaign_id,
        null as account_name,
        null as account_currency,
        null as account_timezone,
        null as reporting_currency,
        campaign_name,
        utm_campaign
    from {{ ref('int_ads__campaigns') }}
),

{%- if is_incremental() %}

compared as (
    select
        coalesce(c.channel, p.channel) as channel,
        coalesce(c.account_id, p.account_id) as account_id,
        coalesce(c.campaign_id, p.campaign_id) as campaign_id,
        {%- for a in attributes %}
        c.{{ a }},
        {%- endfor %}
        case
            when p.channel is not null
                {%- for a in attributes %}
                and not (c.{{ a }} is distinct from p.{{ a }})
                {%- endfor %}
            then p.changed_at
            else {{ dbt.current_timestamp() }}
        end as changed_at
    from current_attributes as c
    full outer join {{ this }} as p
        on p.channel = c.channel and p.account_id = c.account_id
        and not (p.campaign_id is distinct from c.campaign_id)
),

{%- else %}

compared as (
    select *, {{ dbt.current_timestamp() }} as changed_at
    from current_attributes
),

{%- endif %}

final as (
    select
        channel,
        account_id,
        campaign_id,
        {{ attributes | join(', ') }},
        changed_at
    from compared
)

select * from final
