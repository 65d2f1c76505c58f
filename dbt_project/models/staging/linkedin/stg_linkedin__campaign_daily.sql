-- One row per ad account x campaign x UTC day, amounts in the account
-- currency. The campaign name is not part of adAnalytics: it comes from the
-- campaigns staging model. LinkedIn has no daily reach per campaign: null.
with source as (
    select * from {{ source('raw_linkedin', 'campaign_daily') }}
),

campaigns as (
    select account_id, campaign_id, campaign_name from {{ ref('stg_linkedin__campaigns') }}
),

renamed as (
    select
        source.date_day,
        source.account_id,
        source.campaign_id,
        campaigns.campaign_name,
        cast(source.cost_in_local_currency as decimal(18, 6)) as spend_local,
        source.impressions,
        cast(null as bigint) as reach,
        source.clicks,
        source.landing_page_clicks as link_clicks,
        cast(source.external_website_conversions as decimal(18, 2)) as conversions,
        cast(source.conversion_value_in_local_currency as decimal(18, 6)) as conversion_value_local,
        source.cost_in_usd,
        source.one_click_leads,
        source.total_engagements,
        source.video_views,
        source.follows,
        source._synced_at
    from source
    left join campaigns
        on campaigns.account_id = source.account_id
        and campaigns.campaign_id = source.campaign_id
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id, date_day order by _synced_at desc) = 1
)

select * from final
