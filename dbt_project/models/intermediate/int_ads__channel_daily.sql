-- Each ad channel's day: the sums of its campaigns' daily facts
-- (fct_ad_performance_daily's spend and platform results,
-- fct_conversion_funnel_daily's GA4 outcomes, which has the same
-- campaign-days), for the marts that want a channel's day, not its campaigns
-- (fct_audience_daily, fct_kpi_weekly): a few rows a day instead of every
-- campaign's, so a night does not sum the whole history again.
-- Incremental (macros/incremental_days.sql), as the facts it sums: a build
-- rebuilds the days they rebuilt. The web measures are summed as exact
-- decimals (the funnel rounds each to 4 places), so a week's sum does not
-- depend on the order days are added in.
-- depends_on: {{ ref('int_ads__attribute_changes') }}, {{ ref('int_ads__campaign_daily') }}
{%- set streams = ['meta_ads.insights', 'tiktok_ads.campaign_daily', 'linkedin.campaign_daily', 'fx.ecb_rates',
                   'ga4.traffic'] %}
{{ daily_fact_config(streams) }}
with {{ rebuilt_days_cte(streams) }}

paid as (
    select
        date_day,
        channel,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value
    from {{ ref('fct_ad_performance_daily') }}
    {{ only_rebuilt_days() }}
    group by all
),

web as (
    select
        date_day,
        channel,
        sum(cast(sessions as decimal(38, 4))) as sessions,
        sum(cast(engaged_sessions as decimal(38, 4))) as engaged_sessions,
        sum(cast(key_events as decimal(38, 4))) as key_events,
        sum(revenue) as revenue
    from {{ ref('fct_conversion_funnel_daily') }}
    {{ only_rebuilt_days() }}
    group by all
),

final as (
    select
        p.date_day,
        p.channel,
        p.impressions,
        p.clicks,
        p.spend,
        p.conversions,
        p.conversion_value,
        w.sessions,
        w.engaged_sessions,
        w.key_events,
        w.revenue
    from paid as p
    left join web as w using (date_day, channel)
)

select * from final
