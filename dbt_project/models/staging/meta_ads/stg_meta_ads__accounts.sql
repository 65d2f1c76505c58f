with source as (
    select * from {{ source('raw_meta_ads', 'accounts') }}
),

renamed as (
    select
        account_id,
        account_name,
        upper(currency) as account_currency,
        timezone_name as account_timezone,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id order by _synced_at desc) = 1
)

select * from final
