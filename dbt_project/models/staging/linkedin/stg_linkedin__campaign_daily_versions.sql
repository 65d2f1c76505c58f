-- Every version of a campaign-day's spend and conversions as successive pulls
-- restated them (raw campaign_daily__versions, append-only), for
-- fct_ad_restatements; the same measures as stg_linkedin__campaign_daily.
with source as (
    select * from {{ source('raw_linkedin', 'campaign_daily__versions') }}
),

final as (
    select
        date_day,
        account_id,
        campaign_id,
        cast(cost_in_local_currency as decimal(18, 6)) as spend_local,
        cast(external_website_conversions as decimal(18, 2)) as conversions,
        cast(conversion_value_in_local_currency as decimal(18, 6)) as conversion_value_local,
        _synced_at
    from source
)

select * from final
