-- One row per video x day (Analytics dimensions=day,video); impressions are
-- not reported per video and day.
{% call stage(source('raw_youtube', 'video_daily'), latest_by=['post_id', 'date_day']) -%}
    {{ contract_columns('post_daily', {
        'date_day': 'date_day', 'post_id': 'video_id', 'account_id': 'account_id', 'views': 'views', 'likes': 'likes',
        'comments': 'comments', 'shares': 'shares', 'engagements': 'likes + comments + shares'}) }},
    estimated_minutes_watched,
    _synced_at
{%- endcall %}
