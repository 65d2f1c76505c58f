-- Every ad platform's accounts in one contract (union ad_accounts).
{{ union_channels('ad_accounts', {
    'account_id': dbt.type_string(), 'account_name': dbt.type_string(), 'account_currency': dbt.type_string(), 'account_timezone': dbt.type_string()}) }}
