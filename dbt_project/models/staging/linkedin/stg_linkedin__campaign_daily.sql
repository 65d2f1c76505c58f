-- One row per ad account x campaign x UTC day, amounts in the account
-- currency. The campaign name is not part of adAnalytics: it comes from the
-- campaigns staging model. LinkedIn has no daily reach per campaign: null.
-- Its data tests check the days re-pulled since the last build (macros/incremental_days.sql).
{{ config(meta={'checked_days': {'streams': ['linkedin.campaign_daily'], 'changed_attributes': false}}) }}
with source as (
    select * from {{ source('raw_linkedin', 'campaign_daily') }}
),

campaigns as (
    select account_id, campaign_id, campaign_name from {{ ref('stg_linkedin__campaigns') }}
),

renamed as (
    select
        {{ contract_columns('ad_campaign_daily', {
            'date_day': 'source.date_day', 'account_id': 'source.account_id', 'campaign_id': 'source.campaign_id',
            'campaign_name': 'campaigns.campaign_name', 'spend_local': 'cast(source.cost_in_local_currency as decimal(18, 6))',
            'impressions': 'source.impressions', 'clicks': 'source.clicks', 'link_clicks': 'source.landing_page_clicks',
            'conversions': 'cast(source.external_website_conversions as decimal(18, 2))',
            'conversion_value_local': 'cast(source.conversion_value_in_local_currency as decimal(18, 6))'}) | trim }},
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
    {{ latest_row(['account_id', 'campaign_id', 'date_day']) }}
)

select * from final
