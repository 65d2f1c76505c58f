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

unioned as (
    select * from meta_ads
),

final as (
    select
        unioned.* exclude (campaign_name),
        coalesce(c.campaign_name, unioned.campaign_name) as campaign_name,
        c.utm_campaign
    from unioned
    left join {{ ref('int_ads__campaigns') }} as c using (channel, account_id, campaign_id)
)

select * from final
