-- Each post's views and likes per day, as the API reports them: the post_daily contract.
with source as (
    select * from {{ source('raw_acme', 'post_daily') }}
),

final as (
    select
        date_day,
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
    qualify row_number() over (partition by date_day, post_id order by _synced_at desc) = 1
)

select * from final
