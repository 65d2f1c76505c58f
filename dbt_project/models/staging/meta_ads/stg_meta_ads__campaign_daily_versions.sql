-- Every version of a campaign-day's spend and conversions as successive pulls
-- restated them (raw insights__versions, append-only), for fct_ad_restatements.
with source as (
    select * from {{ source('raw_meta_ads', 'insights__versions') }}
),

final as (
    select
        date_day,
        account_id,
        campaign_id,
        spend as spend_local,
        conversions,
        conversion_value as conversion_value_local,
        _synced_at
    from source
)

select * from final
