-- One row per upload. content_type is already in the shared taxonomy (the
-- connector maps live broadcasts and replays to live, <= 60 s to
-- short_video, the rest to video); YouTube has no reposts.
with source as (
    select * from {{ source('raw_youtube', 'videos') }}
),

renamed as (
    select
        video_id as post_id,
        account_id,
        published_at,
        content_type,
        platform_content_type,
        title as text,
        permalink,
        cast(null as {{ dbt.type_string() }}) as original_post_id,
        cast(null as {{ dbt.type_string() }}) as original_account_id,
        false as is_repost,
        duration_seconds,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by post_id order by _synced_at desc) = 1
)

select * from final
