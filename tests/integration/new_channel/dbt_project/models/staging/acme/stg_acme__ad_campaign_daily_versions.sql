-- Every version of a campaign-day as successive pulls restated it (raw
-- campaign_daily__versions, append-only): the restatement history contract.
with source as (
    select * from {{ source('raw_acme', 'campaign_daily__versions') }}
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
