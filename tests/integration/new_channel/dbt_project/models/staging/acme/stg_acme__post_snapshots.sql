-- Lifetime counters of each post per snapshot day: the post_snapshots contract.
with source as (
    select * from {{ source('raw_acme', 'post_snapshots') }}
),

final as (
    select
        snapshot_date,
        post_id,
        account_id,
        null::bigint as impressions,
        views,
        null::bigint as reach,
        likes,
        null::bigint as comments,
        null::bigint as shares,
        null::bigint as saves,
        null::bigint as clicks,
        likes as engagements
    from source
    qualify row_number() over (partition by snapshot_date, post_id order by _synced_at desc) = 1
)

select * from final
