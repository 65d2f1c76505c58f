-- Lifetime counts per status as pulled on snapshot_date: attitudes are likes,
-- reposts are shares. Weibo serves no impressions, reach, saves or clicks.
with source as (
    select * from {{ source('raw_weibo', 'post_snapshots') }}
),

renamed as (
    select
        snapshot_date,
        post_id,
        account_id,
        cast(null as bigint) as impressions,
        cast(null as bigint) as views,
        cast(null as bigint) as reach,
        attitudes_count as likes,
        comments_count as comments,
        reposts_count as shares,
        cast(null as bigint) as saves,
        cast(null as bigint) as clicks,
        attitudes_count + comments_count + reposts_count as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, post_id order by _synced_at desc) = 1
)

select * from final
