-- One row per status. A repost (retweeted_status) links to the original and
-- its author: the brand's account matrix amplifying the core account. The
-- author is null when the original was deleted.
with source as (
    select * from {{ source('raw_weibo', 'posts') }}
),

renamed as (
    select
        post_id,
        account_id,
        created_at as published_at,
        created_date as published_date,
        case
            when platform_content_type = 'video' and video_duration_seconds < 60 then 'short_video'
            when platform_content_type = 'video' then 'video'
            when platform_content_type = 'live' then 'live'
            when platform_content_type = 'article' then 'article'
            when platform_content_type = 'webpage' then 'link'
            when platform_content_type = 'image' then 'image'
            else 'text'
        end as content_type,
        platform_content_type,
        text,
        'https://weibo.com/' || account_id || '/' || post_id as permalink,
        original_post_id,
        original_author_id as original_account_id,
        original_created_at as original_published_at,
        original_post_id is not null as is_repost,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by post_id order by _synced_at desc) = 1
)

select * from final
