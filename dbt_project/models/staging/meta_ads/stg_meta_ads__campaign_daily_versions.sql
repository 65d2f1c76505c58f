-- Every version of a campaign-day's spend and conversions as successive pulls
-- restated them (raw insights__versions, append-only), for fct_ad_restatements.
{% call stage(source('raw_meta_ads', 'insights__versions')) -%}
    {{ contract_columns('ad_campaign_daily_versions', {
        'date_day': 'date_day', 'account_id': 'account_id', 'campaign_id': 'campaign_id', 'spend_local': 'spend',
        'conversions': 'conversions', 'conversion_value_local': 'conversion_value', '_synced_at': '_synced_at'}) }}
{%- endcall %}
