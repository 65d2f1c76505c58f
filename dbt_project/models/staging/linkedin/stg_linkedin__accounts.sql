-- One row per sponsored ad account. LinkedIn reports ad analytics in UTC days.
with source as (
    select * from {{ source('raw_linkedin', 'ad_accounts') }}
),

renamed as (
    select
        account_id,
        account_name,
        upper(currency) as account_currency,
        'UTC' as account_timezone,
        status as account_status,
        split_part(organization_urn, ':', 4) as organization_id,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id order by _synced_at desc) = 1
)

select * from final
