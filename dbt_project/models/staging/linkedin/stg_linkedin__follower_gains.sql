-- One row per organization x UTC day; organicFollowerGain is net of
-- unfollows and may be negative.
with source as (
    select * from {{ source('raw_linkedin', 'follower_gains') }}
),

renamed as (
    select
        date_day,
        organization_id,
        organic_follower_gain,
        paid_follower_gain,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by organization_id, date_day order by _synced_at desc) = 1
)

select * from final
