-- Month x family x from-account x to-account: how often one family account
-- reshared another's posts that month (from = the resharer, to = the
-- original's author: an edge A -> B means "A amplified B").
-- potential_reach_added: the from-account's audience (its followers nearest
-- the month's last reshare), counted ONCE per edge and month: the same
-- followers see every reshare, so it is never multiplied by the reshares nor
-- summed over reshares. Across edges of different from-accounts it adds up
-- (dim_account_family_monthly.reach_added); across months it does not.
-- reverse_reshares: the reshares of the opposite edge (B -> A) that month, 0
-- when there were none; reciprocity = the smaller direction / the larger.
with amplification as (
    select * from {{ ref('fct_amplification') }}
),

edges as (
    select
        family,
        channel,
        reshare_month,
        resharer_account_id as from_account_id,
        resharer_role as from_role,
        original_account_id as to_account_id,
        original_role as to_role,
        count(*) as reshares,
        cast(sum(case when reshare_type in ('retweeted', 'repost') then 1 else 0 end) as bigint) as reposts,
        cast(sum(case when reshare_type = 'quoted' then 1 else 0 end) as bigint) as quotes,
        count(distinct original_post_id) as reshared_posts,
        cast(sum(reshare_engagements) as bigint) as reshare_engagements,
        percentile_cont(0.5) within group (order by lag_hours) as median_lag_hours
    from amplification
    group by family, channel, reshare_month, resharer_account_id, resharer_role, original_account_id, original_role
),

audience as (
    select family, channel, reshare_month, resharer_account_id, resharer_followers, resharer_followers_as_of
    from (
        select
            *,
            row_number() over (
                partition by family, channel, reshare_month, resharer_account_id
                order by reshared_at desc, reshare_post_id desc
            ) as recency
        from amplification
    ) as ranked
    where recency = 1
),

final as (
    select
        e.reshare_month,
        e.family,
        e.channel,
        e.from_account_id,
        e.from_role,
        e.to_account_id,
        e.to_role,
        e.reshares,
        e.reposts,
        e.quotes,
        e.reshared_posts,
        e.reshare_engagements,
        e.median_lag_hours,
        a.resharer_followers as potential_reach_added,
        a.resharer_followers_as_of as potential_reach_as_of,
        coalesce(r.reshares, 0) as reverse_reshares,
        {{ safe_divide('least(e.reshares, coalesce(r.reshares, 0))', 'greatest(e.reshares, coalesce(r.reshares, 0))') }}
            as reciprocity
    from edges as e
    left join audience as a
        on a.family = e.family and a.channel = e.channel and a.reshare_month = e.reshare_month
        and a.resharer_account_id = e.from_account_id
    left join edges as r
        on r.family = e.family and r.channel = e.channel and r.reshare_month = e.reshare_month
        and r.from_account_id = e.to_account_id and r.to_account_id = e.from_account_id
)

select * from final
