-- One row per account x campaign x account-local day. Re-pulls replace rows
-- in raw, but should the API ever repeat a row the latest pull wins here.
with source as (
    select * from {{ source('raw_meta_ads', 'insights') }}
),

renamed as (
    select
        date_day,
        account_id,
        campaign_id,
        campaign_name,
        spend as spend_local,
        impressions,
        reach,
        clicks,
        link_clicks,
        conversion_action_type,
        conversions,
        conversion_value as conversion_value_local,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id, date_day order by _synced_at desc) = 1
)

select * from final
