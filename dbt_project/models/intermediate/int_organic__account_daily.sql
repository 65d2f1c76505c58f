-- Every organic channel's daily account measures in one contract (union account_daily).
{{ union_channels('account_daily', {
    'date_day': 'date', 'account_id': dbt.type_string(), 'followers': 'bigint', 'followers_gained': 'bigint',
    'followers_lost': 'bigint', 'impressions': 'bigint', 'views': 'bigint', 'reach': 'bigint',
    'engagements': 'bigint', 'negative_feedback': 'bigint'}) }}
