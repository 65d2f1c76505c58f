-- Lifetime post counters as recorded on each snapshot day, every channel.
-- WeChat reports articles per day instead of lifetime: its "snapshot" on a
-- day is the running total of the days so far, so deltas give the days back.
with snapshots as (
    {{ union_channels('post_snapshots', var('post_snapshot_channels'), {
        'snapshot_date': 'date', 'post_id': dbt.type_string(), 'account_id': dbt.type_string(), 'impressions': 'bigint',
        'views': 'bigint', 'reach': 'bigint', 'likes': 'bigint', 'comments': 'bigint', 'shares': 'bigint',
        'saves': 'bigint', 'clicks': 'bigint', 'engagements': 'bigint'}) }}
),

wechat as (
    select
        'wechat' as channel,
        date_day as snapshot_date,
        post_id,
        account_id,
        null::bigint as impressions,
        sum(views) over w::bigint as views,
        null::bigint as reach,  -- unique readers do not add up over days
        null::bigint as likes,
        null::bigint as comments,
        sum(shares) over w::bigint as shares,
        sum(saves) over w::bigint as saves,
        null::bigint as clicks,
        sum(engagements) over w::bigint as engagements
    from {{ ref('stg_wechat__article_daily') }}
    window w as (partition by account_id, post_id order by date_day rows between unbounded preceding and current row)
)

select * from snapshots
union all
select * from wechat
