-- One row per account x campaign x account-local day. Re-pulls replace rows
-- in raw, but should the API ever repeat a row the latest pull wins here.
-- Its data tests check the days re-pulled since the last build (macros/incremental_days.sql).
{{ config(meta={'checked_days': {'streams': ['meta_ads.insights'], 'changed_attributes': false}}) }}
{% call stage(source('raw_meta_ads', 'insights'), latest_by=['account_id', 'campaign_id', 'date_day']) -%}
    {{ contract_columns('ad_campaign_daily', {
        'date_day': 'date_day', 'account_id': 'account_id', 'campaign_id': 'campaign_id', 'campaign_name': 'campaign_name',
        'spend_local': 'spend', 'impressions': 'impressions', 'reach': 'reach', 'clicks': 'clicks', 'link_clicks': 'link_clicks',
        'conversions': 'conversions', 'conversion_value_local': 'conversion_value'}) }},
    conversion_action_type,
    _synced_at
{%- endcall %}
