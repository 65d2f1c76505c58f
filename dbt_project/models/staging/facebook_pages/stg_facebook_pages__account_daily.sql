-- One row per Page x Page-local day. Raw insights are long (day x metric) so
-- a metric Meta retires is a config change; here they become the organic
-- account_daily contract. Impressions are null: Meta replaced them with views
-- (page_media_view), and page_impressions_unique was removed in 2025-06.
with source as (
    select * from {{ source('raw_facebook_pages', 'page_insights') }}
),

latest as (
    select * from source
    qualify row_number() over (partition by account_id, date_day, metric order by _synced_at desc) = 1
),

renamed as (
    select
        date_day,
        account_id,
        max(value) filter (where metric = 'page_follows') as followers,
        max(value) filter (where metric = 'page_daily_follows_unique') as followers_gained,
        max(value) filter (where metric = 'page_daily_unfollows_unique') as followers_lost,
        cast(null as bigint) as impressions,
        max(value) filter (where metric = 'page_media_view') as views,
        max(value) filter (where metric = 'page_total_media_view_unique') as reach,
        max(value) filter (where metric = 'page_post_engagements') as engagements,
        max(value) filter (where metric = 'page_negative_feedback') as negative_feedback,
        max(_synced_at) as _synced_at
    from latest
    group by date_day, account_id
),

final as (
    select * from renamed
)

select * from final
