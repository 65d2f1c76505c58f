-- Website sessions per property-local day, landing page, source and medium.
-- Ratios from this row's sums; GA4's own bounceRate is never averaged.
with traffic as (
    select * from {{ ref('int_ga4__traffic_daily') }}
),

aggregated as (
    select
        date_day,
        property_id,
        property_timezone,
        landing_page,
        session_source,
        session_medium,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(engaged_sessions) as {{ dbt.type_bigint() }}) as engaged_sessions,
        sum(key_events) as key_events,
        sum(revenue)::decimal(18, 4) as revenue
    from traffic
    group by all
),

final as (
    select
        *,
        '{{ var("reporting_currency") }}' as reporting_currency,
        1 - {{ safe_divide('engaged_sessions', 'sessions') }} as bounce_rate,
        {{ safe_divide('key_events', 'sessions') }} as conversion_rate
    from aggregated
)

select * from final
