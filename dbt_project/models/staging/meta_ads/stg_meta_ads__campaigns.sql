{% call stage(source('raw_meta_ads', 'campaigns'), latest_by=['account_id', 'campaign_id']) -%}
    account_id,
    campaign_id,
    campaign_name,
    objective,
    status,
    start_time,
    stop_time,
    _synced_at
{%- endcall %}
