-- One row per ad campaign over its whole life in the warehouse: spend,
-- platform results and GA4 outcomes in the reporting currency, CPA and ROAS
-- from those sums, and the best-engaging organic post the same platform
-- published while the campaign ran (by engagements, ties to the newest).
-- Lifetime totals from each campaign's months (int_ads__campaign_monthly).
with months as (
    select * from {{ ref('int_ads__campaign_monthly') }}
),

campaigns as (
    select * from {{ ref('dim_campaign') }}
),

totals as (
    select
        channel,
        account_id,
        campaign_id,
        min(first_day) as first_day,
        max(last_day) as last_day,
        sum(active_days) as active_days,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value,
        sum(sessions) as sessions,
        sum(key_events) as key_events,
        sum(web_revenue) as web_revenue
    from months
    group by all
),

organic_channels as (
    select channel as organic_channel, paid_channel, coalesce(nullif(day_timezone, ''), 'UTC') as day_timezone
    from {{ ref('int_channels') }} where kind <> 'paid'
),

best_content as (
    select
        t.channel,
        t.account_id,
        t.campaign_id,
        c.channel as best_content_channel,
        c.post_id as best_content_post_id,
        c.permalink as best_content_permalink,
        c.engagements as best_content_engagements
    from totals as t
    join organic_channels as o on o.paid_channel = t.channel
    join {{ ref('fct_content_performance') }} as c
        on c.channel = o.organic_channel
        -- The post's day at the platform's own midnight, whatever the host's TZ.
        and {{ local_date('c.published_at', 'o.day_timezone') }} between t.first_day and t.last_day
        and c.engagements is not null
    qualify row_number() over (
        partition by t.channel, t.account_id, t.campaign_id
        order by c.engagements desc, c.published_at desc, c.post_id
    ) = 1
),

final as (
    select
        t.channel,
        t.account_id,
        t.campaign_id,
        c.campaign_name,
        c.objective,
        c.status,
        c.utm_campaign,
        t.first_day,
        t.last_day,
        t.active_days::integer as active_days,
        '{{ var("reporting_currency") }}' as reporting_currency,
        t.impressions::bigint as impressions,
        t.clicks::bigint as clicks,
        t.spend::decimal(18, 4) as spend,
        t.conversions::decimal(18, 2) as conversions,
        t.conversion_value::decimal(18, 4) as conversion_value,
        t.sessions::double as sessions,
        t.key_events::double as key_events,
        t.web_revenue::decimal(18, 4) as web_revenue,
        {{ safe_divide('t.clicks', 't.impressions') }} as ctr,
        {{ safe_divide('t.spend', 't.conversions') }} as cpa,
        {{ safe_divide('t.conversion_value', 't.spend') }} as roas,
        {{ safe_divide('t.spend', 't.key_events') }} as blended_cpa,
        {{ safe_divide('t.web_revenue', 't.spend') }} as blended_roas,
        b.best_content_channel,
        b.best_content_post_id,
        b.best_content_permalink,
        b.best_content_engagements
    from totals as t
    left join campaigns as c using (channel, account_id, campaign_id)
    left join best_content as b using (channel, account_id, campaign_id)
)

select * from final
