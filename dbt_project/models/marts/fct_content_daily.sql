-- Each post's daily gains, from consecutive lifetime snapshots. The first
-- snapshot of a post carries everything it gathered since publication
-- (is_first_snapshot); a counter that goes down (a deleted like) gives 0,
-- never a negative gain.
with snapshots as (
    select * from {{ ref('int_organic__post_snapshots') }}
),

deltas as (
    select
        snapshot_date as date_day,
        channel,
        post_id,
        account_id,
        lag(snapshot_date) over w is null as is_first_snapshot,
        datediff('day', lag(snapshot_date) over w, snapshot_date) as days_since_previous_snapshot,
        {%- for measure in ['impressions', 'views', 'reach', 'likes', 'comments', 'shares', 'saves', 'clicks', 'engagements'] %}
        case when {{ measure }} is not null
            then greatest({{ measure }} - coalesce(lag({{ measure }}) over w, 0), 0)
        end as {{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from snapshots
    window w as (partition by channel, post_id order by snapshot_date)
)

select * from deltas
