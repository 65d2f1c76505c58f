-- Lifetime counters per upload as of each pull day (Data API statistics).
-- YouTube has no impressions, reach, shares, saves or clicks here: null, not 0.
with source as (
    select * from {{ source('raw_youtube', 'video_statistics') }}
),

renamed as (
    select
        snapshot_date,
        video_id as post_id,
        account_id,
        cast(null as bigint) as impressions,
        views,
        cast(null as bigint) as reach,
        likes,
        comments,
        cast(null as bigint) as shares,
        cast(null as bigint) as saves,
        cast(null as bigint) as clicks,
        coalesce(likes, 0) + coalesce(comments, 0) as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, post_id order by _synced_at desc) = 1
)

select * from final
