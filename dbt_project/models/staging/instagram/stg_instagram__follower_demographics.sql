-- Follower counts per bucket of one breakdown dimension, as of snapshot_date.
with source as (
    select * from {{ source('raw_instagram', 'follower_demographics') }}
),

renamed as (
    select
        snapshot_date,
        account_id,
        dimension,
        bucket,
        followers,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, account_id, dimension, bucket order by _synced_at desc) = 1
)

select * from final
