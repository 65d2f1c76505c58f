-- Lifetime counters of each media item as of snapshot_date. Media with too
-- few viewers (insights_status = 'not_enough_viewers') keep their row with
-- null counters; clicks and impressions are not served: null.
{% call stage(source('raw_instagram', 'media_insights'), latest_by=['snapshot_date', 'post_id']) -%}
    {{ contract_columns('post_snapshots', {
        'snapshot_date': 'snapshot_date', 'post_id': 'media_id', 'account_id': 'account_id', 'views': 'views',
        'reach': 'reach', 'likes': 'likes', 'comments': 'comments', 'shares': 'shares', 'saves': 'saved',
        'engagements': 'total_interactions'}) }},
    insights_status,
    replies,
    _synced_at
{%- endcall %}
