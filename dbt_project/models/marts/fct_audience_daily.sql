-- Organic audience per day, channel and account, with the same platform's paid
-- numbers that day beside it. One row per day of the account's pulled window
-- (int_organic__account_days), days without posts included. Days end at the
-- channel's own midnight (account_timezone). reach is the API's daily reach:
-- never sum it over days. paid_* are the PLATFORM's ad totals that day (all
-- its ad accounts), repeated on each of its organic accounts: do not sum them
-- across accounts; null when the platform has no ad data that day.
-- Missing is null: a measure the API did not report that day stays null.
with channels as (
    -- engagements_basis: where the channel's daily engagements come from (its connector declares it)
    select channel, day_timezone, paid_channel, engagements_basis from {{ ref('int_channels') }}
),

post_channels as (
    -- the channels whose posts are pulled (union posts)
    select channel from {{ ref('int_channels') }}
    where channel in ({{ "'" ~ (registry('unions').get('posts', {}).keys() | join("', '")) ~ "'" }})
),

-- Posts by the channel's local day of publication, with their latest
-- lifetime engagements (null for the day when any of its posts has none).
posts as (
    select
        p.channel,
        p.account_id,
        {{ local_date('p.published_at', "coalesce(c.day_timezone, 'UTC')") }} as date_day,
        count(*) as posts_published,
        case when count(cp.engagements) = count(*) then sum(cp.engagements) end as published_posts_engagements
    from {{ ref('int_organic__posts') }} as p
    left join channels as c using (channel)
    left join {{ ref('fct_content_performance') }} as cp using (channel, post_id)
    where p.published_at is not null  -- an article whose send time has not arrived has no day yet
    group by all
),

post_daily as (
    select channel, account_id, date_day, sum(engagements) as post_daily_engagements
    from {{ ref('int_organic__post_daily') }}
    group by all
),

paid as (
    select channel as paid_channel, date_day, impressions as paid_impressions,
           clicks as paid_clicks, spend as paid_spend
    from {{ ref('int_ads__channel_daily') }}
),

joined as (
    select
        k.date_day,
        k.channel,
        k.account_id,
        c.day_timezone as account_timezone,
        f.followers,
        f.followers_source,
        f.followers_gained,
        f.followers_lost,
        f.net_follower_growth,
        d.impressions,
        d.views,
        d.reach,
        c.engagements_basis,
        case c.engagements_basis
            when 'account_daily' then d.engagements
            when 'post_daily' then
                -- a pulled day on which no article had figures: the API reported none
                coalesce(pd.post_daily_engagements, case when k.is_pulled_window_day then 0 end)
            when 'published_posts' then
                case when p.posts_published is not null then p.published_posts_engagements
                     when k.is_pulled_window_day then 0 end
        end as engagements,
        -- posts are known on the days their stream was pulled (a day pulled without posts: 0)
        case when p.posts_published is not null then p.posts_published
             when k.is_pulled_window_day and k.channel in (select channel from post_channels) then 0
        end as posts_published,
        d.negative_feedback,
        c.paid_channel,
        paid.paid_impressions,
        paid.paid_clicks,
        paid.paid_spend
    from {{ ref('int_organic__account_days') }} as k
    left join {{ ref('int_organic__followers_backcast') }} as f using (channel, account_id, date_day)
    left join {{ ref('int_organic__account_daily') }} as d using (channel, account_id, date_day)
    left join channels as c using (channel)
    left join posts as p using (channel, account_id, date_day)
    left join post_daily as pd using (channel, account_id, date_day)
    left join paid on paid.paid_channel = c.paid_channel and paid.date_day = k.date_day
),

final as (
    select
        date_day,
        channel,
        account_id,
        account_timezone,
        followers,
        followers_source,
        followers_gained,
        followers_lost,
        net_follower_growth,
        impressions,
        views,
        reach,
        engagements::bigint as engagements,
        engagements_basis,
        {{ safe_divide('engagements', 'coalesce(impressions, views)') }} as engagement_rate,
        posts_published::bigint as posts_published,
        negative_feedback,
        paid_channel,
        paid_impressions::bigint as paid_impressions,
        paid_clicks::bigint as paid_clicks,
        paid_spend::decimal(18, 4) as paid_spend
    from joined
)

select * from final
