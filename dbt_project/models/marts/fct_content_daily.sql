-- Each post's daily gains, never a lifetime dump on one day. A gain exists
-- only where it was measured:
-- - api_daily: the API's own per-post daily figures (int_organic__post_daily:
--   YouTube video analytics, WeChat article summaries), for every account
--   that has them;
-- - snapshot_delta: otherwise, the change of the lifetime counters between two
--   consecutive snapshots of the post, dated on the later one (days_covered
--   says how many days it spans). A post's first snapshot is its baseline
--   (fct_content_performance.baseline_*), never a gain. A counter that goes
--   down (a deleted like) gives 0, never a negative gain.
-- Only days of the account's pulled window carry gains
-- (int_organic__account_days.is_pulled_window_day): a snapshot taken after
-- the window (today's pull of a past week) gives no gain dated after it.
{%- set measures = ['impressions', 'views', 'reach', 'likes', 'comments', 'shares', 'saves', 'clicks', 'engagements'] %}
with post_daily as (
    select * from {{ ref('int_organic__post_daily') }}
),

accounts_with_post_daily as (
    select distinct channel, account_id from post_daily
),

snapshot_deltas as (
    select
        snapshot_date as date_day,
        channel,
        post_id,
        account_id,
        'snapshot_delta' as gain_source,
        {{ dbt.datediff('lag(snapshot_date) over w', 'snapshot_date', 'day') }} as days_covered,
        {%- for measure in measures %}
        case when {{ measure }} is not null and lag({{ measure }}) over w is not null
            then greatest({{ measure }} - lag({{ measure }}) over w, 0)
        end as {{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_organic__post_snapshots') }} as s
    where not exists (select 1 from accounts_with_post_daily as a where a.channel = s.channel and a.account_id = s.account_id)
    window w as (partition by channel, post_id order by snapshot_date)
    -- the first snapshot has nothing before it: it is the baseline, not a gain
    qualify lag(snapshot_date) over w is not null
),

api_daily as (
    select
        date_day,
        channel,
        post_id,
        account_id,
        'api_daily' as gain_source,
        1::bigint as days_covered,
        {%- for measure in measures %}
        {{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from post_daily
),

gains as (
    select * from snapshot_deltas
    union all
    select * from api_daily
),

final as (
    select g.*
    from gains as g
    join {{ ref('int_organic__account_days') }} as k using (channel, account_id, date_day)
    where k.is_pulled_window_day
)

select * from final
