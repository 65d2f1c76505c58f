-- TikTok campaigns in the paid campaigns contract (union ad_campaigns).
-- TikTok campaigns carry no UTM tags themselves: utm_campaign is the value
-- most of the campaign's ads carry in their landing page URL (ties broken
-- alphabetically, so the choice is stable), null when no ad is tagged
-- (video-view ads have no landing page at all). No schedule is pulled.
with campaigns as (
    select * from {{ ref('stg_tiktok_ads__campaigns') }}
),

ad_utm as (
    {{ campaign_utm_from_ads(ref('stg_tiktok_ads__ads')) }}
),

final as (
    select
        campaigns.account_id,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.objective,
        campaigns.status,
        null::{{ type_timestamptz() }} as start_time,
        null::{{ type_timestamptz() }} as stop_time,
        ad_utm.utm_campaign
    from campaigns
    left join ad_utm using (account_id, campaign_id)
)

select * from final
