-- Attribution-aware history: for each ad campaign-day, every version of its
-- spend and conversions as successive pulls restated it, and the change from
-- the version before. version 1 is the first pull that saw the day.
with versions as (
    select
        date_day,
        channel,
        account_id,
        campaign_id,
        account_timezone,
        account_currency,
        spend_local,
        conversions,
        conversion_value_local,
        dbt_valid_from as recorded_at,
        dbt_valid_to as superseded_at
    from {{ ref('snap_ad_campaign_daily') }}
),

numbered as (
    select
        *,
        row_number() over w as version,
        count(*) over (partition by date_day, channel, account_id, campaign_id) as versions_total,
        lag(spend_local) over w as previous_spend_local,
        lag(conversions) over w as previous_conversions,
        lag(conversion_value_local) over w as previous_conversion_value_local
    from versions
    window w as (partition by date_day, channel, account_id, campaign_id order by recorded_at)
),

final as (
    select
        date_day,
        channel,
        account_id,
        campaign_id,
        version::integer as version,
        versions_total::integer as versions_total,
        superseded_at is null as is_current,
        recorded_at,
        superseded_at,
        account_timezone,
        account_currency,
        spend_local::decimal(18, 6) as spend_local,
        conversions::decimal(18, 2) as conversions,
        conversion_value_local::decimal(18, 6) as conversion_value_local,
        (spend_local - previous_spend_local)::decimal(18, 6) as spend_local_change,
        (conversions - previous_conversions)::decimal(18, 2) as conversions_change,
        (conversion_value_local - previous_conversion_value_local)::decimal(18, 6) as conversion_value_local_change
    from numbered
)

select * from final
