-- One row per official account and Beijing day: followers at the end of the
-- day (getusercumulate) with the day's gains and losses summed over sources
-- (getusersummary, via stg_wechat__user_sources). The datacube serves no
-- impressions, views, reach or engagements per account: null, not zero.
-- cumulate(d) = cumulate(d-1) + gained(d) - lost(d) holds on the API's data.
with source as (
    select * from {{ source('raw_wechat', 'user_cumulate') }}
),

renamed as (
    select
        ref_date as date_day,
        account_id,
        cumulate_user as followers,
        _synced_at
    from source
),

deduped as (
    select * from renamed
    qualify row_number() over (partition by account_id, date_day order by _synced_at desc) = 1
),

gains as (
    select
        date_day,
        account_id,
        sum(followers_gained) as followers_gained,
        sum(followers_lost) as followers_lost
    from {{ ref('stg_wechat__user_sources') }}
    group by all
),

final as (
    select
        coalesce(deduped.date_day, gains.date_day) as date_day,
        coalesce(deduped.account_id, gains.account_id) as account_id,
        deduped.followers,
        -- null (not zero) when the day's summary was not synced
        gains.followers_gained::bigint as followers_gained,
        gains.followers_lost::bigint as followers_lost,
        cast(null as bigint) as impressions,
        cast(null as bigint) as views,
        cast(null as bigint) as reach,
        cast(null as bigint) as engagements,
        cast(null as bigint) as negative_feedback
    from deduped
    full outer join gains
        on deduped.account_id = gains.account_id and deduped.date_day = gains.date_day
)

select * from final
