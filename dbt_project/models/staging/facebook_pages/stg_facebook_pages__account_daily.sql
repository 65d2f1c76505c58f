-- One row per Page x Page-local day. Raw insights are long (day x metric):
-- here they become the organic account_daily contract. Impressions are null:
-- Meta replaced them with views (page_media_view), and
-- page_impressions_unique was removed in 2025-06.
with latest as (
    select * from {{ source('raw_facebook_pages', 'page_insights') }}
    {{ latest_row(['account_id', 'date_day', 'metric']) }}
),

final as (
    select
        {{ contract_columns('account_daily', {
            'date_day': 'date_day', 'account_id': 'account_id', 'followers': insight('page_follows'),
            'followers_gained': insight('page_daily_follows_unique'), 'followers_lost': insight('page_daily_unfollows_unique'),
            'views': insight('page_media_view'), 'reach': insight('page_total_media_view_unique'),
            'engagements': insight('page_post_engagements'), 'negative_feedback': insight('page_negative_feedback')}) | trim }},
        max(_synced_at) as _synced_at
    from latest
    group by date_day, account_id
)

select * from final
