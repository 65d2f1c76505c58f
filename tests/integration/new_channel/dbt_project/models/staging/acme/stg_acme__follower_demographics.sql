-- Followers by age bucket per snapshot day: the follower_demographics contract.
with source as (
    select * from {{ source('raw_acme', 'follower_demographics') }}
),

final as (
    select snapshot_date, account_id, dimension, bucket, followers
    from source
    qualify row_number() over (partition by account_id, snapshot_date, dimension, bucket order by _synced_at desc) = 1
)

select * from final
