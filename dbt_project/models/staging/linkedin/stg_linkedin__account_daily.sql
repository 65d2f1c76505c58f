-- The organic account contract for LinkedIn pages: the organization is the
-- account. Built from the 1:1 staging models of the page's daily APIs and its
-- total snapshots. LinkedIn reports net gains only: followers_gained is the
-- net (organic + paid) gain and followers_lost is null; reach is unique
-- impressions. followers is the networkSizes total on the day it was pulled
-- (null on other days: back-casting it is the marts' business).
with daily as (
    select
        coalesce(shares.date_day, gains.date_day) as date_day,
        coalesce(shares.organization_id, gains.organization_id) as account_id,
        gains.organic_follower_gain + gains.paid_follower_gain as followers_gained,
        shares.impressions,
        shares.unique_impressions as reach,
        shares.clicks + shares.likes + shares.comments + shares.shares as engagements,
        gains.organic_follower_gain,
        gains.paid_follower_gain
    from {{ ref('stg_linkedin__share_statistics') }} as shares
    full outer join {{ ref('stg_linkedin__follower_gains') }} as gains
        on gains.organization_id = shares.organization_id
        and gains.date_day = shares.date_day
),

final as (
    {{ account_daily_with_totals('daily', ref('stg_linkedin__total_followers'), {
        'followers_gained': 'daily.followers_gained', 'impressions': 'daily.impressions', 'reach': 'daily.reach',
        'engagements': 'daily.engagements'},
        extra_columns=['daily.organic_follower_gain', 'daily.paid_follower_gain']) }}
)

select * from final
