-- The paid funnel per day, channel and campaign: impressions -> clicks (ad
-- platform) -> sessions -> engaged sessions -> key events -> revenue (GA4),
-- joined on (day, channel, utm_campaign). When several campaigns of a channel
-- share one utm_campaign, that day's GA4 numbers are split between them by
-- their share of clicks, so no session is counted twice.
-- Days: each side's own local day (the ad account's and the GA4 property's).
-- Incremental (macros/incremental_days.sql), as fct_ad_performance_daily: a
-- day's rows depend only on that day's ads and GA4 sessions, so a build
-- rebuilds the days its ad, FX and GA4 pulls landed and the days of accounts
-- and campaigns whose attributes changed (int_ads__attribute_changes).
-- depends_on: {{ ref('int_ads__attribute_changes') }}, {{ ref('int_ads__campaign_daily') }}
{%- set streams = ['meta_ads.insights', 'tiktok_ads.campaign_daily', 'linkedin.campaign_daily', 'fx.ecb_rates',
                   'ga4.traffic'] %}
{{ daily_fact_config(streams) }}
{#- the ad side's columns, carried to the funnel as they are -#}
{%- set ad_columns = ['date_day', 'channel', 'account_id', 'account_timezone', 'campaign_id', 'campaign_name', 'utm_campaign',
                      'reporting_currency', 'impressions', 'clicks', 'spend'] %}
with {{ rebuilt_days_cte(streams) }}

ads as (
    select {{ ad_columns | join(', ') }}, conversions
    from {{ ref('fct_ad_performance_daily') }}
    {{ only_rebuilt_days() }}
),

web as (
    select
        date_day,
        ad_channel as channel,
        session_campaign_name as utm_campaign,
        sum(sessions) as sessions,
        sum(engaged_sessions) as engaged_sessions,
        sum(key_events) as key_events,
        sum(revenue) as revenue
    from {{ ref('int_ga4__traffic_daily') }}
    where ad_channel is not null
        {%- if is_incremental() %} and date_day in (select date_day from ads){% endif %}
    group by all
),

shares as (
    select
        ads.*,
        coalesce(
            {{ safe_divide('clicks', 'sum(clicks) over (partition by date_day, channel, utm_campaign)') }},
            1.0 / count(*) over (partition by date_day, channel, utm_campaign)
        ) as web_share
    from ads
),

-- GA4 can only say "no sessions" for a campaign it could have seen: one
-- with a utm_campaign, of a channel whose mapped GA4 sources (seed
-- ga4_source_channels) GA4 has reported traffic from, on a day GA4 reported.
-- Otherwise the web measures are unknown: null, not 0.
ga4_days as (
    select distinct date_day from {{ ref('int_ga4__traffic_daily') }}
),

mapped_channels as (
    select channel from {{ ref('dim_channel') }} where ga4_attributed
),

joined as (
    select
        s.*,
        {%- for measure in ['sessions', 'engaged_sessions', 'key_events', 'revenue'] %}
        case
            when w.date_day is not null then w.{{ measure }} * s.web_share
            when s.utm_campaign is not null and m.channel is not null and g.date_day is not null then 0
        end as {{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from shares as s
    left join web as w
        on w.date_day = s.date_day and w.channel = s.channel and w.utm_campaign = s.utm_campaign
    left join mapped_channels as m on m.channel = s.channel
    left join ga4_days as g on g.date_day = s.date_day
),

final as (
    select
        {{ ad_columns | join(', ') }},
        conversions as platform_conversions,
        round(sessions, 4)::double as sessions,
        round(engaged_sessions, 4)::double as engaged_sessions,
        round(key_events, 4)::double as key_events,
        round(revenue, 4)::decimal(18, 4) as revenue,
        1 - {{ safe_divide('engaged_sessions', 'sessions') }} as bounce_rate,
        {{ safe_divide('sessions', 'clicks') }} as click_to_session_rate,
        {{ safe_divide('key_events', 'sessions') }} as session_conversion_rate,
        {{ safe_divide('spend', 'key_events') }} as blended_cpa,
        {{ safe_divide('revenue', 'spend') }} as blended_roas
    from joined
)

select * from final
