-- One row per advertiser x campaign x advertiser-local day (stat_time_day).
-- Amounts are in the advertiser's currency. TikTok's "-" (not available)
-- stays null, never zero. TikTok's `clicks` are destination clicks, so they
-- are also the link clicks; conversions are complete payments (purchases,
-- like Meta's canonical purchase), `optimization_conversions` keeps TikTok's
-- `conversion` (the campaign's own optimisation event).
with source as (
    select * from {{ source('raw_tiktok_ads', 'campaign_daily') }}
),

renamed as (
    select
        date_day,
        account_id,
        campaign_id,
        campaign_name,
        cast(spend as decimal(18, 6)) as spend_local,
        impressions,
        reach,
        clicks,
        clicks as link_clicks,
        cast(complete_payment as decimal(18, 2)) as conversions,
        cast(complete_payment_value as decimal(18, 6)) as conversion_value_local,
        conversion as optimization_conversions,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id, date_day order by _synced_at desc) = 1
)

select * from final
