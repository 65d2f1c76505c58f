-- One row per account and day: the organic account_daily contract. The daily
-- report gives gains, impressions and engagements; the follower total is the
-- snapshot of its pull day.
with daily as (
    select * from {{ source('raw_acme', 'audience_daily') }}
    {{ latest_row(['account_id', 'date_day']) }}
),

totals as (
    select * from {{ source('raw_acme', 'follower_snapshots') }}
    {{ latest_row(['account_id', 'snapshot_date']) }}
),

final as (
    {{ account_daily_with_totals('daily', 'totals', {
        'followers_gained': 'daily.followers_gained', 'impressions': 'daily.impressions',
        'engagements': 'daily.engagements'}) }}
)

select * from final
