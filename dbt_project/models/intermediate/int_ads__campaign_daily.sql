-- Every ad platform's daily campaign facts in one column contract, amounts
-- still in the account currency. Later channels add a select to the union.
with meta_ads as (
    select
        i.date_day,
        'meta_ads' as channel,
        i.account_id,
        a.account_name,
        a.account_currency,
        a.account_timezone,
        i.campaign_id,
        coalesce(c.campaign_name, i.campaign_name) as campaign_name,
        u.utm_campaign,
        i.spend_local,
        i.impressions,
        i.reach,
        i.clicks,
        i.link_clicks,
        i.conversions,
        i.conversion_value_local
    from {{ ref('stg_meta_ads__insights') }} as i
    left join {{ ref('stg_meta_ads__accounts') }} as a using (account_id)
    left join {{ ref('stg_meta_ads__campaigns') }} as c using (account_id, campaign_id)
    left join {{ ref('int_meta_ads__campaign_utm') }} as u using (account_id, campaign_id)
)

select * from meta_ads
