{% call stage(source('raw_meta_ads', 'accounts'), latest_by=['account_id']) -%}
    {{ contract_columns('ad_accounts', {
        'account_id': 'account_id', 'account_name': 'account_name', 'account_currency': 'upper(currency)',
        'account_timezone': 'timezone_name'}) }},
    _synced_at
{%- endcall %}
