-- One row per mass-message article (msgid = "<msg_data_id>_<index>"), from
-- the articles sent (getarticletotal) and the articles read
-- (getarticlesummary) in the synced history. The datacube gives the send DAY,
-- not the time: published_at is the start of that Beijing day (null when the
-- send day is outside the synced history); it has no URL either (permalink
-- null).
with reads as (
    select
        post_id,
        account_id,
        max_by(title, date_day) as title,
        min(date_day) as first_read_date
    from {{ ref('stg_wechat__article_daily') }}
    group by post_id, account_id
),

final as (
    select
        coalesce(sends.post_id, reads.post_id) as post_id,
        coalesce(sends.account_id, reads.account_id) as account_id,
        {{ instant_at('sends.sent_date::timestamp', "'Asia/Shanghai'") }} as published_at,
        sends.sent_date as published_date,
        'article' as content_type,
        'news' as platform_content_type,
        coalesce(reads.title, sends.title) as text,
        cast(null as {{ dbt.type_string() }}) as permalink,
        cast(null as {{ dbt.type_string() }}) as original_post_id,
        cast(null as {{ dbt.type_string() }}) as original_account_id,
        false as is_repost,
        reads.first_read_date
    from {{ ref('stg_wechat__article_sends') }} as sends
    full outer join reads
        on reads.account_id = sends.account_id
        and reads.post_id = sends.post_id
)

select * from final
