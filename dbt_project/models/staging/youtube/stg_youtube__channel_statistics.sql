-- One row per channel and pull day: the Data API's subscriber total, lifetime
-- views and video count as of that pull. A hidden subscriber count is null.
{% call stage(source('raw_youtube', 'channel_statistics'), latest_by=['account_id', 'snapshot_date']) -%}
    snapshot_date,
    account_id,
    subscribers,
    hidden_subscriber_count,
    views as lifetime_views,
    videos as video_count,
    _synced_at
{%- endcall %}
