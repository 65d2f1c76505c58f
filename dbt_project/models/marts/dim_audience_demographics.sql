-- Who follows each account, by age, gender and country, on each snapshot day;
-- share is of the account's followers counted in that dimension that day.
with demographics as (
    select * from {{ ref('int_organic__follower_demographics') }}
),

final as (
    select
        snapshot_date,
        channel,
        account_id,
        dimension,
        bucket,
        followers,
        {{ safe_divide('followers', 'sum(followers) over (partition by snapshot_date, channel, account_id, dimension)') }} as share
    from demographics
)

select * from final
