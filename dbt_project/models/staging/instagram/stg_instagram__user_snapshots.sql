-- One row per account and pull day: the IG User node's follower total,
-- follows and media count as of that pull.
with source as (
    select * from {{ source('raw_instagram', 'user_snapshots') }}
),

renamed as (
    select
        snapshot_date,
        account_id,
        followers_count as followers,
        follows_count,
        media_count,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, snapshot_date order by _synced_at desc) = 1
)

select * from final
