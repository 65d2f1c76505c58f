-- Lifetime counters per upload as of each pull day (Data API statistics).
-- YouTube has no impressions, reach, shares, saves or clicks here: null, not 0.
{% call stage(source('raw_youtube', 'video_statistics'), latest_by=['snapshot_date', 'post_id']) -%}
    {{ contract_columns('post_snapshots', {
        'snapshot_date': 'snapshot_date', 'post_id': 'video_id', 'account_id': 'account_id', 'views': 'views',
        'likes': 'likes', 'comments': 'comments', 'engagements': 'coalesce(likes, 0) + coalesce(comments, 0)'}) }},
    _synced_at
{%- endcall %}
