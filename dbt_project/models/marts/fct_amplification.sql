-- One row per reshare inside a brand family: an original post x the family
-- account that reshared it (x the reshare post: one account may quote and
-- repost the same post). See int_matrix__reshares for what counts.
-- resharer_followers: X and Weibo report only a current total, dated on each
-- pull (int_organic__followers_backcast), so the figure nearest the reshare
-- day is taken (ties: the earlier one) and its day is kept beside it
-- (resharer_followers_as_of); null when the account has no follower figure.
-- potential_reach is that audience: the resharer's followers, who can see the
-- reshare (the original's second-degree audience). It is an upper bound (the
-- APIs give no follower overlap) and is NOT additive over reshares: the same
-- followers see every reshare of an account (see fct_account_matrix_monthly).
-- reshare_engagements: the reshare's own lifetime interactions at its latest
-- snapshot (X quote: likes, replies, reposts, quotes, bookmarks; Weibo
-- repost: attitudes, comments, reposts). Null for an X repost: X credits a
-- repost's interactions to the original, it has none of its own.
with reshares as (
    select * from {{ ref('int_matrix__reshares') }}
),

followers as (
    select channel, account_id, date_day, followers
    from {{ ref('int_organic__followers_backcast') }}
    where followers is not null
),

nearest_followers as (
    select
        r.family,
        r.channel,
        r.reshare_post_id,
        r.original_post_id,
        f.followers,
        f.date_day as followers_as_of,
        row_number() over (
            partition by r.family, r.channel, r.reshare_post_id, r.original_post_id
            order by abs({{ dbt.datediff('r.reshare_date', 'f.date_day', 'day') }}), f.date_day
        ) as nearness
    from reshares as r
    inner join followers as f
        on f.channel = r.channel and f.account_id = r.resharer_account_id
),

snapshots as (
    select
        channel,
        post_id,
        snapshot_date,
        engagements,
        row_number() over (partition by channel, post_id order by snapshot_date desc) as recency
    from {{ ref('int_organic__post_snapshots') }}
),

final as (
    select
        r.family,
        r.channel,
        r.reshare_post_id,
        r.reshare_type,
        r.resharer_account_id,
        r.resharer_role,
        r.original_post_id,
        r.original_account_id,
        r.original_role,
        {{ utc_timestamp('r.original_published_at') }} as original_published_at,
        {{ utc_timestamp('r.reshared_at') }} as reshared_at,
        r.reshare_date,
        r.reshare_month,
        {{ safe_divide(dbt.datediff('r.original_published_at', 'r.reshared_at', 'second'), 3600) }} as lag_hours,
        f.followers as resharer_followers,
        f.followers_as_of as resharer_followers_as_of,
        f.followers as potential_reach,
        case when r.reshare_type <> 'retweeted' then s.engagements end as reshare_engagements,
        case when r.reshare_type <> 'retweeted' then s.snapshot_date end as reshare_engagements_as_of
    from reshares as r
    left join nearest_followers as f
        on f.family = r.family and f.channel = r.channel and f.reshare_post_id = r.reshare_post_id
        and f.original_post_id = r.original_post_id and f.nearness = 1
    left join snapshots as s
        on s.channel = r.channel and s.post_id = r.reshare_post_id and s.recency = 1
)

select * from final
