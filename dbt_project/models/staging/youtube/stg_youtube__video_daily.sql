-- One row per video x day (Analytics dimensions=day,video).
with source as (
    select * from {{ source('raw_youtube', 'video_daily') }}
),

renamed as (
    select
        date_day,
        account_id,
        video_id as post_id,
        null::bigint as impressions,  -- not reported per video and day
        views,
        null::bigint as reach,
        estimated_minutes_watched,
        likes,
        comments,
        shares,
        null::bigint as saves,
        null::bigint as clicks,
        likes + comments + shares as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by post_id, date_day order by _synced_at desc) = 1
)

select * from final
