-- One row per account and snapshot day. Weibo serves only the lifetime
-- followers_count: the count pulled on a day stands for that day; daily
-- deltas are derived downstream.
with source as (
    select * from {{ source('raw_weibo', 'user_snapshots') }}
),

renamed as (
    select
        snapshot_date as date_day,
        account_id,
        followers_count as followers,
        cast(null as bigint) as followers_gained,
        cast(null as bigint) as followers_lost,
        cast(null as bigint) as impressions,
        cast(null as bigint) as views,
        cast(null as bigint) as reach,
        cast(null as bigint) as engagements,
        cast(null as bigint) as negative_feedback,
        friends_count as following_count,
        statuses_count as posts_count,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, date_day order by _synced_at desc) = 1
)

select * from final
