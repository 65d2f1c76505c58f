-- Lifetime public_metrics per post as pulled on snapshot_date. Shares are
-- retweets plus quotes; engagements are every public interaction (X serves
-- no reach, views or clicks to app-only tokens).
{% call stage(source('raw_x', 'post_metrics'), latest_by=['snapshot_date', 'post_id']) -%}
    {{ contract_columns('post_snapshots', {
        'snapshot_date': 'snapshot_date', 'post_id': 'post_id', 'account_id': 'account_id',
        'impressions': 'impression_count', 'likes': 'like_count', 'comments': 'reply_count',
        'shares': 'retweet_count + quote_count', 'saves': 'bookmark_count',
        'engagements': 'like_count + reply_count + retweet_count + quote_count + bookmark_count'}) }},
    _synced_at
{%- endcall %}
