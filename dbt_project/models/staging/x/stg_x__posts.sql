-- One row per post. A retweet or a quote is a repost: it links to the
-- original post and its author (how the brand's account family amplifies the
-- core account). Replies keep their reference in stg_x__post_references only.
with source as (
    select * from {{ source('raw_x', 'posts') }}
),

renamed as (
    select
        post_id,
        account_id,
        created_at as published_at,
        case
            when platform_content_type = 'video' and media_duration_ms < 60000 then 'short_video'
            when platform_content_type = 'video' then 'video'
            when platform_content_type in ('photo', 'animated_gif') then 'image'
            when platform_content_type = 'broadcast' then 'live'
            when platform_content_type = 'link' then 'link'
            else 'text'
        end as content_type,
        platform_content_type,
        text,
        'https://x.com/i/web/status/' || post_id as permalink,
        case when reference_type in ('retweeted', 'quoted') then referenced_post_id end as original_post_id,
        case when reference_type in ('retweeted', 'quoted') then referenced_author_id end as original_account_id,
        coalesce(reference_type in ('retweeted', 'quoted'), false) as is_repost,
        reference_type,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by post_id order by _synced_at desc) = 1
)

select * from final
