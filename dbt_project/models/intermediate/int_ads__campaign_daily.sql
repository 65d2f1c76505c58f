-- Every ad platform's daily campaign facts in one contract (union
-- ad_campaign_daily), amounts still in the account currency, with the
-- account's name, currency and time zone and the campaign's utm_campaign.
with daily as (
    {{ union_channels('ad_campaign_daily') }}
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
