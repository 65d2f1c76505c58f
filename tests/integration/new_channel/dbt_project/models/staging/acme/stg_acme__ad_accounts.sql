-- One row per Acme account: the paid accounts contract.
{% call stage(source('raw_acme', 'accounts'), latest_by=['account_id']) -%}
    {{ contract_columns('ad_accounts', {
        'account_id': 'account_id', 'account_name': 'account_name', 'account_currency': 'upper(currency)',
        'account_timezone': 'timezone'}) }},
    _synced_at
{%- endcall %}
