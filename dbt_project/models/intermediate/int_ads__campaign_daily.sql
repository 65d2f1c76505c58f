-- Every ad platform's daily campaign facts in one column contract, amounts
-- still in the account currency, utm_campaign from int_ads__campaigns.
with meta_ads as (
    select
        i.date_day,
        'meta_ads' as channel,
        i.account_id,
        a.account_name,
        a.account_currency,
        a.account_timezone,
        i.campaign_id,
        i.campaign_name,
        i.spend_local,
        i.impressions,
        i.reach,
        i.clicks,
        i.link_clicks,
        i.conversions,
        i.conversion_value_local
    from {{ ref('stg_meta_ads__insights') }} as i
    left join {{ ref('stg_meta_ads__accounts') }} as a using (account_id)
),

tiktok_ads as (
    select
        d.date_day,
        'tiktok_ads' as channel,
        d.account_id,
        a.account_name,
        a.account_currency,
        a.account_timezone,
        d.campaign_id,
        d.campaign_name,
        d.spend_local,
        d.impressions,
        d.reach,
        d.clicks,
        d.link_clicks,
        d.conversions,
        d.conversion_value_local
    from {{ ref('stg_tiktok_ads__campaign_daily') }} as d
    left join {{ ref('stg_tiktok_ads__accounts') }} as a using (account_id)
),

linkedin as (
    select
        d.date_day,
        'linkedin' as channel,
        d.account_id,
        a.account_name,
        a.account_currency,
        coalesce(a.account_timezone, 'UTC') as account_timezone,  -- LinkedIn reports UTC days
        d.campaign_id,
        d.campaign_name,
        d.spend_local,
        d.impressions,
        d.reach,
        d.clicks,
        d.link_clicks,
        d.conversions,
        d.conversion_value_local
    from {{ ref('stg_linkedin__campaign_daily') }} as d
    left join {{ ref('stg_linkedin__accounts') }} as a using (account_id)
),

unioned as (
    select * from meta_ads
    union all
    select * from tiktok_ads
    union all
    select * from linkedin
),

final as (
    select
        {{ star_except('unioned', ['campaign_name']) }},
        coalesce(c.campaign_name, unioned.campaign_name) as campaign_name,
        c.utm_campaign
    from unioned
    left join {{ ref('int_ads__campaigns') }} as c using (channel, account_id, campaign_id)
)

select * from final
