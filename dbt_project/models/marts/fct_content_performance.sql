-- Every post with its latest lifetime counters, and its baseline: the
-- counters of its FIRST snapshot (baseline_as_of), i.e. what it had gathered
-- before socialmart first saw it. fct_content_daily's snapshot gains start
-- after the baseline (baseline + those gains = the latest counters).
-- engagements: the API's own figure when it has one, else likes + comments +
-- shares + saves (the ones the platform reports; null when it reports none).
-- engagement_rate = engagements / impressions (views, then reach, when the
-- platform has no impressions).
{%- set measures = ['impressions', 'views', 'reach', 'likes', 'comments', 'shares', 'saves', 'clicks'] %}
{%- set engagements = {} %}
{%- for s in ['s', 'b'] %}
    {%- do engagements.update({s: 'coalesce(' ~ s ~ '.engagements, case when coalesce(' ~ s ~ '.likes, ' ~ s ~ '.comments, '
        ~ s ~ '.shares, ' ~ s ~ '.saves) is not null then coalesce(' ~ s ~ '.likes, 0) + coalesce(' ~ s ~ '.comments, 0) + coalesce('
        ~ s ~ '.shares, 0) + coalesce(' ~ s ~ '.saves, 0) end)'}) %}
{%- endfor %}
with posts as (
    select * from {{ ref('int_organic__posts') }}
),

snapshots as (
    select
        *,
        row_number() over (partition by channel, post_id order by snapshot_date desc) as newest_first,
        row_number() over (partition by channel, post_id order by snapshot_date) as oldest_first
    from {{ ref('int_organic__post_snapshots') }}
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
        {%- for m in measures %}
        s.{{ m }},
        {%- endfor %}
        {{ engagements['s'] }} as engagements,
        {{ safe_divide(engagements['s'], 'coalesce(s.impressions, s.views, s.reach)') }} as engagement_rate,
        b.snapshot_date as baseline_as_of,
        {%- for m in measures %}
        b.{{ m }} as baseline_{{ m }},
        {%- endfor %}
        {{ engagements['b'] }} as baseline_engagements
    from posts as p
    left join snapshots as s on s.channel = p.channel and s.post_id = p.post_id and s.newest_first = 1
    left join snapshots as b on b.channel = p.channel and b.post_id = p.post_id and b.oldest_first = 1
    left join {{ ref('int_channels') }} as c on c.channel = p.channel
)

select * from final
