-- One row per channel x day. YouTube Analytics days are in the channel
-- owner's reporting day (Pacific time); the newest days appear late, so
-- re-pulls replace them and the latest pull wins here.
with source as (
    select * from {{ source('raw_youtube', 'channel_daily') }}
),

renamed as (
    select
        date_day,
        account_id,
        cast(null as bigint) as followers,
        subscribers_gained as followers_gained,
        subscribers_lost as followers_lost,
        cast(null as bigint) as impressions,
        views,
        cast(null as bigint) as reach,
        likes + comments + shares as engagements,
        cast(null as bigint) as negative_feedback,
        estimated_minutes_watched,
        likes,
        comments,
        shares,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, date_day order by _synced_at desc) = 1
)

select * from final
