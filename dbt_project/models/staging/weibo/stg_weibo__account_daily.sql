-- One row per account and snapshot day. Weibo serves only the lifetime
-- followers_count: the count pulled on a day stands for that day; daily
-- deltas are derived downstream.
{% call stage(source('raw_weibo', 'user_snapshots'), latest_by=['account_id', 'date_day']) -%}
    {{ contract_columns('account_daily', {
        'date_day': 'snapshot_date', 'account_id': 'account_id', 'followers': 'followers_count'}) }},
    friends_count as following_count,
    statuses_count as posts_count,
    _synced_at
{%- endcall %}
