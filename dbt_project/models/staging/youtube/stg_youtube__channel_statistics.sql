-- One row per channel and pull day: the Data API's subscriber total, lifetime
-- views and video count as of that pull. A hidden subscriber count is null.
with source as (
    select * from {{ source('raw_youtube', 'channel_statistics') }}
),

renamed as (
    select
        snapshot_date,
        account_id,
        subscribers,
        hidden_subscriber_count,
        views as lifetime_views,
        videos as video_count,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, snapshot_date order by _synced_at desc) = 1
)

select * from final
