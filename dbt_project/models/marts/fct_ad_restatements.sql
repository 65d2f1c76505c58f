-- Attribution-aware history: for each ad campaign-day, every version of its
-- spend and conversions as successive pulls restated them, and the change from
-- the version before. version 1 is the first pull that saw the day. Raw keeps
-- a version per pull that changed any of the row's values; a version here is
-- a change of spend, conversions or conversion value (a restated reach alone
-- is not one). Campaign-days the current data no longer has are left out.
{%- set measures = ['spend_local', 'conversions', 'conversion_value_local'] %}
{%- set types = union_contract('ad_campaign_daily_versions') %}
{%- set campaign_day_pulls = 'partition by date_day, channel, account_id, campaign_id order by _synced_at' %}
with pulls as (
    select
        v.date_day,
        v.channel,
        v.account_id,
        v.campaign_id,
        c.account_timezone,
        c.account_currency,
        v.spend_local,
        v.conversions,
        v.conversion_value_local,
        v._synced_at
    from {{ ref('int_ads__campaign_daily_versions') }} as v
    inner join {{ ref('int_ads__campaign_daily') }} as c
        on c.date_day = v.date_day
        and c.channel = v.channel
        and c.account_id = v.account_id
        and c.campaign_id = v.campaign_id
),

compared as (
    select
        *,
        {%- for m in measures %}
        lag({{ m }}) over w as pulled_{{ m }},
        {%- endfor %}
        row_number() over w as pull
    from pulls
    window w as ({{ campaign_day_pulls }})
),

versions as (
    select * from compared
    where pull = 1
        {%- for m in measures %}
        or {{ m }} is distinct from pulled_{{ m }}
        {%- endfor %}
),

numbered as (
    select
        *,
        row_number() over w as version,
        count(*) over (partition by date_day, channel, account_id, campaign_id) as versions_total,
        {%- for m in measures %}
        lag({{ m }}) over w as previous_{{ m }},
        {%- endfor %}
        lead(_synced_at) over w as superseded_synced_at
    from versions
    window w as ({{ campaign_day_pulls }})
),

final as (
    select
        date_day,
        channel,
        account_id,
        campaign_id,
        cast(version as integer) as version,
        cast(versions_total as integer) as versions_total,
        superseded_synced_at is null as is_current,
        {{ utc_timestamp('_synced_at') }} as recorded_at,
        {{ utc_timestamp('superseded_synced_at') }} as superseded_at,
        account_timezone,
        account_currency,
        {%- for m in measures %}
        cast({{ m }} as {{ types[m] }}) as {{ m }},
        {%- endfor %}
        {%- for m in measures %}
        cast({{ m }} - previous_{{ m }} as {{ types[m] }}) as {{ m }}_change{{ "," if not loop.last }}
        {%- endfor %}
    from numbered
)

select * from final
