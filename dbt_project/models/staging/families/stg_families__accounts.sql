-- A brand family's accounts and their roles, as configured (families.<name>.accounts).
with source as (
    select * from {{ source('families', 'family_accounts') }}
),

final as (
    select
        family,
        channel,
        account_id,
        role
    from source
)

select * from final
