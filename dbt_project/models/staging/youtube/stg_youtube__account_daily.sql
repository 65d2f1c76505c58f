-- One row per channel x day. YouTube Analytics days are in the channel
-- owner's reporting day (Pacific time); the newest days appear late, so
-- re-pulls replace them and the latest pull wins here. followers is the Data
-- API's subscriber total on the day it was pulled (stg_youtube__channel_statistics);
-- on a pull day the Analytics report does not reach yet, the row carries the
-- total alone.
with source as (
    select * from {{ source('raw_youtube', 'channel_daily') }}
),

renamed as (
    select
        date_day,
        account_id,
        subscribers_gained as followers_gained,
        subscribers_lost as followers_lost,
        views,
        likes + comments + shares as engagements,
        estimated_minutes_watched,
        likes,
        comments,
        shares,
        _synced_at
    from source
),

deduped as (
    select * from renamed
    qualify row_number() over (partition by account_id, date_day order by _synced_at desc) = 1
),

totals as (
    select * from {{ ref('stg_youtube__channel_statistics') }}
),

final as (
    select
        coalesce(deduped.date_day, totals.snapshot_date) as date_day,
        coalesce(deduped.account_id, totals.account_id) as account_id,
        totals.subscribers as followers,
        deduped.followers_gained,
        deduped.followers_lost,
        cast(null as bigint) as impressions,
        deduped.views,
        cast(null as bigint) as reach,
        deduped.engagements,
        cast(null as bigint) as negative_feedback,
        deduped.estimated_minutes_watched,
        deduped.likes,
        deduped.comments,
        deduped.shares,
        greatest(deduped._synced_at, totals._synced_at) as _synced_at
    from deduped
    full outer join totals
        on totals.account_id = deduped.account_id
        and totals.snapshot_date = deduped.date_day
)

select * from final
