-- One row per article and Beijing day. WeChat reports each day's reads,
-- shares and favourites of an article (not lifetime totals), so this is the
-- channel's per-post daily fact; there are no lifetime snapshots to take.
with source as (
    select * from {{ source('raw_wechat', 'article_summary') }}
),

renamed as (
    select
        ref_date as date_day,
        account_id,
        msgid as post_id,
        title,
        null::bigint as impressions,  -- not reported
        int_page_read_count as views,
        int_page_read_user as reach,
        ori_page_read_count as original_page_views,
        ori_page_read_user as original_page_readers,
        share_count as shares,
        share_user as share_users,
        add_to_fav_count as saves,
        add_to_fav_user as save_users,
        null::bigint as likes,  -- not reported by getarticlesummary
        null::bigint as comments,
        null::bigint as clicks,
        share_count + add_to_fav_count as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, post_id, date_day order by _synced_at desc) = 1
)

select * from final
