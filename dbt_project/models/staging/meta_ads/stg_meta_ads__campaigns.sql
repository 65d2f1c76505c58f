with source as (
    select * from {{ source('raw_meta_ads', 'campaigns') }}
),

renamed as (
    select
        account_id,
        campaign_id,
        campaign_name,
        objective,
        status,
        start_time,
        stop_time,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id order by _synced_at desc) = 1
)

select * from final
