-- One row per Instagram account x account-local day. follower_count is the
-- day's NEW followers (served for the last 30 days only), so it fills
-- followers_gained; losses are not served: null, not zero. followers is the
-- IG User node's followers_count on the day it was pulled
-- (stg_instagram__user_snapshots), null on other days. Impressions were
-- retired for views.
with source as (
    select * from {{ source('raw_instagram', 'account_insights') }}
),

latest as (
    select * from source
    qualify row_number() over (partition by account_id, date_day, metric order by _synced_at desc) = 1
),

insights as (
    select
        date_day,
        account_id,
        max(value) filter (where metric = 'follower_count') as followers_gained,
        max(value) filter (where metric = 'views') as views,
        max(value) filter (where metric = 'reach') as reach,
        max(value) filter (where metric = 'total_interactions') as engagements,
        max(_synced_at) as _synced_at
    from latest
    group by date_day, account_id
),

totals as (
    select * from {{ ref('stg_instagram__user_snapshots') }}
),

final as (
    select
        coalesce(insights.date_day, totals.snapshot_date) as date_day,
        coalesce(insights.account_id, totals.account_id) as account_id,
        totals.followers,
        insights.followers_gained,
        cast(null as bigint) as followers_lost,
        cast(null as bigint) as impressions,
        insights.views,
        insights.reach,
        insights.engagements,
        cast(null as bigint) as negative_feedback,
        greatest(insights._synced_at, totals._synced_at) as _synced_at
    from insights
    full outer join totals
        on totals.account_id = insights.account_id
        and totals.snapshot_date = insights.date_day
)

select * from final
