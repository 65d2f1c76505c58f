-- Lifetime post counters as recorded on each snapshot day, every channel
-- (union post_snapshots).
{{ union_channels('post_snapshots', {
    'snapshot_date': 'date', 'post_id': dbt.type_string(), 'account_id': dbt.type_string(), 'impressions': 'bigint',
    'views': 'bigint', 'reach': 'bigint', 'likes': 'bigint', 'comments': 'bigint', 'shares': 'bigint',
    'saves': 'bigint', 'clicks': 'bigint', 'engagements': 'bigint'}) }}
