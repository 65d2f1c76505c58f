-- One row per organization x UTC day. `engagement` is LinkedIn's own rate:
-- kept as sent, never summed or averaged.
with source as (
    select * from {{ source('raw_linkedin', 'share_statistics') }}
),

renamed as (
    select
        date_day,
        organization_id,
        impressions,
        unique_impressions,
        clicks,
        likes,
        comments,
        shares,
        engagement_rate,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by organization_id, date_day order by _synced_at desc) = 1
)

select * from final
