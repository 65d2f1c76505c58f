-- Every post with its latest lifetime counters. engagements: the API's own
-- figure when it has one, else likes + comments + shares + saves.
-- engagement_rate = engagements / impressions (views, then reach, when the
-- platform has no impressions).
with posts as (
    select * from {{ ref('int_organic__posts') }}
),

latest as (
    select * from {{ ref('int_organic__post_snapshots') }}
    qualify row_number() over (partition by channel, post_id order by snapshot_date desc) = 1
),

final as (
    select
        p.channel,
        p.post_id,
        p.account_id,
        c.day_timezone as account_timezone,
        p.published_at,
        p.content_type,
        p.platform_content_type,
        p.text,
        p.permalink,
        p.is_repost,
        p.original_post_id,
        p.original_account_id,
        s.snapshot_date as metrics_as_of,
        s.impressions,
        s.views,
        s.reach,
        s.likes,
        s.comments,
        s.shares,
        s.saves,
        s.clicks,
        coalesce(
            s.engagements,
            case when s.snapshot_date is not null
                then coalesce(s.likes, 0) + coalesce(s.comments, 0) + coalesce(s.shares, 0) + coalesce(s.saves, 0)
            end
        ) as engagements,
        {{ safe_divide('coalesce(s.engagements, coalesce(s.likes, 0) + coalesce(s.comments, 0) + coalesce(s.shares, 0) + coalesce(s.saves, 0))', 'coalesce(s.impressions, s.views, s.reach)') }} as engagement_rate
    from posts as p
    left join latest as s using (channel, post_id)
    left join {{ ref('channels') }} as c using (channel)
)

select * from final
