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
    from bounds, range(bounds.first_day, bounds.last_day + interval 1 day, interval 1 day) as t(day)
),

days_by_currency as (
    select spine.rate_date, currencies.currency from spine cross join currencies
),

final as (
    select
        d.rate_date,
        d.currency,
        case when d.currency = 'EUR' then 1 else p.rate_per_eur end::decimal(18, 6) as rate_per_eur,
        case when d.currency = 'EUR' then d.rate_date else p.rate_date end as published_on,
        coalesce(d.currency <> 'EUR' and p.rate_date < d.rate_date, false) as is_carried_forward
    from days_by_currency as d
    asof left join published as p
        on d.currency = p.currency and d.rate_date >= p.rate_date
)

select * from final
