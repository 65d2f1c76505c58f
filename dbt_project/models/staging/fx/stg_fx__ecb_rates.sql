with source as (
    select * from {{ source('raw_fx', 'ecb_rates') }}
),

renamed as (
    select
        rate_date,
        upper(currency) as currency,
        rate_per_eur,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by rate_date, currency order by _synced_at desc) = 1
)

select * from final
