-- One row per campaign. LinkedIn campaigns carry no UTM tags: utm_campaign is null.
{% call stage(source('raw_linkedin', 'campaigns'), latest_by=['account_id', 'campaign_id']) -%}
    {{ contract_columns('ad_campaigns', {
        'account_id': 'account_id', 'campaign_id': 'campaign_id', 'campaign_name': 'campaign_name',
        'objective': 'objective', 'status': 'status', 'start_time': 'start_time', 'stop_time': 'end_time'}) }},
    campaign_type,
    campaign_group_id,
    _synced_at
{%- endcall %}
