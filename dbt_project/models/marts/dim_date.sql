-- Every day from the earliest to the latest day any fact has (ads, GA4, and
-- the organic accounts' days, which bound fct_audience_daily and
-- fct_content_daily), with ISO weeks (weeks start on Monday; iso_week_start
-- is that Monday). A warehouse with only organic channels has its days too.
with bounds as (
    select min(d) as first_day, max(d) as last_day from (
        select date_day as d from {{ ref('int_ads__campaign_daily') }}
        union all
        select date_day from {{ ref('stg_ga4__traffic') }}
        union all
        select date_day from {{ ref('int_organic__account_days') }}
    )
),

days as (
    select cast(day as date) as date_day
    from bounds, {{ day_series('coalesce(bounds.first_day, current_date)', 'coalesce(bounds.last_day, current_date)') }} as t(day)
),

final as (
    select
        date_day,
        {{ iso_year('date_day') }}::integer as iso_year,
        weekofyear(date_day)::integer as iso_week,
        ({{ iso_year('date_day') }} * 100 + weekofyear(date_day))::integer as iso_year_week,
        date_trunc('week', date_day)::date as iso_week_start,
        date_trunc('month', date_day)::date as month_start,
        {{ iso_day_of_week('date_day') }}::integer as iso_day_of_week,
        {{ day_name('date_day') }} as day_name,
        {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend
    from days
)

select * from final
