-- Every ad platform's accounts in one contract (union ad_accounts).
{{ union_channels('ad_accounts', {
    'account_id': 'varchar', 'account_name': 'varchar', 'account_currency': 'varchar', 'account_timezone': 'varchar'}) }}
