-- Organic audience per day, channel and account, with the same platform's paid
-- numbers that day beside it. Days end at the channel's own midnight
-- (account_timezone). reach is the API's daily reach: never sum it over days.
-- paid_* are the PLATFORM's ad totals that day (all its ad accounts),
-- repeated on each of its organic accounts: do not sum them across accounts.
with daily as (
    select * from {{ ref('int_organic__account_daily') }}
),

channels as (
    select channel, day_timezone, paid_channel from {{ ref('channels') }}
),

posts as (
    select
        p.channel,
        p.account_id,
        (p.published_at at time zone coalesce(c.day_timezone, 'UTC'))::date as date_day,
        count(*) as posts_published
    from {{ ref('int_organic__posts') }} as p
    left join channels as c using (channel)
    where p.published_at is not null  -- WeChat's datacube gives no send time
    group by all
),

paid as (
    select channel as paid_channel, date_day, sum(impressions) as paid_impressions,
           sum(clicks) as paid_clicks, sum(spend) as paid_spend
    from {{ ref('fct_ad_performance_daily') }}
    group by all
),

-- A day with posts but no account measures (X and Weibo give followers only
-- as the pull day's snapshot) still gets its row.
days as (
    select channel, account_id, date_day from daily
    union
    select channel, account_id, date_day from posts
),

with_growth as (
    select
        days.channel,
        days.account_id,
        days.date_day,
        daily.* exclude (channel, account_id, date_day),
        -- followers_gained/lost when the API gives them, else the change of
        -- the end-of-day total from the day before (consecutive days only).
        coalesce(
            followers_gained - followers_lost,
            case when lag(days.date_day) over w = days.date_day - 1 then followers - lag(followers) over w end
        ) as net_follower_growth
    from days
    left join daily using (channel, account_id, date_day)
    window w as (partition by days.channel, days.account_id order by days.date_day)
),

final as (
    select
        g.date_day,
        g.channel,
        g.account_id,
        c.day_timezone as account_timezone,
        g.followers,
        g.followers_gained,
        g.followers_lost,
        g.net_follower_growth,
        g.impressions,
        g.views,
        g.reach,
        g.engagements,
        {{ safe_divide('g.engagements', 'coalesce(g.impressions, g.views)') }} as engagement_rate,
        coalesce(p.posts_published, 0) as posts_published,
        g.negative_feedback,
        c.paid_channel,
        coalesce(paid.paid_impressions, 0)::bigint as paid_impressions,
        coalesce(paid.paid_clicks, 0)::bigint as paid_clicks,
        coalesce(paid.paid_spend, 0)::decimal(18, 4) as paid_spend
    from with_growth as g
    left join channels as c using (channel)
    left join posts as p using (channel, account_id, date_day)
    left join paid on paid.paid_channel = c.paid_channel and paid.date_day = g.date_day
)

select * from final
