-- One row per account and snapshot day. X serves only the lifetime
-- followers_count (no gains/losses, no impressions per day): the count pulled
-- on a day stands for that day; daily deltas are derived downstream.
{% call stage(source('raw_x', 'user_snapshots'), latest_by=['account_id', 'date_day']) -%}
    {{ contract_columns('account_daily', {
        'date_day': 'snapshot_date', 'account_id': 'account_id', 'followers': 'followers_count'}) }},
    following_count,
    tweet_count as posts_count,
    listed_count,
    _synced_at
{%- endcall %}
