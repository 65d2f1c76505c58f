-- Lifetime public_metrics per post as pulled on snapshot_date. Shares are
-- retweets plus quotes; engagements are every public interaction (X serves
-- no reach, views or clicks to app-only tokens).
with source as (
    select * from {{ source('raw_x', 'post_metrics') }}
),

renamed as (
    select
        snapshot_date,
        post_id,
        account_id,
        impression_count as impressions,
        cast(null as bigint) as views,
        cast(null as bigint) as reach,
        like_count as likes,
        reply_count as comments,
        retweet_count + quote_count as shares,
        bookmark_count as saves,
        cast(null as bigint) as clicks,
        like_count + reply_count + retweet_count + quote_count + bookmark_count as engagements,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by snapshot_date, post_id order by _synced_at desc) = 1
)

select * from final
