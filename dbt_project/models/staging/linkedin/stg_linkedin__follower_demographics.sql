-- Lifetime followers per facet bucket, one snapshot per pull day. Buckets are
-- LinkedIn URNs (country buckets are urn:li:geo:<id>); function, seniority
-- and industry rows are kept as their own dimensions.
{% call stage(source('raw_linkedin', 'follower_demographics'), latest_by=['snapshot_date', 'account_id', 'dimension', 'bucket']) -%}
    {{ contract_columns('follower_demographics', {
        'snapshot_date': 'snapshot_date', 'account_id': 'organization_id', 'dimension': 'dimension', 'bucket': 'bucket',
        'followers': 'coalesce(organic_followers, 0) + coalesce(paid_followers, 0)'}) }},
    organic_followers,
    paid_followers,
    _synced_at
{%- endcall %}
