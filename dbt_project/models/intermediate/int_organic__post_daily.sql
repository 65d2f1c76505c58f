-- Per-post DAILY figures as the APIs report them (not differences of
-- lifetime counters), every channel that has them:
-- YouTube Analytics' dimensions=day,video report and WeChat's
-- getarticlesummary (each day's reads, shares and favourites of an article).
-- A measure the API does not report per day is null. reach is each day's
-- unique readers: not additive over days.
with youtube as (
    select
        'youtube' as channel,
        date_day,
        post_id,
        account_id,
        null::bigint as impressions,
        views::bigint as views,
        null::bigint as reach,
        likes::bigint as likes,
        comments::bigint as comments,
        shares::bigint as shares,
        null::bigint as saves,
        null::bigint as clicks,
        engagements::bigint as engagements
    from {{ ref('stg_youtube__video_daily') }}
),

wechat as (
    select
        'wechat' as channel,
        date_day,
        post_id,
        account_id,
        null::bigint as impressions,
        views::bigint as views,
        reach::bigint as reach,
        null::bigint as likes,
        null::bigint as comments,
        shares::bigint as shares,
        saves::bigint as saves,
        null::bigint as clicks,
        engagements::bigint as engagements
    from {{ ref('stg_wechat__article_daily') }}
)

select * from youtube
union all
select * from wechat
