-- One row per media item. The shared content type comes from
-- media_product_type first (REELS, STORY), then media_type.
with source as (
    select * from {{ source('raw_instagram', 'media') }}
),

renamed as (
    select
        media_id as post_id,
        account_id,
        published_at,
        case
            when media_product_type = 'REELS' then 'short_video'
            when media_product_type = 'STORY' then 'story'
            when media_type = 'CAROUSEL_ALBUM' then 'carousel'
            when media_type = 'IMAGE' then 'image'
            when media_type = 'VIDEO' then 'video'
        end as content_type,
        media_product_type || ':' || media_type as platform_content_type,
        caption as text,
        permalink,
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
