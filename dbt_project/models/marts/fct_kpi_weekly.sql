-- The weekly scorecard per ISO week and channel, plus an all-channels row.
-- Quantity: followers (each account's last known total of the week), net growth, impressions, the largest
-- single-day reach, clicks, CTR. Quality: engagements, engagement rate,
-- sessions, engaged sessions. Return: spend, key events, conversions,
-- conversion value, web revenue, CPA, ROAS. Every measure has its
-- week-over-week relative change (<measure>_wow). Ratios come from the week's
-- sums, never from averaging days. The all-channels row takes the website's
-- numbers from GA4 as a whole (channel 'ga4'), the rest from the channels.
{%- set measures = ['followers', 'net_follower_growth', 'impressions', 'max_daily_reach', 'clicks', 'ctr',
                    'engagements', 'engagement_rate', 'sessions', 'engaged_sessions',
                    'spend', 'key_events', 'conversions', 'conversion_value', 'web_revenue', 'cpa', 'roas'] %}
with dates as (
    select date_day, iso_year_week, iso_week_start from {{ ref('dim_date') }}
),

-- The week's figures of each daily fact: (fact, the columns it is grouped by
-- beside the week, the week's aggregates).
-- organic_accounts, per account: its last known total (reported or
-- back-cast) and the week's sums. X and Weibo engagements are those of the
-- posts published in the week (fct_audience_daily.engagements_basis =
-- published_posts); rated_engagements are the engagements an engagement
-- rate can be taken over, those of days with impressions (or views).
-- web_total: the website's numbers from GA4 as a whole (channel 'ga4').
{%- set web_sums = {
    'sessions': 'sum(f.sessions)', 'engaged_sessions': 'sum(f.engaged_sessions)',
    'key_events': 'sum(f.key_events)', 'web_revenue': 'sum(f.revenue)'} %}
{%- set weekly = {
    'organic_accounts': (ref('fct_audience_daily'), ['f.channel', 'f.account_id'], {
        'followers': 'max_by(f.followers, f.date_day) filter (where f.followers is not null)',
        'net_follower_growth': 'sum(f.net_follower_growth)',
        'organic_impressions': 'sum(coalesce(f.impressions, f.views))',
        'max_daily_reach': 'max(f.reach)',
        'engagements': 'sum(f.engagements)',
        'rated_engagements': 'sum(f.engagements) filter (where coalesce(f.impressions, f.views) is not null)'}),
    'paid': (ref('int_ads__channel_daily'), ['f.channel'], {
        'paid_impressions': 'sum(f.impressions)', 'clicks': 'sum(f.clicks)', 'spend': 'sum(f.spend)',
        'conversions': 'sum(f.conversions)', 'conversion_value': 'sum(f.conversion_value)'}),
    'web_by_channel': (ref('int_ads__channel_daily'), ['f.channel'], web_sums),
    'web_total': (ref('fct_landing_page_daily'), ["'ga4' as channel"], web_sums),
} %}
{%- for name, (fact, keys, aggregates) in weekly.items() %}

{{ name }} as (
    select
        d.iso_year_week,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- for column, aggregate in aggregates.items() %}
        {{ aggregate }} as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ fact }} as f
    join dates as d using (date_day)
    group by all
),
{%- endfor %}

organic as (
    select
        iso_year_week, channel,
        sum(followers) as followers,
        sum(net_follower_growth) as net_follower_growth,
        sum(organic_impressions) as organic_impressions,
        max(max_daily_reach) as max_daily_reach,
        sum(engagements) as engagements,
        sum(rated_engagements) as rated_engagements
    from organic_accounts
    group by all
),

web as (
    select * from web_by_channel
    union all
    select * from web_total
),

keys as (
    select iso_year_week, channel from organic
    union select iso_year_week, channel from paid
    union select iso_year_week, channel from web
),

per_channel as (
    select
        k.iso_year_week,
        k.channel,
        o.followers,
        o.net_follower_growth,
        o.organic_impressions,
        p.paid_impressions,
        o.max_daily_reach,
        p.clicks,
        o.engagements,
        o.rated_engagements,
        w.sessions,
        w.engaged_sessions,
        p.spend,
        w.key_events,
        p.conversions,
        p.conversion_value,
        w.web_revenue
    from keys as k
    left join organic as o using (iso_year_week, channel)
    left join paid as p using (iso_year_week, channel)
    left join web as w using (iso_year_week, channel)
),

all_channels as (
    select
        iso_year_week,
        'all' as channel,
        sum(followers) as followers,
        sum(net_follower_growth) as net_follower_growth,
        sum(organic_impressions) as organic_impressions,
        sum(paid_impressions) as paid_impressions,
        null::bigint as max_daily_reach,  -- reach does not add up across channels
        sum(clicks) as clicks,
        sum(engagements) as engagements,
        sum(rated_engagements) as rated_engagements,
        sum(case when channel = 'ga4' then sessions end) as sessions,
        sum(case when channel = 'ga4' then engaged_sessions end) as engaged_sessions,
        sum(spend) as spend,
        sum(case when channel = 'ga4' then key_events end) as key_events,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value,
        sum(case when channel = 'ga4' then web_revenue end) as web_revenue
    from per_channel
    group by iso_year_week
),

scored as (
    select
        s.iso_year_week,
        weeks.iso_week_start,
        s.channel,
        s.followers::bigint as followers,
        s.net_follower_growth::bigint as net_follower_growth,
        case when s.organic_impressions is not null or s.paid_impressions is not null
            then coalesce(s.organic_impressions, 0) + coalesce(s.paid_impressions, 0)
        end::bigint as impressions,
        s.max_daily_reach::bigint as max_daily_reach,
        s.clicks::bigint as clicks,
        {{ safe_divide('s.clicks', 's.paid_impressions') }} as ctr,
        s.engagements::bigint as engagements,
        {{ safe_divide('s.rated_engagements', 's.organic_impressions') }} as engagement_rate,
        s.sessions::double as sessions,
        s.engaged_sessions::double as engaged_sessions,
        s.spend::decimal(18, 4) as spend,
        s.key_events::double as key_events,
        s.conversions::decimal(18, 2) as conversions,
        s.conversion_value::decimal(18, 4) as conversion_value,
        s.web_revenue::decimal(18, 4) as web_revenue,
        {{ safe_divide('s.spend', 's.conversions') }} as cpa,
        {{ safe_divide('s.conversion_value', 's.spend') }} as roas
    from (select * from per_channel union all select * from all_channels) as s
    join (select distinct iso_year_week, iso_week_start from dates) as weeks using (iso_year_week)
),

final as (
    select
        iso_year_week,
        iso_week_start,
        channel,
        '{{ var("reporting_currency") }}' as reporting_currency,
        {%- for m in measures %}
        {{ m }},
        case when lag(iso_week_start) over w = iso_week_start - 7
            then {{ safe_divide(m ~ ' - lag(' ~ m ~ ') over w', 'abs(lag(' ~ m ~ ') over w)') }}
        end as {{ m }}_wow{{ "," if not loop.last }}
        {%- endfor %}
    from scored
    window w as (partition by channel order by iso_week_start)
)

select * from final
