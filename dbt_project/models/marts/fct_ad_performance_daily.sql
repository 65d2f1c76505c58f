-- Daily paid performance per campaign, every ad platform, money in both the
-- account currency and the reporting currency (var reporting_currency).
-- Conversion uses the rates of the account-local day: rate(reporting) /
-- rate(local), both per EUR. Ratios are computed from this row's sums.
-- Incremental (macros/incremental_days.sql): a build rebuilds the days its
-- ad and FX pulls landed, and the days of accounts and campaigns whose
-- attributes changed since the last successful build (a renamed campaign, a
-- new utm override, another reporting.currency: int_ads__attribute_changes),
-- so that it always equals a full rebuild.
-- depends_on: {{ ref('int_ads__attribute_changes') }}
{%- set streams = ['meta_ads.insights', 'tiktok_ads.campaign_daily', 'linkedin.campaign_daily', 'fx.ecb_rates'] %}
{{ daily_fact_config(streams) }}
with {{ rebuilt_days_cte(streams) }}

campaign_daily as (
    select * from {{ ref('int_ads__campaign_daily') }}
    {{ only_rebuilt_days() }}
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

-- Products are taken in DECIMAL(38, x): DuckDB keeps a product at the
-- operands' width, which would overflow above 10,000 in a DECIMAL(18, 14).
amounts as (
    select
        *,
        round(spend_local::decimal(38, 6) * fx_rate::decimal(38, 8), 4)::decimal(18, 4) as spend,
        round(conversion_value_local::decimal(38, 6) * fx_rate::decimal(38, 8), 4)::decimal(18, 4) as conversion_value
    from converted
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
        spend,
        impressions,
        reach,
        clicks,
        link_clicks,
        conversions::decimal(18, 2) as conversions,
        conversion_value_local::decimal(18, 6) as conversion_value_local,
        conversion_value,
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('spend', 'clicks') }} as cpc,
        {{ safe_divide('spend', 'impressions') }} * 1000 as cpm,
        {{ safe_divide('spend', 'conversions') }} as cpa,
        {{ safe_divide('conversion_value', 'spend') }} as roas
    from amounts
)

select * from final
