-- Total followers of each organization page as of each pull day.
with source as (
    select * from {{ source('raw_linkedin', 'total_followers') }}
),

renamed as (
    select
        snapshot_date,
        organization_id as account_id,
        followers,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, account_id order by _synced_at desc) = 1
)

select * from final
