-- One row per advertiser x campaign x advertiser-local day (stat_time_day).
-- Amounts are in the advertiser's currency. TikTok's "-" (not available)
-- stays null, never zero. TikTok's `clicks` are destination clicks, so they
-- are also the link clicks; conversions are complete payments (purchases,
-- like Meta's canonical purchase), `optimization_conversions` keeps TikTok's
-- `conversion` (the campaign's own optimisation event).
-- Its data tests check the days re-pulled since the last build (macros/incremental_days.sql).
{{ config(meta={'checked_days': {'streams': ['tiktok_ads.campaign_daily'], 'changed_attributes': false}}) }}
{% call stage(source('raw_tiktok_ads', 'campaign_daily'), latest_by=['account_id', 'campaign_id', 'date_day']) -%}
    {{ contract_columns('ad_campaign_daily', {
        'date_day': 'date_day', 'account_id': 'account_id', 'campaign_id': 'campaign_id', 'campaign_name': 'campaign_name',
        'spend_local': 'cast(spend as decimal(18, 6))', 'impressions': 'impressions', 'reach': 'reach', 'clicks': 'clicks',
        'link_clicks': 'clicks', 'conversions': 'cast(complete_payment as decimal(18, 2))',
        'conversion_value_local': 'cast(complete_payment_value as decimal(18, 6))'}) }},
    conversion as optimization_conversions,
    _synced_at
{%- endcall %}
