-- Lifetime counts per status as pulled on snapshot_date: attitudes are likes,
-- reposts are shares. Weibo serves no impressions, reach, saves or clicks.
{% call stage(source('raw_weibo', 'post_snapshots'), latest_by=['snapshot_date', 'post_id']) -%}
    {{ contract_columns('post_snapshots', {
        'snapshot_date': 'snapshot_date', 'post_id': 'post_id', 'account_id': 'account_id', 'likes': 'attitudes_count',
        'comments': 'comments_count', 'shares': 'reposts_count',
        'engagements': 'attitudes_count + comments_count + reposts_count'}) }},
    _synced_at
{%- endcall %}
