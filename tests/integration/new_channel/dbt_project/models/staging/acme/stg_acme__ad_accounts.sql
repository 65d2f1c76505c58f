-- One row per Acme account: the paid accounts contract.
with source as (
    select * from {{ source('raw_acme', 'accounts') }}
),

final as (
    select
        account_id,
        account_name,
        upper(currency) as account_currency,
        timezone as account_timezone
    from source
    qualify row_number() over (partition by account_id order by _synced_at desc) = 1
)

select * from final
