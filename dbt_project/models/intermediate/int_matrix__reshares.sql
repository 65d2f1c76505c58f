-- One row per reshare inside a brand family (socialmart.yaml `families:`):
-- a post of one family account that reposts or quotes a post of another
-- account of the same family.
-- Only X and Weibo say who reshared whom:
-- - X: `referenced_tweets` of type `retweeted` (a repost) or `quoted` (a
--   quote); `replied_to` is a conversation, not amplification, and is left
--   out. The original's author and creation time come from `includes.tweets`.
-- - Weibo: `retweeted_status` (a repost, 转发), with the original's author
--   and creation time.
-- Facebook Pages serve only a post's `shares.count`: who shared it is not
-- given to a Page token (`/{post-id}/sharedposts` needs a user token), so no
-- Facebook reshare can be placed in a family; the count stays in
-- fct_content_performance.shares.
-- Left out: a reshare whose original was deleted (its author is unknown, so
-- is its family) and an account resharing itself (nothing new amplified).
-- reshare_date is the reshare's day in its channel's own day boundary (X:
-- UTC, Weibo: China time), as the connectors date posts.
with x_reshares as (
    select
        'x' as channel,
        r.post_id as reshare_post_id,
        r.account_id as resharer_account_id,
        r.reference_type as reshare_type,
        r.referenced_post_id as original_post_id,
        r.referenced_author_id as original_account_id,
        r.referenced_published_at as original_published_at,
        p.published_at as reshared_at,
        r.created_date as reshare_date
    from {{ ref('stg_x__post_references') }} as r
    inner join {{ ref('stg_x__posts') }} as p on p.post_id = r.post_id
    where r.reference_type in ('retweeted', 'quoted')
),

weibo_reshares as (
    select
        'weibo' as channel,
        post_id as reshare_post_id,
        account_id as resharer_account_id,
        'repost' as reshare_type,
        original_post_id,
        original_account_id,
        original_published_at,
        published_at as reshared_at,
        published_date as reshare_date
    from {{ ref('stg_weibo__posts') }}
    where is_repost
),

reshares as (
    select * from x_reshares
    union all
    select * from weibo_reshares
),

members as (
    select * from {{ ref('stg_families__accounts') }}
),

final as (
    select
        resharer.family,
        r.channel,
        r.reshare_post_id,
        r.resharer_account_id,
        resharer.role as resharer_role,
        r.original_post_id,
        r.original_account_id,
        original.role as original_role,
        r.reshare_type,
        r.original_published_at,
        r.reshared_at,
        r.reshare_date,
        cast({{ dbt.date_trunc('month', 'r.reshare_date') }} as date) as reshare_month
    from reshares as r
    inner join members as resharer
        on resharer.channel = r.channel and resharer.account_id = r.resharer_account_id
    inner join members as original
        on original.family = resharer.family and original.channel = r.channel
        and original.account_id = r.original_account_id
    where r.resharer_account_id <> r.original_account_id
)

select * from final
