with source as (
    select * from {{ source('raw_tiktok_ads', 'advertisers') }}
),

renamed as (
    select
        account_id,
        advertiser_name as account_name,
        upper(currency) as account_currency,
        timezone as account_timezone,
        status as account_status,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id order by _synced_at desc) = 1
)

select * from final
