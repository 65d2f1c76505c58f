-- Lifetime counters of each post per snapshot day: the post_snapshots contract.
{% call stage(source('raw_acme', 'post_snapshots'), latest_by=['snapshot_date', 'post_id']) -%}
    {{ contract_columns('post_snapshots', {
        'snapshot_date': 'snapshot_date', 'post_id': 'post_id', 'account_id': 'account_id', 'views': 'views',
        'likes': 'likes', 'engagements': 'likes'}) }},
    _synced_at
{%- endcall %}
