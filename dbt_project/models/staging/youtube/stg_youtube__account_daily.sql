-- One row per channel x day. YouTube Analytics days are in the channel
-- owner's reporting day (Pacific time); the newest days appear late, so
-- re-pulls replace them and the latest pull wins here. followers is the Data
-- API's subscriber total on the day it was pulled (stg_youtube__channel_statistics);
-- on a pull day the Analytics report does not reach yet, the row carries the
-- total alone.
with deduped as (
    select * from {{ source('raw_youtube', 'channel_daily') }}
    {{ latest_row(['account_id', 'date_day']) }}
),

final as (
    {{ account_daily_with_totals('deduped', ref('stg_youtube__channel_statistics'), {
        'followers': 'totals.subscribers', 'followers_gained': 'daily.subscribers_gained',
        'followers_lost': 'daily.subscribers_lost', 'views': 'daily.views',
        'engagements': 'daily.likes + daily.comments + daily.shares'},
        extra_columns=['daily.estimated_minutes_watched', 'daily.likes', 'daily.comments', 'daily.shares',
                       'greatest(daily._synced_at, totals._synced_at) as _synced_at']) }}
)

select * from final
