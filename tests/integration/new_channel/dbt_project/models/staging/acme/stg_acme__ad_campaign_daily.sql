-- Daily campaign facts in UTC days and the account currency: the paid daily
-- contract. The report names no campaign (campaign_name is null: the
-- campaign's own name is joined downstream), and has no reach or link clicks.
{% call stage(source('raw_acme', 'campaign_daily'), latest_by=['account_id', 'date_day', 'campaign_id']) -%}
    {{ contract_columns('ad_campaign_daily', {
        'date_day': 'date_day', 'account_id': 'account_id', 'campaign_id': 'campaign_id', 'spend_local': 'spend',
        'impressions': 'impressions', 'clicks': 'clicks', 'conversions': 'conversions',
        'conversion_value_local': 'conversion_value'}) }},
    _synced_at
{%- endcall %}
