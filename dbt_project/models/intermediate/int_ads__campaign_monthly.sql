-- Each ad campaign's month: the sums of its days (fct_conversion_funnel_daily's
-- ad and GA4 measures, fct_ad_performance_daily's conversion value), its
-- first and last day with data and how many days it had, for
-- fct_campaign_summary's lifetime totals: a night sums the months it rebuilt,
-- not every campaign's whole history again.
-- Incremental (macros/incremental_days.sql), by month: a build rebuilds the
-- months of the days its facts rebuilt. The GA4 measures are summed as exact
-- decimals (the funnel rounds each day's to 4 places), so a lifetime total
-- does not depend on the order its days are added in.
-- depends_on: {{ ref('int_ads__attribute_changes') }}, {{ ref('int_ads__campaign_daily') }}
{%- set streams = ['meta_ads.insights', 'tiktok_ads.campaign_daily', 'linkedin.campaign_daily', 'fx.ecb_rates',
                   'ga4.traffic'] %}
{{ daily_fact_config(streams, grain='month') }}
with {{ rebuilt_days_cte(streams) }}

funnel as (
    select
        {{ grain_of('date_day', 'month') }} as month_start,
        channel,
        account_id,
        campaign_id,
        min(date_day) as first_day,
        max(date_day) as last_day,
        count(*) as active_days,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend,
        sum(platform_conversions) as conversions,
        sum(cast(sessions as decimal(38, 4))) as sessions,
        sum(cast(key_events as decimal(38, 4))) as key_events,
        sum(revenue) as web_revenue
    from {{ ref('fct_conversion_funnel_daily') }}
    {{ only_rebuilt_days('month') }}
    group by all
),

performance as (
    select
        {{ grain_of('date_day', 'month') }} as month_start,
        channel,
        account_id,
        campaign_id,
        sum(conversion_value) as conversion_value
    from {{ ref('fct_ad_performance_daily') }}
    {{ only_rebuilt_days('month') }}
    group by all
),

final as (
    select
        f.*,
        p.conversion_value
    from funnel as f
    left join performance as p using (month_start, channel, account_id, campaign_id)
)

select * from final
