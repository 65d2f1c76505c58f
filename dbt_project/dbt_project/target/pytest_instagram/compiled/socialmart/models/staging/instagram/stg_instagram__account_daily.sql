-- One row per Instagram account x account-local day. follower_count is the
-- day's NEW followers (served for the last 30 days only), so it fills
-- followers_gained; the end-of-day total and losses are not in the daily
-- insights: null, not zero. Impressions were retired for views.
with source as (
    select * from "build2"."raw_instagram"."account_insights"
),

latest as (
    select * from source
    qualify row_number() over (partition by account_id, date_day, metric order by _synced_at desc) = 1
),

renamed as (
    select
        date_day,
        account_id,
        cast(null as bigint) as followers,
        max(value) filter (where metric = 'follower_count') as followers_gained,
        cast(null as bigint) as followers_lost,
        cast(null as bigint) as impressions,
        max(value) filter (where metric = 'views') as views,
        max(value) filter (where metric = 'reach') as reach,
        max(value) filter (where metric = 'total_interactions') as engagements,
        cast(null as bigint) as negative_feedback,
        max(_synced_at) as _synced_at
    from latest
    group by date_day, account_id
),

final as (
    select * from renamed
)

select * from final