-- One row per post: the posts contract, in the shared content taxonomy.
with source as (
    select * from {{ source('raw_acme', 'posts') }}
),

final as (
    select
        post_id,
        account_id,
        published_at,
        case post_type when 'video' then 'video' when 'image' then 'image' else 'text' end as content_type,
        post_type as platform_content_type,
        text,
        url as permalink,
        null::varchar as original_post_id,
        null::varchar as original_account_id,
        false as is_repost
    from source
    qualify row_number() over (partition by post_id order by _synced_at desc) = 1
)

select * from final
