-- One row per TikTok campaign (its utm_campaign comes from its ads:
-- intermediate/tiktok_ads/int_tiktok_ads__campaigns).
{% call stage(source('raw_tiktok_ads', 'campaigns'), latest_by=['account_id', 'campaign_id']) -%}
    account_id,
    campaign_id,
    campaign_name,
    objective_type as objective,
    operation_status as status,
    _synced_at
{%- endcall %}
