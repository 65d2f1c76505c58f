-- One row per Page post. content_type maps Facebook's types into the shared
-- taxonomy; Page posts are the Page's own, so the repost columns are empty.
with source as (
    select * from {{ source('raw_facebook_pages', 'posts') }}
),

renamed as (
    select
        post_id,
        account_id,
        created_time as published_at,
        case platform_content_type
            when 'photo' then 'image'
            when 'video' then 'video'
            when 'reel' then 'short_video'
            when 'link' then 'link'
            when 'status' then 'text'
            when 'live' then 'live'
            when 'album' then 'carousel'
        end as content_type,
        platform_content_type,
        message as text,
        permalink_url as permalink,
        cast(null as {{ dbt.type_string() }}) as original_post_id,
        cast(null as {{ dbt.type_string() }}) as original_account_id,
        false as is_repost,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by post_id order by _synced_at desc) = 1
)

select * from final
