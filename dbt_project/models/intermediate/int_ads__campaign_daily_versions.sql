-- Every ad platform's campaign-day versions (one per pull that changed a
-- row: landing.py's raw <stream>__versions) in one column contract.
{{ union_channels('campaign_daily_versions', var('ad_channels'), {
    'date_day': 'date',
    'account_id': type_string(),
    'campaign_id': type_string(),
    'spend_local': 'decimal(18, 6)',
    'conversions': 'decimal(18, 2)',
    'conversion_value_local': 'decimal(18, 6)',
    '_synced_at': type_timestamptz(),
}) }}
