-- WeChat's articles in the lifetime post counters contract (union
-- post_snapshots): WeChat reports each day's reads, shares and favourites of
-- an article, not lifetime totals, so an article's "snapshot" on a day is the
-- running total of its days so far (deltas give the days back). A window
-- over the daily rows, one row in, one row out: no aggregation.
with article_daily as (
    select * from {{ ref('stg_wechat__article_daily') }}
),

final as (
    select
        date_day as snapshot_date,
        post_id,
        account_id,
        null::bigint as impressions,
        sum(views) over running::bigint as views,
        null::bigint as reach,  -- unique readers do not add up over days
        null::bigint as likes,
        null::bigint as comments,
        sum(shares) over running::bigint as shares,
        sum(saves) over running::bigint as saves,
        null::bigint as clicks,
        sum(engagements) over running::bigint as engagements
    from article_daily
    window running as (partition by account_id, post_id order by date_day rows between unbounded preceding and current row)
)

select * from final
