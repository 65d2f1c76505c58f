-- Every ad platform's daily campaign facts in one contract (union
-- ad_campaign_daily), amounts still in the account currency, with the
-- account's name, currency and time zone and the campaign's utm_campaign.
-- Incremental (macros/incremental_days.sql), as the daily marts it feeds: a
-- build rebuilds the days its ad pulls landed and the days of accounts and
-- campaigns whose attributes changed. The staging models' latest-pull window
-- is partitioned by day, so DuckDB applies the day filter below before it:
-- a night reads the re-pulled days, not the whole history.
-- depends_on: {{ ref('int_ads__attribute_changes') }}
{%- set streams = ['meta_ads.insights', 'tiktok_ads.campaign_daily', 'linkedin.campaign_daily'] %}
{{ daily_fact_config(streams) }}
with {{ rebuilt_days_cte(streams) }}

daily as (
    select * from (
        {{ union_channels('ad_campaign_daily') }}
    )
    {{ only_rebuilt_days() }}
),

final as (
    select
        d.date_day,
        d.channel,
        d.account_id,
        a.account_name,
        a.account_currency,
        a.account_timezone,
        d.campaign_id,
        d.spend_local,
        d.impressions,
        d.reach,
        d.clicks,
        d.link_clicks,
        d.conversions,
        d.conversion_value_local,
        coalesce(c.campaign_name, d.campaign_name) as campaign_name,
        c.utm_campaign
    from daily as d
    left join {{ ref('int_ads__accounts') }} as a using (channel, account_id)
    left join {{ ref('int_ads__campaigns') }} as c using (channel, account_id, campaign_id)
)

select * from final
