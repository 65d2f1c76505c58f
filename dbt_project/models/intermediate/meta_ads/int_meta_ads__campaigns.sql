-- Meta campaigns in the paid campaigns contract (union ad_campaigns), with
-- the utm_campaign read from their ads' url_tags.
with campaigns as (
    select * from {{ ref('stg_meta_ads__campaigns') }}
),

ad_utm as (
    {{ campaign_utm_from_ads(ref('stg_meta_ads__ads')) }}
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
