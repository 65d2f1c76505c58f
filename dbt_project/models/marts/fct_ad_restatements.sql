-- Attribution-aware history: for each ad campaign-day, every version of its
-- spend and conversions as successive pulls restated them, and the change from
-- the version before. version 1 is the first pull that saw the day. Raw keeps
-- a version per pull that changed any of the row's values; a version here is
-- a change of spend, conversions or conversion value (a restated reach alone
-- is not one). Campaign-days the current data no longer has are left out.
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
        row_number() over w as pull,
        lag(spend_local) over w as pulled_spend_local,
        lag(conversions) over w as pulled_conversions,
        lag(conversion_value_local) over w as pulled_conversion_value_local
    from pulls
    window w as (partition by date_day, channel, account_id, campaign_id order by _synced_at)
),

versions as (
    select * from compared
    where pull = 1
        or spend_local is distinct from pulled_spend_local
        or conversions is distinct from pulled_conversions
        or conversion_value_local is distinct from pulled_conversion_value_local
),

numbered as (
    select
        *,
        row_number() over w as version,
        count(*) over (partition by date_day, channel, account_id, campaign_id) as versions_total,
        lead(_synced_at) over w as superseded_synced_at,
        lag(spend_local) over w as previous_spend_local,
        lag(conversions) over w as previous_conversions,
        lag(conversion_value_local) over w as previous_conversion_value_local
    from versions
    window w as (partition by date_day, channel, account_id, campaign_id order by _synced_at)
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
        cast(spend_local as decimal(18, 6)) as spend_local,
        cast(conversions as decimal(18, 2)) as conversions,
        cast(conversion_value_local as decimal(18, 6)) as conversion_value_local,
        cast(spend_local - previous_spend_local as decimal(18, 6)) as spend_local_change,
        cast(conversions - previous_conversions as decimal(18, 2)) as conversions_change,
        cast(conversion_value_local - previous_conversion_value_local as decimal(18, 6)) as conversion_value_local_change
    from numbered
)

select * from final
