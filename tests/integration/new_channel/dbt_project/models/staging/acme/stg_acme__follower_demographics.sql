-- Followers by age bucket per snapshot day: the follower_demographics contract.
{% call stage(source('raw_acme', 'follower_demographics'), latest_by=['account_id', 'snapshot_date', 'dimension', 'bucket']) -%}
    {{ contract_columns('follower_demographics', {
        'snapshot_date': 'snapshot_date', 'account_id': 'account_id', 'dimension': 'dimension', 'bucket': 'bucket',
        'followers': 'followers'}) }},
    _synced_at
{%- endcall %}
