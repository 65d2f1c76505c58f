-- Lifetime followers per facet bucket, one snapshot per pull day. Buckets are
-- LinkedIn URNs (country buckets are urn:li:geo:<id>); function, seniority
-- and industry rows are kept as their own dimensions.
with source as (
    select * from {{ source('raw_linkedin', 'follower_demographics') }}
),

renamed as (
    select
        snapshot_date,
        organization_id as account_id,
        dimension,
        bucket,
        coalesce(organic_followers, 0) + coalesce(paid_followers, 0) as followers,
        organic_followers,
        paid_followers,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (
        partition by snapshot_date, account_id, dimension, bucket order by _synced_at desc
    ) = 1
)

select * from final
