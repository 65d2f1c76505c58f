-- Daily paid performance per campaign, every ad platform, money in both the
-- account currency and the reporting currency (var reporting_currency).
-- Conversion uses the rates of the account-local day: rate(reporting) /
-- rate(local), both per EUR. Ratios are computed from this row's sums.
with campaign_daily as (
    select * from {{ ref('int_ads__campaign_daily') }}
),

rates as (
    select rate_date, currency, rate_per_eur from {{ ref('int_fx__daily_rates') }}
),

converted as (
    select
        d.*,
        '{{ var("reporting_currency") }}' as reporting_currency,
        (reporting.rate_per_eur / local_rate.rate_per_eur)::decimal(18, 8) as fx_rate
    from campaign_daily as d
    left join rates as local_rate
        on local_rate.rate_date = d.date_day and local_rate.currency = d.account_currency
    left join rates as reporting
        on reporting.rate_date = d.date_day and reporting.currency = '{{ var("reporting_currency") }}'
),

final as (
    select
        date_day,
        channel,
        account_id,
        account_name,
        account_currency,
        account_timezone,
        campaign_id,
        campaign_name,
        utm_campaign,
        reporting_currency,
        fx_rate,
        spend_local::decimal(18, 6) as spend_local,
        round(spend_local * fx_rate, 4)::decimal(18, 4) as spend,
        impressions,
        reach,
        clicks,
        link_clicks,
        conversions::decimal(18, 2) as conversions,
        conversion_value_local::decimal(18, 6) as conversion_value_local,
        round(conversion_value_local * fx_rate, 4)::decimal(18, 4) as conversion_value,
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('spend_local * fx_rate', 'clicks') }} as cpc,
        {{ safe_divide('spend_local * fx_rate * 1000', 'impressions') }} as cpm,
        {{ safe_divide('spend_local * fx_rate', 'conversions') }} as cpa,
        {{ safe_divide('conversion_value_local', 'spend_local') }} as roas
    from converted
)

select * from final
