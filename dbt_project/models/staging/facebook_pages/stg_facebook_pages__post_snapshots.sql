-- Lifetime counters of each post as of snapshot_date (the pull day); daily
-- deltas are derived downstream. likes counts all reactions
-- (post_reactions_by_type_total summed). Comments, shares, saves and
-- impressions are not in the post insights we request: null, not zero.
with source as (
    select * from {{ source('raw_facebook_pages', 'post_snapshots') }}
),

renamed as (
    select
        snapshot_date,
        post_id,
        account_id,
        cast(null as bigint) as impressions,
        views,
        reach,
        reactions as likes,
        cast(null as bigint) as comments,
        cast(null as bigint) as shares,
        cast(null as bigint) as saves,
        clicks,
        cast(null as bigint) as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, post_id order by _synced_at desc) = 1
)

select * from final
