{% call stage(source('raw_tiktok_ads', 'advertisers'), latest_by=['account_id']) -%}
    {{ contract_columns('ad_accounts', {
        'account_id': 'account_id', 'account_name': 'advertiser_name', 'account_currency': 'upper(currency)',
        'account_timezone': 'timezone'}) }},
    status as account_status,
    _synced_at
{%- endcall %}
