-- One row per sponsored ad account. LinkedIn reports ad analytics in UTC days.
{% call stage(source('raw_linkedin', 'ad_accounts'), latest_by=['account_id']) -%}
    {{ contract_columns('ad_accounts', {
        'account_id': 'account_id', 'account_name': 'account_name', 'account_currency': 'upper(currency)',
        'account_timezone': "'UTC'"}) }},
    status as account_status,
    split_part(organization_urn, ':', 4) as organization_id,
    _synced_at
{%- endcall %}
