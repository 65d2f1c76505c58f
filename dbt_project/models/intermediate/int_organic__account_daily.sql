-- Every organic channel's daily account measures in one contract.
{{ union_channels('account_daily', var('organic_channels'), {
    'date_day': 'date', 'account_id': dbt.type_string(), 'followers': 'bigint', 'followers_gained': 'bigint',
    'followers_lost': 'bigint', 'impressions': 'bigint', 'views': 'bigint', 'reach': 'bigint',
    'engagements': 'bigint', 'negative_feedback': 'bigint'}) }}
