-- Every ad platform's accounts in one contract (union ad_accounts).
{{ union_channels('ad_accounts') }}
