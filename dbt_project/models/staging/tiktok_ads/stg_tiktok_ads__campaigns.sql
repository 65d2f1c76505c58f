-- One row per TikTok campaign (its utm_campaign comes from its ads:
-- intermediate/tiktok_ads/int_tiktok_ads__campaigns).
with source as (
    select * from {{ source('raw_tiktok_ads', 'campaigns') }}
),

renamed as (
    select
        account_id,
        campaign_id,
        campaign_name,
        objective_type as objective,
        operation_status as status,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id order by _synced_at desc) = 1
)

select * from final
