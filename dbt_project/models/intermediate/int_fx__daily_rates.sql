-- A rate for every calendar day and currency: the ECB publishes on TARGET
-- business days only, so weekends and holidays carry the last published rate
-- forward (published_on says which). EUR is the base: 1 per EUR.
with published as (
    select rate_date, currency, rate_per_eur from {{ ref('stg_fx__ecb_rates') }}
),

currencies as (
    select distinct currency from published
    union
    select 'EUR'
),

bounds as (
    select min(rate_date) as first_day, greatest(max(rate_date), current_date) as last_day from published
),

spine as (
    select cast(day as date) as rate_date
    from bounds, {{ day_series('bounds.first_day', 'bounds.last_day') }} as t(day)
),

days_by_currency as (
    select spine.rate_date, currencies.currency from spine cross join currencies
),

-- The last rate published on or before each day: the latest publication day
-- so far (a running max over the days, which ascend), then its rate.
carried as (
    select
        d.rate_date,
        d.currency,
        max(p.rate_date) over (
            partition by d.currency order by d.rate_date rows between unbounded preceding and current row
        ) as published_on
    from days_by_currency as d
    left join published as p
        on d.currency = p.currency and d.rate_date = p.rate_date
),

final as (
    select
        c.rate_date,
        c.currency,
        case when c.currency = 'EUR' then 1 else p.rate_per_eur end::decimal(18, 6) as rate_per_eur,
        case when c.currency = 'EUR' then c.rate_date else p.rate_date end as published_on,
        coalesce(c.currency <> 'EUR' and p.rate_date < c.rate_date, false) as is_carried_forward
    from carried as c
    left join published as p
        on c.currency = p.currency and c.published_on = p.rate_date
)

select * from final
