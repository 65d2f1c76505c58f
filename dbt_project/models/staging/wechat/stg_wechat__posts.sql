-- One row per mass-message article (msgid = "<msg_data_id>_<index>"), derived
-- from the articles seen in getarticlesummary. The datacube gives neither the
-- send time nor a URL: published_at and permalink are null, first_read_date is
-- the earliest day the article was read within the synced history.
with articles as (
    select * from {{ ref('stg_wechat__article_daily') }}
),

final as (
    select
        post_id,
        account_id,
        cast(null as timestamptz) as published_at,
        'article' as content_type,
        'news' as platform_content_type,
        arg_max(title, date_day) as text,
        cast(null as varchar) as permalink,
        cast(null as varchar) as original_post_id,
        cast(null as varchar) as original_account_id,
        false as is_repost,
        min(date_day) as first_read_date
    from articles
    group by post_id, account_id
)

select * from final
