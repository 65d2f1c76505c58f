-- One row per Acme campaign: the paid campaigns contract (no schedule is pulled).
{% call stage(source('raw_acme', 'campaigns'), latest_by=['account_id', 'campaign_id']) -%}
    {{ contract_columns('ad_campaigns', {
        'account_id': 'account_id', 'campaign_id': 'campaign_id', 'campaign_name': 'campaign_name',
        'objective': 'objective', 'status': 'status', 'utm_campaign': 'utm_campaign'}) }},
    _synced_at
{%- endcall %}
