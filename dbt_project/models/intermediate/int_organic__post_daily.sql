-- Per-post DAILY figures as the APIs report them (not differences of
-- lifetime counters), every channel that has them (union post_daily: e.g.
-- YouTube Analytics' dimensions=day,video report, WeChat's
-- getarticlesummary). A measure the API does not report per day is null.
-- reach is each day's unique readers: not additive over days.
{{ union_channels('post_daily') }}
