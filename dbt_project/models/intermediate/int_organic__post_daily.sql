-- Per-post DAILY figures as the APIs report them (not differences of
-- lifetime counters), every channel that has them (union post_daily: e.g.
-- YouTube Analytics' dimensions=day,video report, WeChat's
-- getarticlesummary). A measure the API does not report per day is null.
-- reach is each day's unique readers: not additive over days.
{{ union_channels('post_daily', {
    'date_day': 'date', 'post_id': dbt.type_string(), 'account_id': dbt.type_string(), 'impressions': 'bigint', 'views': 'bigint',
    'reach': 'bigint', 'likes': 'bigint', 'comments': 'bigint', 'shares': 'bigint', 'saves': 'bigint',
    'clicks': 'bigint', 'engagements': 'bigint'}) }}
