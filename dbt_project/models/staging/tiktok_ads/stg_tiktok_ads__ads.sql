with source as (
    select * from {{ source('raw_tiktok_ads', 'ads') }}
),

renamed as (
    select
        account_id,
        ad_id,
        ad_name,
        campaign_id,
        landing_page_url,
        lower(nullif(trim(utm_source), '')) as utm_source,
        lower(nullif(trim(utm_medium), '')) as utm_medium,
        nullif(trim(utm_campaign), '') as utm_campaign,
        _synced_at
    from source
),

final as (
    select * from renamed
    qualify row_number() over (partition by account_id, ad_id order by _synced_at desc) = 1
)

select * from final
