-- One row per TikTok campaign. TikTok campaigns carry no UTM tags themselves:
-- utm_campaign is the value most of the campaign's ads carry in their landing
-- page URL (ties broken alphabetically, so the choice is stable), null when no
-- ad is tagged (video-view ads have no landing page at all).
with source as (
    select * from {{ source('raw_tiktok_ads', 'campaigns') }}
),

renamed as (
    select
        account_id,
        campaign_id,
        campaign_name,
        objective_type as objective,
        operation_status as status,
        _synced_at
    from source
),

deduped as (
    select * from renamed
    qualify row_number() over (partition by account_id, campaign_id order by _synced_at desc) = 1
),

ad_utm as (
    -- Counted first: a QUALIFY over an aggregate of the same grouped query is DuckDB-only.
    select account_id, campaign_id, utm_campaign
    from (
        select account_id, campaign_id, utm_campaign, count(*) as ads
        from {{ ref('stg_tiktok_ads__ads') }}
        where utm_campaign is not null
        group by account_id, campaign_id, utm_campaign
    ) as counted
    qualify row_number() over (partition by account_id, campaign_id order by ads desc, utm_campaign) = 1
),

final as (
    select
        deduped.account_id,
        deduped.campaign_id,
        deduped.campaign_name,
        deduped.objective,
        deduped.status,
        ad_utm.utm_campaign,
        deduped._synced_at
    from deduped
    left join ad_utm using (account_id, campaign_id)
)

select * from final
