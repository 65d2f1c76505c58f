-- The days of each organic account the marts have a row for: "the pulled
-- window". One row per channel, account and day:
-- - every day of every window the pipeline landed for the account's
--   date-windowed streams (stg_pipeline__landed_windows, kept for every run,
--   not only the cursor's furthest window). A window that returned nothing
--   still counts: the API was asked and reported nothing (no posts that day).
--   Snapshot streams' windows (the pull day of lifetime counters) do not
--   make a day pulled;
-- - every day the account's daily data reported anything
--   (int_organic__account_daily: a total, gains, a measure).
-- LinkedIn lands its organic streams under the first ad account (the
-- organization is a column), so only channels of kind 'organic' take days
-- from the landing log; LinkedIn's days are those its daily APIs reported.
-- is_pulled_window_day: the day lies in a landed window (or, for LinkedIn,
-- its daily data reported it), so its posts and post gains are known.
with landed as (
    select w.channel, w.account_id, w.window_start, w.window_end
    from {{ ref('stg_pipeline__landed_windows') }} as w
    join {{ ref('int_channels') }} as c using (channel)
    where c.kind = 'organic' and not w.is_snapshot
),

window_days as (
    select
        channel,
        account_id,
        {{ unnest_days('window_start', 'window_end') }} as date_day,
        true as is_pulled_window_day
    from landed
),

-- LinkedIn and any organic channel the landing log does not cover: a day its
-- daily APIs reported measures on is a pulled day; a day whose only datum is
-- a lifetime total (a snapshot) is not.
reported_days as (
    select
        a.channel,
        a.account_id,
        a.date_day,
        a.channel not in (select channel from landed)
            and coalesce(a.followers_gained, a.followers_lost, a.impressions, a.views, a.reach, a.engagements,
                         a.negative_feedback) is not null as is_pulled_window_day
    from {{ ref('int_organic__account_daily') }} as a
),

final as (
    select channel, account_id, date_day, bool_or(is_pulled_window_day) as is_pulled_window_day
    from (select * from window_days union all select * from reported_days)
    group by channel, account_id, date_day
)

select * from final
