-- Followers at the end of every day of each organic account's rows
-- (int_organic__account_days), reported or back-cast:
-- - reported: the total the API reported for that day (a dated snapshot or a
--   daily total);
-- - backcast: total(d) = total(t) - sum of the net changes (gained - lost) of
--   the days d+1 .. t, where t is the first day on or after d with a reported
--   total, and ONLY when every one of those net changes is known (a day with
--   no row, or without both gains and losses, breaks the chain). The days
--   between may lie outside any pulled window: what counts is that the raw
--   data knows them.
-- Platforms with only a current total (X, Weibo) or only gains (Instagram,
-- LinkedIn: their losses are not reported) have no known net change, so their
-- days between reported totals stay null: nothing is invented. No forward
-- cast either: a day after the last reported total stays null.
with account_days as (
    select * from {{ ref('int_organic__account_days') }}
),

daily as (
    select channel, account_id, date_day, followers, followers_gained, followers_lost
    from {{ ref('int_organic__account_daily') }}
),

bounds as (
    select channel, account_id, min(date_day) as first_day, max(date_day) as last_day
    from account_days
    group by channel, account_id
),

-- Every calendar day between the account's first and last row, so a day the
-- data does not cover is seen as an unknown change, not skipped.
spine as (
    select channel, account_id, {{ unnest_days('first_day', 'last_day') }} as date_day
    from bounds
),

changes as (
    select
        s.channel,
        s.account_id,
        s.date_day,
        d.followers as reported_followers,
        d.followers_gained,
        d.followers_lost,
        d.followers_gained - d.followers_lost as net_change  -- null unless both are reported
    from spine as s
    left join daily as d using (channel, account_id, date_day)
),

-- Net change of all the days after each day, and how many of them are unknown.
after_each_day as (
    select
        *,
        coalesce(sum(net_change) over later_days, 0) as net_change_after,
        count(*) over later_days - count(net_change) over later_days as unknown_changes_after
    from changes
    window later_days as (partition by channel, account_id order by date_day rows between 1 following and unbounded following)
),

-- The first reported total on or after each day (the anchor), with its own
-- "after" sums: the differences give the sums over the days d+1 .. anchor.
anchored as (
    select
        *,
        {{ first_value_ignore_nulls('reported_followers') }} over ahead as anchor_followers,
        {{ first_value_ignore_nulls('case when reported_followers is not null then net_change_after end') }} over ahead
            as anchor_net_change_after,
        {{ first_value_ignore_nulls('case when reported_followers is not null then unknown_changes_after end') }} over ahead
            as anchor_unknown_changes_after
    from after_each_day
    window ahead as (partition by channel, account_id order by date_day rows between current row and unbounded following)
),

final as (
    select
        a.channel,
        a.account_id,
        a.date_day,
        case
            when a.reported_followers is not null then a.reported_followers
            when a.unknown_changes_after = a.anchor_unknown_changes_after
                then a.anchor_followers - (a.net_change_after - a.anchor_net_change_after)
        end::bigint as followers,
        case
            when a.reported_followers is not null then 'reported'
            when a.unknown_changes_after = a.anchor_unknown_changes_after then 'backcast'
        end as followers_source,
        a.followers_gained::bigint as followers_gained,
        a.followers_lost::bigint as followers_lost,
        a.net_change::bigint as net_follower_growth
    from anchored as a
    join account_days as k using (channel, account_id, date_day)
)

select * from final
