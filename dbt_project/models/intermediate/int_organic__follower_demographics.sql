-- Follower breakdowns, every channel that has them (union
-- follower_demographics). Buckets are the platform's own (LinkedIn adds
-- function, seniority and industry to age, gender and country, and its
-- country buckets are geo URNs).
{{ union_channels('follower_demographics', {
    'snapshot_date': 'date', 'account_id': dbt.type_string(), 'dimension': dbt.type_string(), 'bucket': dbt.type_string(),
    'followers': 'bigint'}) }}
