-- Follower counts per bucket of one breakdown dimension, as of snapshot_date.
{% call stage(source('raw_instagram', 'follower_demographics'), latest_by=['snapshot_date', 'account_id', 'dimension', 'bucket']) -%}
    {{ contract_columns('follower_demographics', {
        'snapshot_date': 'snapshot_date', 'account_id': 'account_id', 'dimension': 'dimension', 'bucket': 'bucket',
        'followers': 'followers'}) }},
    _synced_at
{%- endcall %}
