-- TikTok campaigns in the paid campaigns contract (union ad_campaigns).
-- TikTok campaigns carry no UTM tags themselves: utm_campaign is the value
-- most of the campaign's ads carry in their landing page URL (ties broken
-- alphabetically, so the choice is stable), null when no ad is tagged
-- (video-view ads have no landing page at all). No schedule is pulled.
with campaigns as (
    select * from {{ ref('stg_tiktok_ads__campaigns') }}
),

ad_utm as (
    select account_id, campaign_id, utm_campaign
    from {{ ref('stg_tiktok_ads__ads') }}
    where utm_campaign is not null
    group by account_id, campaign_id, utm_campaign
    qualify row_number() over (partition by account_id, campaign_id order by count(*) desc, utm_campaign) = 1
),

final as (
    select
        campaigns.account_id,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.objective,
        campaigns.status,
        null::timestamptz as start_time,
        null::timestamptz as stop_time,
        ad_utm.utm_campaign
    from campaigns
    left join ad_utm using (account_id, campaign_id)
)

select * from final
