-- Follower breakdowns, every channel that has them. LinkedIn counts organic
-- and paid followers apart; here a follower is a follower. LinkedIn adds
-- function, seniority and industry to age, gender and country, and its
-- country buckets are LinkedIn geo URNs.
with instagram as (
    select 'instagram' as channel, snapshot_date, account_id, dimension, bucket, followers::bigint as followers
    from {{ ref('stg_instagram__follower_demographics') }}
),

linkedin as (
    select
        'linkedin' as channel, snapshot_date, account_id, dimension, bucket,
        (coalesce(organic_followers, 0) + coalesce(paid_followers, 0))::bigint as followers
    from {{ ref('stg_linkedin__follower_demographics') }}
)

select * from instagram
union all
select * from linkedin
