-- GA4 traffic with revenue in the reporting currency (the property's day and
-- currency, the ECB rate of that day) and the ad channel its source/medium
-- belongs to (seed ga4_source_channels; null for non-paid traffic).
with traffic as (
    select * from {{ ref('stg_ga4__traffic') }}
),

rates as (
    select rate_date, currency, rate_per_eur from {{ ref('int_fx__daily_rates') }}
),

final as (
    select
        t.date_day,
        t.property_id,
        t.property_timezone,
        t.property_currency,
        t.session_source,
        t.session_medium,
        t.session_campaign_name,
        t.landing_page,
        m.channel as ad_channel,
        t.sessions,
        t.engaged_sessions,
        t.key_events,
        t.total_revenue_local,
        (reporting.rate_per_eur / local_rate.rate_per_eur)::decimal(18, 8) as fx_rate,
        round(t.total_revenue_local::decimal(38, 6) * (reporting.rate_per_eur / local_rate.rate_per_eur)::decimal(38, 8), 4)::decimal(18, 4) as revenue
    from traffic as t
    left join {{ ref('ga4_source_channels') }} as m
        on m.session_source = t.session_source and m.session_medium = t.session_medium
    left join rates as local_rate
        on local_rate.rate_date = t.date_day and local_rate.currency = t.property_currency
    left join rates as reporting
        on reporting.rate_date = t.date_day and reporting.currency = '{{ var("reporting_currency") }}'
)

select * from final
