-- Every version of a campaign-day's spend and conversions as successive pulls
-- restated them (raw campaign_daily__versions, append-only), for
-- fct_ad_restatements; the same measures as stg_tiktok_ads__campaign_daily.
{% call stage(source('raw_tiktok_ads', 'campaign_daily__versions')) -%}
    {{ contract_columns('ad_campaign_daily_versions', {
        'date_day': 'date_day', 'account_id': 'account_id', 'campaign_id': 'campaign_id',
        'spend_local': 'cast(spend as decimal(18, 6))', 'conversions': 'cast(complete_payment as decimal(18, 2))',
        'conversion_value_local': 'cast(complete_payment_value as decimal(18, 6))', '_synced_at': '_synced_at'}) }}
{%- endcall %}
