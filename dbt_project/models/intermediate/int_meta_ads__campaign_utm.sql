-- One utm_campaign per Meta campaign, read from its ads' url_tags: the value
-- most of its ads carry (ties broken alphabetically, so the choice is stable).
with tagged_ads as (
    select account_id, campaign_id, utm_campaign, utm_source, utm_medium
    from {{ ref('stg_meta_ads__ads') }}
    where utm_campaign is not null
),

counted as (
    select
        account_id, campaign_id, utm_campaign,
        min(utm_source) as utm_source,
        min(utm_medium) as utm_medium,
        count(*) as n_ads
    from tagged_ads
    group by all
),

final as (
    select account_id, campaign_id, utm_campaign, utm_source, utm_medium
    from counted
    qualify row_number() over (partition by account_id, campaign_id order by n_ads desc, utm_campaign) = 1
)

select * from final
