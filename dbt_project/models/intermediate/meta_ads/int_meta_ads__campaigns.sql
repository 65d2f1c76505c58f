-- Meta campaigns in the paid campaigns contract (union ad_campaigns), with
-- the utm_campaign read from their ads' url_tags: the value most of its ads
-- carry (ties broken alphabetically, so the choice is stable).
with campaigns as (
    select * from {{ ref('stg_meta_ads__campaigns') }}
),

tagged_ads as (
    select account_id, campaign_id, utm_campaign
    from {{ ref('stg_meta_ads__ads') }}
    where utm_campaign is not null
),

ad_utm as (
    select account_id, campaign_id, utm_campaign
    from tagged_ads
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
        campaigns.start_time,
        campaigns.stop_time,
        ad_utm.utm_campaign
    from campaigns
    left join ad_utm using (account_id, campaign_id)
)

select * from final
