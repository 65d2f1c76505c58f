-- Every ad platform's campaign-day versions (one per pull that changed a
-- row: landing.py's raw <stream>__versions) in one column contract.
{{ union_channels('ad_campaign_daily_versions', {
    'date_day': 'date',
    'account_id': dbt.type_string(),
    'campaign_id': dbt.type_string(),
    'spend_local': 'decimal(18, 6)',
    'conversions': 'decimal(18, 2)',
    'conversion_value_local': 'decimal(18, 6)',
    '_synced_at': type_timestamptz(),
}) }}
