-- Every version of a campaign-day as successive pulls restated it (raw
-- campaign_daily__versions, append-only): the restatement history contract.
{% call stage(source('raw_acme', 'campaign_daily__versions')) -%}
    {{ contract_columns('ad_campaign_daily_versions', {
        'date_day': 'date_day', 'account_id': 'account_id', 'campaign_id': 'campaign_id', 'spend_local': 'spend',
        'conversions': 'conversions', 'conversion_value_local': 'conversion_value', '_synced_at': '_synced_at'}) }}
{%- endcall %}
