-- One row per account and day: the organic account_daily contract. The daily
-- report gives gains, impressions and engagements; the follower total is the
-- snapshot of its pull day.
with daily as (
    select * from {{ source('raw_acme', 'audience_daily') }}
    qualify row_number() over (partition by account_id, date_day order by _synced_at desc) = 1
),

totals as (
    select account_id, snapshot_date as date_day, followers
    from {{ source('raw_acme', 'follower_snapshots') }}
    qualify row_number() over (partition by account_id, snapshot_date order by _synced_at desc) = 1
),

final as (
    select
        date_day,
        account_id,
        totals.followers,
        daily.followers_gained,
        null::bigint as followers_lost,
        daily.impressions,
        null::bigint as views,
        null::bigint as reach,
        daily.engagements,
        null::bigint as negative_feedback
    from daily
    full outer join totals using (account_id, date_day)
)

select * from final
