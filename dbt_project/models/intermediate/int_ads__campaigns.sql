-- Every ad platform's campaigns in one contract, with the utm_campaign that
-- joins them to web analytics: the user's override seed wins over the value
-- read from the ads' URLs.
with meta_ads as (
    select
        'meta_ads' as channel,
        c.account_id,
        c.campaign_id,
        c.campaign_name,
        c.objective,
        c.status,
        c.start_time,
        c.stop_time,
        u.utm_campaign as derived_utm_campaign
    from {{ ref('stg_meta_ads__campaigns') }} as c
    left join {{ ref('int_meta_ads__campaign_utm') }} as u using (account_id, campaign_id)
),

tiktok_ads as (
    select
        'tiktok_ads' as channel, account_id, campaign_id, campaign_name, objective, status,
        null::{{ type_timestamptz() }} as start_time, null::{{ type_timestamptz() }} as stop_time, utm_campaign as derived_utm_campaign
    from {{ ref('stg_tiktok_ads__campaigns') }}
),

linkedin as (
    select
        'linkedin' as channel, account_id, campaign_id, campaign_name, objective, status,
        start_time::{{ type_timestamptz() }} as start_time, end_time::{{ type_timestamptz() }} as stop_time, utm_campaign as derived_utm_campaign
    from {{ ref('stg_linkedin__campaigns') }}
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
        {{ star_except('unioned', ['derived_utm_campaign']) }},
        coalesce(o.utm_campaign, unioned.derived_utm_campaign) as utm_campaign,
        o.utm_campaign is not null as utm_campaign_overridden
    from unioned
    left join {{ ref('utm_campaign_overrides') }} as o
        on o.channel = unioned.channel and o.account_id = unioned.account_id and o.campaign_id = unioned.campaign_id
)

select * from final
