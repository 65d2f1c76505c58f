-- One row per Instagram account x account-local day. follower_count is the
-- day's NEW followers (served for the last 30 days only), so it fills
-- followers_gained; losses are not served: null, not zero. followers is the
-- IG User node's followers_count on the day it was pulled
-- (stg_instagram__user_snapshots), null on other days. Impressions were
-- retired for views.
with latest as (
    select * from {{ source('raw_instagram', 'account_insights') }}
    {{ latest_row(['account_id', 'date_day', 'metric']) }}
),

insights as (
    select
        date_day,
        account_id,
        {{ insight('follower_count') }} as followers_gained,
        {{ insight('views') }} as views,
        {{ insight('reach') }} as reach,
        {{ insight('total_interactions') }} as engagements,
        max(_synced_at) as _synced_at
    from latest
    group by date_day, account_id
),

final as (
    {{ account_daily_with_totals('insights', ref('stg_instagram__user_snapshots'), {
        'followers_gained': 'daily.followers_gained', 'views': 'daily.views', 'reach': 'daily.reach',
        'engagements': 'daily.engagements'},
        extra_columns=['greatest(daily._synced_at, totals._synced_at) as _synced_at']) }}
)

select * from final
