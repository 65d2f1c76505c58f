-- The organic account contract for LinkedIn pages: the organization is the
-- account. Built from the two 1:1 staging models of the page's daily APIs.
-- LinkedIn reports net gains only: followers_gained is the net (organic +
-- paid) gain and followers_lost is null; reach is unique impressions.
with shares as (
    select * from {{ ref('stg_linkedin__share_statistics') }}
),

gains as (
    select * from {{ ref('stg_linkedin__follower_gains') }}
),

final as (
    select
        coalesce(shares.date_day, gains.date_day) as date_day,
        coalesce(shares.organization_id, gains.organization_id) as account_id,
        cast(null as bigint) as followers,
        gains.organic_follower_gain + gains.paid_follower_gain as followers_gained,
        cast(null as bigint) as followers_lost,
        shares.impressions,
        cast(null as bigint) as views,
        shares.unique_impressions as reach,
        shares.clicks + shares.likes + shares.comments + shares.shares as engagements,
        cast(null as bigint) as negative_feedback,
        gains.organic_follower_gain,
        gains.paid_follower_gain
    from shares
    full outer join gains
        on gains.organization_id = shares.organization_id
        and gains.date_day = shares.date_day
)

select * from final
