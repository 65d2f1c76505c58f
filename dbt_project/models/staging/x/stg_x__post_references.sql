-- One row per post and referenced post: retweeted, quoted or replied_to.
-- The referenced author and creation time are null when X reported the
-- referenced post missing (deleted or protected: a partial error under HTTP 200).
with source as (
    select * from {{ source('raw_x', 'post_references') }}
),

renamed as (
    select
        post_id,
        account_id,
        created_date,
        reference_type,
        referenced_post_id,
        referenced_author_id,
        referenced_created_at as referenced_published_at,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (
        partition by post_id, reference_type, referenced_post_id order by _synced_at desc
    ) = 1
)

select * from final
